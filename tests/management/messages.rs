//! `client.messages()` housekeeping: get, cancel one, by ids, by filter, all.

use qstash::MessageFilter;
use serde_json::json;
use wiremock::ResponseTemplate;

use crate::{
    Api, assert_invalid, assert_request, assert_same_as_fixture, at_ms, error_reply, fixture_reply,
};

const MESSAGE_ID: &str = "msg_26hZCxZCuWyyTWPmSVBrNB882AMRP1TsgzpygELRcLWep";

#[tokio::test]
async fn get_reads_the_message() {
    let api = Api::replying(fixture_reply(200, "get_message")).await;
    let message = api
        .client
        .messages()
        .get(MESSAGE_ID)
        .send()
        .await
        .expect("get succeeds");
    assert_request(
        &api.request().await,
        "GET",
        &format!("/v2/messages/{MESSAGE_ID}"),
        &[],
        None,
    );
    assert_same_as_fixture(&message, "get_message");
}

/// Delivered messages are removed shortly after: QStash answers 404.
#[tokio::test]
async fn a_delivered_message_is_a_404() {
    let api = Api::replying(error_reply(404, "message not found")).await;
    let result = api.client.messages().get(MESSAGE_ID).send().await;
    assert_eq!(
        result.expect_err("a 404").status().map(|s| s.as_u16()),
        Some(404)
    );
}

#[tokio::test]
async fn cancel_one_deletes_by_path() {
    let api = Api::replying(ResponseTemplate::new(200)).await;
    api.client
        .messages()
        .cancel(MESSAGE_ID)
        .send()
        .await
        .expect("cancel succeeds");
    assert_request(
        &api.request().await,
        "DELETE",
        &format!("/v2/messages/{MESSAGE_ID}"),
        &[],
        None,
    );
}

#[tokio::test]
async fn cancel_by_ids_sends_each_id_and_reads_the_count() {
    let api = Api::replying(fixture_reply(200, "cancel_messages")).await;
    let cancelled = api
        .client
        .messages()
        .cancel_by_ids(["msg_1", "msg_2"])
        .send()
        .await
        .expect("cancel succeeds");
    assert_request(
        &api.request().await,
        "DELETE",
        "/v2/messages",
        &[("messageIds", "msg_1"), ("messageIds", "msg_2")],
        None,
    );
    assert_eq!(cancelled, 42);
}

#[tokio::test]
async fn cancel_by_filter_sends_every_filter_as_repeated_parameters() {
    let api = Api::replying(fixture_reply(200, "cancel_messages")).await;
    let filter = MessageFilter::new()
        .url_group("g1")
        .url_group("g2")
        .queue_name("q1")
        .queue_name("q2")
        .url("https://example.com/a")
        .url("https://example.com/b")
        .host("example.com")
        .host("example.org")
        .path("/a")
        .path("/b")
        .label("billing")
        .label("eu")
        .flow_control_key("fc-key")
        .flow_control_key("user-42")
        .schedule_id("scd_1")
        .schedule_id("scd_2")
        .caller_ip("203.0.113.7")
        .caller_ip("203.0.113.8")
        .from_date(at_ms(1_732_200_000_000))
        .to_date(at_ms(1_732_286_400_000));
    let cancelled = api
        .client
        .messages()
        .cancel_by_filter(filter)
        .count(500)
        .send()
        .await
        .expect("cancel succeeds");
    assert_request(
        &api.request().await,
        "DELETE",
        "/v2/messages",
        &[
            ("topicName", "g1"),
            ("topicName", "g2"),
            ("queueName", "q1"),
            ("queueName", "q2"),
            ("url", "https://example.com/a"),
            ("url", "https://example.com/b"),
            ("host", "example.com"),
            ("host", "example.org"),
            ("path", "/a"),
            ("path", "/b"),
            ("label", "billing"),
            ("label", "eu"),
            ("flowControlKey", "fc-key"),
            ("flowControlKey", "user-42"),
            ("scheduleId", "scd_1"),
            ("scheduleId", "scd_2"),
            ("callerIp", "203.0.113.7"),
            ("callerIp", "203.0.113.8"),
            ("fromDate", "1732200000000"),
            ("toDate", "1732286400000"),
            ("count", "500"),
        ],
        None,
    );
    assert_eq!(cancelled, 42);
}

#[tokio::test]
async fn cancel_all_is_the_explicit_unfiltered_call() {
    let api = Api::replying(fixture_reply(200, "cancel_messages")).await;
    let cancelled = api
        .client
        .messages()
        .cancel_all()
        .send()
        .await
        .expect("cancel succeeds");
    assert_request(&api.request().await, "DELETE", "/v2/messages", &[], None);
    assert_eq!(cancelled, 42);

    let api = Api::replying(fixture_reply(200, "cancel_messages")).await;
    api.client
        .messages()
        .cancel_all()
        .count(100)
        .send()
        .await
        .expect("cancel succeeds");
    assert_request(
        &api.request().await,
        "DELETE",
        "/v2/messages",
        &[("count", "100")],
        None,
    );
}

/// An empty id list sends nothing and cancels nothing; an empty filter is
/// refused. Neither may turn into "cancel everything".
#[tokio::test]
async fn nothing_selected_never_means_everything() {
    let api = Api::replying(fixture_reply(200, "cancel_messages")).await;
    let none: [&str; 0] = [];
    assert_eq!(
        api.client
            .messages()
            .cancel_by_ids(none)
            .send()
            .await
            .expect("no-op"),
        0
    );
    assert_invalid(
        api.client
            .messages()
            .cancel_by_filter(MessageFilter::new())
            .send()
            .await,
        "filter",
    );
    assert!(api.requests().await.is_empty());
}

/// A count QStash leaves out reads as zero; a negative one is not a count.
#[tokio::test]
async fn the_cancelled_count_is_read_strictly() {
    let api = Api::replying(ResponseTemplate::new(200).set_body_json(json!({}))).await;
    let cancelled = api.client.messages().cancel_by_ids(["msg_1"]).send().await;
    assert_eq!(cancelled.expect("an empty answer"), 0);

    let api =
        Api::replying(ResponseTemplate::new(200).set_body_json(json!({ "cancelled": -1 }))).await;
    match api.client.messages().cancel_by_ids(["msg_1"]).send().await {
        Err(qstash::Error::Decode { .. }) => {}
        other => panic!("expected a decode error, got {other:?}"),
    }
}

#[tokio::test]
async fn invalid_input_is_refused_before_sending() {
    let api = Api::replying(fixture_reply(200, "cancel_messages")).await;
    let messages = api.client.messages();
    assert_invalid(messages.get("").send().await, "message_id");
    assert_invalid(messages.cancel("").send().await, "message_id");
    assert_invalid(
        messages.cancel_by_ids(["msg_1", ""]).send().await,
        "message_ids",
    );
    assert_invalid(messages.cancel_all().count(0).send().await, "count");
    assert_invalid(messages.cancel_all().count(501).send().await, "count");
    assert_invalid(
        messages
            .cancel_by_filter(MessageFilter::new().label("a,b"))
            .send()
            .await,
        "label",
    );
    assert_invalid(
        messages
            .cancel_by_filter(MessageFilter::new().host(""))
            .send()
            .await,
        "host",
    );
    assert!(api.requests().await.is_empty());
}
