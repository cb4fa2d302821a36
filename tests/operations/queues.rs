//! upsert_queue, list_queues, get_queue, delete_queue, pause_queue,
//! resume_queue.

use qstash::types::{UpsertQueueBody, builder};
use serde_json::json;

use crate::{
    Api, Expect, assert_error_response, assert_round_trip, empty_reply, error_reply, fixture_reply,
};

/// Built field by field, as a newer spec may add fields or change the
/// integer type (tests/spec_mutations.rs).
fn body(queue_name: &str, parallelism: u64) -> builder::UpsertQueueBody {
    UpsertQueueBody::builder()
        .queue_name(queue_name)
        .parallelism(parallelism)
        .paused(true)
}

#[tokio::test]
async fn upsert_queue_posts_name_and_parallelism_as_json() {
    let api = Api::replying(empty_reply(200)).await;
    let response = api
        .client
        .api()
        .upsert_queue()
        .body(body("my-queue", 2))
        .send_ignoring_answer()
        .await
        .expect("upsert succeeds");

    // `paused` is the correction `queue-upsert-paused`.
    Expect::new("POST", "/v2/queues")
        .json(json!({ "queueName": "my-queue", "parallelism": 2, "paused": true }))
        .assert(&api.request().await);
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn upsert_queue_decodes_documented_errors() {
    let api = Api::replying(error_reply(412, "queue limit reached")).await;
    let result = api
        .client
        .api()
        .upsert_queue()
        .body(body("one-too-many", 1))
        .send()
        .await;
    assert_error_response(result, 412, "queue limit reached");

    let api = Api::replying(error_reply(400, "invalid queue name")).await;
    let result = api
        .client
        .api()
        .upsert_queue()
        .body(body("bad name!", 1))
        .send()
        .await;
    assert_error_response(result, 400, "invalid queue name");
}

#[tokio::test]
async fn list_queues_decodes_every_queue() {
    let api = Api::replying(fixture_reply(200, "list_queues")).await;
    let queues = api
        .client
        .api()
        .list_queues()
        .send()
        .await
        .expect("list succeeds")
        .into_inner();

    Expect::new("GET", "/v2/queues").assert(&api.request().await);
    let names: Vec<_> = queues.iter().map(|q| q.name.as_deref()).collect();
    assert_eq!(names, [Some("my-queue"), Some("emails")]);
    assert_eq!(queues[0].lag, Some(17));
    assert_eq!(queues[1].paused, Some(true));
    assert_round_trip(&queues, "list_queues");
}

#[tokio::test]
async fn get_queue_decodes_every_field() {
    let api = Api::replying(fixture_reply(200, "get_queue")).await;
    let queue = api
        .client
        .api()
        .get_queue()
        .queue_name("my-queue")
        .send()
        .await
        .expect("get succeeds")
        .into_inner();

    Expect::new("GET", "/v2/queues/my-queue").assert(&api.request().await);
    assert_eq!(queue.name.as_deref(), Some("my-queue"));
    assert_eq!(queue.parallelism, Some(2));
    assert_eq!(queue.paused, Some(false));
    assert_eq!(queue.created_at, Some(1_732_200_000_000));
    assert_eq!(queue.updated_at, Some(1_732_286_400_000));
    assert_round_trip(&queue, "get_queue");
}

#[tokio::test]
async fn get_queue_decodes_not_found() {
    let api = Api::replying(error_reply(404, "queue not found")).await;
    let result = api.client.api().get_queue().queue_name("nope").send().await;
    assert_error_response(result, 404, "queue not found");
}

#[tokio::test]
async fn delete_queue_sends_delete() {
    let api = Api::replying(empty_reply(200)).await;
    api.client
        .api()
        .delete_queue()
        .queue_name("my-queue")
        .send_ignoring_answer()
        .await
        .expect("delete succeeds");
    Expect::new("DELETE", "/v2/queues/my-queue").assert(&api.request().await);
}

#[tokio::test]
async fn pause_queue_accepts_204_without_a_body() {
    let api = Api::replying(empty_reply(204)).await;
    let response = api
        .client
        .api()
        .pause_queue()
        .queue_name("my-queue")
        .send_ignoring_answer()
        .await
        .expect("pause succeeds");
    Expect::new("POST", "/v2/queues/my-queue/pause").assert(&api.request().await);
    assert_eq!(response.status(), 204);
}

#[tokio::test]
async fn resume_queue_posts_without_a_body() {
    let api = Api::replying(empty_reply(200)).await;
    api.client
        .api()
        .resume_queue()
        .queue_name("my-queue")
        .send_ignoring_answer()
        .await
        .expect("resume succeeds");
    Expect::new("POST", "/v2/queues/my-queue/resume").assert(&api.request().await);
}

#[tokio::test]
async fn pause_queue_decodes_a_bad_request() {
    let api = Api::replying(error_reply(400, "invalid queue name")).await;
    let result = api
        .client
        .api()
        .pause_queue()
        .queue_name("bad.name!")
        .send()
        .await;
    assert_error_response(result, 400, "invalid queue name");
}
