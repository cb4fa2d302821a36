//! list_dlq_messages, delete_dlq_messages, get_dlq_message,
//! delete_dlq_message, retry_dlq_message, retry_dlq_messages.

use wiremock::ResponseTemplate;

use crate::{
    Api, Expect, assert_error_response, assert_no_unfiltered_bulk_request,
    assert_refused_as_everything, assert_round_trip, empty_reply, error_reply, fixture,
    fixture_reply, json_differences,
};

const DLQ_ID: &str = "1732200123456-0";

fn strings(values: &[&str]) -> Vec<String> {
    values.iter().map(|v| v.to_string()).collect()
}

/// Multi-value filters go out as repeated parameters; the spec allows that
/// form and the comma-separated one.
#[tokio::test]
async fn list_dlq_messages_sends_cursor_count_and_every_filter() {
    let api = Api::replying(fixture_reply(200, "list_dlq_messages")).await;
    let page = api
        .client
        .api()
        .list_dlq_messages()
        .cursor("1732200000000-1")
        .count(10)
        .url(strings(&[
            "https://example.com/api",
            "https://example.com/a",
        ]))
        .label(strings(&["billing", "eu"]))
        .queue_name(strings(&["my-queue"]))
        .topic_name(strings(&["my-group"]))
        .schedule_id(strings(&["scd_7Hs3GkCnPCwUj4kJ8DXaTpVq2ZkQ"]))
        .response_status(vec![500, 502])
        .caller_ip(strings(&["203.0.113.7"]))
        .message_id("msg_26hZCxZCuWyyTWPmSVBrNB882AMRP1TsgzpygELRcLWep")
        .from_date(1_732_200_000_000_i64)
        .to_date(1_732_286_400_000_i64)
        .send()
        .await
        .expect("list succeeds")
        .into_inner();

    Expect::new("GET", "/v2/dlq")
        .query(&[
            ("cursor", "1732200000000-1"),
            ("count", "10"),
            ("url", "https://example.com/api"),
            ("url", "https://example.com/a"),
            ("label", "billing"),
            ("label", "eu"),
            ("queueName", "my-queue"),
            ("topicName", "my-group"),
            ("scheduleId", "scd_7Hs3GkCnPCwUj4kJ8DXaTpVq2ZkQ"),
            ("responseStatus", "500"),
            ("responseStatus", "502"),
            ("callerIp", "203.0.113.7"),
            (
                "messageId",
                "msg_26hZCxZCuWyyTWPmSVBrNB882AMRP1TsgzpygELRcLWep",
            ),
            ("fromDate", "1732200000000"),
            ("toDate", "1732286400000"),
        ])
        .assert(&api.request().await);
    assert_eq!(page.cursor.as_deref(), Some("1732286400000-3"));
    assert_eq!(page.messages.len(), 2);
    assert_eq!(page.messages[0].response_status, Some(500));
    assert_eq!(
        page.messages[0].response_body.as_deref(),
        Some("internal error")
    );
    assert_eq!(page.messages[1].body_base64.as_deref(), Some("/wCAgQ=="));
    assert_eq!(page.messages[1].topic_name.as_deref(), Some("my-group"));
    assert_eq!(
        page.messages[1].response_body_base64.as_deref(),
        Some("/w==")
    );
    assert_round_trip(&page, "list_dlq_messages");
}

/// Every DLQ entry carries its `dlqId`, the id that get, delete and retry
/// take: `DlqMessage = Message & { dlqId: string }` in @upstash/qstash,
/// `response.get("dlqId")` in qstash-py. The spec's DLQMessage has no
/// `dlqId`, so a listed entry cannot be retried or deleted by id.
#[tokio::test]
async fn list_dlq_messages_keeps_each_dlq_id() {
    let mut sent = fixture("list_dlq_messages");
    sent["messages"][0]["dlqId"] = DLQ_ID.into();
    sent["messages"][1]["dlqId"] = "1732200123457-0".into();
    let api = Api::replying(ResponseTemplate::new(200).set_body_json(&sent)).await;
    let page = api
        .client
        .api()
        .list_dlq_messages()
        .send()
        .await
        .expect("list succeeds")
        .into_inner();
    let again = serde_json::to_value(&page).expect("serializes");
    let differences = json_differences(&sent, &again);
    assert!(differences.is_empty(), "{}", differences.join("\n"));
}

/// The spec takes the ids as query parameters; qstash-py and the TS SDK send
/// `{"dlqIds": [...]}` as a JSON body. We follow the spec.
#[tokio::test]
async fn delete_dlq_messages_sends_dlq_ids_as_a_repeated_query_parameter() {
    let api = Api::replying(fixture_reply(200, "delete_dlq_messages")).await;
    let deleted = api
        .client
        .api()
        .delete_dlq_messages()
        .dlq_ids(strings(&[DLQ_ID, "1732200123457-0"]))
        .send()
        .await
        .expect("bulk delete succeeds")
        .into_inner();

    Expect::new("DELETE", "/v2/dlq")
        .query(&[("dlqIds", DLQ_ID), ("dlqIds", "1732200123457-0")])
        .assert(&api.request().await);
    assert_eq!(deleted.deleted, Some(2));
    assert_eq!(deleted.cursor.as_deref(), Some("1732286400000-7"));
    assert_round_trip(&deleted, "delete_dlq_messages");
}

#[tokio::test]
async fn delete_dlq_messages_sends_filters_with_cursor_and_count() {
    let api = Api::replying(fixture_reply(200, "delete_dlq_messages")).await;
    api.client
        .api()
        .delete_dlq_messages()
        .cursor("1732200000000-1")
        .count(100)
        .flow_control_key(strings(&["fc-key", "user-42"]))
        .response_status(vec![429])
        .url(strings(&["https://example.com/api"]))
        .from_date(1_732_200_000_000_i64)
        .send()
        .await
        .expect("bulk delete succeeds");

    Expect::new("DELETE", "/v2/dlq")
        .query(&[
            ("cursor", "1732200000000-1"),
            ("count", "100"),
            ("flowControlKey", "fc-key"),
            ("flowControlKey", "user-42"),
            ("responseStatus", "429"),
            ("url", "https://example.com/api"),
            ("fromDate", "1732200000000"),
        ])
        .assert(&api.request().await);
}

/// `DELETE /v2/dlq` without ids or filters empties the whole DLQ.
#[tokio::test]
async fn delete_dlq_messages_with_an_empty_id_list_never_deletes_everything() {
    let api = Api::replying(fixture_reply(200, "delete_dlq_messages")).await;
    let result = api
        .client
        .api()
        .delete_dlq_messages()
        .dlq_ids(Vec::<String>::new())
        .send()
        .await;
    assert_refused_as_everything(result);
    // Paging parameters select nothing either.
    let result = api
        .client
        .api()
        .delete_dlq_messages()
        .count(10)
        .send()
        .await;
    assert_refused_as_everything(result);
    assert_no_unfiltered_bulk_request(&api, "/v2/dlq").await;
}

#[tokio::test]
async fn get_dlq_message_decodes_every_field() {
    let api = Api::replying(fixture_reply(200, "get_dlq_message")).await;
    let message = api
        .client
        .api()
        .get_dlq_message()
        .dlq_id(DLQ_ID)
        .send()
        .await
        .expect("get succeeds")
        .into_inner();

    Expect::new("GET", &format!("/v2/dlq/{DLQ_ID}")).assert(&api.request().await);
    assert_eq!(
        message.message_id.as_deref(),
        Some("msg_26hZCxZCuWyyTWPmSVBrNB882AMRP1TsgzpygELRcLWep")
    );
    assert_eq!(message.response_status, Some(503));
    assert_eq!(message.response_header["Retry-After"], ["120"]);
    assert_eq!(
        message.response_body.as_deref(),
        Some("service unavailable")
    );
    assert_eq!(
        message.schedule_id.as_deref(),
        Some("scd_7Hs3GkCnPCwUj4kJ8DXaTpVq2ZkQ")
    );
    assert_eq!(message.created_at, Some(1_732_200_000_000));
    assert_round_trip(&message, "get_dlq_message");
}

#[tokio::test]
async fn get_dlq_message_decodes_not_found() {
    let api = Api::replying(error_reply(404, "message not found in dlq")).await;
    let result = api
        .client
        .api()
        .get_dlq_message()
        .dlq_id("0-0")
        .send()
        .await;
    assert_error_response(result, 404, "message not found in dlq");
}

#[tokio::test]
async fn delete_dlq_message_sends_delete() {
    let api = Api::replying(empty_reply(200)).await;
    api.client
        .api()
        .delete_dlq_message()
        .dlq_id(DLQ_ID)
        .send_ignoring_answer()
        .await
        .expect("delete succeeds");
    Expect::new("DELETE", &format!("/v2/dlq/{DLQ_ID}")).assert(&api.request().await);
}

#[tokio::test]
async fn delete_dlq_message_decodes_not_found() {
    let api = Api::replying(error_reply(404, "message not found in dlq")).await;
    let result = api
        .client
        .api()
        .delete_dlq_message()
        .dlq_id("0-0")
        .send()
        .await;
    assert_error_response(result, 404, "message not found in dlq");
}

/// Declared as 201 Created.
#[tokio::test]
async fn retry_dlq_message_decodes_201_created() {
    let api = Api::replying(fixture_reply(201, "retry_dlq_message")).await;
    let response = api
        .client
        .api()
        .retry_dlq_message()
        .dlq_id(DLQ_ID)
        .send()
        .await
        .expect("retry succeeds");

    Expect::new("POST", &format!("/v2/dlq/retry/{DLQ_ID}")).assert(&api.request().await);
    assert_eq!(response.status(), 201);
    let retried = response.into_inner();
    assert_eq!(
        retried.message_id.as_deref(),
        Some("msg_3FmgWXoYHhCNRs7SRXsFMdsmkMDvXWyEsNmgpAQP6EXiHqeQMDa")
    );
    assert_round_trip(&retried, "retry_dlq_message");
}

#[tokio::test]
async fn retry_dlq_message_decodes_not_found() {
    let api = Api::replying(error_reply(404, "message not found in dlq")).await;
    let result = api
        .client
        .api()
        .retry_dlq_message()
        .dlq_id("0-0")
        .send()
        .await;
    assert_error_response(result, 404, "message not found in dlq");
}

/// Declared as 201; a server answering 200 is still a success.
#[tokio::test]
async fn retry_dlq_messages_sends_ids_and_accepts_200() {
    let api = Api::replying(fixture_reply(200, "retry_dlq_messages")).await;
    let response = api
        .client
        .api()
        .retry_dlq_messages()
        .dlq_ids(strings(&[DLQ_ID, "1732200123457-0"]))
        .send()
        .await
        .expect("bulk retry succeeds");

    Expect::new("POST", "/v2/dlq/retry")
        .query(&[("dlqIds", DLQ_ID), ("dlqIds", "1732200123457-0")])
        .assert(&api.request().await);
    assert_eq!(response.status(), 200);
    let retried = response.into_inner();
    assert_eq!(retried.cursor.as_deref(), Some("1732286400000-9"));
    assert_eq!(retried.responses.len(), 2);
    assert_round_trip(&retried, "retry_dlq_messages");
}

#[tokio::test]
async fn retry_dlq_messages_sends_every_filter() {
    let api = Api::replying(fixture_reply(201, "retry_dlq_messages")).await;
    api.client
        .api()
        .retry_dlq_messages()
        .queue_name(strings(&["my-queue", "emails"]))
        .label(strings(&["billing"]))
        .topic_name(strings(&["my-group"]))
        .schedule_id(strings(&["scd_7Hs3GkCnPCwUj4kJ8DXaTpVq2ZkQ"]))
        .flow_control_key(strings(&["fc-key"]))
        .caller_ip(strings(&["203.0.113.7"]))
        .response_status(vec![500])
        .url(strings(&["https://example.com/api"]))
        .message_id("msg_26hZCxZCuWyyTWPmSVBrNB882AMRP1TsgzpygELRcLWep")
        .from_date(1_732_200_000_000_i64)
        .to_date(1_732_286_400_000_i64)
        .send()
        .await
        .expect("bulk retry succeeds");

    Expect::new("POST", "/v2/dlq/retry")
        .query(&[
            ("queueName", "my-queue"),
            ("queueName", "emails"),
            ("label", "billing"),
            ("topicName", "my-group"),
            ("scheduleId", "scd_7Hs3GkCnPCwUj4kJ8DXaTpVq2ZkQ"),
            ("flowControlKey", "fc-key"),
            ("callerIp", "203.0.113.7"),
            ("responseStatus", "500"),
            ("url", "https://example.com/api"),
            (
                "messageId",
                "msg_26hZCxZCuWyyTWPmSVBrNB882AMRP1TsgzpygELRcLWep",
            ),
            ("fromDate", "1732200000000"),
            ("toDate", "1732286400000"),
        ])
        .assert(&api.request().await);
}

/// `POST /v2/dlq/retry` without ids or filters retries the whole DLQ.
#[tokio::test]
async fn retry_dlq_messages_with_an_empty_id_list_never_retries_everything() {
    let api = Api::replying(fixture_reply(201, "retry_dlq_messages")).await;
    let result = api
        .client
        .api()
        .retry_dlq_messages()
        .dlq_ids(Vec::<String>::new())
        .send()
        .await;
    assert_refused_as_everything(result);
    assert_no_unfiltered_bulk_request(&api, "/v2/dlq/retry").await;
}
