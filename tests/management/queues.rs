//! `client.queues()`: upsert, list, get, delete, pause, resume.

use serde_json::json;
use wiremock::ResponseTemplate;

use crate::{Api, assert_invalid, assert_request, assert_same_as_fixture, fixture_reply};

#[tokio::test]
async fn upsert_posts_name_and_parallelism() {
    let api = Api::replying(ResponseTemplate::new(200)).await;
    api.client
        .queues()
        .upsert("my-queue")
        .parallelism(2)
        .paused(true)
        .send()
        .await
        .expect("upsert succeeds");
    assert_request(
        &api.request().await,
        "POST",
        "/v2/queues",
        &[],
        Some(json!({ "queueName": "my-queue", "parallelism": 2, "paused": true })),
    );
}

/// The spec makes parallelism required with a default of 1: without the
/// option the body says 1 rather than leaving it out; `paused` is false
/// unless set, as the official SDKs send it.
#[tokio::test]
async fn upsert_sends_parallelism_1_by_default() {
    let api = Api::replying(ResponseTemplate::new(200)).await;
    api.client
        .queues()
        .upsert("emails")
        .send()
        .await
        .expect("upsert succeeds");
    assert_request(
        &api.request().await,
        "POST",
        "/v2/queues",
        &[],
        Some(json!({ "queueName": "emails", "parallelism": 1, "paused": false })),
    );
}

#[tokio::test]
async fn list_and_get_read_queues() {
    let api = Api::replying(fixture_reply(200, "list_queues")).await;
    let queues = api
        .client
        .queues()
        .list()
        .send()
        .await
        .expect("list succeeds");
    assert_request(&api.request().await, "GET", "/v2/queues", &[], None);
    assert_same_as_fixture(&queues, "list_queues");

    let api = Api::replying(fixture_reply(200, "get_queue")).await;
    let queue = api
        .client
        .queues()
        .get("my-queue")
        .send()
        .await
        .expect("get succeeds");
    assert_request(
        &api.request().await,
        "GET",
        "/v2/queues/my-queue",
        &[],
        None,
    );
    assert_same_as_fixture(&queue, "get_queue");
}

#[tokio::test]
async fn delete_pause_and_resume_address_the_queue() {
    let api = Api::replying(ResponseTemplate::new(200)).await;
    let queues = api.client.queues();
    queues
        .delete("my.queue_1")
        .send()
        .await
        .expect("delete succeeds");
    queues
        .pause("my.queue_1")
        .send()
        .await
        .expect("pause succeeds");
    queues
        .resume("my.queue_1")
        .send()
        .await
        .expect("resume succeeds");
    let requests = api.requests().await;
    assert_eq!(requests.len(), 3);
    assert_request(&requests[0], "DELETE", "/v2/queues/my.queue_1", &[], None);
    assert_request(
        &requests[1],
        "POST",
        "/v2/queues/my.queue_1/pause",
        &[],
        None,
    );
    assert_request(
        &requests[2],
        "POST",
        "/v2/queues/my.queue_1/resume",
        &[],
        None,
    );
}

/// QStash allows letters, digits, hyphens, periods and underscores in queue
/// names (400 otherwise); parallelism is at least 1.
#[tokio::test]
async fn invalid_input_is_refused_before_sending() {
    let api = Api::replying(ResponseTemplate::new(200)).await;
    let queues = api.client.queues();
    assert_invalid(queues.upsert("bad name").send().await, "queue_name");
    assert_invalid(
        queues.upsert("q").parallelism(0).send().await,
        "parallelism",
    );
    assert_invalid(queues.get("").send().await, "queue_name");
    assert_invalid(queues.delete("a/b").send().await, "queue_name");
    assert_invalid(queues.pause("ü").send().await, "queue_name");
    assert_invalid(queues.resume("a?b").send().await, "queue_name");
    assert!(api.requests().await.is_empty());
}
