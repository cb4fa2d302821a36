//! `client.flow_control()`: list, get, pause, resume, pin, unpin, reset
//! rate, global parallelism.

use std::time::Duration;

use wiremock::ResponseTemplate;

use crate::{Api, assert_invalid, assert_request, assert_same_as_fixture, fixture_reply};

#[tokio::test]
async fn list_get_and_global_parallelism_read_their_answers() {
    let api = Api::replying(fixture_reply(200, "list_flow_control_keys")).await;
    let keys = api
        .client
        .flow_control()
        .list()
        .send()
        .await
        .expect("list succeeds");
    assert_request(&api.request().await, "GET", "/v2/flowControl", &[], None);
    assert_same_as_fixture(&keys, "list_flow_control_keys");

    let api = Api::replying(fixture_reply(200, "get_flow_control_key")).await;
    let key = api
        .client
        .flow_control()
        .get("fc-key")
        .send()
        .await
        .expect("get succeeds");
    assert_request(
        &api.request().await,
        "GET",
        "/v2/flowControl/fc-key",
        &[],
        None,
    );
    assert_same_as_fixture(&key, "get_flow_control_key");

    let api = Api::replying(fixture_reply(200, "get_global_parallelism")).await;
    let global = api
        .client
        .flow_control()
        .global_parallelism()
        .send()
        .await
        .expect("get succeeds");
    assert_request(
        &api.request().await,
        "GET",
        "/v2/globalParallelism",
        &[],
        None,
    );
    assert_eq!(global.parallelism_max, Some(1000));
    assert_eq!(global.parallelism_count, Some(37));
}

#[tokio::test]
async fn pause_resume_and_reset_rate_post_to_the_key() {
    let api = Api::replying(ResponseTemplate::new(200)).await;
    let flow = api.client.flow_control();
    flow.pause("fc-key").send().await.expect("pause succeeds");
    flow.resume("fc-key").send().await.expect("resume succeeds");
    flow.reset_rate("fc-key")
        .send()
        .await
        .expect("reset succeeds");
    let requests = api.requests().await;
    assert_eq!(requests.len(), 3);
    assert_request(
        &requests[0],
        "POST",
        "/v2/flowControl/fc-key/pause",
        &[],
        None,
    );
    assert_request(
        &requests[1],
        "POST",
        "/v2/flowControl/fc-key/resume",
        &[],
        None,
    );
    assert_request(
        &requests[2],
        "POST",
        "/v2/flowControl/fc-key/resetRate",
        &[],
        None,
    );
}

#[tokio::test]
async fn pin_sends_parallelism_rate_and_period_in_seconds() {
    let api = Api::replying(ResponseTemplate::new(200)).await;
    api.client
        .flow_control()
        .pin("fc-key")
        .parallelism(3)
        .rate(10)
        .period(Duration::from_secs(60))
        .send()
        .await
        .expect("pin succeeds");
    assert_request(
        &api.request().await,
        "POST",
        "/v2/flowControl/fc-key/pin",
        &[("parallelism", "3"), ("rate", "10"), ("period", "60")],
        None,
    );

    let api = Api::replying(ResponseTemplate::new(200)).await;
    api.client
        .flow_control()
        .pin("fc-key")
        .rate(5)
        .send()
        .await
        .expect("pin succeeds");
    assert_request(
        &api.request().await,
        "POST",
        "/v2/flowControl/fc-key/pin",
        &[("rate", "5")],
        None,
    );
}

#[tokio::test]
async fn unpin_sends_only_what_is_unpinned() {
    let api = Api::replying(ResponseTemplate::new(200)).await;
    let flow = api.client.flow_control();
    flow.unpin("fc-key")
        .parallelism(true)
        .send()
        .await
        .expect("unpin succeeds");
    flow.unpin("fc-key")
        .parallelism(true)
        .rate(true)
        .send()
        .await
        .expect("unpin succeeds");
    let requests = api.requests().await;
    assert_eq!(requests.len(), 2);
    assert_request(
        &requests[0],
        "POST",
        "/v2/flowControl/fc-key/unpin",
        &[("parallelism", "true")],
        None,
    );
    assert_request(
        &requests[1],
        "POST",
        "/v2/flowControl/fc-key/unpin",
        &[("parallelism", "true"), ("rate", "true")],
        None,
    );
}

#[tokio::test]
async fn invalid_input_is_refused_before_sending() {
    let api = Api::replying(ResponseTemplate::new(200)).await;
    let flow = api.client.flow_control();
    assert_invalid(flow.get("").send().await, "flow_control_key");
    assert_invalid(flow.pause("").send().await, "flow_control_key");
    assert_invalid(flow.pin("fc-key").send().await, "pin");
    assert_invalid(
        flow.pin("fc-key")
            .period(Duration::from_millis(1500))
            .send()
            .await,
        "period",
    );
    assert_invalid(
        flow.pin("fc-key").period(Duration::ZERO).send().await,
        "period",
    );
    assert_invalid(flow.unpin("fc-key").send().await, "unpin");
    assert_invalid(flow.unpin("fc-key").rate(false).send().await, "unpin");
    assert!(api.requests().await.is_empty());
}
