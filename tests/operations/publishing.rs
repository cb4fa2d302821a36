//! The hand-written messaging layer (`client.messages()`): every option of a
//! `Message` on the wire, each way of sending, and what comes back.

use std::time::{Duration, UNIX_EPOCH};

use http::Method;
use qstash::Error;
use qstash::messages::{Callback, Destination, FlowControl, Message, Published};
use qstash::url_groups::Endpoint;
use serde_json::json;
use wiremock::ResponseTemplate;

use crate::{Api, Expect, error_reply, fixture_reply};

const DESTINATION: &str = "https://example.com/api";
const PUBLISH_PATH: &str = "/v2/publish/https://example.com/api";

fn message() -> Message {
    Message::new(Destination::url(DESTINATION))
}

#[tokio::test]
async fn publish_sends_every_option_as_its_header() {
    let api = Api::replying(fixture_reply(200, "publish_message")).await;
    let message = message()
        .json(&json!({ "a": 1 }))
        .method(Method::PUT)
        .delay(Duration::from_secs(86_400 + 10 * 3600 + 30 * 60))
        .not_before(UNIX_EPOCH + Duration::from_millis(1_900_000_000_250))
        .deduplication_id("dedup-1")
        .content_based_deduplication()
        .retries(2)
        .retry_delay("pow(2, retried) * 1000")
        .timeout(Duration::from_secs(30))
        .callback(
            Callback::new("https://example.com/cb")
                .method(Method::PUT)
                .timeout(Duration::from_secs(120))
                .retries(1)
                .retry_delay("1000")
                .header("X-Cb", "cb-value"),
        )
        .failure_callback(
            Callback::new("https://example.com/fail")
                .retries(0)
                .header("Authorization", "Bearer fail-secret"),
        )
        .flow_control(
            FlowControl::new("fc-key")
                .parallelism(3)
                .rate(10)
                .period(Duration::from_secs(60)),
        )
        .label("billing")
        .label("eu")
        .redact_body()
        .redact_all_headers()
        .redact_header("Authorization")
        .header("X-Foo", "bar")
        .header("Authorization", "Bearer for-the-endpoint")
        .header("Upstash-Telemetry-Sdk", "custom");
    let published = api
        .client
        .messages()
        .publish(message)
        .send()
        .await
        .expect("publish");

    Expect::new("POST", PUBLISH_PATH)
        .json(json!({ "a": 1 }))
        .headers(&[
            ("Upstash-Method", "PUT"),
            ("Upstash-Delay", "1d10h30m"),
            // Rounded up: "not before" must hold.
            ("Upstash-Not-Before", "1900000001"),
            ("Upstash-Deduplication-Id", "dedup-1"),
            ("Upstash-Content-Based-Deduplication", "true"),
            ("Upstash-Retries", "2"),
            ("Upstash-Retry-Delay", "pow(2, retried) * 1000"),
            ("Upstash-Timeout", "30s"),
            ("Upstash-Callback", "https://example.com/cb"),
            ("Upstash-Callback-Method", "PUT"),
            ("Upstash-Callback-Timeout", "2m"),
            ("Upstash-Callback-Retries", "1"),
            ("Upstash-Callback-Retry-Delay", "1000"),
            ("Upstash-Callback-Forward-X-Cb", "cb-value"),
            ("Upstash-Failure-Callback", "https://example.com/fail"),
            ("Upstash-Failure-Callback-Retries", "0"),
            (
                "Upstash-Failure-Callback-Forward-Authorization",
                "Bearer fail-secret",
            ),
            ("Upstash-Flow-Control-Key", "fc-key"),
            (
                "Upstash-Flow-Control-Value",
                "parallelism=3, rate=10, period=1m",
            ),
            ("Upstash-Label", "billing,eu"),
            ("Upstash-Redact-Fields", "body,header,header[Authorization]"),
            ("Upstash-Forward-X-Foo", "bar"),
            ("Upstash-Forward-Authorization", "Bearer for-the-endpoint"),
            ("Upstash-Telemetry-Sdk", "custom"),
        ])
        .assert(&api.request().await);
    assert_eq!(
        published.message_ids(),
        ["msg_26hZCxZCuWyyTWPmSVBrNB882AMRP1TsgzpygELRcLWep"]
    );
    assert!(!published.deduplicated());
}

#[tokio::test]
async fn bodies_carry_their_content_type() {
    for (message, body, content_type) in [
        (
            message().json(&json!({ "b": [1, 2] })),
            br#"{"b":[1,2]}"#.to_vec(),
            "application/json",
        ),
        (
            message().text("héllo"),
            "héllo".as_bytes().to_vec(),
            "text/plain; charset=utf-8",
        ),
        (
            message().bytes("application/x-protobuf", vec![0u8, 159, 146, 150]),
            vec![0u8, 159, 146, 150],
            "application/x-protobuf",
        ),
        (
            // A Content-Type header is the body's type, not forwarded.
            message()
                .text("<a/>")
                .header("content-type", "application/xml"),
            b"<a/>".to_vec(),
            "application/xml",
        ),
    ] {
        let api = Api::replying(fixture_reply(200, "publish_message")).await;
        api.client
            .messages()
            .publish(message)
            .send()
            .await
            .expect("publish");
        Expect::new("POST", PUBLISH_PATH)
            .raw_body(&body, content_type)
            .assert(&api.request().await);
    }
}

#[tokio::test]
async fn a_destination_query_goes_out_unencoded() {
    let api = Api::replying(fixture_reply(200, "publish_message")).await;
    let message = Message::new(Destination::url("https://example.com/api?x=1&y=a%20b")).text("q");
    api.client.messages().publish(message).send().await.unwrap();
    Expect::new("POST", PUBLISH_PATH)
        .raw_query("x=1&y=a%20b")
        .raw_body(b"q", "text/plain; charset=utf-8")
        .assert(&api.request().await);
}

#[tokio::test]
async fn a_url_group_answers_one_result_per_endpoint() {
    let api = Api::replying(fixture_reply(200, "publish_message_url_group")).await;
    let published = api
        .client
        .messages()
        .publish(Message::new(Destination::url_group("my-group")).json(&json!({ "a": 1 })))
        .send()
        .await
        .expect("publish");
    Expect::new("POST", "/v2/publish/my-group")
        .json(json!({ "a": 1 }))
        .assert(&api.request().await);
    let Published::UrlGroup(results) = &published else {
        panic!("expected one result per endpoint, got {published:?}");
    };
    let urls: Vec<_> = results.iter().map(|r| r.url.as_deref()).collect();
    assert_eq!(
        urls,
        [Some("https://example.com/a"), Some("https://example.com/b")]
    );
    assert_eq!(published.message_ids().len(), 2);
    assert!(
        !published.deduplicated(),
        "only one endpoint was a duplicate"
    );
}

#[tokio::test]
async fn a_duplicate_is_reported() {
    let api = Api::replying(fixture_reply(200, "publish_message_deduplicated")).await;
    let published = api
        .client
        .messages()
        .publish(message().deduplication_id("d"))
        .send()
        .await
        .unwrap();
    assert!(published.deduplicated());
}

#[tokio::test]
async fn enqueue_goes_to_the_queue_with_its_options() {
    let api = Api::replying(fixture_reply(200, "enqueue_message")).await;
    let message = message()
        .json(&json!({ "a": 1 }))
        .retries(2)
        .header("x-foo", "bar")
        .label("l");
    let published = api
        .client
        .messages()
        .enqueue("my-queue", message)
        .send()
        .await
        .expect("enqueue");
    Expect::new("POST", "/v2/enqueue/my-queue/https://example.com/api")
        .json(json!({ "a": 1 }))
        .headers(&[
            ("Upstash-Retries", "2"),
            ("Upstash-Forward-x-foo", "bar"),
            ("Upstash-Label", "l"),
        ])
        .assert(&api.request().await);
    assert_eq!(published.message_ids().len(), 1);
}

#[tokio::test]
async fn batch_sends_each_message_with_its_headers_and_maps_answers_in_order() {
    let api = Api::replying(ResponseTemplate::new(200).set_body_json(json!([
        { "messageId": "msg_a" },
        [
            { "messageId": "msg_g1", "url": "https://example.com/g1" },
            { "messageId": "msg_g2", "url": "https://example.com/g2" }
        ],
        { "messageId": "msg_q", "deduplicated": true }
    ])))
    .await;
    let results = api
        .client
        .messages()
        .batch()
        .publish(
            Message::new(Destination::url("https://example.com/a"))
                .json(&json!({ "a": 1 }))
                .delay(Duration::from_secs(5))
                .header("X-Foo", "one")
                .header("X-Foo", "two"),
        )
        .publish(Message::new(Destination::url_group("group")).text("g"))
        .enqueue(
            "my-queue",
            Message::new(Destination::url("https://example.com/b")).deduplication_id("q"),
        )
        .send()
        .await
        .expect("batch");
    Expect::new("POST", "/v2/batch")
        .json(json!([
            {
                "destination": "https://example.com/a",
                "headers": {
                    "content-type": "application/json",
                    "upstash-delay": "5s",
                    "upstash-forward-x-foo": "one, two"
                },
                "body": "{\"a\":1}"
            },
            {
                "destination": "group",
                "headers": { "content-type": "text/plain; charset=utf-8" },
                "body": "g"
            },
            {
                "destination": "https://example.com/b",
                "headers": { "upstash-deduplication-id": "q" },
                "queue": "my-queue"
            }
        ]))
        .assert(&api.request().await);
    assert_eq!(results.len(), 3);
    assert_eq!(results[0].message_ids(), ["msg_a"]);
    assert_eq!(results[1].message_ids(), ["msg_g1", "msg_g2"]);
    assert!(results[2].deduplicated());
}

#[tokio::test]
async fn a_batch_answer_that_does_not_match_the_messages_is_an_error() {
    let api = Api::replying(fixture_reply(200, "batch_messages")).await;
    let error = api
        .client
        .messages()
        .batch()
        .publish(message())
        .send()
        .await
        .expect_err("two answers for one message");
    assert!(
        matches!(&error, Error::Decode { reason, .. } if reason.contains("sent 1 messages but QStash answered for 2")),
        "{error:?}"
    );
}

#[tokio::test]
async fn qstash_errors_come_back_typed() {
    let api = Api::replying(error_reply(400, "invalid destination url")).await;
    let error = api
        .client
        .messages()
        .publish(message())
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::Api { status, message } if status.as_u16() == 400 && message == "invalid destination url"),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        "QStash answered 400 Bad Request: invalid destination url"
    );

    let api = Api::replying(
        ResponseTemplate::new(429)
            .insert_header("Burst-RateLimit-Limit", "100")
            .insert_header("Burst-RateLimit-Remaining", "0")
            .insert_header("Burst-RateLimit-Reset", "1900000000")
            .set_body_json(json!({ "error": "too many requests" })),
    )
    .await;
    let error = api
        .client
        .messages()
        .publish(message())
        .send()
        .await
        .unwrap_err();
    let Error::RateLimited(limit) = &error else {
        panic!("expected a rate limit, got {error:?}");
    };
    assert_eq!(limit.kind, qstash::RateLimitKind::Burst);
    assert_eq!(limit.limit, Some(100));
    assert_eq!(limit.remaining, Some(0));
    assert_eq!(
        limit.reset,
        Some(UNIX_EPOCH + Duration::from_secs(1_900_000_000))
    );
}

#[tokio::test]
async fn schedules_are_created_with_cron_id_and_message_options() {
    let api = Api::replying(fixture_reply(200, "create_schedule")).await;
    let message = Message::new(Destination::url_group("reports"))
        .text("daily")
        .callback(Callback::new("https://example.com/cb").retries(1))
        .label("nightly")
        .timeout(Duration::from_secs(90));
    let created = api
        .client
        .schedules()
        .create("CRON_TZ=America/New_York 0 9 * * MON-FRI", message)
        .schedule_id("daily-report")
        .send()
        .await
        .expect("create");
    Expect::new("POST", "/v2/schedules/reports")
        .raw_body(b"daily", "text/plain; charset=utf-8")
        .headers(&[
            ("Upstash-Cron", "CRON_TZ=America/New_York 0 9 * * MON-FRI"),
            ("Upstash-Schedule-Id", "daily-report"),
            ("Upstash-Callback", "https://example.com/cb"),
            ("Upstash-Callback-Retries", "1"),
            ("Upstash-Label", "nightly"),
            ("Upstash-Timeout", "90s"),
        ])
        .assert(&api.request().await);
    assert_eq!(
        created.schedule_id.as_deref(),
        Some("scd_7Hs3GkCnPCwUj4kJ8DXaTpVq2ZkQ")
    );
}

#[tokio::test]
async fn schedule_and_url_group_calls_hit_their_endpoints() {
    let api = Api::replying(ResponseTemplate::new(200)).await;
    let schedules = api.client.schedules();
    schedules.pause("s1").send().await.expect("pause");
    schedules.resume("s1").send().await.expect("resume");
    schedules.delete("s1").send().await.expect("delete");
    let groups = api.client.url_groups();
    groups
        .remove_endpoints(
            "g1",
            [Endpoint::named("a"), Endpoint::new("https://example.com/b")],
        )
        .send()
        .await
        .expect("remove");
    groups.delete("g1").send().await.expect("delete group");
    let requests = api.requests().await;
    let seen: Vec<(String, String)> = requests
        .iter()
        .map(|r| (r.method.to_string(), r.url.path().to_string()))
        .collect();
    let expected = [
        ("POST", "/v2/schedules/s1/pause"),
        ("POST", "/v2/schedules/s1/resume"),
        ("DELETE", "/v2/schedules/s1"),
        ("DELETE", "/v2/topics/g1/endpoints"),
        ("DELETE", "/v2/topics/g1"),
    ];
    assert_eq!(seen, expected.map(|(m, p)| (m.to_string(), p.to_string())));
    let removal: serde_json::Value = serde_json::from_slice(&requests[3].body).unwrap();
    assert_eq!(
        removal,
        json!({ "endpoints": [{ "name": "a" }, { "url": "https://example.com/b" }] })
    );
}

#[tokio::test]
async fn schedules_and_url_groups_decode_what_qstash_sends() {
    let api = Api::replying(fixture_reply(200, "get_schedule")).await;
    let schedule = api.client.schedules().get("s1").send().await.expect("get");
    crate::assert_round_trip(&schedule, "get_schedule");
    let api = Api::replying(fixture_reply(200, "list_schedules")).await;
    let all = api.client.schedules().list().send().await.expect("list");
    crate::assert_round_trip(&all, "list_schedules");
    let api = Api::replying(fixture_reply(200, "get_url_group")).await;
    let group = api.client.url_groups().get("g1").send().await.expect("get");
    crate::assert_round_trip(&group, "get_url_group");
    let api = Api::replying(fixture_reply(200, "list_url_groups")).await;
    let groups = api.client.url_groups().list().send().await.expect("list");
    crate::assert_round_trip(&groups, "list_url_groups");
}
