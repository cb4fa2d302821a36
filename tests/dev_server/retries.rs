//! Failing deliveries: retries, the DLQ, callbacks; and cancelling.

use std::time::Duration;

use qstash::dev_server::DevClock;
use qstash::types::LogEntryState::{self, *};
use serde_json::Value;

use crate::{Endpoint, reached, server, server_keeping_history, single_id, trail};

#[tokio::test]
async fn a_failing_endpoint_is_retried_into_the_dlq_and_a_dlq_retry_delivers() {
    // A day of virtual time passes in under a millisecond.
    let server = server_keeping_history(DevClock::scaled(1e8)).await;
    let client = server.client().unwrap();
    let mut endpoint = Endpoint::start(&server).await;
    let mut callbacks = Endpoint::start(&server).await;
    endpoint.set_failing(true);

    let id = single_id(
        client
            .api()
            .publish_message()
            .destination(format!("{}/flaky", endpoint.url))
            .upstash_retries(2)
            .upstash_retry_delay("1000 * (1 + retried)")
            .upstash_failure_callback(format!("{}/failed", callbacks.url))
            .body("work")
            .send()
            .await
            .unwrap()
            .into_inner(),
    );
    for retried in ["0", "1", "2"] {
        let attempt = endpoint.next().await;
        attempt.verified.as_ref().expect("every attempt is signed");
        assert_eq!(attempt.header("upstash-retried"), retried);
        assert_eq!(attempt.header("upstash-message-id"), id);
    }
    reached(&server, &id, Failed).await;
    assert_eq!(
        trail(&server, &id),
        [
            Created, Active, Error, Retry, Active, Error, Retry, Active, Error, Failed
        ]
    );
    // The retry-delay expression, evaluated with `retried` = 0, then 1.
    let waits: Vec<i64> = server
        .logs()
        .iter()
        .filter(|e| e.message_id.as_deref() == Some(&*id) && e.state == Some(Error))
        .filter_map(|e| Some(e.next_delivery_time? - e.time?))
        .collect();
    assert_eq!(waits, [1000, 2000]);

    // The failure callback carries QStash's callback body.
    let callback = callbacks.next().await;
    callback
        .verified
        .as_ref()
        .expect("callbacks are signed too");
    let body: Value = serde_json::from_slice(&callback.body).unwrap();
    assert_eq!(body["sourceMessageId"], *id);
    assert_eq!(body["status"], 500);
    assert_eq!(body["retried"], 2);
    assert_eq!(body["maxRetries"], 2);
    assert_eq!(body["sourceBody"], "d29yaw=="); // base64("work")
    let dlq_id = body["dlqId"].as_str().expect("a dlqId").to_owned();

    let listed = client
        .api()
        .list_dlq_messages()
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.messages.len(), 1);
    let dead = &listed.messages[0];
    assert_eq!(dead.dlq_id.as_deref(), Some(&*dlq_id));
    assert_eq!(dead.message_id.as_deref(), Some(&*id));
    assert_eq!(dead.response_status, Some(500));
    assert_eq!(dead.body.as_deref(), Some("work"));
    let fetched = client
        .api()
        .get_dlq_message()
        .dlq_id(&dlq_id)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(fetched.message_id.as_deref(), Some(&*id));

    endpoint.set_failing(false);
    let retried = client
        .api()
        .retry_dlq_message()
        .dlq_id(&dlq_id)
        .send()
        .await
        .unwrap();
    assert_eq!(retried.status(), 201);
    let new_id = retried.into_inner().message_id.expect("a new message id");
    assert_ne!(new_id, id);
    let delivery = endpoint.next().await;
    delivery.verified.as_ref().expect("verifies");
    assert_eq!(delivery.header("upstash-message-id"), new_id);
    assert_eq!(&delivery.body[..], b"work");
    reached(&server, &new_id, Delivered).await;
    let after = client
        .api()
        .list_dlq_messages()
        .send()
        .await
        .unwrap()
        .into_inner();
    assert!(after.messages.is_empty(), "{after:?}");
    let missing = client.api().get_dlq_message().dlq_id(&dlq_id).send().await;
    assert_eq!(missing.unwrap_err().status().map(|s| s.as_u16()), Some(404));
}

#[tokio::test]
async fn without_a_retry_delay_the_default_backoff_applies() {
    let server = server(DevClock::manual()).await;
    let client = server.client().unwrap();
    let mut endpoint = Endpoint::start(&server).await;
    let id = single_id(
        client
            .api()
            .publish_message()
            .destination(format!("{}/fail", endpoint.url))
            .upstash_retries(1)
            .body("x")
            .send()
            .await
            .unwrap()
            .into_inner(),
    );
    endpoint.next().await;
    let retry = reached(&server, &id, Retry).await;
    // QStash's first backoff step: e^2.5 s, 12 s.
    assert_eq!(
        retry.next_delivery_time.unwrap() - retry.time.unwrap(),
        12_000
    );
    server.clock().advance(Duration::from_secs(12));
    assert_eq!(endpoint.next().await.header("upstash-retried"), "1");
    reached(&server, &id, Failed).await;
}

#[tokio::test]
async fn a_cancelled_delayed_message_is_never_delivered() {
    let server = server(DevClock::manual()).await;
    let client = server.client().unwrap();
    let mut endpoint = Endpoint::start(&server).await;
    let base = endpoint.url.clone();
    let publish = |path: &'static str| {
        client
            .api()
            .publish_message()
            .destination(format!("{base}/{path}"))
            .upstash_delay("1h")
            .body(path)
            .send()
    };
    let cancelled = single_id(publish("cancelled").await.unwrap().into_inner());
    let message = client
        .api()
        .get_message()
        .message_id(&cancelled)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(message.message_id.as_deref(), Some(&*cancelled));
    assert_eq!(
        message.not_before.unwrap() - message.created_at.unwrap(),
        3_600_000
    );

    client
        .api()
        .cancel_message()
        .message_id(&cancelled)
        .send_ignoring_answer()
        .await
        .unwrap();
    // Published after the cancelled one, due at the same time: had the
    // cancelled one still been due, the scheduler would have started it first.
    let marker = single_id(publish("marker").await.unwrap().into_inner());
    server.clock().advance(Duration::from_secs(3600));
    let delivery = endpoint.next().await;
    assert_eq!(delivery.path, "/marker");
    reached(&server, &marker, LogEntryState::Delivered).await;

    assert_eq!(
        trail(&server, &cancelled),
        [Created, CancelRequested, Cancelled]
    );
    let gone = client
        .api()
        .get_message()
        .message_id(&cancelled)
        .send()
        .await;
    assert_eq!(gone.unwrap_err().status().map(|s| s.as_u16()), Some(404));
    let again = client
        .api()
        .cancel_message()
        .message_id(&cancelled)
        .send()
        .await;
    assert_eq!(again.unwrap_err().status().map(|s| s.as_u16()), Some(404));
}

#[tokio::test]
async fn not_before_wins_over_delay() {
    let server = server(DevClock::manual()).await;
    let client = server.client().unwrap();
    let now_secs = server.clock().now_ms() / 1000;
    let id = single_id(
        client
            .api()
            .publish_message()
            .destination("http://127.0.0.1:9/later")
            .upstash_delay("1d")
            .upstash_not_before((now_secs + 60) as i64)
            .body("x")
            .send()
            .await
            .unwrap()
            .into_inner(),
    );
    let message = client
        .api()
        .get_message()
        .message_id(&id)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(message.not_before, Some(((now_secs + 60) * 1000) as i64));
}

#[tokio::test]
async fn an_attempt_that_outlasts_its_timeout_is_an_error() {
    let server = server(DevClock::manual()).await;
    let client = server.client().unwrap();
    let endpoint = Endpoint::start(&server).await;
    // Upstash-Timeout is real time: the one test here that waits a second.
    let id = single_id(
        client
            .api()
            .publish_message()
            .destination(format!("{}/hang", endpoint.url))
            .upstash_timeout("1s")
            .upstash_retries(0)
            .body("x")
            .send()
            .await
            .unwrap()
            .into_inner(),
    );
    reached(&server, &id, Failed).await;
    let error = server
        .logs()
        .into_iter()
        .find(|e| e.message_id.as_deref() == Some(&*id) && e.state == Some(Error))
        .expect("an ERROR entry");
    assert!(error.error.unwrap().contains("timeout"));
    assert_eq!(error.timeout, Some(1000));
}

#[tokio::test]
async fn a_huge_error_body_is_kept_only_in_part() {
    let server = server(DevClock::manual()).await;
    let client = server.client().unwrap();
    let mut endpoint = Endpoint::start(&server).await;
    let id = single_id(
        client
            .api()
            .publish_message()
            .destination(format!("{}/fail/big", endpoint.url))
            .upstash_retries(0)
            .body("x")
            .send()
            .await
            .unwrap()
            .into_inner(),
    );
    endpoint.next().await;
    reached(&server, &id, Failed).await;
    let dlq = client
        .api()
        .list_dlq_messages()
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(dlq.messages[0].response_status, Some(500));
    assert_eq!(
        dlq.messages[0].response_body.as_ref().map(String::len),
        Some(1 << 20)
    );
}
