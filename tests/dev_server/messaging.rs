//! The hand-written publishing layer (`client.messages()`) end to end
//! through the dev server: every option it puts on the wire is understood.

use std::time::Duration;

use http::Method;
use qstash::dev_server::DevClock;
use qstash::messages::{Callback, Destination, Message};
use qstash::types::LogEntryState::*;
use serde_json::{Value, json};

use crate::{Endpoint, reached, server};

#[tokio::test]
async fn publish_with_options_delivers_them_and_calls_back() {
    let server = server(DevClock::manual()).await;
    let client = server.client().unwrap();
    let mut endpoint = Endpoint::start(&server).await;
    let mut callbacks = Endpoint::start(&server).await;
    let message = Message::new(Destination::url(format!("{}/orders", endpoint.url)))
        .json(&json!({"order": 42}))
        .header("X-Trace", "abc")
        .method(Method::PUT)
        .delay(Duration::from_secs(90))
        .retries(1)
        .label("billing")
        .callback(Callback::new(format!("{}/done", callbacks.url)).header("X-Callback", "yes"));
    let published = client.messages().publish(message).send().await.unwrap();
    let id = published.message_ids()[0].to_owned();

    let waiting = client
        .api()
        .get_message()
        .message_id(&id)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(waiting.method.as_deref(), Some("PUT"));
    assert_eq!(waiting.labels, ["billing"]);
    assert_eq!(waiting.max_retries, Some(1));
    assert_eq!(
        waiting.not_before.unwrap() - waiting.created_at.unwrap(),
        90_000
    );
    server.clock().advance(Duration::from_secs(90));

    let delivery = endpoint.next().await;
    delivery.verified.as_ref().expect("verifies");
    assert_eq!(delivery.header("x-trace"), "abc");
    assert_eq!(delivery.header("content-type"), "application/json");
    let body: Value = serde_json::from_slice(&delivery.body).unwrap();
    assert_eq!(body, json!({"order": 42}));

    let callback = callbacks.next().await;
    callback.verified.as_ref().expect("callbacks are signed");
    assert_eq!(callback.path, "/done");
    assert_eq!(callback.header("x-callback"), "yes");
    let report: Value = serde_json::from_slice(&callback.body).unwrap();
    assert_eq!(report["sourceMessageId"], *id);
    assert_eq!(report["status"], 200);
    assert_eq!(report["method"], "PUT");
    reached(&server, &id, Delivered).await;
}

#[tokio::test]
async fn batch_and_enqueue_deliver_each_message() {
    let server = server(DevClock::manual()).await;
    let client = server.client().unwrap();
    let mut endpoint = Endpoint::start(&server).await;
    let to = |path: &str| Destination::url(format!("{}/{path}", endpoint.url));
    let results = client
        .messages()
        .batch()
        .publish(Message::new(to("one")).text("1"))
        .enqueue("jobs", Message::new(to("two")).text("2"))
        .send()
        .await
        .unwrap();
    assert_eq!(results.len(), 2);
    let enqueued = client
        .messages()
        .enqueue("jobs", Message::new(to("three")).text("3"))
        .send()
        .await
        .unwrap();
    let mut paths = Vec::new();
    for _ in 0..3 {
        let delivery = endpoint.next().await;
        delivery.verified.as_ref().expect("verifies");
        paths.push(delivery.path);
    }
    paths.sort();
    assert_eq!(paths, ["/one", "/three", "/two"]);
    let id = enqueued.message_ids()[0].to_owned();
    let delivered = reached(&server, &id, Delivered).await;
    assert_eq!(delivered.queue_name.as_deref(), Some("jobs"));
}

#[tokio::test]
async fn redacted_fields_are_hashed_in_the_api_but_delivered_as_they_are() {
    let server = server(DevClock::manual()).await;
    let client = server.client().unwrap();
    let mut endpoint = Endpoint::start(&server).await;
    let message = Message::new(Destination::url(format!("{}/private", endpoint.url)))
        .text("secret")
        .header("Authorization", "Bearer inner")
        .header("X-Keep", "k")
        .delay(Duration::from_secs(60))
        .redact_body()
        .redact_header("Authorization");
    let published = client.messages().publish(message).send().await.unwrap();
    let id = published.message_ids()[0].to_owned();

    // sha256("secret") and sha256("Bearer inner").
    let body_hash = "REDACTED:2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b";
    let shown = client
        .api()
        .get_message()
        .message_id(&id)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(shown.body.as_deref(), Some(body_hash));
    assert!(shown.header["Authorization"][0].starts_with("REDACTED:"));
    assert_ne!(shown.header["Authorization"][0], "Bearer inner");
    assert_eq!(shown.header["X-Keep"], ["k"]);
    let created = &server.logs()[0];
    let logged = base64::Engine::decode(
        &base64::engine::general_purpose::STANDARD,
        created.body.as_ref().unwrap(),
    )
    .unwrap();
    assert_eq!(logged, body_hash.as_bytes());

    server.clock().advance(Duration::from_secs(60));
    let delivery = endpoint.next().await;
    delivery.verified.as_ref().expect("verifies");
    assert_eq!(&delivery.body[..], b"secret");
    assert_eq!(delivery.header("authorization"), "Bearer inner");
}
