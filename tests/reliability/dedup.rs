//! Duplicate safety: a publish, enqueue or batch whose answer was lost is
//! sent again with the same deduplication id, so QStash keeps one message.

use std::collections::HashMap;

use qstash::Error;
use qstash::types::BatchMessagesBodyItem;
use serde_json::{Value, json};

use crate::{Action, DESTINATION, FakeClock, FaultServer, Received, publish, published};

const DEDUP: &str = "upstash-deduplication-id";

/// The server accepts the first request (reads it whole) and drops the
/// connection instead of answering; the second gets an answer.
fn lose_the_first_answer() -> impl Fn(usize, Option<&Received>) -> Action {
    |n, request| match (n, request) {
        (_, None) => Action::Accept,
        (0, _) => Action::ResetAfterRead,
        _ => published("msg_1"),
    }
}

fn ids(requests: &[Received]) -> Vec<Option<String>> {
    requests
        .iter()
        .map(|r| r.header(DEDUP).map(str::to_string))
        .collect()
}

#[tokio::test]
async fn a_publish_whose_answer_was_lost_is_sent_again_with_the_same_deduplication_id() {
    let server = FaultServer::start(lose_the_first_answer()).await;
    let clock = FakeClock::new();
    publish(&server.client(&clock), "pay invoice 7")
        .await
        .expect("second attempt");
    let requests = server.received();
    assert_eq!(requests.len(), 2);
    let ids = ids(&requests);
    let id = ids[0].clone().expect("an id on the first attempt");
    assert_eq!(ids[1].as_deref(), Some(id.as_str()));
    assert_eq!(id.len(), 32);
    assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(requests[0].body, requests[1].body);
}

#[tokio::test]
async fn each_call_gets_its_own_id() {
    let server = FaultServer::always(published("msg_1")).await;
    let clock = FakeClock::new();
    let client = server.client(&clock);
    publish(&client, "a").await.unwrap();
    publish(&client, "a").await.unwrap();
    let ids = ids(&server.received());
    assert!(ids[0].is_some() && ids[1].is_some());
    assert_ne!(
        ids[0], ids[1],
        "two calls are two messages, even with one body"
    );
}

#[tokio::test]
async fn the_callers_id_or_content_based_deduplication_is_kept_as_is() {
    let server = FaultServer::start(lose_the_first_answer()).await;
    let clock = FakeClock::new();
    let client = server.client(&clock);
    client
        .api()
        .publish_message()
        .destination(DESTINATION)
        .upstash_deduplication_id("order-7")
        .body("x")
        .send()
        .await
        .expect("second attempt");
    assert_eq!(
        ids(&server.received()),
        vec![Some("order-7".to_string()), Some("order-7".to_string())]
    );

    let server = FaultServer::start(lose_the_first_answer()).await;
    server
        .client(&clock)
        .api()
        .publish_message()
        .destination(DESTINATION)
        .upstash_content_based_deduplication(
            qstash::types::PublishMessageUpstashContentBasedDeduplication::True,
        )
        .body("x")
        .send()
        .await
        .expect("second attempt");
    let requests = server.received();
    assert_eq!(ids(&requests), vec![None, None]);
    assert_eq!(
        requests[1].header("upstash-content-based-deduplication"),
        Some("true")
    );
}

#[tokio::test]
async fn an_enqueue_whose_answer_was_lost_keeps_its_id() {
    let server = FaultServer::start(lose_the_first_answer()).await;
    let clock = FakeClock::new();
    server
        .client(&clock)
        .api()
        .enqueue_message()
        .queue_name("emails")
        .destination(DESTINATION)
        .body("x")
        .send()
        .await
        .expect("second attempt");
    let ids = ids(&server.received());
    assert_eq!(ids.len(), 2);
    assert!(ids[0].is_some());
    assert_eq!(ids[0], ids[1]);
}

#[tokio::test]
async fn a_batch_whose_answer_was_lost_keeps_an_id_per_entry_in_the_body() {
    let server = FaultServer::start(|n, request| match (n, request) {
        (_, None) => Action::Accept,
        (0, _) => Action::ResetAfterRead,
        _ => Action::json(
            200,
            json!([{"messageId": "msg_a"}, {"messageId": "msg_b"}, {"messageId": "msg_c"}]),
        ),
    })
    .await;
    let clock = FakeClock::new();
    // Built field by field, so that a field a newer spec adds (the spec
    // mutations, tests/spec_mutations.rs) leaves this test as it is.
    let entry = |destination: &str, headers: &[(&str, &str)]| {
        let item = BatchMessagesBodyItem::builder()
            .destination(destination)
            .body("x".to_string())
            .headers(
                headers
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect::<HashMap<_, _>>(),
            );
        BatchMessagesBodyItem::try_from(item).expect("every required field is set")
    };
    let answer = server
        .client(&clock)
        .api()
        .batch_messages()
        .body(vec![
            entry("https://example.com/a", &[]),
            entry(
                "https://example.com/b",
                &[("Upstash-Deduplication-Id", "mine")],
            ),
            entry("https://example.com/c", &[("Content-Type", "text/plain")]),
        ])
        .send()
        .await
        .expect("second attempt")
        .into_inner();
    assert_eq!(answer.len(), 3);
    let requests = server.received();
    assert_eq!(requests.len(), 2);
    let bodies: Vec<Value> = requests
        .iter()
        .map(|r| serde_json::from_slice(&r.body).expect("JSON"))
        .collect();
    assert_eq!(
        bodies[0], bodies[1],
        "the same entries and ids on both attempts"
    );
    let id = |entry: usize| bodies[0][entry]["headers"]["Upstash-Deduplication-Id"].clone();
    assert_eq!(id(1), "mine");
    assert_eq!(id(0).as_str().map(str::len), Some(32));
    assert_eq!(id(2).as_str().map(str::len), Some(32));
    assert_ne!(id(0), id(2));
    assert_eq!(bodies[0][2]["headers"]["Content-Type"], "text/plain");
    assert_eq!(bodies[0][0]["destination"], "https://example.com/a");
}

#[tokio::test]
async fn without_retries_nothing_is_added() {
    let server = FaultServer::always(published("msg_1")).await;
    let clock = FakeClock::new();
    let client = server.builder(&clock).no_retries().build().unwrap();
    publish(&client, "x").await.unwrap();
    assert_eq!(ids(&server.received()), vec![None]);
}

/// QStash's side, as the load test and this one model it: messages kept by
/// deduplication id, a repeat answered with the first message's id.
#[tokio::test]
async fn a_lost_answer_leaves_one_message_on_a_deduplicating_server() {
    let store = std::sync::Arc::new(std::sync::Mutex::new(HashMap::<String, usize>::new()));
    let kept = store.clone();
    let server = FaultServer::start(move |n, request| {
        let Some(request) = request else {
            return Action::Accept;
        };
        let id = request.header(DEDUP).expect("an id").to_string();
        *kept.lock().unwrap().entry(id).or_default() += 1;
        if n < 2 {
            Action::ResetAfterRead
        } else {
            published("msg_1")
        }
    })
    .await;
    let clock = FakeClock::new();
    publish(&server.client(&clock), "x")
        .await
        .expect("third attempt");
    let store = store.lock().unwrap();
    assert_eq!(store.len(), 1, "one id across three attempts: {store:?}");
    assert_eq!(store.values().sum::<usize>(), 3);
}

#[tokio::test]
async fn dedup_errors_are_typed() {
    // A publish that never gets an answer ends as a transport error, not a panic.
    let server = FaultServer::always(Action::ResetAfterRead).await;
    let clock = FakeClock::new();
    let error = publish(&server.client(&clock), "x").await.unwrap_err();
    assert!(matches!(error, Error::Transport(_)), "{error:?}");
    let ids = ids(&server.received());
    assert_eq!(ids.len(), 4);
    assert!(ids.windows(2).all(|w| w[0] == w[1]));
}

/// The wire tests (tests/operations/) run without retries, as the official
/// SDKs send; retries on add exactly one header to a publish and change
/// nothing else.
#[tokio::test]
async fn retries_add_only_the_deduplication_header() {
    let clock = FakeClock::new();
    let plain = FaultServer::always(published("msg_1")).await;
    let retrying = FaultServer::always(published("msg_1")).await;
    publish(&plain.builder(&clock).no_retries().build().unwrap(), "x")
        .await
        .unwrap();
    publish(&retrying.client(&clock), "x").await.unwrap();
    let (plain, retrying) = (&plain.received()[0], &retrying.received()[0]);
    let mut extra = retrying.headers.clone();
    extra.retain(|name, value| plain.headers.get(name) != Some(value));
    // `host` differs with the port.
    extra.remove("host");
    assert_eq!(extra.keys().collect::<Vec<_>>(), vec![DEDUP]);
    assert_eq!(plain.headers.len() + 1, retrying.headers.len());
    assert_eq!(
        (&plain.target, &plain.body),
        (&retrying.target, &retrying.body)
    );
}

/// The request kept for the next attempt is the whole request, with a
/// small body (copied) and a large one (shared): the retry carries every
/// header (the message's own, forwarded ones, the deduplication id) and
/// every byte again.
#[tokio::test]
async fn a_retry_is_the_same_request_whatever_its_body_size() {
    use qstash::messages::{Destination, Message};

    for size in [12, 64 * 1024] {
        let server = FaultServer::start(lose_the_first_answer()).await;
        let clock = FakeClock::new();
        let body = "b".repeat(size);
        let message = Message::new(Destination::url(DESTINATION))
            .text(body.clone())
            .retries(2)
            .header("X-Tenant", "acme");
        server
            .client(&clock)
            .messages()
            .publish(message)
            .send()
            .await
            .expect("second attempt");
        let requests = server.received();
        assert_eq!(requests.len(), 2);
        assert_eq!(requests[1].body, body.as_bytes());
        assert_eq!(requests[0].body, requests[1].body);
        assert_eq!(requests[0].target, requests[1].target);
        assert_eq!(requests[0].headers, requests[1].headers);
        for name in ["upstash-retries", "upstash-forward-x-tenant", DEDUP] {
            assert!(requests[1].header(name).is_some(), "{name} on the retry");
        }
    }
}
