//! publish_message, enqueue_message, batch_messages, get_message,
//! cancel_message, cancel_messages.

use std::collections::HashMap;

use qstash::types::{
    BatchMessagesBodyItem, BatchMessagesResponseItem, EnqueueMessageResponse,
    EnqueueMessageUpstashContentBasedDeduplication, EnqueueMessageUpstashMethod,
    PublishMessageResponse, PublishMessageUpstashContentBasedDeduplication,
    PublishMessageUpstashMethod, PublishResponse, PublishToUrlGroupResponse,
};
use serde_json::json;
use wiremock::ResponseTemplate;

use crate::{
    Api, Expect, assert_error_response, assert_no_unfiltered_bulk_request,
    assert_refused_as_everything, assert_round_trip, empty_reply, error_reply, fixture_reply,
};

const DESTINATION: &str = "https://example.com/api";
const PUBLISH_PATH: &str = "/v2/publish/https://example.com/api";
const MESSAGE_ID: &str = "msg_26hZCxZCuWyyTWPmSVBrNB882AMRP1TsgzpygELRcLWep";

fn single(response: &PublishMessageResponse) -> &PublishResponse {
    match response {
        PublishMessageResponse::PublishResponse(single) => single,
        other => panic!("expected the single-message variant, got {other:?}"),
    }
}

fn url_group(response: &PublishMessageResponse) -> &[PublishToUrlGroupResponse] {
    match response {
        PublishMessageResponse::UrlGroupMessages { messages }
        | PublishMessageResponse::UrlGroupList(messages) => messages,
        other => panic!("expected the URL-group variant, got {other:?}"),
    }
}

#[tokio::test]
async fn publish_message_sends_every_option_as_its_header_and_the_body_as_is() {
    let api = Api::replying(fixture_reply(200, "publish_message")).await;
    let response = api
        .client
        .api()
        .publish_message()
        .destination(DESTINATION)
        .content_type("application/json")
        .upstash_method(PublishMessageUpstashMethod::Put)
        .upstash_delay("1d10h30m")
        .upstash_not_before(1_900_000_000)
        .upstash_retries(2)
        .upstash_retry_delay("pow(2, retried) * 1000")
        .upstash_timeout("30s")
        .upstash_deduplication_id("dedup-1")
        .upstash_callback("https://example.com/cb")
        .upstash_failure_callback("https://example.com/fail")
        .upstash_flow_control_key("fc-key")
        .upstash_flow_control_value("parallelism=3, rate=10, period=1m")
        .upstash_label("billing,eu")
        .upstash_redact_fields("body, header[Authorization]")
        .body(r#"{"a":1}"#)
        .send()
        .await
        .expect("publish succeeds");

    Expect::new("POST", PUBLISH_PATH)
        .raw_body(br#"{"a":1}"#, "application/json")
        .headers(&[
            ("Upstash-Method", "PUT"),
            ("Upstash-Delay", "1d10h30m"),
            ("Upstash-Not-Before", "1900000000"),
            ("Upstash-Retries", "2"),
            ("Upstash-Retry-Delay", "pow(2, retried) * 1000"),
            ("Upstash-Timeout", "30s"),
            ("Upstash-Deduplication-Id", "dedup-1"),
            ("Upstash-Callback", "https://example.com/cb"),
            ("Upstash-Failure-Callback", "https://example.com/fail"),
            ("Upstash-Flow-Control-Key", "fc-key"),
            (
                "Upstash-Flow-Control-Value",
                "parallelism=3, rate=10, period=1m",
            ),
            ("Upstash-Label", "billing,eu"),
            ("Upstash-Redact-Fields", "body, header[Authorization]"),
        ])
        .assert(&api.request().await);
    assert_eq!(response.status(), 200);
    let decoded = response.into_inner();
    assert_eq!(single(&decoded).message_id.as_deref(), Some(MESSAGE_ID));
    assert_eq!(single(&decoded).deduplicated, None);
    assert_round_trip(&decoded, "publish_message");
}

#[tokio::test]
async fn publish_message_sends_a_binary_body_byte_for_byte() {
    // Not UTF-8: a lone continuation byte, 0xFF, a truncated sequence.
    let body: Vec<u8> = vec![0xff, 0x00, 0x80, 0x81, b'\n', 0xfe, 0xc3];
    let api = Api::replying(fixture_reply(200, "publish_message_deduplicated")).await;
    let response = api
        .client
        .api()
        .publish_message()
        .destination(DESTINATION)
        .content_type("application/octet-stream")
        .upstash_content_based_deduplication(PublishMessageUpstashContentBasedDeduplication::True)
        .body(body.clone())
        .send()
        .await
        .expect("publish succeeds");

    Expect::new("POST", PUBLISH_PATH)
        .raw_body(&body, "application/octet-stream")
        .headers(&[("Upstash-Content-Based-Deduplication", "true")])
        .assert(&api.request().await);
    let decoded = response.into_inner();
    assert_eq!(single(&decoded).message_id.as_deref(), Some(MESSAGE_ID));
    assert_eq!(single(&decoded).deduplicated, Some(true));
    assert_round_trip(&decoded, "publish_message_deduplicated");
}

/// Without `content_type` the body goes out unlabelled: progenitor's
/// default `application/octet-stream` is removed at generation
/// (`WireFixes` in build/generate.rs), since QStash forwards whatever
/// `Content-Type` it gets to the destination.
#[tokio::test]
async fn publish_message_without_a_content_type_sends_none() {
    let api = Api::replying(fixture_reply(200, "publish_message")).await;
    api.client
        .api()
        .publish_message()
        .destination(DESTINATION)
        .body("hello")
        .send()
        .await
        .expect("publish succeeds");

    Expect::new("POST", PUBLISH_PATH)
        .unlabelled_body(b"hello")
        .assert(&api.request().await);
}

/// The official SDKs put a destination's query on the request line as it is
/// (`/v2/publish/https://example.com/api?x=1&y=2`): its order and encoding
/// are the destination's, so the query string is compared exactly.
#[tokio::test]
async fn publish_message_keeps_the_destination_query_and_escapes_as_they_are() {
    let api = Api::replying(fixture_reply(200, "publish_message")).await;
    api.client
        .api()
        .publish_message()
        .destination("https://example.com/a%2Fb/c?y=2&x=hello%20world&x=1")
        .content_type("text/plain")
        .body("hello")
        .send()
        .await
        .expect("publish succeeds");

    Expect::new("POST", "/v2/publish/https://example.com/a%2Fb/c")
        .raw_query("y=2&x=hello%20world&x=1")
        .raw_body(b"hello", "text/plain")
        .assert(&api.request().await);
}

/// A fragment is never part of a request: the official SDKs' HTTP clients
/// (fetch, httpx) silently drop it. Sending it percent-encoded would change
/// the destination's path to `/api%23section`; we refuse it instead, so
/// nothing the caller wrote is lost without a word.
#[tokio::test]
async fn publish_message_refuses_a_destination_fragment() {
    let api = Api::replying(fixture_reply(200, "publish_message")).await;
    let result = api
        .client
        .api()
        .publish_message()
        .destination("https://example.com/api?x=1#section")
        .content_type("text/plain")
        .body("hello")
        .send()
        .await;
    match result {
        Err(qstash::api::Error::InvalidRequest(message)) => {
            assert!(message.contains("#fragment"), "{message}")
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert!(api.requests().await.is_empty(), "nothing may be sent");
}

#[tokio::test]
async fn publish_message_to_a_url_group_decodes_one_message_per_endpoint() {
    let api = Api::replying(fixture_reply(200, "publish_message_url_group")).await;
    let decoded = api
        .client
        .api()
        .publish_message()
        .destination("my-group")
        .content_type("application/json")
        .body(r#"{"a":1}"#)
        .send()
        .await
        .expect("publish succeeds")
        .into_inner();

    Expect::new("POST", "/v2/publish/my-group")
        .raw_body(br#"{"a":1}"#, "application/json")
        .assert(&api.request().await);
    let messages = url_group(&decoded);
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[0].url.as_deref(), Some("https://example.com/a"));
    assert_eq!(
        messages[0].message_id.as_deref(),
        Some("msg_7YoJxFpwkEy5zBp378JgvD6YBDPBEqkBPje2JGTCEUiASMJQ1FwY9")
    );
    assert_eq!(messages[0].deduplicated, None);
    assert_eq!(messages[1].url.as_deref(), Some("https://example.com/b"));
    assert_eq!(messages[1].deduplicated, Some(true));
    assert_round_trip(&decoded, "publish_message_url_group");
}

/// The spec says a URL-group publish answers `{"messages": [...]}`; the
/// official SDKs read a top-level array instead (`PublishToUrlGroupsResponse
/// = PublishToUrlResponse[]` in @upstash/qstash, `isinstance(response, list)`
/// in qstash-py's `parse_publish_response`, the same in qstash-go's batch
/// parser). If QStash answers that way, our types cannot decode the answer.
#[tokio::test]
async fn publish_message_to_a_url_group_decodes_the_array_the_sdks_expect() {
    let api = Api::replying(ResponseTemplate::new(200).set_body_json(json!([
        { "messageId": "msg_1", "url": "https://example.com/a" },
        { "messageId": "msg_2", "url": "https://example.com/b" }
    ])))
    .await;
    let result = api
        .client
        .api()
        .publish_message()
        .destination("my-group")
        .body("hello")
        .send()
        .await;
    let decoded = result.expect("a top-level array decodes").into_inner();
    assert_eq!(url_group(&decoded).len(), 2);
}

#[tokio::test]
async fn publish_message_decodes_documented_errors() {
    let api = Api::replying(error_reply(400, "invalid destination url")).await;
    let result = api
        .client
        .api()
        .publish_message()
        .destination("not a url")
        .body("hello")
        .send()
        .await;
    assert_error_response(result, 400, "invalid destination url");

    let api = Api::replying(error_reply(401, "unauthorized")).await;
    let result = api
        .client
        .api()
        .publish_message()
        .destination(DESTINATION)
        .body("hello")
        .send()
        .await;
    assert_error_response(result, 401, "unauthorized");
}

#[tokio::test]
async fn enqueue_message_puts_queue_and_raw_destination_in_the_path() {
    let api = Api::replying(fixture_reply(200, "enqueue_message")).await;
    let decoded = api
        .client
        .api()
        .enqueue_message()
        .queue_name("my-queue")
        .destination(DESTINATION)
        .content_type("application/json")
        .upstash_method(EnqueueMessageUpstashMethod::Patch)
        .upstash_retries(0)
        .upstash_retry_delay("1000")
        .upstash_timeout("5s")
        .upstash_content_based_deduplication(EnqueueMessageUpstashContentBasedDeduplication::True)
        .upstash_deduplication_id("order-1234")
        .upstash_callback("https://example.com/cb")
        .upstash_failure_callback("https://example.com/fail")
        .upstash_label("orders")
        .upstash_redact_fields("headers")
        .body(r#"{"order":1234}"#)
        .send()
        .await
        .expect("enqueue succeeds")
        .into_inner();

    Expect::new("POST", "/v2/enqueue/my-queue/https://example.com/api")
        .raw_body(br#"{"order":1234}"#, "application/json")
        .headers(&[
            ("Upstash-Method", "PATCH"),
            ("Upstash-Retries", "0"),
            ("Upstash-Retry-Delay", "1000"),
            ("Upstash-Timeout", "5s"),
            ("Upstash-Content-Based-Deduplication", "true"),
            ("Upstash-Deduplication-Id", "order-1234"),
            ("Upstash-Callback", "https://example.com/cb"),
            ("Upstash-Failure-Callback", "https://example.com/fail"),
            ("Upstash-Label", "orders"),
            ("Upstash-Redact-Fields", "headers"),
        ])
        .assert(&api.request().await);
    match &decoded {
        EnqueueMessageResponse::PublishResponse(single) => assert_eq!(
            single.message_id.as_deref(),
            Some("msg_4vDDHXMjTmb8DH2Bdg5dRJ7hD8eQ8JuYT9oKWBR9DSHUmMwH7sPK")
        ),
        other => panic!("expected the single-message variant, got {other:?}"),
    }
    assert_round_trip(&decoded, "enqueue_message");
}

#[tokio::test]
async fn enqueue_message_to_a_url_group_decodes_one_message_per_endpoint() {
    let api = Api::replying(fixture_reply(200, "enqueue_message_url_group")).await;
    let decoded = api
        .client
        .api()
        .enqueue_message()
        .queue_name("my-queue")
        .destination("my-group")
        .content_type("text/plain")
        .body("hello")
        .send()
        .await
        .expect("enqueue succeeds")
        .into_inner();

    Expect::new("POST", "/v2/enqueue/my-queue/my-group")
        .raw_body(b"hello", "text/plain")
        .assert(&api.request().await);
    match &decoded {
        EnqueueMessageResponse::UrlGroupMessages { messages } => {
            let urls: Vec<_> = messages.iter().map(|m| m.url.as_deref()).collect();
            assert_eq!(
                urls,
                [Some("https://example.com/a"), Some("https://example.com/b")]
            );
        }
        other => panic!("expected the URL-group variant, got {other:?}"),
    }
    assert_round_trip(&decoded, "enqueue_message_url_group");
}

#[tokio::test]
async fn batch_messages_sends_the_messages_as_a_json_array() {
    let api = Api::replying(fixture_reply(200, "batch_messages")).await;
    // Built field by field, as a newer spec may add fields.
    let messages: Vec<BatchMessagesBodyItem> = [
        BatchMessagesBodyItem::builder()
            .destination("https://example.com/a")
            .body(r#"{"a":1}"#.to_string())
            .headers(HashMap::from([
                ("Content-Type".to_string(), "application/json".to_string()),
                ("Upstash-Delay".to_string(), "5s".to_string()),
            ])),
        BatchMessagesBodyItem::builder()
            .destination("https://example.com/b")
            .body(r#"{"b":2}"#.to_string())
            .headers(HashMap::from([(
                "Upstash-Deduplication-Id".to_string(),
                "b-2".to_string(),
            )]))
            .queue("my-queue".to_string()),
    ]
    .into_iter()
    .map(|item| item.try_into().expect("every required field is set"))
    .collect();
    let decoded = api
        .client
        .api()
        .batch_messages()
        .body(messages)
        .send()
        .await
        .expect("batch succeeds")
        .into_inner();

    Expect::new("POST", "/v2/batch")
        .json(json!([
            {
                "destination": "https://example.com/a",
                "body": "{\"a\":1}",
                "headers": { "Content-Type": "application/json", "Upstash-Delay": "5s" }
            },
            {
                "destination": "https://example.com/b",
                "body": "{\"b\":2}",
                "headers": { "Upstash-Deduplication-Id": "b-2" },
                "queue": "my-queue"
            }
        ]))
        .assert(&api.request().await);
    let singles: Vec<&PublishResponse> = decoded
        .iter()
        .map(|item| match item {
            BatchMessagesResponseItem::PublishResponse(single) => single,
            other => panic!("expected single-message entries, got {other:?}"),
        })
        .collect();
    assert_eq!(singles.len(), 2);
    assert_eq!(
        singles[0].message_id.as_deref(),
        Some("msg_2oD7MMRwY4kLeZQnYsBTi8RQmzM9yq8hPMhvRH6rXZtGMAmPgW")
    );
    assert_eq!(singles[1].deduplicated, Some(true));
    assert_round_trip(&decoded, "batch_messages");
}

/// A batch entry whose destination is a URL group is answered with an array
/// of that group's messages in qstash-go (`batchResponse.UnmarshalJSON`) and
/// qstash-py (`parse_batch_response`); the spec types every entry as one
/// `PublishResponse`.
#[tokio::test]
async fn batch_messages_decodes_a_url_group_entry() {
    let api = Api::replying(ResponseTemplate::new(200).set_body_json(json!([
        { "messageId": "msg_1" },
        [
            { "messageId": "msg_2", "url": "https://example.com/a" },
            { "messageId": "msg_3", "url": "https://example.com/b" }
        ]
    ])))
    .await;
    let item =
        BatchMessagesBodyItem::try_from(BatchMessagesBodyItem::builder().destination("my-group"))
            .expect("every required field is set");
    let decoded = api
        .client
        .api()
        .batch_messages()
        .body(vec![item])
        .send()
        .await
        .expect("a batch with a URL-group entry decodes")
        .into_inner();
    assert!(
        matches!(&decoded[0], BatchMessagesResponseItem::PublishResponse(p) if p.message_id.as_deref() == Some("msg_1"))
    );
    assert!(
        matches!(&decoded[1], BatchMessagesResponseItem::UrlGroupList(group) if group.len() == 2)
    );
}

#[tokio::test]
async fn batch_messages_decodes_a_bad_request() {
    let api = Api::replying(error_reply(400, "destination is required")).await;
    let result = api.client.api().batch_messages().body(vec![]).send().await;
    Expect::new("POST", "/v2/batch")
        .json(json!([]))
        .assert(&api.request().await);
    assert_error_response(result, 400, "destination is required");
}

#[tokio::test]
async fn get_message_decodes_every_field() {
    let api = Api::replying(fixture_reply(200, "get_message")).await;
    let message = api
        .client
        .api()
        .get_message()
        .message_id(MESSAGE_ID)
        .send()
        .await
        .expect("get succeeds")
        .into_inner();

    Expect::new("GET", &format!("/v2/messages/{MESSAGE_ID}")).assert(&api.request().await);
    assert_eq!(message.message_id.as_deref(), Some(MESSAGE_ID));
    assert_eq!(message.url.as_deref(), Some(DESTINATION));
    assert_eq!(message.method.as_deref(), Some("PUT"));
    assert_eq!(message.header["X-Foo"], ["bar"]);
    assert_eq!(message.body.as_deref(), Some(r#"{"a":1}"#));
    assert_eq!(message.max_retries, Some(3));
    assert_eq!(message.not_before, Some(1_900_000_000_000));
    assert_eq!(message.created_at, Some(1_732_200_000_000));
    assert_eq!(message.caller_ip.as_deref(), Some("203.0.113.7"));
    assert_eq!(message.labels, ["billing", "eu"]);
    assert_eq!(message.flow_control_key.as_deref(), Some("fc-key"));
    assert_eq!(
        (message.parallelism, message.rate, message.period),
        (Some(3), Some(10), Some(60))
    );
    assert_round_trip(&message, "get_message");
}

#[tokio::test]
async fn get_message_decodes_not_found() {
    let api = Api::replying(error_reply(404, "message not found")).await;
    let result = api
        .client
        .api()
        .get_message()
        .message_id("msg_gone")
        .send()
        .await;
    assert_error_response(result, 404, "message not found");
}

/// A documented error status whose body is not QStash's JSON (a proxy's
/// page, say) is an error that keeps the raw body, not a panic.
#[tokio::test]
async fn get_message_keeps_an_error_body_that_is_not_json() {
    let api = Api::replying(
        ResponseTemplate::new(404).set_body_raw("<html>Not Found</html>", "text/html"),
    )
    .await;
    let result = api
        .client
        .api()
        .get_message()
        .message_id("msg_gone")
        .send()
        .await;
    match result {
        Err(qstash::api::Error::InvalidResponsePayload(body, _)) => {
            assert_eq!(&body[..], b"<html>Not Found</html>")
        }
        other => panic!("expected InvalidResponsePayload, got {other:?}"),
    }
}

/// Declared as 200 without a body; a 202 Accepted succeeds as well.
#[tokio::test]
async fn cancel_message_accepts_202_without_a_body() {
    let api = Api::replying(empty_reply(202)).await;
    let response = api
        .client
        .api()
        .cancel_message()
        .message_id(MESSAGE_ID)
        .send_ignoring_answer()
        .await
        .expect("cancel succeeds");

    Expect::new("DELETE", &format!("/v2/messages/{MESSAGE_ID}")).assert(&api.request().await);
    assert_eq!(response.status(), 202);
}

#[tokio::test]
async fn cancel_message_decodes_not_found() {
    let api = Api::replying(error_reply(404, "message not found")).await;
    let result = api
        .client
        .api()
        .cancel_message()
        .message_id("msg_gone")
        .send()
        .await;
    assert_error_response(result, 404, "message not found");
}

/// Multi-value filters go out as repeated parameters (`label=a&label=b`),
/// one of the two forms the spec allows.
#[tokio::test]
async fn cancel_messages_sends_every_filter_as_query_parameters() {
    let api = Api::replying(fixture_reply(200, "cancel_messages")).await;
    let decoded = api
        .client
        .api()
        .cancel_messages()
        .queue_name(vec!["my-queue".to_string(), "emails".to_string()])
        .url(vec![DESTINATION.to_string()])
        .topic_name(vec!["my-group".to_string()])
        .host(vec!["example.com".to_string()])
        .path(vec!["/api".to_string()])
        .label(vec!["billing".to_string(), "eu".to_string()])
        .flow_control_key(vec!["fc-key".to_string()])
        .schedule_id(vec!["scd_7Hs3GkCnPCwUj4kJ8DXaTpVq2ZkQ".to_string()])
        .caller_ip(vec!["203.0.113.7".to_string()])
        .from_date(1_732_200_000_000_i64)
        .to_date(1_732_286_400_000_i64)
        .count(100_u64)
        .send()
        .await
        .expect("bulk cancel succeeds")
        .into_inner();

    Expect::new("DELETE", "/v2/messages")
        .query(&[
            ("queueName", "my-queue"),
            ("queueName", "emails"),
            ("url", DESTINATION),
            ("topicName", "my-group"),
            ("host", "example.com"),
            ("path", "/api"),
            ("label", "billing"),
            ("label", "eu"),
            ("flowControlKey", "fc-key"),
            ("scheduleId", "scd_7Hs3GkCnPCwUj4kJ8DXaTpVq2ZkQ"),
            ("callerIp", "203.0.113.7"),
            ("fromDate", "1732200000000"),
            ("toDate", "1732286400000"),
            ("count", "100"),
        ])
        .assert(&api.request().await);
    assert_eq!(decoded.cancelled, Some(42));
    assert_round_trip(&decoded, "cancel_messages");
}

/// The spec takes message ids as a query parameter; qstash-py and qstash-go
/// send them in a JSON body. We follow the spec.
#[tokio::test]
async fn cancel_messages_sends_message_ids_as_a_repeated_query_parameter() {
    let api = Api::replying(fixture_reply(200, "cancel_messages")).await;
    api.client
        .api()
        .cancel_messages()
        .message_ids(vec![MESSAGE_ID.to_string(), "msg_second".to_string()])
        .send()
        .await
        .expect("bulk cancel succeeds");

    Expect::new("DELETE", "/v2/messages")
        .query(&[("messageIds", MESSAGE_ID), ("messageIds", "msg_second")])
        .assert(&api.request().await);
}

/// `DELETE /v2/messages` with no ids and no filter cancels every pending
/// message. An empty id list (a caller's filtered-down selection that came
/// out empty) is serialized as no parameter at all, so it becomes exactly
/// that request.
#[tokio::test]
async fn cancel_messages_with_an_empty_id_list_never_cancels_everything() {
    let api = Api::replying(fixture_reply(200, "cancel_messages")).await;
    let result = api
        .client
        .api()
        .cancel_messages()
        .message_ids(Vec::<String>::new())
        .send()
        .await;
    assert_refused_as_everything(result);
    assert_no_unfiltered_bulk_request(&api, "/v2/messages").await;
}

/// Meaning everything takes a client that says so.
#[tokio::test]
async fn cancel_messages_without_filters_goes_out_only_when_allowed() {
    let api = Api::replying(fixture_reply(200, "cancel_messages")).await;
    let cancelled = api
        .client
        .allow_unfiltered_bulk()
        .api()
        .cancel_messages()
        .send()
        .await
        .expect("explicit cancel-all succeeds")
        .into_inner();
    assert_eq!(cancelled.cancelled, Some(42));
    Expect::new("DELETE", "/v2/messages").assert(&api.request().await);
}
