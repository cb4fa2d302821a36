//! list_flow_control_keys, get_flow_control_key, pause_flow_control_key,
//! resume_flow_control_key, pin_flow_control_key, unpin_flow_control_key,
//! reset_flow_control_rate, get_global_parallelism.

use crate::{
    Api, Expect, assert_error_response, assert_round_trip, empty_reply, error_reply, fixture_reply,
};

#[tokio::test]
async fn list_flow_control_keys_decodes_every_key() {
    let api = Api::replying(fixture_reply(200, "list_flow_control_keys")).await;
    let keys = api
        .client
        .api()
        .list_flow_control_keys()
        .send()
        .await
        .expect("list succeeds")
        .into_inner();

    Expect::new("GET", "/v2/flowControl").assert(&api.request().await);
    let names: Vec<_> = keys.iter().map(|k| k.flow_control_key.as_deref()).collect();
    assert_eq!(names, [Some("fc-key"), Some("user-42")]);
    assert_eq!(keys[0].wait_list_size, Some(12));
    assert_eq!(keys[1].is_paused, Some(true));
    assert_eq!(keys[1].rate_max, None);
    assert_round_trip(&keys, "list_flow_control_keys");
}

#[tokio::test]
async fn get_flow_control_key_decodes_every_field() {
    let api = Api::replying(fixture_reply(200, "get_flow_control_key")).await;
    let key = api
        .client
        .api()
        .get_flow_control_key()
        .flow_control_key("fc-key")
        .send()
        .await
        .expect("get succeeds")
        .into_inner();

    Expect::new("GET", "/v2/flowControl/fc-key").assert(&api.request().await);
    assert_eq!(key.flow_control_key.as_deref(), Some("fc-key"));
    assert_eq!(
        (key.parallelism_max, key.parallelism_count),
        (Some(3), Some(3))
    );
    assert_eq!(
        (key.rate_max, key.rate_count, key.rate_period),
        (Some(10), Some(7), Some(60))
    );
    assert_eq!(key.rate_period_start, Some(1_732_286_400));
    assert_eq!(key.is_pinned_rate, Some(true));
    assert_round_trip(&key, "get_flow_control_key");
}

/// Path parameters other than a destination stay one percent-encoded
/// segment: a `/` in a key must not split the path.
#[tokio::test]
async fn get_flow_control_key_encodes_a_slash_in_the_key() {
    let api = Api::replying(fixture_reply(200, "get_flow_control_key")).await;
    api.client
        .api()
        .get_flow_control_key()
        .flow_control_key("tenant:42/eu west")
        .send()
        .await
        .expect("get succeeds");
    Expect::new("GET", "/v2/flowControl/tenant:42%2Feu%20west").assert(&api.request().await);
}

#[tokio::test]
async fn get_flow_control_key_decodes_not_found() {
    let api = Api::replying(error_reply(404, "flow control key not found")).await;
    let result = api
        .client
        .api()
        .get_flow_control_key()
        .flow_control_key("nope")
        .send()
        .await;
    assert_error_response(result, 404, "flow control key not found");
}

#[tokio::test]
async fn pause_flow_control_key_posts_without_a_body() {
    let api = Api::replying(empty_reply(200)).await;
    api.client
        .api()
        .pause_flow_control_key()
        .flow_control_key("fc-key")
        .send_ignoring_answer()
        .await
        .expect("pause succeeds");
    Expect::new("POST", "/v2/flowControl/fc-key/pause").assert(&api.request().await);
}

#[tokio::test]
async fn resume_flow_control_key_posts_without_a_body() {
    let api = Api::replying(empty_reply(200)).await;
    api.client
        .api()
        .resume_flow_control_key()
        .flow_control_key("fc-key")
        .send_ignoring_answer()
        .await
        .expect("resume succeeds");
    Expect::new("POST", "/v2/flowControl/fc-key/resume").assert(&api.request().await);
}

#[tokio::test]
async fn pin_flow_control_key_sends_parallelism_rate_and_period() {
    let api = Api::replying(empty_reply(200)).await;
    api.client
        .api()
        .pin_flow_control_key()
        .flow_control_key("fc-key")
        .parallelism(5)
        .rate(100)
        .period(60)
        .send_ignoring_answer()
        .await
        .expect("pin succeeds");
    Expect::new("POST", "/v2/flowControl/fc-key/pin")
        .query(&[("parallelism", "5"), ("rate", "100"), ("period", "60")])
        .assert(&api.request().await);
}

#[tokio::test]
async fn pin_flow_control_key_decodes_a_bad_request() {
    let api = Api::replying(error_reply(400, "parallelism must be positive")).await;
    let result = api
        .client
        .api()
        .pin_flow_control_key()
        .flow_control_key("fc-key")
        .parallelism(0)
        .send()
        .await;
    assert_error_response(result, 400, "parallelism must be positive");
}

#[tokio::test]
async fn unpin_flow_control_key_sends_which_settings_to_unpin() {
    let api = Api::replying(empty_reply(200)).await;
    api.client
        .api()
        .unpin_flow_control_key()
        .flow_control_key("fc-key")
        .parallelism(true)
        .rate(false)
        .send_ignoring_answer()
        .await
        .expect("unpin succeeds");
    Expect::new("POST", "/v2/flowControl/fc-key/unpin")
        .query(&[("parallelism", "true"), ("rate", "false")])
        .assert(&api.request().await);
}

#[tokio::test]
async fn reset_flow_control_rate_posts_without_a_body() {
    let api = Api::replying(empty_reply(200)).await;
    api.client
        .api()
        .reset_flow_control_rate()
        .flow_control_key("fc-key")
        .send_ignoring_answer()
        .await
        .expect("reset succeeds");
    Expect::new("POST", "/v2/flowControl/fc-key/resetRate").assert(&api.request().await);
}

/// This operation declares its 500 with an error body, so it is decoded.
#[tokio::test]
async fn reset_flow_control_rate_decodes_its_documented_500() {
    let api = Api::replying(error_reply(500, "could not reset rate")).await;
    let result = api
        .client
        .api()
        .reset_flow_control_rate()
        .flow_control_key("fc-key")
        .send()
        .await;
    assert_error_response(result, 500, "could not reset rate");
}

#[tokio::test]
async fn get_global_parallelism_decodes_every_field() {
    let api = Api::replying(fixture_reply(200, "get_global_parallelism")).await;
    let global = api
        .client
        .api()
        .get_global_parallelism()
        .send()
        .await
        .expect("get succeeds")
        .into_inner();

    Expect::new("GET", "/v2/globalParallelism").assert(&api.request().await);
    assert_eq!(global.parallelism_max, Some(1000));
    assert_eq!(global.parallelism_count, Some(37));
    assert_round_trip(&global, "get_global_parallelism");
}
