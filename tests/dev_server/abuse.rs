//! The dev server under abuse: what it keeps is bounded by its limits, not
//! by its history; a retry storm, a loop through itself, a bulk body it
//! would once have ignored, a clock running a day in a millisecond: each
//! stays bounded, and the server keeps answering.

use std::time::Duration;

use qstash::dev_server::{DevClock, DevServer, Limits};
use qstash::types::LogEntryState::*;
use reqwest::Method;
use serde_json::{Value, json};

use crate::{Endpoint, assert_error, call, reached, server, within};

const JSON: (&str, &str) = ("content-type", "application/json");

async fn server_with(clock: DevClock, limits: Limits) -> DevServer {
    DevServer::builder()
        .clock(clock)
        .limits(limits)
        .start()
        .await
        .expect("the dev server starts")
}

async fn publish(base: &str, destination: &str, headers: &[(&str, &str)], body: &str) -> String {
    let (status, answer) = call(
        base,
        Method::POST,
        &format!("/v2/publish/{destination}"),
        headers,
        body,
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    answer["messageId"]
        .as_str()
        .expect("a message id")
        .to_owned()
}

/// Publishes `count` messages that fail without retries, waits until each
/// is in the DLQ, and returns their message ids in order.
async fn fail_into_dlq(server: &DevServer, endpoint: &mut Endpoint, count: usize) -> Vec<String> {
    let mut ids = Vec::new();
    for _ in 0..count {
        let id = publish(
            &server.url(),
            &format!("{}/fail", endpoint.url),
            &[("upstash-retries", "0")],
            "x",
        )
        .await;
        endpoint.next().await;
        reached(server, &id, Failed).await;
        ids.push(id);
    }
    ids
}

/// `field` of every entry of the DLQ's first page, in order.
async fn dlq_field(base: &str, field: &str) -> Vec<String> {
    let (_, dlq) = call(base, Method::GET, "/v2/dlq", &[], "").await;
    dlq["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .filter_map(|m| m[field].as_str().map(String::from))
        .collect()
}

#[tokio::test]
async fn logs_keep_the_newest_entries_up_to_the_retention_count() {
    let server = server_with(
        DevClock::manual(),
        Limits::default().log_retention(10, Duration::from_secs(3600)),
    )
    .await;
    let base = server.url();
    let mut ids = Vec::new();
    for _ in 0..8 {
        ids.push(
            publish(
                &base,
                "http://127.0.0.1:9/later",
                &[("upstash-delay", "1h")],
                "x",
            )
            .await,
        );
    }
    // Eight CREATED entries; then eight CANCEL_REQUESTED and eight CANCELLED.
    let (status, _) = call(&base, Method::DELETE, "/v2/messages", &[], "").await;
    assert_eq!(status, 200);
    let logs = server.logs();
    assert_eq!(logs.len(), 10);
    // The oldest went first: what is left is the newest ten, the last five
    // messages' cancellations, in order.
    let states: Vec<_> = logs.iter().filter_map(|e| e.state.clone()).collect();
    let expected: Vec<_> = (0..5).flat_map(|_| [CancelRequested, Cancelled]).collect();
    assert_eq!(states, expected);
    for pair in logs.chunks(2) {
        assert_eq!(pair[0].message_id, pair[1].message_id);
        assert!(ids.contains(pair[0].message_id.as_ref().unwrap()));
    }
    // The API pages over what is kept, and its cursor ends there.
    let (_, page) = call(&base, Method::GET, "/v2/logs?count=6", &[], "").await;
    let cursor = page["cursor"].as_str().expect("a cursor").to_owned();
    let (_, rest) = call(
        &base,
        Method::GET,
        &format!("/v2/logs?cursor={cursor}"),
        &[],
        "",
    )
    .await;
    assert_eq!(rest["logs"].as_array().map(Vec::len), Some(4), "{rest}");
    assert!(rest.get("cursor").is_none(), "{rest}");
}

#[tokio::test]
async fn logs_and_the_dlq_drop_what_is_older_than_their_age() {
    let hour = Duration::from_secs(3600);
    let server = server_with(
        DevClock::manual(),
        Limits::default()
            .log_retention(10_000, hour)
            .dlq_retention(10_000, 2 * hour),
    )
    .await;
    let base = server.url();
    let mut endpoint = Endpoint::start(&server).await;
    fail_into_dlq(&server, &mut endpoint, 1).await;

    server.clock().advance(hour + Duration::from_secs(1));
    let (_, logs) = call(&base, Method::GET, "/v2/logs", &[], "").await;
    assert_eq!(logs["logs"], json!([]), "the logs are an hour old: {logs}");
    let (_, dlq) = call(&base, Method::GET, "/v2/dlq", &[], "").await;
    assert_eq!(dlq["messages"].as_array().map(Vec::len), Some(1), "{dlq}");

    server.clock().advance(hour);
    let (_, dlq) = call(&base, Method::GET, "/v2/dlq", &[], "").await;
    assert_eq!(dlq["messages"], json!([]), "the DLQ entry is two hours old");
}

#[tokio::test]
async fn the_dlq_keeps_the_newest_entries_up_to_the_retention_count() {
    let server = server_with(
        DevClock::manual(),
        Limits::default().dlq_retention(2, Duration::from_secs(86_400)),
    )
    .await;
    let base = server.url();
    let mut endpoint = Endpoint::start(&server).await;
    let ids = fail_into_dlq(&server, &mut endpoint, 3).await;
    assert_eq!(dlq_field(&base, "messageId").await, ids[1..]);
}

/// One 1 MiB publish to a URL group of 100 endpoints: a page of its logs
/// stops at a bounded size instead of carrying 100 copies of the body, and
/// the cursor walks the rest.
#[tokio::test]
async fn a_page_of_large_logs_is_bounded() {
    let server = server(DevClock::manual()).await;
    let base = server.url();
    let endpoints: Vec<Value> = (0..100)
        .map(|n| json!({"url": format!("http://127.0.0.1:9/{n}")}))
        .collect();
    let body = json!({ "endpoints": endpoints }).to_string();
    call(
        &base,
        Method::POST,
        "/v2/topics/wide/endpoints",
        &[JSON],
        &body,
    )
    .await;
    let big = "x".repeat(1 << 20);
    let (status, answer) = call(
        &base,
        Method::POST,
        "/v2/publish/wide",
        &[("upstash-delay", "1h")],
        &big,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(answer.as_array().map(Vec::len), Some(100));

    let mut cursor = String::new();
    let mut entries = 0;
    let mut pages = 0;
    loop {
        let response = reqwest::Client::new()
            .get(format!("{base}/v2/logs?count=100{cursor}"))
            .bearer_auth(qstash::dev_server::DEFAULT_TOKEN)
            .send()
            .await
            .unwrap();
        let text = response.text().await.unwrap();
        // 100 entries would be 100 base64 copies of the body: 140 MB.
        assert!(text.len() < 16 << 20, "a page of {} bytes", text.len());
        let page: Value = serde_json::from_str(&text).unwrap();
        entries += page["logs"].as_array().map_or(0, Vec::len);
        pages += 1;
        match page["cursor"].as_str() {
            Some(next) => cursor = format!("&cursor={next}"),
            None => break,
        }
    }
    assert_eq!(entries, 100, "every CREATED entry, over {pages} pages");
    assert!(pages > 1);
}

/// `Upstash-Retries: 4294967295` with no delay to a closed port once meant
/// an endless storm of attempts; retries above the limit are refused, and
/// those within it end in the DLQ.
#[tokio::test]
async fn a_retry_storm_is_refused_or_bounded() {
    let server = server(DevClock::manual()).await;
    let base = server.url();
    let closed = "http://127.0.0.1:9/closed";
    let storm = [
        ("upstash-retries", "4294967295"),
        ("upstash-retry-delay", "0"),
    ];
    assert_error(
        "retries over the limit",
        call(
            &base,
            Method::POST,
            &format!("/v2/publish/{closed}"),
            &storm,
            "x",
        )
        .await,
        400,
        "max-retries",
    );
    let (status, logs) = call(&base, Method::GET, "/v2/logs", &[], "").await;
    assert_eq!((status, logs), (200, json!({"logs": []})));

    let most = [("upstash-retries", "5"), ("upstash-retry-delay", "0")];
    let id = publish(&base, closed, &most, "x").await;
    reached(&server, &id, Failed).await;
    let errors = server
        .logs()
        .iter()
        .filter(|e| e.message_id.as_deref() == Some(&*id) && e.state == Some(Error))
        .count();
    assert_eq!(errors, 6, "the first attempt and five retries");
}

/// A URL group whose endpoint is the server's own publish URL would
/// deliver to itself forever; it is refused, as is any destination or
/// callback that is the server, under any of its names.
#[tokio::test]
async fn the_server_refuses_to_deliver_to_itself() {
    let server = server(DevClock::manual()).await;
    let base = server.url();
    let port = server.address().port();
    let token = qstash::dev_server::DEFAULT_TOKEN;
    let own = format!("http://127.0.0.1:{port}/v2/publish/loop?qstash_token={token}");
    let body = json!({"endpoints": [{"url": own}]}).to_string();
    assert_error(
        "a URL group endpoint that is the server",
        call(
            &base,
            Method::POST,
            "/v2/topics/loop/endpoints",
            &[JSON],
            &body,
        )
        .await,
        400,
        "this dev server itself",
    );
    let names = [
        format!("http://127.0.0.1:{port}/v2/publish/x"),
        format!("http://localhost:{port}/"),
        format!("http://LOCALHOST.:{port}/"),
        format!("http://127.0.0.2:{port}/"),
        format!("http://[::1]:{port}/"),
        format!("http://[::ffff:127.0.0.1]:{port}/"),
        format!("http://0.0.0.0:{port}/"),
        format!("http://2130706433:{port}/"),
    ];
    for url in &names {
        assert_error(
            url,
            call(&base, Method::POST, &format!("/v2/publish/{url}"), &[], "x").await,
            400,
            "this dev server itself",
        );
    }
    for header in ["upstash-callback", "upstash-failure-callback"] {
        assert_error(
            header,
            call(
                &base,
                Method::POST,
                "/v2/publish/http://127.0.0.1:9/x",
                &[(header, &names[1])],
                "x",
            )
            .await,
            400,
            "this dev server itself",
        );
    }
    let schedule = [("upstash-cron", "* * * * *")];
    assert_error(
        "a schedule to the server",
        call(
            &base,
            Method::POST,
            &format!("/v2/schedules/{}", names[0]),
            &schedule,
            "",
        )
        .await,
        400,
        "this dev server itself",
    );
    // Nothing was stored.
    assert!(server.logs().is_empty());
}

/// The last guard, for a name of the server no address check can know: a
/// request that is the server's own delivery of a message still on the
/// wire is refused, so a loop ends with the message's retries.
#[tokio::test]
async fn a_delivery_that_comes_back_to_the_server_is_refused() {
    let server = server(DevClock::manual()).await;
    let base = server.url();
    let endpoint = Endpoint::start(&server).await;
    // An endpoint that never answers keeps the attempt on the wire.
    let id = publish(&base, &format!("{}/hang", endpoint.url), &[], "x").await;
    reached(&server, &id, Active).await;
    let returned = [
        ("upstash-message-id", id.as_str()),
        ("user-agent", "Upstash-QStash"),
    ];
    for path in [
        "/v2/publish/http://127.0.0.1:9/x",
        "/v2/enqueue/q/http://127.0.0.1:9/x",
        "/v2/schedules/http://127.0.0.1:9/x",
    ] {
        assert_error(
            path,
            call(&base, Method::POST, path, &returned, "x").await,
            400,
            "own delivery",
        );
    }
    let batch = json!([{"destination": "http://127.0.0.1:9/x"}]).to_string();
    assert_error(
        "batch",
        call(
            &base,
            Method::POST,
            "/v2/batch",
            &[returned[0], JSON],
            &batch,
        )
        .await,
        400,
        "own delivery",
    );
}

/// The SDKs' `{"dlqIds": [...]}` body on `POST /v2/dlq/retry` retries the
/// entries named, and only those.
#[tokio::test]
async fn a_dlq_retry_by_ids_in_a_body_retries_only_those() {
    let server = server(DevClock::manual()).await;
    let base = server.url();
    let mut endpoint = Endpoint::start(&server).await;
    fail_into_dlq(&server, &mut endpoint, 3).await;
    let dlq_ids = dlq_field(&base, "dlqId").await;
    assert_eq!(dlq_ids.len(), 3);
    let body = json!({ "dlqIds": [dlq_ids[1]] }).to_string();
    // Delayed, so that the retried message does not fail into the DLQ again.
    let headers = [JSON, ("upstash-delay", "1h")];
    let (status, answer) = call(&base, Method::POST, "/v2/dlq/retry", &headers, &body).await;
    assert_eq!(status, 201, "{answer}");
    assert_eq!(
        answer["responses"].as_array().map(Vec::len),
        Some(1),
        "{answer}"
    );
    assert_eq!(
        dlq_field(&base, "dlqId").await,
        [dlq_ids[0].clone(), dlq_ids[2].clone()]
    );
}

/// A clock jump past many occurrences fires a schedule once, not once per
/// occurrence, and the server answers at once.
#[tokio::test]
async fn a_clock_jump_fires_a_schedule_once() {
    let server = server(DevClock::manual()).await;
    let base = server.url();
    let mut endpoint = Endpoint::start(&server).await;
    let headers = [
        ("upstash-cron", "* * * * *"),
        ("upstash-schedule-id", "every-minute"),
    ];
    let destination = format!("{}/tick", endpoint.url);
    call(
        &base,
        Method::POST,
        &format!("/v2/schedules/{destination}"),
        &headers,
        "t",
    )
    .await;
    let start = server.clock().now_ms();
    server.clock().advance(Duration::from_secs(30 * 86_400));
    endpoint.next().await;
    let (_, schedule) = call(&base, Method::GET, "/v2/schedules/every-minute", &[], "").await;
    let last = schedule["lastScheduleTime"].as_u64().expect("fired");
    let next = schedule["nextScheduleTime"].as_u64().expect("a next time");
    let now = server.clock().now_ms();
    assert!(
        last <= now && now - last < 60_000,
        "fired for the latest minute"
    );
    assert!(next > now && last > start);
    // Publish a sentinel: once it is delivered, any other firing would be too.
    let sentinel = publish(&base, &format!("{}/sentinel", endpoint.url), &[], "s").await;
    let delivered = endpoint.next().await;
    assert_eq!(delivered.path, "/sentinel", "no second firing came first");
    reached(&server, &sentinel, Delivered).await;
    let created = server
        .logs()
        .iter()
        .filter(|e| e.schedule_id.as_deref() == Some("every-minute") && e.state == Some(Created))
        .count();
    assert_eq!(created, 1);
}

/// A clock scaled to pass a day in a millisecond, as the docs suggest:
/// a per-minute schedule keeps delivering (firing at most once per pass of
/// the scheduler, not 1,440 times), and the API keeps answering meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_day_per_millisecond_keeps_delivering_and_answering() {
    let server = server(DevClock::scaled(86_400_000.0)).await;
    let base = server.url();
    let mut endpoint = Endpoint::start(&server).await;
    let headers = [
        ("upstash-cron", "* * * * *"),
        ("upstash-schedule-id", "fast"),
    ];
    let destination = format!("{}/tick", endpoint.url);
    let (status, _) = call(
        &base,
        Method::POST,
        &format!("/v2/schedules/{destination}"),
        &headers,
        "t",
    )
    .await;
    assert_eq!(status, 200);
    for round in 0..20 {
        let delivery = endpoint.next().await;
        assert_eq!(delivery.header("upstash-schedule-id"), "fast");
        let (status, _) = within(
            "the schedule list",
            call(&base, Method::GET, "/v2/schedules", &[], ""),
        )
        .await;
        assert_eq!(status, 200, "round {round}");
        let (status, _) = within(
            "a page of logs",
            call(&base, Method::GET, "/v2/logs", &[], ""),
        )
        .await;
        assert_eq!(status, 200, "round {round}");
    }
}
