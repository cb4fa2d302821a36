//! QStash's limits, each refused with QStash's error shape naming the limit
//! to raise, and nothing stored by the refused request.

use std::time::Duration;

use qstash::dev_server::{DevClock, DevServer, Limits};
use reqwest::Method;
use serde_json::json;

use crate::{assert_error, call};

const JSON: (&str, &str) = ("content-type", "application/json");

async fn server_with(limits: Limits) -> DevServer {
    DevServer::builder()
        .clock(DevClock::manual())
        .limits(limits)
        .start()
        .await
        .expect("the dev server starts")
}

#[tokio::test]
async fn the_message_size_bounds_bodies_and_batches() {
    let server = server_with(Limits::default().max_message_size(100)).await;
    let base = server.url();
    let fits = "x".repeat(100);
    let (status, _) = call(
        &base,
        Method::POST,
        "/v2/publish/http://127.0.0.1:9/x",
        &[("upstash-delay", "1h")],
        &fits,
    )
    .await;
    assert_eq!(status, 200);
    let over = "x".repeat(101);
    assert_error(
        "a body over the size",
        call(
            &base,
            Method::POST,
            "/v2/publish/http://127.0.0.1:9/x",
            &[],
            &over,
        )
        .await,
        413,
        "max-message-size",
    );
    let batch = json!([{"destination": "http://127.0.0.1:9/x", "body": over}]).to_string();
    assert_error(
        "a batch over the size",
        call(&base, Method::POST, "/v2/batch", &[JSON], &batch).await,
        413,
        "max-message-size",
    );
    assert_eq!(server.logs().len(), 1, "only the first publish was stored");
}

#[tokio::test]
async fn retries_delays_and_timeouts_are_bounded() {
    let server = server_with(
        Limits::default()
            .max_retries(2)
            .max_delay(Duration::from_secs(86_400))
            .max_timeout(Duration::from_secs(60)),
    )
    .await;
    let base = server.url();
    let far = (server.clock().now_ms() / 1000 + 2 * 86_400).to_string();
    let refused = [
        (("upstash-retries", "3"), "max-retries"),
        (("upstash-callback-retries", "3"), "max-retries"),
        (("upstash-failure-callback-retries", "3"), "max-retries"),
        (("upstash-delay", "1d1s"), "max-delay"),
        (("upstash-not-before", far.as_str()), "max-delay"),
        (("upstash-timeout", "61s"), "max-timeout"),
        (("upstash-callback-timeout", "2m"), "max-timeout"),
    ];
    for (header, limit) in refused {
        let mut headers = vec![header];
        if header.0.contains("callback") {
            let url = if header.0.contains("failure") {
                ("upstash-failure-callback", "http://127.0.0.1:9/cb")
            } else {
                ("upstash-callback", "http://127.0.0.1:9/cb")
            };
            headers.push(url);
        }
        assert_error(
            header.0,
            call(
                &base,
                Method::POST,
                "/v2/publish/http://127.0.0.1:9/x",
                &headers,
                "x",
            )
            .await,
            400,
            limit,
        );
    }
    let within = [
        ("upstash-retries", "2"),
        ("upstash-delay", "1d"),
        ("upstash-timeout", "60s"),
    ];
    let (status, answer) = call(
        &base,
        Method::POST,
        "/v2/publish/http://127.0.0.1:9/x",
        &within,
        "x",
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    // A schedule and a DLQ retry's overrides are held to the same limits.
    assert_error(
        "a schedule",
        call(
            &base,
            Method::POST,
            "/v2/schedules/http://127.0.0.1:9/x",
            &[("upstash-cron", "* * * * *"), ("upstash-retries", "3")],
            "",
        )
        .await,
        400,
        "max-retries",
    );
    assert_error(
        "a DLQ retry",
        call(
            &base,
            Method::POST,
            "/v2/dlq/retry",
            &[("upstash-retries", "3")],
            "",
        )
        .await,
        400,
        "max-retries",
    );
}

#[tokio::test]
async fn a_batch_holds_at_most_the_batch_size() {
    let server = server_with(Limits::default().max_batch_size(2)).await;
    let base = server.url();
    let item = json!({"destination": "http://127.0.0.1:9/x", "headers": {"Upstash-Delay": "1h"}});
    let three = json!([item, item, item]).to_string();
    assert_error(
        "three messages",
        call(&base, Method::POST, "/v2/batch", &[JSON], &three).await,
        400,
        "max-batch-size",
    );
    assert!(server.logs().is_empty());
    let two = json!([item, item]).to_string();
    let (status, answer) = call(&base, Method::POST, "/v2/batch", &[JSON], &two).await;
    assert_eq!(status, 200, "{answer}");
}

#[tokio::test]
async fn url_groups_and_their_endpoints_are_bounded() {
    let server = server_with(
        Limits::default()
            .max_url_groups(1)
            .max_url_group_endpoints(2),
    )
    .await;
    let base = server.url();
    let endpoints = |urls: &[&str]| {
        let list: Vec<_> = urls.iter().map(|url| json!({ "url": url })).collect();
        json!({ "endpoints": list }).to_string()
    };
    let upsert = |group: &'static str, body: String| {
        let base = base.clone();
        async move {
            call(
                &base,
                Method::POST,
                &format!("/v2/topics/{group}/endpoints"),
                &[JSON],
                &body,
            )
            .await
        }
    };
    let (status, _) = upsert(
        "a",
        endpoints(&["http://127.0.0.1:9/1", "http://127.0.0.1:9/2"]),
    )
    .await;
    assert_eq!(status, 200);
    assert_error(
        "a third endpoint",
        upsert("a", endpoints(&["http://127.0.0.1:9/3"])).await,
        400,
        "max-url-group-endpoints",
    );
    // Replacing an endpoint by its URL does not add one.
    let (status, _) = upsert("a", endpoints(&["http://127.0.0.1:9/2"])).await;
    assert_eq!(status, 200);
    assert_error(
        "a second group",
        upsert("b", endpoints(&["http://127.0.0.1:9/1"])).await,
        400,
        "max-url-groups",
    );
    let (_, group) = call(&base, Method::GET, "/v2/topics/a", &[], "").await;
    assert_eq!(
        group["endpoints"].as_array().map(Vec::len),
        Some(2),
        "{group}"
    );
}

#[tokio::test]
async fn queues_and_schedules_are_bounded() {
    let server = server_with(Limits::default().max_queues(1).max_schedules(1)).await;
    let base = server.url();
    let body = |name: &str| json!({"queueName": name, "parallelism": 1}).to_string();
    let (status, _) = call(&base, Method::POST, "/v2/queues", &[JSON], &body("q1")).await;
    assert_eq!(status, 200);
    assert_error(
        "a second queue",
        call(&base, Method::POST, "/v2/queues", &[JSON], &body("q2")).await,
        400,
        "max-queues",
    );
    assert_error(
        "an enqueue making a second queue",
        call(
            &base,
            Method::POST,
            "/v2/enqueue/q2/http://127.0.0.1:9/x",
            &[],
            "x",
        )
        .await,
        400,
        "max-queues",
    );
    let batch = json!([
        {"destination": "http://127.0.0.1:9/x", "queue": "q1"},
        {"destination": "http://127.0.0.1:9/x", "queue": "q3"},
    ])
    .to_string();
    assert_error(
        "a batch making a second queue",
        call(&base, Method::POST, "/v2/batch", &[JSON], &batch).await,
        400,
        "max-queues",
    );
    assert!(server.logs().is_empty(), "no item of the batch was stored");

    let schedule = |id: &'static str| {
        let base = base.clone();
        async move {
            call(
                &base,
                Method::POST,
                "/v2/schedules/http://127.0.0.1:9/x",
                &[("upstash-cron", "* * * * *"), ("upstash-schedule-id", id)],
                "",
            )
            .await
        }
    };
    assert_eq!(schedule("s1").await.0, 200);
    assert_eq!(
        schedule("s1").await.0,
        200,
        "an update is not a new schedule"
    );
    assert_error(
        "a second schedule",
        schedule("s2").await,
        400,
        "max-schedules",
    );
}
