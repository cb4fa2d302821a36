//! `client.dlq()`: list, get, delete (one, by ids, by filter, all), retry
//! (one, by ids, by filter, all).

use qstash::DlqFilter;
use serde_json::json;
use wiremock::ResponseTemplate;

use crate::{
    Api, assert_invalid, assert_request, assert_same_as_fixture, at_ms, error_reply, fixture_reply,
};

const DLQ_ID: &str = "1732200123456-0";

/// Every filter the spec gives the DLQ, each multi-value one twice.
fn full_filter() -> DlqFilter {
    DlqFilter::new()
        .message_id("msg_1")
        .url("https://example.com/a")
        .url("https://example.com/b")
        .url_group("g1")
        .url_group("g2")
        .schedule_id("scd_1")
        .schedule_id("scd_2")
        .queue_name("q1")
        .queue_name("q2")
        .response_status(500)
        .response_status(502)
        .caller_ip("203.0.113.7")
        .caller_ip("203.0.113.8")
        .label("billing")
        .label("eu")
        .from_date(at_ms(1_732_200_000_000))
        .to_date(at_ms(1_732_286_400_000))
}

const FULL_QUERY: &[(&str, &str)] = &[
    ("messageId", "msg_1"),
    ("url", "https://example.com/a"),
    ("url", "https://example.com/b"),
    ("topicName", "g1"),
    ("topicName", "g2"),
    ("scheduleId", "scd_1"),
    ("scheduleId", "scd_2"),
    ("queueName", "q1"),
    ("queueName", "q2"),
    ("responseStatus", "500"),
    ("responseStatus", "502"),
    ("callerIp", "203.0.113.7"),
    ("callerIp", "203.0.113.8"),
    ("label", "billing"),
    ("label", "eu"),
    ("fromDate", "1732200000000"),
    ("toDate", "1732286400000"),
];

fn with(extra: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static str)> {
    FULL_QUERY.iter().chain(extra).copied().collect()
}

#[tokio::test]
async fn list_sends_every_filter_as_repeated_parameters() {
    let api = Api::replying(fixture_reply(200, "list_dlq_messages")).await;
    let page = api
        .client
        .dlq()
        .list()
        .filter(full_filter().flow_control_key("fc-key"))
        .cursor("1732200000000-1")
        .count(10)
        .send()
        .await
        .expect("list succeeds");
    // flowControlKey on the list: the correction `dlq-list-filters`.
    assert_request(
        &api.request().await,
        "GET",
        "/v2/dlq",
        &with(&[
            ("flowControlKey", "fc-key"),
            ("cursor", "1732200000000-1"),
            ("count", "10"),
        ]),
        None,
    );
    assert_eq!(page.items.len(), 2);
    assert_eq!(page.cursor.as_deref(), Some("1732286400000-3"));
}

#[tokio::test]
async fn get_delete_and_retry_one_address_the_dlq_id() {
    let api = Api::replying(fixture_reply(200, "get_dlq_message")).await;
    let message = api
        .client
        .dlq()
        .get(DLQ_ID)
        .send()
        .await
        .expect("get succeeds");
    assert_request(
        &api.request().await,
        "GET",
        &format!("/v2/dlq/{DLQ_ID}"),
        &[],
        None,
    );
    assert_same_as_fixture(&message, "get_dlq_message");

    let api = Api::replying(ResponseTemplate::new(200)).await;
    api.client
        .dlq()
        .delete(DLQ_ID)
        .send()
        .await
        .expect("delete succeeds");
    assert_request(
        &api.request().await,
        "DELETE",
        &format!("/v2/dlq/{DLQ_ID}"),
        &[],
        None,
    );

    let api = Api::replying(fixture_reply(201, "retry_dlq_message")).await;
    let retried = api
        .client
        .dlq()
        .retry(DLQ_ID)
        .send()
        .await
        .expect("retry succeeds");
    assert_request(
        &api.request().await,
        "POST",
        &format!("/v2/dlq/retry/{DLQ_ID}"),
        &[],
        None,
    );
    assert_eq!(
        retried.message_id.as_deref(),
        Some("msg_3FmgWXoYHhCNRs7SRXsFMdsmkMDvXWyEsNmgpAQP6EXiHqeQMDa")
    );
}

/// QStash's 404 ("removed by you, or automatically") is an `Error::Api`.
#[tokio::test]
async fn a_missing_dlq_message_is_a_404() {
    let api = Api::replying(error_reply(404, "message not found in dlq")).await;
    match api.client.dlq().get(DLQ_ID).send().await {
        Err(qstash::Error::Api { status, message }) => {
            assert_eq!(status.as_u16(), 404);
            assert_eq!(message, "message not found in dlq");
        }
        other => panic!("expected the 404, got {other:?}"),
    }
}

#[tokio::test]
async fn delete_by_ids_sends_each_id_and_reads_the_count() {
    let api = Api::replying(fixture_reply(200, "delete_dlq_messages")).await;
    let deleted = api
        .client
        .dlq()
        .delete_by_ids([DLQ_ID, "1732200123457-0"])
        .send()
        .await
        .expect("delete succeeds");
    assert_request(
        &api.request().await,
        "DELETE",
        "/v2/dlq",
        &[("dlqIds", DLQ_ID), ("dlqIds", "1732200123457-0")],
        None,
    );
    assert_eq!(deleted, 2);
}

#[tokio::test]
async fn delete_by_filter_sends_filters_flow_control_keys_cursor_and_count() {
    let api = Api::replying(fixture_reply(200, "delete_dlq_messages")).await;
    let deleted = api
        .client
        .dlq()
        .delete_by_filter(
            full_filter()
                .flow_control_key("fc-key")
                .flow_control_key("user-42"),
        )
        .cursor("1732200000000-1")
        .count(100)
        .send()
        .await
        .expect("delete succeeds");
    assert_request(
        &api.request().await,
        "DELETE",
        "/v2/dlq",
        &with(&[
            ("flowControlKey", "fc-key"),
            ("flowControlKey", "user-42"),
            ("cursor", "1732200000000-1"),
            ("count", "100"),
        ]),
        None,
    );
    assert_eq!(deleted.deleted, 2);
    assert_eq!(deleted.cursor.as_deref(), Some("1732286400000-7"));
}

#[tokio::test]
async fn delete_all_is_the_explicit_unfiltered_call() {
    let api =
        Api::replying(ResponseTemplate::new(200).set_body_json(json!({ "deleted": 7 }))).await;
    let deleted = api
        .client
        .dlq()
        .delete_all()
        .count(50)
        .send()
        .await
        .expect("delete succeeds");
    assert_request(
        &api.request().await,
        "DELETE",
        "/v2/dlq",
        &[("count", "50")],
        None,
    );
    assert_eq!(deleted.deleted, 7);
    assert_eq!(deleted.cursor, None);
}

#[tokio::test]
async fn retry_by_ids_and_by_filter_send_their_selection() {
    let api = Api::replying(fixture_reply(201, "retry_dlq_messages")).await;
    let responses = api
        .client
        .dlq()
        .retry_by_ids([DLQ_ID])
        .send()
        .await
        .expect("retry succeeds");
    assert_request(
        &api.request().await,
        "POST",
        "/v2/dlq/retry",
        &[("dlqIds", DLQ_ID)],
        None,
    );
    assert_eq!(responses.len(), 2);

    let api = Api::replying(fixture_reply(201, "retry_dlq_messages")).await;
    let retried = api
        .client
        .dlq()
        .retry_by_filter(full_filter().flow_control_key("fc-key"))
        .count(50)
        .cursor("1732286400000-9")
        .send()
        .await
        .expect("retry succeeds");
    // count and cursor: the correction `dlq-retry-paging`.
    assert_request(
        &api.request().await,
        "POST",
        "/v2/dlq/retry",
        &with(&[
            ("flowControlKey", "fc-key"),
            ("count", "50"),
            ("cursor", "1732286400000-9"),
        ]),
        None,
    );
    assert_eq!(retried.responses.len(), 2);
    assert_eq!(retried.cursor.as_deref(), Some("1732286400000-9"));

    let api = Api::replying(fixture_reply(201, "retry_dlq_messages")).await;
    api.client
        .dlq()
        .retry_all()
        .send()
        .await
        .expect("retry succeeds");
    assert_request(&api.request().await, "POST", "/v2/dlq/retry", &[], None);
}

/// An empty id list must never become the same request as "everything":
/// nothing is sent and nothing is counted.
#[tokio::test]
async fn empty_id_lists_send_nothing() {
    let api = Api::replying(fixture_reply(200, "delete_dlq_messages")).await;
    let none: Vec<String> = Vec::new();
    assert_eq!(
        api.client
            .dlq()
            .delete_by_ids(none.clone())
            .send()
            .await
            .expect("no-op"),
        0
    );
    assert!(
        api.client
            .dlq()
            .retry_by_ids(none)
            .send()
            .await
            .expect("no-op")
            .is_empty()
    );
    assert!(api.requests().await.is_empty());
}

#[tokio::test]
async fn an_empty_filter_is_refused_instead_of_meaning_everything() {
    let api = Api::replying(fixture_reply(200, "delete_dlq_messages")).await;
    assert_invalid(
        api.client
            .dlq()
            .delete_by_filter(DlqFilter::new())
            .send()
            .await,
        "filter",
    );
    assert_invalid(
        api.client
            .dlq()
            .retry_by_filter(DlqFilter::new())
            .send()
            .await,
        "filter",
    );
    assert!(api.requests().await.is_empty());
}

#[tokio::test]
async fn invalid_input_is_refused_before_sending() {
    let api = Api::replying(fixture_reply(200, "delete_dlq_messages")).await;
    let dlq = api.client.dlq();
    assert_invalid(dlq.get("").send().await, "dlq_id");
    assert_invalid(dlq.delete("").send().await, "dlq_id");
    assert_invalid(dlq.retry("").send().await, "dlq_id");
    assert_invalid(dlq.delete_by_ids([DLQ_ID, ""]).send().await, "dlq_ids");
    assert_invalid(dlq.retry_by_ids(["a,b"]).send().await, "dlq_ids");
    // QStash splits values on commas: a URL with one could never match.
    assert_invalid(
        dlq.delete_by_filter(DlqFilter::new().url("https://example.com/?a=1,2"))
            .send()
            .await,
        "url",
    );
    assert_invalid(
        dlq.delete_by_filter(DlqFilter::new().label("x"))
            .count(101)
            .send()
            .await,
        "count",
    );
    assert_invalid(dlq.delete_all().count(0).send().await, "count");
    assert_invalid(dlq.retry_all().count(101).send().await, "count");
    assert_invalid(dlq.retry_all().cursor("").send().await, "cursor");
    assert_invalid(dlq.list().count(101).send().await, "count");
    assert!(api.requests().await.is_empty());
}
