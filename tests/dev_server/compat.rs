//! The official SDKs' forms where they differ from the spec (facts.md):
//! what code written against the official dev server sends still works.

use qstash::dev_server::{DEFAULT_TOKEN, DevClock};
use qstash::types::LogEntryState::*;
use reqwest::Method;
use serde_json::{Value, json};

use crate::{Endpoint, reached, server, single_id};

async fn raw(base: &str, method: Method, path: &str, body: &str) -> (u16, Value) {
    let response = reqwest::Client::new()
        .request(method, format!("{base}{path}"))
        .bearer_auth(DEFAULT_TOKEN)
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn bulk_cancel_and_dlq_delete_take_ids_in_a_json_body() {
    let server = server(DevClock::manual()).await;
    let client = server.client().unwrap();
    let base = server.url();
    let mut ids = Vec::new();
    for _ in 0..2 {
        let published = client
            .api()
            .publish_message()
            .destination("http://127.0.0.1:9/later")
            .upstash_delay("1h")
            .body("x")
            .send()
            .await
            .unwrap();
        ids.push(single_id(published.into_inner()));
    }
    // Not JSON: refused, and nothing cancelled (ignored, it would mean "all").
    let (status, body) = raw(&base, Method::DELETE, "/v2/messages", "messageIds=1").await;
    assert_eq!(status, 400, "{body}");
    let body = json!({ "messageIds": [ids[0]] }).to_string();
    let (status, answer) = raw(&base, Method::DELETE, "/v2/messages", &body).await;
    assert_eq!((status, answer), (200, json!({"cancelled": 1})));
    assert!(
        client
            .api()
            .get_message()
            .message_id(&ids[0])
            .send()
            .await
            .is_err()
    );
    assert!(
        client
            .api()
            .get_message()
            .message_id(&ids[1])
            .send()
            .await
            .is_ok()
    );

    let mut endpoint = Endpoint::start(&server).await;
    let mut dlq_ids = Vec::new();
    for _ in 0..2 {
        let published = client
            .api()
            .publish_message()
            .destination(format!("{}/fail", endpoint.url))
            .upstash_retries(0)
            .body("x")
            .send()
            .await
            .unwrap();
        let id = single_id(published.into_inner());
        endpoint.next().await;
        reached(&server, &id, Failed).await;
    }
    let dlq = client
        .api()
        .list_dlq_messages()
        .send()
        .await
        .unwrap()
        .into_inner();
    dlq_ids.extend(dlq.messages.iter().filter_map(|m| m.dlq_id.clone()));
    let body = json!({ "dlqIds": [dlq_ids[1]] }).to_string();
    let (status, answer) = raw(&base, Method::DELETE, "/v2/dlq", &body).await;
    assert_eq!((status, answer), (200, json!({"deleted": 1})));
    let left = client
        .api()
        .list_dlq_messages()
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(left.messages.len(), 1);
    assert_eq!(left.messages[0].dlq_id, Some(dlq_ids[0].clone()));
}

#[tokio::test]
async fn logs_answer_on_v2_events_and_schedule_patch_is_routed() {
    let server = server(DevClock::manual()).await;
    let client = server.client().unwrap();
    let mut endpoint = Endpoint::start(&server).await;
    let published = client
        .api()
        .publish_message()
        .destination(format!("{}/ok", endpoint.url))
        .body("x")
        .send()
        .await
        .unwrap();
    let id = single_id(published.into_inner());
    endpoint.next().await;
    reached(&server, &id, Delivered).await;
    // As the TypeScript SDK asks for them.
    let (status, answer) = raw(
        &server.url(),
        Method::GET,
        "/v2/events?count=5&state=DELIVERED",
        "",
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(answer["events"][0]["messageId"], *id);
    assert_eq!(answer["events"].as_array().unwrap().len(), 1);
    assert!(answer.get("logs").is_none());

    let (status, answer) = raw(
        &server.url(),
        Method::PATCH,
        "/v2/schedules/my-schedule/pause",
        "",
    )
    .await;
    // Routed to pause (the schedule does not exist), not a missing route.
    assert_eq!(status, 404, "{answer}");
    assert_eq!(answer["error"], "schedule my-schedule not found");
}

#[tokio::test]
async fn a_percent_encoded_destination_is_decoded() {
    let server = server(DevClock::manual()).await;
    let mut endpoint = Endpoint::start(&server).await;
    // What a client that encodes path parameters (progenitor's default) sends.
    let destination = format!("{}/encoded path", endpoint.url)
        .replace(':', "%3A")
        .replace('/', "%2F")
        .replace(' ', "%20");
    let (status, answer) = raw(
        &server.url(),
        Method::POST,
        &format!("/v2/publish/{destination}"),
        "x",
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    let delivery = endpoint.next().await;
    assert_eq!(delivery.path, "/encoded%20path");
    delivery.verified.expect("verifies");
}
