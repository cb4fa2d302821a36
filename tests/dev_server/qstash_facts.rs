//! What QStash does that the spec does not say, as the official TypeScript
//! SDK's own tests expect it (each test names the cause it pins down), and
//! what a receiver sees when a forwarded header has the name of one of
//! QStash's own.

use std::time::Duration;

use qstash::dev_server::DevClock;
use qstash::types::LogEntryState::*;
use reqwest::Method;
use serde_json::{Value, json};

use crate::{Endpoint, assert_error, call, reached, server};

const JSON: (&str, &str) = ("content-type", "application/json");

/// Publishes `body` to `destination` with `headers`; the answer's JSON.
async fn publish(base: &str, destination: &str, headers: &[(&str, &str)]) -> Value {
    let (status, answer) = call(
        base,
        Method::POST,
        &format!("/v2/publish/{destination}"),
        headers,
        "x",
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    answer
}

fn message_id(answer: &Value) -> String {
    answer["messageId"]
        .as_str()
        .unwrap_or_else(|| panic!("no messageId in {answer}"))
        .to_owned()
}

/// Cause 1: a URL-group publish (and enqueue) answers a bare array of
/// `{messageId, url}`, not `{"messages": [...]}`.
#[tokio::test]
async fn a_url_group_publish_answers_a_bare_array() {
    let server = server(DevClock::manual()).await;
    let base = server.url();
    let endpoints = json!({"endpoints": [
        {"name": "a", "url": "http://127.0.0.1:9/a"},
        {"name": "b", "url": "http://127.0.0.1:9/b"},
    ]});
    let (status, _) = call(
        &base,
        Method::POST,
        "/v2/topics/orders/endpoints",
        &[JSON],
        &endpoints.to_string(),
    )
    .await;
    assert_eq!(status, 200);
    for path in ["/v2/publish/orders", "/v2/enqueue/jobs/orders"] {
        let (status, answer) =
            call(&base, Method::POST, path, &[("upstash-delay", "1h")], "x").await;
        assert_eq!(status, 200, "{path}: {answer}");
        let list = answer
            .as_array()
            .unwrap_or_else(|| panic!("{path}: not an array: {answer}"));
        let urls: Vec<&str> = list.iter().filter_map(|m| m["url"].as_str()).collect();
        assert_eq!(
            urls,
            ["http://127.0.0.1:9/a", "http://127.0.0.1:9/b"],
            "{path}"
        );
        assert!(list.iter().all(|m| m["messageId"].is_string()), "{path}");
    }
}

/// Cause 2: empty lists are sent as `[]`, never left out.
#[tokio::test]
async fn empty_lists_are_sent_as_empty_arrays() {
    let server = server(DevClock::manual()).await;
    let base = server.url();
    let expected = [
        (Method::GET, "/v2/dlq", json!({"messages": []})),
        (Method::POST, "/v2/dlq/retry", json!({"responses": []})),
        (Method::GET, "/v2/logs?label=none", json!({"logs": []})),
        (Method::GET, "/v2/events?label=none", json!({"events": []})),
    ];
    for (method, path, empty) in expected {
        let (status, answer) = call(&base, method, path, &[], "").await;
        assert!((200..300).contains(&status), "{path}: {status} {answer}");
        assert_eq!(answer, empty, "{path}");
    }
    // A URL group is never empty here (removing its last endpoint deletes
    // it), but its model sends an empty list all the same.
    let group = serde_json::to_value(qstash::types::UrlGroup::default()).unwrap();
    assert_eq!(group["endpoints"], json!([]));
}

/// Cause 3: cancelling one message answers `{"cancelled": 1}`.
#[tokio::test]
async fn cancelling_one_message_answers_the_count() {
    let server = server(DevClock::manual()).await;
    let base = server.url();
    let id = message_id(
        &publish(
            &base,
            "http://127.0.0.1:9/later",
            &[("upstash-delay", "1h")],
        )
        .await,
    );
    let answer = call(
        &base,
        Method::DELETE,
        &format!("/v2/messages/{id}"),
        &[],
        "",
    )
    .await;
    assert_eq!(answer, (200, json!({"cancelled": 1})));
    assert_error(
        "cancelled twice",
        call(
            &base,
            Method::DELETE,
            &format!("/v2/messages/{id}"),
            &[],
            "",
        )
        .await,
        404,
        "not found",
    );
}

/// Cause 4: messages and DLQ entries carry their flow-control settings and
/// their retry-delay expression.
#[tokio::test]
async fn messages_and_dlq_entries_carry_flow_control_and_retry_delay() {
    let server = server(DevClock::manual()).await;
    let base = server.url();
    let mut endpoint = Endpoint::start(&server).await;
    let settings = [
        ("upstash-flow-control-key", "fc"),
        (
            "upstash-flow-control-value",
            "parallelism=10, rate=5, period=1d",
        ),
        ("upstash-retry-delay", "2000 * retried"),
    ];
    let check = |what: &str, message: &Value| {
        assert_eq!(message["flowControlKey"], "fc", "{what}: {message}");
        assert_eq!(message["parallelism"], 10, "{what}: {message}");
        assert_eq!(message["rate"], 5, "{what}: {message}");
        assert_eq!(message["period"], 86_400, "{what}: {message}");
        assert_eq!(
            message["retryDelayExpression"], "2000 * retried",
            "{what}: {message}"
        );
    };

    let mut delayed = settings.to_vec();
    delayed.push(("upstash-delay", "1h"));
    let id = message_id(&publish(&base, "http://127.0.0.1:9/later", &delayed).await);
    let (status, message) = call(&base, Method::GET, &format!("/v2/messages/{id}"), &[], "").await;
    assert_eq!(status, 200);
    check("message", &message);

    let mut failing = settings.to_vec();
    failing.push(("upstash-retries", "0"));
    let id = message_id(&publish(&base, &format!("{}/fail", endpoint.url), &failing).await);
    endpoint.next().await;
    reached(&server, &id, Failed).await;
    let (status, dlq) = call(
        &base,
        Method::GET,
        &format!("/v2/dlq?messageId={id}"),
        &[],
        "",
    )
    .await;
    assert_eq!(status, 200);
    check("DLQ entry", &dlq["messages"][0]);
}

/// Cause 5: `paused` in a queue upsert pauses and resumes the queue.
#[tokio::test]
async fn queue_upsert_pauses_and_resumes() {
    let server = server(DevClock::manual()).await;
    let base = server.url();
    for paused in [true, false] {
        let body = json!({"queueName": "q", "parallelism": 1, "paused": paused}).to_string();
        let (status, _) = call(&base, Method::POST, "/v2/queues", &[JSON], &body).await;
        assert_eq!(status, 200);
        let (_, queue) = call(&base, Method::GET, "/v2/queues/q", &[], "").await;
        assert_eq!(queue["paused"], paused, "{queue}");
    }
    let body = json!({"queueName": "q", "paused": "yes"}).to_string();
    assert_error(
        "paused not a boolean",
        call(&base, Method::POST, "/v2/queues", &[JSON], &body).await,
        400,
        "paused",
    );
}

/// Cause 6: a schedule with `Upstash-Queue-Name` reports it, and its
/// messages go through the queue (held while the queue is paused).
#[tokio::test]
async fn a_schedule_with_a_queue_enqueues_its_messages() {
    let server = server(DevClock::manual()).await;
    let base = server.url();
    let mut endpoint = Endpoint::start(&server).await;
    let body = json!({"queueName": "nightly", "parallelism": 1, "paused": true}).to_string();
    call(&base, Method::POST, "/v2/queues", &[JSON], &body).await;
    let headers = [
        ("upstash-cron", "* * * * *"),
        ("upstash-queue-name", "nightly"),
        ("upstash-schedule-id", "s1"),
    ];
    let destination = format!("{}/tick", endpoint.url);
    let (status, _) = call(
        &base,
        Method::POST,
        &format!("/v2/schedules/{destination}"),
        &headers,
        "tick",
    )
    .await;
    assert_eq!(status, 200);
    let (_, schedule) = call(&base, Method::GET, "/v2/schedules/s1", &[], "").await;
    assert_eq!(schedule["queueName"], "nightly", "{schedule}");

    server.clock().advance(Duration::from_secs(60));
    let created = crate::within(
        "the firing",
        server.wait_for_log(|e| e.schedule_id.as_deref() == Some("s1") && e.state == Some(Created)),
    )
    .await;
    assert_eq!(created.queue_name.as_deref(), Some("nightly"));
    // Held by the paused queue: counted in its lag, not delivered.
    let (_, queue) = call(&base, Method::GET, "/v2/queues/nightly", &[], "").await;
    assert_eq!(queue["lag"], 1, "{queue}");
    call(&base, Method::POST, "/v2/queues/nightly/resume", &[], "").await;
    let delivery = endpoint.next().await;
    assert_eq!(delivery.header("upstash-schedule-id"), "s1");
}

/// Cause 7: a schedule saved without a body has no `body`, not `""`.
#[tokio::test]
async fn a_schedule_without_a_body_reports_none() {
    let server = server(DevClock::manual()).await;
    let base = server.url();
    let headers = [
        ("upstash-cron", "*/5 * * * *"),
        ("upstash-schedule-id", "bare"),
    ];
    call(
        &base,
        Method::POST,
        "/v2/schedules/http://127.0.0.1:9/x",
        &headers,
        "",
    )
    .await;
    let (_, schedule) = call(&base, Method::GET, "/v2/schedules/bare", &[], "").await;
    assert_eq!(schedule["scheduleId"], "bare");
    assert!(schedule.get("body").is_none(), "{schedule}");
    assert!(schedule.get("bodyBase64").is_none(), "{schedule}");
}

/// Cause 8: the logs take every value of a repeated `url`, and `host` and
/// `path`.
#[tokio::test]
async fn log_filters_take_repeated_urls_host_and_path() {
    let server = server(DevClock::manual()).await;
    let base = server.url();
    let mut ids = Vec::new();
    for url in [
        "http://127.0.0.1:9/a",
        "http://127.0.0.1:9/b",
        "http://localhost:9/c",
    ] {
        ids.push(message_id(
            &publish(&base, url, &[("upstash-delay", "1h")]).await,
        ));
    }
    let logged = |answer: &Value| -> Vec<String> {
        let mut found: Vec<String> = answer["logs"]
            .as_array()
            .unwrap_or_else(|| panic!("{answer}"))
            .iter()
            .filter_map(|e| e["messageId"].as_str().map(String::from))
            .collect();
        found.sort();
        found.dedup();
        found
    };
    let expect = |indexes: &[usize]| -> Vec<String> {
        let mut expected: Vec<String> = indexes.iter().map(|i| ids[*i].clone()).collect();
        expected.sort();
        expected
    };
    let queries = [
        (
            "url=http%3A%2F%2F127.0.0.1%3A9%2Fa&url=http%3A%2F%2F127.0.0.1%3A9%2Fb",
            expect(&[0, 1]),
        ),
        ("host=localhost", expect(&[2])),
        ("path=/b", expect(&[1])),
        ("host=127.0.0.1&path=/a", expect(&[0])),
    ];
    for (query, expected) in queries {
        let (status, answer) =
            call(&base, Method::GET, &format!("/v2/logs?{query}"), &[], "").await;
        assert_eq!(status, 200, "{query}: {answer}");
        assert_eq!(logged(&answer), expected, "{query}");
    }
}

/// Cause 9: a bulk call with a parameter it does not know (a misspelled
/// filter) or an empty one is refused, and acts on nothing.
#[tokio::test]
async fn bulk_calls_refuse_unknown_and_empty_parameters() {
    let server = server(DevClock::manual()).await;
    let base = server.url();
    let mut endpoint = Endpoint::start(&server).await;
    let id = message_id(
        &publish(
            &base,
            &format!("{}/fail", endpoint.url),
            &[("upstash-retries", "0")],
        )
        .await,
    );
    endpoint.next().await;
    reached(&server, &id, Failed).await;
    let pending = message_id(
        &publish(
            &base,
            "http://127.0.0.1:9/later",
            &[("upstash-delay", "1h")],
        )
        .await,
    );

    let refused = [
        (Method::DELETE, "/v2/dlq?labeel=x", "", "labeel"),
        (Method::POST, "/v2/dlq/retry?labeel=x", "", "labeel"),
        (Method::DELETE, "/v2/messages?labeel=x", "", "labeel"),
        (Method::DELETE, "/v2/dlq", r#"{"labeel": "x"}"#, "labeel"),
        (
            Method::POST,
            "/v2/dlq/retry",
            r#"{"labeel": "x"}"#,
            "labeel",
        ),
        (Method::DELETE, "/v2/dlq?dlqIds=", "", "dlqIds"),
        (Method::DELETE, "/v2/dlq?label=", "", "label"),
        (Method::POST, "/v2/dlq/retry", r#"{"dlqIds": []}"#, "dlqIds"),
        (Method::DELETE, "/v2/messages?messageIds=", "", "messageIds"),
        (
            Method::DELETE,
            "/v2/messages",
            r#"{"messageIds": []}"#,
            "messageIds",
        ),
        (
            Method::DELETE,
            "/v2/messages",
            r#"{"messageIds": [true]}"#,
            "JSON object",
        ),
    ];
    for (method, path, body, mentions) in refused {
        let what = format!("{method} {path} {body}");
        assert_error(
            &what,
            call(&base, method, path, &[], body).await,
            400,
            mentions,
        );
    }
    // Nothing was deleted, retried or cancelled.
    let (_, dlq) = call(&base, Method::GET, "/v2/dlq", &[], "").await;
    assert_eq!(dlq["messages"].as_array().map(Vec::len), Some(1), "{dlq}");
    let (status, _) = call(
        &base,
        Method::GET,
        &format!("/v2/messages/{pending}"),
        &[],
        "",
    )
    .await;
    assert_eq!(status, 200);
}

/// A forwarded header named like one of QStash's own
/// (`Upstash-Forward-Upstash-Signature`) is replaced by the server's: the
/// receiver sees one signature, one message id, one retry count.
#[tokio::test]
async fn forwarded_upstash_headers_are_replaced_not_doubled() {
    let server = server(DevClock::manual()).await;
    let base = server.url();
    let mut endpoint = Endpoint::start(&server).await;
    let forged = [
        ("upstash-forward-upstash-signature", "forged"),
        ("upstash-forward-upstash-message-id", "msg_forged"),
        ("upstash-forward-upstash-retried", "99"),
        ("upstash-forward-x-kept", "kept"),
    ];
    let id = message_id(&publish(&base, &format!("{}/in", endpoint.url), &forged).await);
    let delivery = endpoint.next().await;
    for name in ["upstash-signature", "upstash-message-id", "upstash-retried"] {
        let values: Vec<_> = delivery.headers.get_all(name).iter().collect();
        assert_eq!(values.len(), 1, "{name}: {values:?}");
    }
    delivery
        .verified
        .as_ref()
        .expect("the server's signature verifies");
    assert_eq!(delivery.header("upstash-message-id"), id);
    assert_eq!(delivery.header("upstash-retried"), "0");
    assert_eq!(delivery.header("x-kept"), "kept");
}

/// A message cancelled while its attempt is on the wire stays until the
/// attempt ends; cancelling everything again neither counts it twice nor
/// spends a `count` on it.
#[tokio::test]
async fn a_message_cancelled_on_the_wire_is_not_cancelled_twice() {
    let server = server(DevClock::manual()).await;
    let base = server.url();
    let endpoint = Endpoint::start(&server).await;
    let hanging = message_id(&publish(&base, &format!("{}/hang", endpoint.url), &[]).await);
    reached(&server, &hanging, Active).await;
    let cancel_all = call(&base, Method::DELETE, "/v2/messages", &[], "").await;
    assert_eq!(cancel_all, (200, json!({"cancelled": 1})));
    let delayed = message_id(
        &publish(
            &base,
            "http://127.0.0.1:9/later",
            &[("upstash-delay", "1h")],
        )
        .await,
    );
    let one = call(&base, Method::DELETE, "/v2/messages?count=1", &[], "").await;
    assert_eq!(one, (200, json!({"cancelled": 1})));
    let (status, _) = call(
        &base,
        Method::GET,
        &format!("/v2/messages/{delayed}"),
        &[],
        "",
    )
    .await;
    assert_eq!(status, 404, "the delayed message was the one cancelled");
    let again = call(&base, Method::DELETE, "/v2/messages", &[], "").await;
    assert_eq!(again, (200, json!({"cancelled": 0})));
}
