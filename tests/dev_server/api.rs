//! The HTTP surface: auth, routing of every operation, bad requests, and
//! responses that validate against the spec's schemas.

#[path = "../support/json_schema.rs"]
mod json_schema;

use qstash::dev_server::{DEFAULT_TOKEN, DevClock};
use qstash::types;
use reqwest::Method;
use schemars::schema_for;
use serde_json::{Value, json};

use crate::{Endpoint, assert_error, call, reached, server, single_id};

#[tokio::test]
async fn the_token_is_required_as_bearer_or_query_parameter() {
    let server = server(DevClock::manual()).await;
    let http = reqwest::Client::new();
    let keys = format!("{}/v2/keys", server.url());
    let none = http.get(&keys).send().await.unwrap();
    assert_eq!(none.status(), 401);
    assert!(none.text().await.unwrap().contains("missing token"));
    let wrong = http.get(&keys).bearer_auth("nope").send().await.unwrap();
    assert_eq!(wrong.status(), 401);
    assert_eq!(
        wrong.json::<Value>().await.unwrap(),
        json!({"error": "invalid token"})
    );
    let query = http
        .get(&keys)
        .query(&[("qstash_token", DEFAULT_TOKEN)])
        .send()
        .await
        .unwrap();
    assert_eq!(query.status(), 200);
}

#[tokio::test]
async fn every_operation_of_the_spec_is_routed_and_none_answers_501() {
    let server = server(DevClock::manual()).await;
    // Every operation of the spec answers something else than 404/405/501.
    let operations = [
        (Method::POST, "/v2/publish/https://example.com/x"),
        (Method::POST, "/v2/enqueue/q/https://example.com/x"),
        (Method::POST, "/v2/batch"),
        (Method::GET, "/v2/messages/m"),
        (Method::DELETE, "/v2/messages/m"),
        (Method::DELETE, "/v2/messages"),
        (Method::GET, "/v2/topics"),
        (Method::GET, "/v2/topics/g"),
        (Method::DELETE, "/v2/topics/g"),
        (Method::POST, "/v2/topics/g/endpoints"),
        (Method::DELETE, "/v2/topics/g/endpoints"),
        (Method::GET, "/v2/dlq"),
        (Method::DELETE, "/v2/dlq"),
        (Method::GET, "/v2/dlq/1-1"),
        (Method::DELETE, "/v2/dlq/1-1"),
        (Method::POST, "/v2/dlq/retry/1-1"),
        (Method::POST, "/v2/dlq/retry"),
        (Method::GET, "/v2/keys"),
        (Method::POST, "/v2/keys/rotate"),
        (Method::GET, "/v2/logs"),
        (Method::POST, "/v2/queues"),
        (Method::GET, "/v2/queues"),
        (Method::GET, "/v2/queues/q"),
        (Method::DELETE, "/v2/queues/q"),
        (Method::POST, "/v2/queues/q/pause"),
        (Method::POST, "/v2/queues/q/resume"),
        (Method::POST, "/v2/schedules/https://example.com/a"),
        (Method::GET, "/v2/schedules"),
        (Method::GET, "/v2/schedules/scd_1"),
        (Method::DELETE, "/v2/schedules/scd_1"),
        (Method::POST, "/v2/schedules/scd_1/pause"),
        (Method::POST, "/v2/schedules/scd_1/resume"),
        (Method::GET, "/v2/flowControl"),
        (Method::GET, "/v2/flowControl/k"),
        (Method::POST, "/v2/flowControl/k/pause"),
        (Method::POST, "/v2/flowControl/k/resume"),
        (Method::POST, "/v2/flowControl/k/pin?parallelism=2"),
        (Method::POST, "/v2/flowControl/k/unpin?parallelism=true"),
        (Method::POST, "/v2/flowControl/k/resetRate"),
        (Method::GET, "/v2/globalParallelism"),
    ];
    let spec: Value = serde_norway::from_str(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/qstash.yaml"))
            .unwrap(),
    )
    .unwrap();
    let in_spec: usize = spec["paths"]
        .as_object()
        .unwrap()
        .values()
        .map(|item| {
            item.as_object()
                .unwrap()
                .keys()
                .filter(|k| ["get", "post", "put", "patch", "delete"].contains(&k.as_str()))
                .count()
        })
        .sum();
    assert_eq!(
        operations.len(),
        in_spec,
        "one request per operation of the spec"
    );
    for (method, path) in operations {
        let (status, body) = call(&server.url(), method.clone(), path, &[], "").await;
        assert!(
            ![405, 501].contains(&status),
            "{method} {path}: {status} {body}"
        );
        if status == 404 {
            assert!(
                !body["error"].as_str().unwrap().contains("route"),
                "{method} {path}: {body}"
            );
        }
    }
    assert_error(
        "unknown route",
        call(&server.url(), Method::GET, "/v2/nothing", &[], "").await,
        404,
        "route",
    );
    assert_error(
        "wrong method",
        call(&server.url(), Method::PUT, "/v2/keys", &[], "").await,
        405,
        "method",
    );
}

#[tokio::test]
async fn bad_requests_get_400_with_an_error_body_and_the_server_keeps_serving() {
    let server = server(DevClock::manual()).await;
    let base = server.url();
    let publish = |destination: &'static str,
                   headers: &'static [(&'static str, &'static str)],
                   body: &'static str| {
        let base = base.clone();
        async move {
            call(
                &base,
                Method::POST,
                &format!("/v2/publish/{destination}"),
                headers,
                body,
            )
            .await
        }
    };
    let url = "https://example.com/x";
    assert_error(
        "bad scheme",
        publish("ftp://example.com/x", &[], "").await,
        400,
        "destination",
    );
    assert_error(
        "no host",
        publish("https://", &[], "").await,
        400,
        "destination",
    );
    assert_error(
        "not a group name",
        publish("a:b", &[], "").await,
        400,
        "destination",
    );
    assert_error(
        "unknown group",
        publish("nogroup", &[], "").await,
        400,
        "nogroup",
    );
    let bad_headers: &[(&str, &str, &str)] = &[
        ("Upstash-Method", "TRACE", "Upstash-Method"),
        ("Upstash-Retries", "many", "Upstash-Retries"),
        ("Upstash-Retry-Delay", "pow(2,", "Upstash-Retry-Delay"),
        ("Upstash-Delay", "10 minutes", "Upstash-Delay"),
        ("Upstash-Timeout", "1y", "Upstash-Timeout"),
        ("Upstash-Not-Before", "soon", "Upstash-Not-Before"),
        ("Upstash-Callback", "not a url", "Upstash-Callback"),
        (
            "Upstash-Failure-Callback",
            "mailto:a@b",
            "Upstash-Failure-Callback",
        ),
        (
            "Upstash-Content-Based-Deduplication",
            "maybe",
            "Content-Based",
        ),
        ("Upstash-Redact-Fields", "cookies", "Upstash-Redact-Fields"),
    ];
    for (name, value, mentions) in bad_headers {
        let answer = call(
            &base,
            Method::POST,
            &format!("/v2/publish/{url}"),
            &[(name, value)],
            "",
        )
        .await;
        assert_error(name, answer, 400, mentions);
    }
    // The expression parser recurses: nesting is capped, not a stack overflow.
    let deep = "(".repeat(50_000);
    let answer = call(
        &base,
        Method::POST,
        &format!("/v2/publish/{url}"),
        &[("Upstash-Retry-Delay", &deep)],
        "",
    )
    .await;
    assert_error("deeply nested retry delay", answer, 400, "nested");
    assert_error(
        "batch not JSON",
        call(&base, Method::POST, "/v2/batch", &[], "{").await,
        400,
        "JSON array",
    );
    assert_error(
        "batch bad item",
        call(
            &base,
            Method::POST,
            "/v2/batch",
            &[],
            r#"[{"destination":"https://a.com"},{"destination":"x:y"}]"#,
        )
        .await,
        400,
        "item 1",
    );
    assert_error(
        "endpoints body",
        call(
            &base,
            Method::POST,
            "/v2/topics/g/endpoints",
            &[],
            r#"{"endpoints":[{"url":"nope"}]}"#,
        )
        .await,
        400,
        "endpoint URL",
    );
    assert_error(
        "bad state",
        call(&base, Method::GET, "/v2/logs?state=DONE", &[], "").await,
        400,
        "state",
    );
    assert_error(
        "bad cursor",
        call(&base, Method::GET, "/v2/dlq?cursor=abc", &[], "").await,
        400,
        "cursor",
    );
    assert_error(
        "path not UTF-8",
        call(&base, Method::GET, "/v2/messages/%FF", &[], "").await,
        400,
        "UTF-8",
    );
    let schedule = |cron: &'static str| {
        let base = base.clone();
        async move {
            call(
                &base,
                Method::POST,
                "/v2/schedules/https://example.com/s",
                &[("Upstash-Cron", cron)],
                "",
            )
            .await
        }
    };
    assert_error("bad cron", schedule("* * *").await, 400, "five fields");
    assert_error(
        "bad minute",
        schedule("61 * * * *").await,
        400,
        "Upstash-Cron",
    );
    assert_error(
        "unknown zone",
        schedule("CRON_TZ=Mars/Olympus * * * * *").await,
        400,
        "Mars/Olympus",
    );
    assert_error(
        "no cron",
        call(
            &base,
            Method::POST,
            "/v2/schedules/https://example.com/s",
            &[],
            "",
        )
        .await,
        400,
        "Upstash-Cron",
    );
    assert_error(
        "bad queue name",
        call(
            &base,
            Method::POST,
            "/v2/queues",
            &[],
            r#"{"queueName":"a b","parallelism":1}"#,
        )
        .await,
        400,
        "queue name",
    );
    assert_error(
        "enqueue to a bad queue name",
        call(
            &base,
            Method::POST,
            "/v2/enqueue/a%20b/https://example.com/x",
            &[],
            "",
        )
        .await,
        400,
        "queue name",
    );
    assert_error(
        "zero parallelism",
        call(
            &base,
            Method::POST,
            "/v2/queues",
            &[],
            r#"{"queueName":"q","parallelism":0}"#,
        )
        .await,
        400,
        "parallelism",
    );
    assert_error(
        "bad flow-control value",
        publish(url, &[("Upstash-Flow-Control-Value", "speed=9")], "").await,
        400,
        "Upstash-Flow-Control-Value",
    );
    // Just over the default maximum message size (10 MiB).
    let huge = "x".repeat((10 << 20) + 1);
    let (status, body) = {
        let response = reqwest::Client::new()
            .post(format!("{base}/v2/publish/{url}"))
            .bearer_auth(DEFAULT_TOKEN)
            .body(huge)
            .send()
            .await
            .unwrap();
        (
            response.status().as_u16(),
            response.json::<Value>().await.unwrap(),
        )
    };
    assert_eq!(status, 413, "{body}");
    assert!(body["error"].is_string());
    // Nothing was stored by any of these, and the server still answers.
    assert!(server.logs().is_empty(), "{:?}", server.logs());
    let (status, _) = call(&base, Method::GET, "/v2/keys", &[], "").await;
    assert_eq!(status, 200);
}

/// Checks `value` against the JSON Schema of `T`, strictly (no property the
/// schema lacks) and by deserializing it.
fn conforms<T: schemars::JsonSchema + serde::de::DeserializeOwned>(what: &str, value: &Value) {
    let root = serde_json::to_value(schema_for!(T)).unwrap();
    let mut errors = Vec::new();
    json_schema::validate(&root, &root, value, what, &mut errors);
    assert!(errors.is_empty(), "{what}: {errors:#?}\n{value}");
    serde_json::from_value::<T>(value.clone()).unwrap_or_else(|e| panic!("{what}: {e}\n{value}"));
}

#[tokio::test]
async fn implemented_responses_validate_against_the_spec_schemas() {
    let server = server(DevClock::manual()).await;
    let endpoint = Endpoint::start(&server).await;
    let base = server.url();
    let ok = |what: &str, (status, body): (u16, Value), expected: u16| {
        assert_eq!(status, expected, "{what}: {body}");
        body
    };
    let group = format!(
        r#"{{"endpoints":[{{"name":"a","url":"{}/a"}}]}}"#,
        endpoint.url
    );
    ok(
        "upsert endpoints",
        call(&base, Method::POST, "/v2/topics/g/endpoints", &[], &group).await,
        200,
    );
    conforms::<Vec<types::UrlGroup>>(
        "list url groups",
        &ok(
            "list",
            call(&base, Method::GET, "/v2/topics", &[], "").await,
            200,
        ),
    );
    conforms::<types::UrlGroup>(
        "get url group",
        &ok(
            "get",
            call(&base, Method::GET, "/v2/topics/g", &[], "").await,
            200,
        ),
    );

    let delayed = &[
        ("Upstash-Delay", "1d"),
        ("Upstash-Label", "l"),
        ("Upstash-Callback", "http://127.0.0.1:9/cb"),
    ];
    let single = ok(
        "publish",
        call(
            &base,
            Method::POST,
            &format!("/v2/publish/{}/p", endpoint.url),
            delayed,
            "{}",
        )
        .await,
        200,
    );
    conforms::<types::PublishMessageResponse>("publish", &single);
    conforms::<types::PublishMessageResponse>(
        "publish to group",
        &ok(
            "group",
            call(&base, Method::POST, "/v2/publish/g", &[], "hi").await,
            200,
        ),
    );
    conforms::<types::EnqueueMessageResponse>(
        "enqueue",
        &ok(
            "enqueue",
            call(
                &base,
                Method::POST,
                &format!("/v2/enqueue/q/{}/q", endpoint.url),
                &[],
                "hi",
            )
            .await,
            200,
        ),
    );
    let batch = format!(
        r#"[{{"destination":"{}/b","body":"1","headers":{{"Upstash-Retries":"0"}}}},{{"destination":"g"}}]"#,
        endpoint.url
    );
    conforms::<Vec<types::BatchMessagesResponseItem>>(
        "batch",
        &ok(
            "batch",
            call(&base, Method::POST, "/v2/batch", &[], &batch).await,
            200,
        ),
    );
    let id = single["messageId"].as_str().unwrap();
    conforms::<types::Message>(
        "get message",
        &ok(
            "get",
            call(&base, Method::GET, &format!("/v2/messages/{id}"), &[], "").await,
            200,
        ),
    );
    conforms::<types::CancelMessagesResponse>(
        "cancel messages",
        &ok(
            "cancel",
            call(
                &base,
                Method::DELETE,
                &format!("/v2/messages?messageIds={id}"),
                &[],
                "",
            )
            .await,
            200,
        ),
    );

    let failing = single_id(
        serde_json::from_value(ok(
            "failing",
            call(
                &base,
                Method::POST,
                &format!("/v2/publish/{}/fail", endpoint.url),
                &[("Upstash-Retries", "0")],
                "\u{0}\u{1}",
            )
            .await,
            200,
        ))
        .unwrap(),
    );
    reached(&server, &failing, types::LogEntryState::Failed).await;
    let dlq = ok(
        "dlq",
        call(&base, Method::GET, "/v2/dlq", &[], "").await,
        200,
    );
    conforms::<types::ListDlqMessagesResponse>("list dlq", &dlq);
    let dlq_id = dlq["messages"][0]["dlqId"].as_str().unwrap().to_owned();
    conforms::<types::DlqMessage>(
        "get dlq",
        &ok(
            "get dlq",
            call(&base, Method::GET, &format!("/v2/dlq/{dlq_id}"), &[], "").await,
            200,
        ),
    );
    conforms::<types::PublishResponse>(
        "retry dlq",
        &ok(
            "retry",
            call(
                &base,
                Method::POST,
                &format!("/v2/dlq/retry/{dlq_id}"),
                &[],
                "",
            )
            .await,
            201,
        ),
    );
    conforms::<types::RetryDlqMessagesResponse>(
        "bulk retry",
        &ok(
            "bulk retry",
            call(&base, Method::POST, "/v2/dlq/retry?label=none", &[], "").await,
            201,
        ),
    );
    conforms::<types::DeleteDlqMessagesResponse>(
        "bulk delete",
        &ok(
            "bulk delete",
            call(&base, Method::DELETE, "/v2/dlq?label=none", &[], "").await,
            200,
        ),
    );
    conforms::<types::SigningKeys>(
        "keys",
        &ok(
            "keys",
            call(&base, Method::GET, "/v2/keys", &[], "").await,
            200,
        ),
    );
    conforms::<types::SigningKeys>(
        "rotate",
        &ok(
            "rotate",
            call(&base, Method::POST, "/v2/keys/rotate", &[], "").await,
            200,
        ),
    );
    let logs = ok(
        "logs",
        call(&base, Method::GET, "/v2/logs", &[], "").await,
        200,
    );
    assert!(logs["logs"].as_array().unwrap().len() > 5);
    conforms::<types::ListLogsResponse>("logs", &logs);
    // Queues, schedules and flow control.
    ok(
        "upsert queue",
        call(
            &base,
            Method::POST,
            "/v2/queues",
            &[],
            r#"{"queueName":"q2","parallelism":2}"#,
        )
        .await,
        200,
    );
    conforms::<Vec<types::Queue>>(
        "list queues",
        &ok(
            "list queues",
            call(&base, Method::GET, "/v2/queues", &[], "").await,
            200,
        ),
    );
    conforms::<types::Queue>(
        "get queue",
        &ok(
            "get queue",
            call(&base, Method::GET, "/v2/queues/q2", &[], "").await,
            200,
        ),
    );
    let created = ok(
        "create schedule",
        call(
            &base,
            Method::POST,
            &format!("/v2/schedules/{}/s", endpoint.url),
            &[
                ("Upstash-Cron", "CRON_TZ=Europe/Berlin */5 * * * *"),
                ("Upstash-Delay", "10s"),
                ("Upstash-Callback", "http://127.0.0.1:9/cb"),
                ("Upstash-Forward-X-A", "b"),
                ("Upstash-Flow-Control-Key", "sk"),
                ("Upstash-Flow-Control-Value", "rate=5, period=1m"),
            ],
            "\u{0}\u{1}",
        )
        .await,
        200,
    );
    conforms::<types::CreateScheduleResponse>("create schedule", &created);
    let schedule_id = created["scheduleId"].as_str().unwrap();
    conforms::<Vec<types::Schedule>>(
        "list schedules",
        &ok(
            "list schedules",
            call(&base, Method::GET, "/v2/schedules", &[], "").await,
            200,
        ),
    );
    conforms::<types::Schedule>(
        "get schedule",
        &ok(
            "get schedule",
            call(
                &base,
                Method::GET,
                &format!("/v2/schedules/{schedule_id}"),
                &[],
                "",
            )
            .await,
            200,
        ),
    );
    ok(
        "flow-controlled publish",
        call(
            &base,
            Method::POST,
            &format!("/v2/publish/{}/f", endpoint.url),
            &[
                ("Upstash-Flow-Control-Key", "fk"),
                (
                    "Upstash-Flow-Control-Value",
                    "parallelism=2, rate=5, period=1m",
                ),
            ],
            "",
        )
        .await,
        200,
    );
    conforms::<Vec<types::FlowControlKey>>(
        "list keys",
        &ok(
            "list keys",
            call(&base, Method::GET, "/v2/flowControl", &[], "").await,
            200,
        ),
    );
    conforms::<types::FlowControlKey>(
        "get key",
        &ok(
            "get key",
            call(&base, Method::GET, "/v2/flowControl/fk", &[], "").await,
            200,
        ),
    );
    conforms::<types::GetGlobalParallelismResponse>(
        "global parallelism",
        &ok(
            "global parallelism",
            call(&base, Method::GET, "/v2/globalParallelism", &[], "").await,
            200,
        ),
    );
    conforms::<types::Error>(
        "error",
        &call(&base, Method::GET, "/v2/messages/none", &[], "")
            .await
            .1,
    );
}
