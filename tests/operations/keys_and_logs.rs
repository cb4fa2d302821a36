//! get_signing_keys, rotate_signing_keys, list_logs.

use qstash::types::{ListLogsState, LogEntryState};

use crate::{Api, Expect, assert_round_trip, error_reply, fixture_reply, unexpected_response_body};

#[tokio::test]
async fn get_signing_keys_decodes_both_keys() {
    let api = Api::replying(fixture_reply(200, "get_signing_keys")).await;
    let keys = api
        .client
        .api()
        .get_signing_keys()
        .send()
        .await
        .expect("get succeeds")
        .into_inner();

    Expect::new("GET", "/v2/keys").assert(&api.request().await);
    assert_eq!(
        keys.current.as_deref(),
        Some("sig_7kYjw48mhY7kAjqNGcy6cr29RJ6r")
    );
    assert_eq!(
        keys.next.as_deref(),
        Some("sig_5ZB6DVzB1wjE8S6rZ7eenA8Pdnhs")
    );
    assert_round_trip(&keys, "get_signing_keys");
}

/// No error response is declared here: a 500 (or a 401 for a wrong token) is
/// an `UnexpectedResponse` error carrying the body, not a panic.
#[tokio::test]
async fn get_signing_keys_undeclared_500_is_an_error() {
    let api = Api::replying(error_reply(500, "internal server error")).await;
    let result = api.client.api().get_signing_keys().send().await;
    let body = unexpected_response_body(result, 500).await;
    assert_eq!(body, r#"{"error":"internal server error"}"#);
}

#[tokio::test]
async fn rotate_signing_keys_posts_and_decodes_the_new_keys() {
    let api = Api::replying(fixture_reply(200, "rotate_signing_keys")).await;
    let keys = api
        .client
        .api()
        .rotate_signing_keys()
        .send()
        .await
        .expect("rotate succeeds")
        .into_inner();

    Expect::new("POST", "/v2/keys/rotate").assert(&api.request().await);
    assert_eq!(
        keys.current.as_deref(),
        Some("sig_5ZB6DVzB1wjE8S6rZ7eenA8Pdnhs")
    );
    assert_eq!(
        keys.next.as_deref(),
        Some("sig_4f9Vt2mDyWqS8bN3kLxR7hPcZ1aE")
    );
    assert_round_trip(&keys, "rotate_signing_keys");
}

/// Spec: `GET /v2/logs`, answered with `logs`. The official SDKs call
/// `GET /v2/events` (answered with `events`); we follow the spec (see
/// sdk_parity.rs).
#[tokio::test]
async fn list_logs_sends_cursor_count_and_every_filter() {
    let api = Api::replying(fixture_reply(200, "list_logs")).await;
    let page = api
        .client
        .api()
        .list_logs()
        .cursor("1732286500000")
        .count(50)
        .state(ListLogsState::Delivered)
        .label(vec!["billing".to_string(), "eu".to_string()])
        .message_id("msg_26hZCxZCuWyyTWPmSVBrNB882AMRP1TsgzpygELRcLWep")
        .url("https://example.com/api")
        .topic_name("my-group")
        .schedule_id("scd_7Hs3GkCnPCwUj4kJ8DXaTpVq2ZkQ")
        .queue_name("my-queue")
        .from_date(1_732_200_000_000_i64)
        .to_date(1_732_286_400_000_i64)
        .send()
        .await
        .expect("list succeeds")
        .into_inner();

    Expect::new("GET", "/v2/logs")
        .query(&[
            ("cursor", "1732286500000"),
            ("count", "50"),
            ("state", "DELIVERED"),
            ("label", "billing"),
            ("label", "eu"),
            (
                "messageId",
                "msg_26hZCxZCuWyyTWPmSVBrNB882AMRP1TsgzpygELRcLWep",
            ),
            ("url", "https://example.com/api"),
            ("topicName", "my-group"),
            ("scheduleId", "scd_7Hs3GkCnPCwUj4kJ8DXaTpVq2ZkQ"),
            ("queueName", "my-queue"),
            ("fromDate", "1732200000000"),
            ("toDate", "1732286400000"),
        ])
        .assert(&api.request().await);
    assert_eq!(page.cursor.as_deref(), Some("1732286399000"));
    assert_eq!(page.logs.len(), 2);
    assert_eq!(page.logs[0].state, Some(LogEntryState::Delivered));
    assert_eq!(page.logs[0].time, Some(1_732_286_400_000));
    assert_eq!(page.logs[1].state, Some(LogEntryState::Error));
    assert_eq!(page.logs[1].next_delivery_time, Some(1_732_286_312_000));
    assert_eq!(page.logs[1].response_status, Some(500));
    assert_eq!(page.logs[1].callback_headers["X-Trace"], ["abc"]);
    assert_round_trip(&page, "list_logs");
}

/// The state filter's own description lists FAILED, and log entries can be
/// FAILED (LogEntry.state), but the filter's enum leaves it out: failed
/// messages cannot be listed by state.
#[test]
fn list_logs_can_filter_failed_messages() {
    assert!("FAILED".parse::<ListLogsState>().is_ok());
}

/// A state this crate does not know decodes as `Unknown` instead of
/// failing the whole page, and both spellings of "cancelled" decode; the
/// page goes back out as it came.
#[tokio::test]
async fn a_logs_page_with_unknown_and_alternative_states_decodes() {
    let page = serde_json::json!({
        "cursor": "1",
        "logs": [
            { "messageId": "m1", "state": "DELIVERED", "time": 1 },
            { "messageId": "m2", "state": "PAUSED_FOR_REVIEW", "time": 2 },
            { "messageId": "m3", "state": "CANCELED", "time": 3 },
            { "messageId": "m4", "state": "CANCELLED", "time": 4 }
        ]
    });
    let api = Api::replying(wiremock::ResponseTemplate::new(200).set_body_json(&page)).await;
    let logs = api
        .client
        .logs()
        .list()
        .send()
        .await
        .expect("the page decodes");
    let states: Vec<_> = logs.items.iter().map(|e| e.state.clone()).collect();
    assert_eq!(
        states,
        [
            Some(LogEntryState::Delivered),
            Some(LogEntryState::Unknown("PAUSED_FOR_REVIEW".into())),
            Some(LogEntryState::Cancelled),
            Some(LogEntryState::Cancelled),
        ]
    );
    assert_eq!(
        serde_json::to_value(&logs.items[1]).unwrap()["state"],
        "PAUSED_FOR_REVIEW"
    );
    assert_eq!(LogEntryState::Unknown("X".into()).to_string(), "X");
    assert_eq!(
        "CANCELED".parse::<LogEntryState>().ok(),
        Some(LogEntryState::Cancelled)
    );
}
