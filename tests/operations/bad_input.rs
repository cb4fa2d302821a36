//! Input QStash would refuse or misread is refused before anything is sent,
//! with the field named; nothing panics.

use std::collections::BTreeMap;
use std::time::{Duration, UNIX_EPOCH};

use http::Method;
use qstash::messages::{Callback, Destination, FlowControl, Message};
use qstash::url_groups::Endpoint;
use qstash::{Error, InvalidInput};

use crate::{Api, fixture_reply};

fn to(url: &str) -> Message {
    Message::new(Destination::url(url))
}

fn ok() -> Message {
    to("https://example.com/api")
}

fn invalid(result: Result<impl std::fmt::Debug, Error>) -> InvalidInput {
    match result {
        Err(Error::InvalidInput(input)) => input,
        other => panic!("expected Error::InvalidInput, got {other:?}"),
    }
}

#[tokio::test]
async fn bad_messages_are_refused_naming_the_field() {
    let api = Api::replying(fixture_reply(200, "publish_message")).await;
    let mut not_json = BTreeMap::new();
    not_json.insert((1, 2), "tuple keys are not JSON");
    let cases: Vec<(Message, &str, &str)> = vec![
        (
            to("ftp://example.com/x"),
            "destination",
            "not http or https",
        ),
        (to("example.com/api"), "destination", "not an absolute URL"),
        (to("https://example.com/a#top"), "destination", "#fragment"),
        // Resolved against /v2/publish/, these would publish elsewhere.
        (
            to("https://example.com/../../../../publish/https://evil.example/steal"),
            "destination",
            "path segment `..`",
        ),
        (
            to("https://example.com/a/%2E%2e/v2/dlq"),
            "destination",
            "path segment `%2E%2e`",
        ),
        (
            to("https://example.com/a\\..\\b"),
            "destination",
            "path segment `..`",
        ),
        (
            to("https://example.com/./a"),
            "destination",
            "path segment `.`",
        ),
        (to("https://"), "destination", "not an absolute URL"),
        (
            Message::new(Destination::url_group("my group")),
            "destination",
            "URL group name `my group` has ` `",
        ),
        (
            Message::new(Destination::url_group("")),
            "destination",
            "empty",
        ),
        (
            ok().header("Bad Name", "v"),
            "header `Bad Name`",
            "not a valid header name",
        ),
        (
            ok().header("X-Line", "a\nb"),
            "header `X-Line`",
            "cannot carry",
        ),
        (
            ok().delay(Duration::from_millis(1500)),
            "delay",
            "whole seconds",
        ),
        (ok().timeout(Duration::ZERO), "timeout", "longer than zero"),
        (
            ok().timeout(Duration::from_millis(10)),
            "timeout",
            "whole seconds",
        ),
        (
            ok().retry_delay("2 ** retried"),
            "retry_delay",
            "unexpected `*`",
        ),
        (
            ok().retry_delay("1000 * retries"),
            "retry_delay",
            "unknown name",
        ),
        (
            ok().callback(Callback::new("not a url")),
            "callback",
            "not an absolute URL",
        ),
        (
            ok().callback(Callback::new("https://e.com/cb").timeout(Duration::ZERO)),
            "callback",
            "longer than zero",
        ),
        (
            ok().failure_callback(Callback::new("https://e.com/f").retry_delay("pow(2, 1")),
            "failure_callback",
            "never closed",
        ),
        (
            ok().failure_callback(Callback::new("https://e.com/f").method(Method::HEAD)),
            "failure_callback",
            "not HEAD",
        ),
        (
            ok().flow_control(FlowControl::new("k")),
            "flow_control",
            "no limit",
        ),
        (ok().label("a,b"), "label", "without commas"),
        (ok().label(""), "label", "non-empty"),
        (ok().method(Method::OPTIONS), "method", "not OPTIONS"),
        (
            ok().not_before(UNIX_EPOCH - Duration::from_secs(1)),
            "not_before",
            "before 1970",
        ),
        (ok().json(&not_json), "body", "cannot serialize as JSON"),
        (ok().deduplication_id(""), "deduplication_id", "empty"),
        (
            ok().header("Upstash-Delay", "5s"),
            "header `Upstash-Delay`",
            "is set by Message::delay",
        ),
        (
            ok().header("upstash-callback-retries", "2"),
            "header `upstash-callback-retries`",
            "is set by Message::callback",
        ),
        (
            ok().redact_header("Bad Name"),
            "redact_header",
            "not a header name",
        ),
        (
            ok().bytes("text/plain\n", "x"),
            "content_type",
            "not a valid header value",
        ),
    ];
    for (message, field, reason) in cases {
        let shown = format!("{message:?}");
        let result = api.client.messages().publish(message).send().await;
        let Err(Error::InvalidInput(error)) = result else {
            panic!("{shown}: expected Error::InvalidInput, got {result:?}");
        };
        assert_eq!(error.field(), field, "{shown}: {error}");
        assert!(error.reason().contains(reason), "{shown}: {error}");
    }
    assert!(
        api.requests().await.is_empty(),
        "a refused message was sent"
    );
}

#[tokio::test]
async fn each_way_of_sending_refuses_what_the_spec_does_not_give_it() {
    let api = Api::replying(fixture_reply(200, "publish_message")).await;
    let messages = api.client.messages();

    // Enqueue takes delay, not-before and flow control (the SDKs send them;
    // the correction `enqueue-delay-and-flow-control`).
    let queued = ok()
        .delay(Duration::from_secs(1))
        .not_before(UNIX_EPOCH)
        .flow_control(FlowControl::new("k").rate(1));
    messages
        .enqueue("q", queued)
        .send()
        .await
        .expect("enqueue takes delay, not-before and flow control");
    assert_eq!(api.requests().await.len(), 1);
    let error = invalid(messages.enqueue("", ok()).send().await);
    assert_eq!(error.field(), "queue_name");
    let error = invalid(messages.enqueue("a/b", ok()).send().await);
    assert_eq!(error.field(), "queue_name");

    let schedules = api.client.schedules();
    for (message, field) in [
        (ok().not_before(UNIX_EPOCH), "not_before"),
        (ok().deduplication_id("d"), "deduplication_id"),
        (
            ok().content_based_deduplication(),
            "content_based_deduplication",
        ),
    ] {
        let error = invalid(schedules.create("* * * * *", message).send().await);
        assert_eq!(error.field(), field, "{error}");
        assert!(error.reason().contains("for schedules"), "{error}");
    }
    // The same option as a raw header is refused too, pointing at the
    // typed option (which the schedule refuses, as above).
    let error = invalid(
        schedules
            .create("* * * * *", ok().header("Upstash-Not-Before", "1"))
            .send()
            .await,
    );
    assert_eq!(error.field(), "header `Upstash-Not-Before`");
    assert!(error.reason().contains("Message::not_before"), "{error}");
    let error = invalid(schedules.create("*/5 * * *", ok()).send().await);
    assert_eq!(error.field(), "cron");
    assert!(error.reason().contains("has 4 fields"), "{error}");
    let error = invalid(schedules.create("CRON_TZ= * * * * *", ok()).send().await);
    assert!(error.reason().contains("time zone"), "{error}");
    let error = invalid(
        schedules
            .create("* * * * *", ok())
            .schedule_id("")
            .send()
            .await,
    );
    assert_eq!(error.field(), "schedule_id");
    for id in ["", ""] {
        assert_eq!(
            invalid(schedules.get(id).send().await).field(),
            "schedule_id"
        );
        assert_eq!(
            invalid(schedules.pause(id).send().await).field(),
            "schedule_id"
        );
        assert_eq!(
            invalid(schedules.resume(id).send().await).field(),
            "schedule_id"
        );
        assert_eq!(
            invalid(schedules.delete(id).send().await).field(),
            "schedule_id"
        );
    }

    let error = invalid(messages.batch().send().await);
    assert_eq!(error.field(), "batch");
    let error = invalid(
        messages
            .batch()
            .publish(ok())
            .publish(ok().delay(Duration::from_millis(1)))
            .send()
            .await,
    );
    assert_eq!(error.field(), "batch[1].delay");
    let error = invalid(
        messages
            .batch()
            .publish(ok().bytes("application/octet-stream", vec![0xff, 0xfe]))
            .send()
            .await,
    );
    assert_eq!(error.field(), "batch[0].body");
    let error = invalid(messages.batch().enqueue("bad queue", ok()).send().await);
    assert_eq!(error.field(), "batch[0].queue_name");

    let groups = api.client.url_groups();
    let error = invalid(groups.upsert_endpoints("g", []).send().await);
    assert_eq!(error.field(), "endpoints");
    let error = invalid(
        groups
            .upsert_endpoints(
                "g",
                [Endpoint::new("https://e.com/a"), Endpoint::new("nope")],
            )
            .send()
            .await,
    );
    assert_eq!(error.field(), "endpoints[1].url");
    let error = invalid(
        groups
            .upsert_endpoints("g", [Endpoint::named("a")])
            .send()
            .await,
    );
    assert_eq!(error.field(), "endpoints[0]");
    let error = invalid(
        groups
            .remove_endpoints("g", [Endpoint::named("")])
            .send()
            .await,
    );
    assert_eq!(error.field(), "endpoints[0].name");
    assert_eq!(
        invalid(groups.get("").send().await).field(),
        "url_group_name"
    );
    assert_eq!(
        invalid(groups.delete("a b").send().await).field(),
        "url_group_name"
    );

    assert_eq!(
        api.requests().await.len(),
        1,
        "a refused call was sent (only the enqueue above goes out)"
    );
}

/// A required parameter left unset on a generated builder is named in the
/// error (the builders make that message only when it is needed; see
/// `build/generate.rs`, `unset_parameters_unallocated`), and nothing is
/// sent.
#[tokio::test]
async fn an_unset_required_parameter_is_named_and_nothing_is_sent() {
    let api = Api::replying(fixture_reply(200, "publish_message")).await;
    let error = api.client.api().get_message().send().await.unwrap_err();
    assert!(
        error.to_string().contains("message_id was not initialized"),
        "{error}"
    );
    let error = api
        .client
        .api()
        .publish_message()
        .body(Vec::new())
        .send()
        .await
        .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("destination was not initialized"),
        "{error}"
    );
    // A value that fails its conversion keeps that message (a method
    // QStash has no name for, whatever the spec adds to the enum).
    let error = api
        .client
        .api()
        .publish_message()
        .destination("https://example.com/api")
        .upstash_method("BREW")
        .body(Vec::new())
        .send()
        .await
        .unwrap_err();
    assert!(
        error.to_string().contains("for upstash_method failed"),
        "{error}"
    );
    // A header parameter that is no header value (appended out of line,
    // see build/generate.rs, HeaderParametersOutOfLine) is refused too,
    // whether a header before it (`Content-Type`) was appended or not.
    for content_type in [None, Some("text/plain")] {
        let mut call = api
            .client
            .api()
            .publish_message()
            .destination("https://example.com/api")
            .upstash_callback("https://example.com/cb\r\nX-Injected: 1")
            .body(Vec::new());
        if let Some(content_type) = content_type {
            call = call.content_type(content_type);
        }
        let error = call.send().await.unwrap_err();
        assert!(
            error.to_string().contains("failed to parse header value"),
            "{error}"
        );
    }
    assert!(
        api.requests().await.is_empty(),
        "an incomplete call was sent"
    );
}
