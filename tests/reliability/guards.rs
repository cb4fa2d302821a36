//! Path parameters that would send a request to another endpoint are
//! refused before anything is sent, naming the parameter.

use qstash::Error;

use crate::{Action, DESTINATION, FakeClock, FaultServer};

async fn refused<T: std::fmt::Debug, E: qstash::ErrorBody>(
    server: &FaultServer,
    call: impl Future<Output = Result<T, qstash::api::Error<E>>>,
    parameter: &str,
) {
    let error = Error::from_api(call.await.expect_err("refused")).await;
    match &error {
        Error::InvalidInput(input) => assert_eq!(input.field(), parameter, "{error}"),
        other => panic!("{parameter}: {other:?}"),
    }
    assert!(error.to_string().contains(parameter), "{error}");
    assert!(
        server.received().is_empty(),
        "{parameter}: nothing may be sent"
    );
}

#[tokio::test]
async fn empty_ids_and_names_are_refused_before_sending() {
    let server = FaultServer::always(Action::status(200)).await;
    let clock = FakeClock::new();
    let client = server.client(&clock);
    let api = client.api();
    refused(
        &server,
        api.get_message().message_id("").send(),
        "message_id",
    )
    .await;
    refused(
        &server,
        api.cancel_message().message_id("").send(),
        "message_id",
    )
    .await;
    refused(
        &server,
        api.get_schedule().schedule_id("").send(),
        "schedule_id",
    )
    .await;
    refused(
        &server,
        api.delete_schedule().schedule_id("").send(),
        "schedule_id",
    )
    .await;
    refused(
        &server,
        api.pause_schedule().schedule_id("").send(),
        "schedule_id",
    )
    .await;
    refused(&server, api.get_queue().queue_name("").send(), "queue_name").await;
    refused(
        &server,
        api.pause_queue().queue_name("").send(),
        "queue_name",
    )
    .await;
    refused(
        &server,
        api.delete_queue().queue_name("").send(),
        "queue_name",
    )
    .await;
    refused(
        &server,
        api.get_url_group().url_group_name("").send(),
        "url_group_name",
    )
    .await;
    refused(
        &server,
        api.delete_url_group().url_group_name("").send(),
        "url_group_name",
    )
    .await;
    refused(&server, api.get_dlq_message().dlq_id("").send(), "dlq_id").await;
    refused(
        &server,
        api.delete_dlq_message().dlq_id("").send(),
        "dlq_id",
    )
    .await;
    refused(&server, api.retry_dlq_message().dlq_id("").send(), "dlq_id").await;
    refused(
        &server,
        api.get_flow_control_key().flow_control_key("").send(),
        "flow_control_key",
    )
    .await;
    refused(
        &server,
        api.reset_flow_control_rate().flow_control_key("").send(),
        "flow_control_key",
    )
    .await;
    refused(
        &server,
        api.pause_flow_control_key().flow_control_key("").send(),
        "flow_control_key",
    )
    .await;
    refused(
        &server,
        api.enqueue_message()
            .queue_name("")
            .destination(DESTINATION)
            .body("x")
            .send(),
        "queue_name",
    )
    .await;
    refused(
        &server,
        api.publish_message().destination("").body("x").send(),
        "destination",
    )
    .await;
}

/// `..` is not percent-encoded in a path, and URL parsing resolves it:
/// `/v2/queues/../pause` would become `/v2/pause`.
#[tokio::test]
async fn dot_segments_that_change_the_endpoint_are_refused() {
    let server = FaultServer::always(Action::status(200)).await;
    let clock = FakeClock::new();
    let client = server.client(&clock);
    refused(
        &server,
        client.api().pause_queue().queue_name("..").send(),
        "queue_name",
    )
    .await;
    // `/v2/messages/.` resolves to `/v2/messages/`, the bulk cancel's path.
    refused(
        &server,
        client.api().get_message().message_id(".").send(),
        "message_id",
    )
    .await;
}

#[tokio::test]
async fn a_parameter_never_set_is_named_too() {
    let server = FaultServer::always(Action::status(200)).await;
    let clock = FakeClock::new();
    let client = server.client(&clock);
    refused(&server, client.api().get_message().send(), "message_id").await;
}

#[tokio::test]
async fn a_proxy_prefix_in_the_base_url_is_not_taken_for_a_parameter() {
    let server =
        FaultServer::always(Action::json(200, serde_json::json!({"messageId": "m"}))).await;
    let clock = FakeClock::new();
    let client = server
        .builder(&clock)
        .base_url(format!("{}/qstash/", server.url))
        .build()
        .unwrap();
    client
        .api()
        .get_message()
        .message_id("msg_1")
        .send()
        .await
        .expect("sent");
    assert_eq!(server.received()[0].target, "/qstash/v2/messages/msg_1");
}
