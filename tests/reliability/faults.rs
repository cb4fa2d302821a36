//! Each fault once: how many attempts the client makes, what error comes
//! back, the waits in between (on the fake clock).

use std::time::{Duration, UNIX_EPOCH};

use qstash::{Error, RateLimitKind};
use serde_json::json;

use crate::{Action, FAKE_NOW, FakeClock, FaultServer, list_queues, publish, published};

const MS: fn(u64) -> Duration = Duration::from_millis;

/// The waits of a full run of the test policy: 100 ms doubling, 4 attempts.
fn three_backoffs() -> Vec<Duration> {
    vec![MS(100), MS(200), MS(400)]
}

fn reset_connections() -> impl Fn(usize, Option<&crate::Received>) -> Action {
    |_, request| match request {
        None => Action::ResetBeforeRead,
        Some(_) => unreachable!("no request is read"),
    }
}

#[tokio::test]
async fn reset_before_the_request_is_read_retries_a_read_until_the_attempts_run_out() {
    let server = FaultServer::start(reset_connections()).await;
    let clock = FakeClock::new();
    let error = list_queues(&server.client(&clock)).await.unwrap_err();
    assert!(matches!(error, Error::Transport(_)), "{error:?}");
    assert_eq!(server.connections(), 4);
    assert_eq!(clock.sleeps(), three_backoffs());

    // A publish too: it carries a deduplication id, so it may be repeated.
    let server = FaultServer::start(reset_connections()).await;
    let error = publish(&server.client(&clock), "x").await.unwrap_err();
    assert!(matches!(error, Error::Transport(_)), "{error:?}");
    assert_eq!(server.connections(), 4);
}

#[tokio::test]
async fn reset_before_the_request_is_read_then_an_answer_succeeds() {
    let server = FaultServer::start(|n, request| match request {
        None if n == 0 => Action::ResetBeforeRead,
        None => Action::Accept,
        Some(_) => Action::json(200, json!([])),
    })
    .await;
    let clock = FakeClock::new();
    let queues = list_queues(&server.client(&clock))
        .await
        .expect("second attempt");
    assert!(queues.is_empty());
    assert_eq!((server.connections(), server.received().len()), (2, 1));
    assert_eq!(clock.sleeps(), vec![MS(100)]);
}

/// Without a schedule id, a create that may have arrived is not repeated:
/// a second one would make a second schedule.
#[tokio::test]
async fn a_lost_create_schedule_without_id_is_not_repeated_but_with_an_id_it_is() {
    let server = FaultServer::always(Action::ResetAfterRead).await;
    let clock = FakeClock::new();
    let client = server.client(&clock);
    let create = |id: Option<&'static str>| {
        let mut call = client
            .api()
            .create_schedule()
            .destination(crate::DESTINATION)
            .upstash_cron("*/5 * * * *")
            .body("tick");
        if let Some(id) = id {
            call = call.upstash_schedule_id(id);
        }
        async move { call.send().await.map(|_| ()) }
    };
    let error = Error::from_api(create(None).await.unwrap_err()).await;
    assert!(matches!(error, Error::Transport(_)), "{error:?}");
    assert_eq!(server.received().len(), 1);

    let error = Error::from_api(create(Some("nightly")).await.unwrap_err()).await;
    assert!(matches!(error, Error::Transport(_)), "{error:?}");
    assert_eq!(server.received().len(), 1 + 4);
}

/// A connection that could not be opened carried nothing: even a call
/// that must not be repeated once it may have arrived is tried again.
#[tokio::test]
async fn a_refused_connection_is_retried_even_for_rotate_signing_keys() {
    // Bind, learn the port, close: nothing listens there now.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let clock = FakeClock::new();
    let client = qstash::Client::builder()
        .token(crate::TOKEN)
        .base_url(url)
        .retry(
            qstash::RetryPolicy::default()
                .jitter(false)
                .initial_delay(MS(100))
                .clock(clock.clone()),
        )
        .build()
        .unwrap();
    let error = Error::from_api(client.api().rotate_signing_keys().send().await.unwrap_err()).await;
    assert!(matches!(error, Error::Transport(_)), "{error:?}");
    assert_eq!(
        clock.sleeps(),
        three_backoffs(),
        "four attempts, three waits"
    );
}

#[tokio::test]
async fn reset_after_the_request_is_read_retries_a_read() {
    let server = FaultServer::always(Action::ResetAfterRead).await;
    let clock = FakeClock::new();
    let error = list_queues(&server.client(&clock)).await.unwrap_err();
    assert!(matches!(error, Error::Transport(_)), "{error:?}");
    assert_eq!(server.received().len(), 4);
}

#[tokio::test]
async fn server_errors_500_502_503_are_retried_then_reported_with_qstashs_message() {
    for status in [500u16, 502, 503] {
        let server = FaultServer::always(Action::json(status, json!({"error": "try later"}))).await;
        let clock = FakeClock::new();
        let error = list_queues(&server.client(&clock)).await.unwrap_err();
        match &error {
            Error::Api {
                status: got,
                message,
            } => {
                assert_eq!((got.as_u16(), message.as_str()), (status, "try later"));
            }
            other => panic!("{status}: {other:?}"),
        }
        assert_eq!(error.status().map(|s| s.as_u16()), Some(status));
        assert_eq!(server.received().len(), 4, "{status}");
        assert_eq!(clock.sleeps(), three_backoffs(), "{status}");
    }
}

#[tokio::test]
async fn a_server_error_then_success_returns_the_success() {
    let server = FaultServer::start(|n, request| match (n, request) {
        (_, None) => Action::Accept,
        (0, _) => Action::status(502),
        (1, _) => Action::status(503),
        _ => Action::json(
            200,
            json!([{"name": "emails", "createdAt": 1, "updatedAt": 1,
            "parallelism": 1, "lag": 0, "paused": false}]),
        ),
    })
    .await;
    let clock = FakeClock::new();
    let queues = list_queues(&server.client(&clock))
        .await
        .expect("third attempt");
    assert_eq!(queues.len(), 1);
    assert_eq!(server.received().len(), 3);
}

#[tokio::test]
async fn client_errors_and_501_are_not_retried() {
    for status in [400u16, 401, 403, 404, 409, 412, 501] {
        let server = FaultServer::always(Action::json(status, json!({"error": "no"}))).await;
        let clock = FakeClock::new();
        let error = list_queues(&server.client(&clock)).await.unwrap_err();
        assert!(
            matches!(&error, Error::Api { status: s, message } if s.as_u16() == status && message == "no"),
            "{status}: {error:?}"
        );
        assert_eq!(server.received().len(), 1, "{status}");
        assert!(clock.sleeps().is_empty());
    }
}

#[tokio::test]
async fn a_5xx_on_rotate_signing_keys_is_not_repeated() {
    let server = FaultServer::always(Action::status(503)).await;
    let clock = FakeClock::new();
    let result = server
        .client(&clock)
        .api()
        .rotate_signing_keys()
        .send()
        .await;
    let error = Error::from_api(result.unwrap_err()).await;
    assert_eq!(error.status().map(|s| s.as_u16()), Some(503));
    assert_eq!(server.received().len(), 1);
}

/// Burst limit: every answer resets one second after the fake clock's now.
#[tokio::test]
async fn burst_429_waits_until_its_reset_and_reports_the_limit_when_attempts_run_out() {
    let clock = FakeClock::new();
    let server_clock = clock.clone();
    let server = FaultServer::start(move |_, request| match request {
        None => Action::Accept,
        Some(_) => {
            use qstash::clock::Clock;
            let now = server_clock
                .now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs();
            Action::json(429, json!({"error": "Too many requests"}))
                .with_header("Burst-RateLimit-Limit", "100")
                .with_header("Burst-RateLimit-Remaining", "0")
                .with_header("Burst-RateLimit-Reset", &(now + 1).to_string())
        }
    })
    .await;
    let error = publish(&server.client(&clock), "x").await.unwrap_err();
    match &error {
        Error::RateLimited(limit) => {
            assert_eq!(limit.kind, RateLimitKind::Burst);
            assert_eq!((limit.limit, limit.remaining), (Some(100), Some(0)));
            assert_eq!(limit.message, "Too many requests");
            assert!(limit.reset.is_some());
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(server.received().len(), 4);
    assert_eq!(clock.sleeps(), vec![Duration::from_secs(1); 3]);
    let text = error.to_string();
    assert!(
        text.contains("per-second request limit") && text.contains("limit 100"),
        "{text}"
    );
}

#[tokio::test]
async fn burst_429_then_success() {
    let server = FaultServer::start(|n, request| match (n, request) {
        (_, None) => Action::Accept,
        (0, _) => Action::status(429)
            .with_header("Burst-RateLimit-Limit", "100")
            .with_header("Burst-RateLimit-Remaining", "0")
            .with_header("Burst-RateLimit-Reset", &(FAKE_NOW + 2).to_string()),
        _ => published("msg_1"),
    })
    .await;
    let clock = FakeClock::new();
    publish(&server.client(&clock), "x")
        .await
        .expect("after the reset");
    assert_eq!(clock.sleeps(), vec![Duration::from_secs(2)]);
    let ids: Vec<_> = server
        .received()
        .iter()
        .map(|r| r.header("upstash-deduplication-id").unwrap().to_string())
        .collect();
    assert_eq!(ids[0], ids[1]);
}

/// The daily quota resets hours away, far past the retry budget: the error
/// comes back at once.
#[tokio::test]
async fn daily_429_beyond_the_budget_returns_at_once() {
    let server = FaultServer::always(
        Action::json(429, json!({"error": "daily quota exceeded"}))
            .with_header("RateLimit-Limit", "500")
            .with_header("RateLimit-Remaining", "0")
            .with_header("RateLimit-Reset", &(FAKE_NOW + 5 * 3600).to_string()),
    )
    .await;
    let clock = FakeClock::new();
    let error = publish(&server.client(&clock), "x").await.unwrap_err();
    match &error {
        Error::RateLimited(limit) => {
            assert_eq!(limit.kind, RateLimitKind::Daily);
            assert_eq!((limit.limit, limit.remaining), (Some(500), Some(0)));
            assert_eq!(
                limit.reset,
                Some(std::time::UNIX_EPOCH + Duration::from_secs(FAKE_NOW + 5 * 3600))
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(server.received().len(), 1);
    assert!(clock.sleeps().is_empty());
    assert!(error.to_string().contains("daily message quota"), "{error}");
}

#[tokio::test]
async fn retry_after_is_honoured_and_a_bare_429_backs_off() {
    let server = FaultServer::start(|n, request| match (n, request) {
        (_, None) => Action::Accept,
        (0, _) => Action::status(429).with_header("Retry-After", "3"),
        (1, _) => Action::status(429),
        _ => Action::json(200, json!([])),
    })
    .await;
    let clock = FakeClock::new();
    list_queues(&server.client(&clock))
        .await
        .expect("third attempt");
    assert_eq!(clock.sleeps(), vec![Duration::from_secs(3), MS(200)]);

    let server = FaultServer::always(Action::status(429)).await;
    let clock = FakeClock::new();
    let error = list_queues(&server.client(&clock)).await.unwrap_err();
    assert!(
        matches!(&error, Error::RateLimited(l) if l.kind == RateLimitKind::Unknown),
        "{error:?}"
    );
    assert_eq!(server.received().len(), 4);
}

/// `Retry-After` as an HTTP date (RFC 9110): counted from the answer's
/// `Date` when it has one (so that a clock difference between QStash and
/// this host does not change the wait), else from the client's clock; a
/// date already past is no wait, and the usual backoff applies.
#[tokio::test]
async fn retry_after_as_an_http_date_is_honoured() {
    let at = |secs: u64| httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs(secs));
    let server = FaultServer::start(move |n, request| match (n, request) {
        (_, None) => Action::Accept,
        // The server's clock is a minute behind the client's: the wait is
        // still the 5 s the server meant.
        (0, _) => Action::status(429)
            .with_header("Date", &at(FAKE_NOW - 60))
            .with_header("Retry-After", &at(FAKE_NOW - 55)),
        // No `Date`: counted from the client's clock, which has moved 5 s.
        (1, _) => Action::status(429).with_header("Retry-After", &at(FAKE_NOW + 7)),
        (2, _) => Action::status(429).with_header("Retry-After", &at(FAKE_NOW - 3600)),
        _ => Action::json(200, json!([])),
    })
    .await;
    let clock = FakeClock::new();
    list_queues(&server.client(&clock))
        .await
        .expect("fourth attempt");
    assert_eq!(
        clock.sleeps(),
        vec![Duration::from_secs(5), Duration::from_secs(2), MS(400)]
    );

    // The error carries the wait too.
    let server = FaultServer::always(
        Action::status(429)
            .with_header("Date", &at(FAKE_NOW))
            .with_header("Retry-After", &at(FAKE_NOW + 90)),
    )
    .await;
    let client = server.builder(&clock).no_retries().build().unwrap();
    let error = list_queues(&client).await.unwrap_err();
    assert!(
        matches!(&error, Error::RateLimited(l) if l.retry_after == Some(Duration::from_secs(90))),
        "{error:?}"
    );
}

/// 429 means QStash did nothing: even a create without schedule id is sent again.
#[tokio::test]
async fn a_429_on_a_call_that_must_not_repeat_is_still_retried() {
    let server = FaultServer::start(|n, request| match (n, request) {
        (_, None) => Action::Accept,
        (0, _) => Action::status(429).with_header("Retry-After", "1"),
        _ => Action::json(200, json!({"scheduleId": "scd_1"})),
    })
    .await;
    let clock = FakeClock::new();
    server
        .client(&clock)
        .api()
        .create_schedule()
        .destination(crate::DESTINATION)
        .upstash_cron("* * * * *")
        .body("tick")
        .send()
        .await
        .expect("second attempt");
    assert_eq!(server.received().len(), 2);
}

#[tokio::test]
async fn the_total_budget_stops_retries_that_would_use_it_up() {
    let server = FaultServer::always(Action::status(503)).await;
    let clock = FakeClock::new();
    let client = server
        .builder(&clock)
        .retry(
            qstash::RetryPolicy::default()
                .jitter(false)
                .max_attempts(10)
                .initial_delay(MS(400))
                .max_elapsed(Duration::from_secs(1))
                .clock(clock.clone()),
        )
        .build()
        .unwrap();
    list_queues(&client).await.unwrap_err();
    // 400 ms fits; 400 + 800 does not.
    assert_eq!(clock.sleeps(), vec![MS(400)]);
    assert_eq!(server.received().len(), 2);
}

#[tokio::test]
async fn no_retries_means_one_attempt() {
    let server = FaultServer::always(Action::status(503)).await;
    let clock = FakeClock::new();
    let client = server.builder(&clock).no_retries().build().unwrap();
    publish(&client, "x").await.unwrap_err();
    assert_eq!(server.received().len(), 1);
    assert!(!client.config().retry_policy().retries());
}

#[tokio::test]
async fn an_answer_slower_than_the_timeout_is_a_timeout_after_each_attempt() {
    let server = FaultServer::always(Action::Hang).await;
    let clock = FakeClock::new();
    let client = server.builder(&clock).timeout(MS(200)).build().unwrap();
    let error = list_queues(&client).await.unwrap_err();
    assert!(matches!(error, Error::Timeout(_)), "{error:?}");
    assert_eq!(server.received().len(), 4);
    assert!(
        error
            .to_string()
            .contains("did not answer within the timeout"),
        "{error}"
    );

    let client = server
        .builder(&clock)
        .timeout(MS(200))
        .no_retries()
        .build()
        .unwrap();
    let error = publish(&client, "x").await.unwrap_err();
    assert!(matches!(error, Error::Timeout(_)), "{error:?}");
    assert_eq!(server.received().len(), 5);
}

/// Complete framing, cut JSON: the answer arrived whole and says nothing
/// usable; sending again would not help.
#[tokio::test]
async fn truncated_json_in_a_complete_answer_is_a_decode_error_with_a_snippet() {
    let server = FaultServer::always(Action::Respond {
        status: 200,
        headers: vec![("Content-Type".into(), "application/json".into())],
        body: br#"{"messageId":"msg_a"#.to_vec(),
    })
    .await;
    let clock = FakeClock::new();
    let error = publish(&server.client(&clock), "x").await.unwrap_err();
    match &error {
        Error::Decode { snippet, .. } => assert_eq!(snippet, r#"{"messageId":"msg_a"#),
        other => panic!("{other:?}"),
    }
    assert_eq!(server.received().len(), 1);
}

/// The connection closes before the declared length: the answer was lost
/// on the way, which is retried like a lost connection.
#[tokio::test]
async fn a_body_cut_short_by_the_connection_is_retried() {
    let server = FaultServer::start(|n, request| match (n, request) {
        (_, None) => Action::Accept,
        (0, _) => Action::Truncated {
            declared: 100,
            body: br#"{"messageId":"#.to_vec(),
        },
        _ => published("msg_whole"),
    })
    .await;
    let clock = FakeClock::new();
    publish(&server.client(&clock), "x")
        .await
        .expect("second attempt");
    assert_eq!(server.received().len(), 2);

    let server = FaultServer::always(Action::Truncated {
        declared: 100,
        body: b"[".to_vec(),
    })
    .await;
    let error = list_queues(&server.client(&clock)).await.unwrap_err();
    assert!(matches!(error, Error::Transport(_)), "{error:?}");
    assert_eq!(server.received().len(), 4);
}

/// The content type is not checked: a proxy that labels QStash's JSON
/// wrongly does not break the call, and what is not JSON is a decode error.
#[tokio::test]
async fn wrong_content_type_is_judged_by_the_body() {
    let server = FaultServer::always(Action::Respond {
        status: 200,
        headers: vec![("Content-Type".into(), "text/html".into())],
        body: br#"{"messageId":"msg_1"}"#.to_vec(),
    })
    .await;
    let clock = FakeClock::new();
    publish(&server.client(&clock), "x")
        .await
        .expect("JSON labelled text/html");

    let server = FaultServer::always(Action::Respond {
        status: 200,
        headers: vec![("Content-Type".into(), "text/html".into())],
        body: b"<html><body>Welcome to the captive portal</body></html>".to_vec(),
    })
    .await;
    let error = publish(&server.client(&clock), "x").await.unwrap_err();
    assert!(
        matches!(&error, Error::Decode { snippet, .. } if snippet.starts_with("<html>")),
        "{error:?}"
    );
    assert_eq!(server.received().len(), 1);

    let server = FaultServer::always(Action::Respond {
        status: 502,
        headers: vec![("Content-Type".into(), "text/html".into())],
        body: b"<html>Bad Gateway</html>".to_vec(),
    })
    .await;
    let error = list_queues(&server.client(&clock)).await.unwrap_err();
    assert!(
        matches!(&error, Error::Api { status, message } if status.as_u16() == 502 && message == "<html>Bad Gateway</html>"),
        "{error:?}"
    );
    assert_eq!(server.received().len(), 4);
}

const TEN_MB: usize = 10 * 1024 * 1024;

#[tokio::test]
async fn a_10_mb_answer_is_read_once_and_reported_by_a_short_snippet() {
    let server = FaultServer::always(Action::Respond {
        status: 200,
        headers: vec![("Content-Type".into(), "application/json".into())],
        body: vec![b'x'; TEN_MB],
    })
    .await;
    let clock = FakeClock::new();
    let client = server
        .builder(&clock)
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let error = publish(&client, "x").await.unwrap_err();
    match &error {
        Error::Decode { snippet, .. } => {
            assert!(snippet.chars().count() <= 201, "{}", snippet.len())
        }
        other => panic!("{other:?}"),
    }
    assert!(error.to_string().len() < 600);
    assert_eq!(server.received().len(), 1);

    let server = FaultServer::always(Action::Respond {
        status: 500,
        headers: Vec::new(),
        body: vec![b'e'; TEN_MB],
    })
    .await;
    let client = server
        .builder(&clock)
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let error = list_queues(&client).await.unwrap_err();
    match &error {
        Error::Api { status, message } => {
            assert_eq!(status.as_u16(), 500);
            assert!(message.chars().count() <= 201);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(server.received().len(), 4);
}

#[tokio::test]
async fn a_10_mb_json_answer_decodes() {
    let queue = json!({"name": "q", "createdAt": 1, "updatedAt": 1, "parallelism": 1, "lag": 0, "paused": false});
    let one = queue.to_string();
    let count = TEN_MB / (one.len() + 1);
    let body = format!("[{}]", vec![one; count].join(","));
    let server = FaultServer::always(Action::Respond {
        status: 200,
        headers: vec![("Content-Type".into(), "application/json".into())],
        body: body.into_bytes(),
    })
    .await;
    let clock = FakeClock::new();
    let client = server
        .builder(&clock)
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    assert_eq!(list_queues(&client).await.expect("decodes").len(), count);
}

/// `Display` says what to do where the status says enough.
#[tokio::test]
async fn error_messages_say_what_to_do() {
    let clock = FakeClock::new();
    for (status, hint) in [
        (401u16, "check the token"),
        (404, "check the id or name"),
        (503, "try again later"),
    ] {
        let server = FaultServer::always(Action::json(status, json!({"error": "nope"}))).await;
        let client = server.builder(&clock).no_retries().build().unwrap();
        let text = list_queues(&client).await.unwrap_err().to_string();
        assert!(
            text.contains("nope") && text.contains(hint),
            "{status}: {text}"
        );
    }
    let server = FaultServer::always(Action::Hang).await;
    let client = server
        .builder(&clock)
        .timeout(MS(50))
        .no_retries()
        .build()
        .unwrap();
    let text = list_queues(&client).await.unwrap_err().to_string();
    assert!(text.contains("ClientBuilder::timeout"), "{text}");
}

/// Management calls that set state or delete are repeated on a 5xx; a create
/// without schedule id is not.
#[tokio::test]
async fn idempotent_management_calls_are_repeated_on_5xx_and_a_create_is_not() {
    let clock = FakeClock::new();
    let attempts = |server: &FaultServer| server.received().len();

    let server = FaultServer::always(Action::status(503)).await;
    let client = server.client(&clock);
    let _ = client
        .api()
        .cancel_message()
        .message_id("msg_1")
        .send()
        .await;
    assert_eq!(attempts(&server), 4, "cancel_message");

    let server = FaultServer::always(Action::status(503)).await;
    let client = server.client(&clock);
    let _ = client.api().pause_queue().queue_name("emails").send().await;
    assert_eq!(attempts(&server), 4, "pause_queue");

    let server = FaultServer::always(Action::status(503)).await;
    let client = server.client(&clock);
    let _ = client
        .api()
        .retry_dlq_message()
        .dlq_id("dlq_1")
        .send()
        .await;
    assert_eq!(attempts(&server), 4, "retry_dlq_message");

    let server = FaultServer::always(Action::status(503)).await;
    let client = server.client(&clock);
    let result = client
        .api()
        .create_schedule()
        .destination(crate::DESTINATION)
        .upstash_cron("* * * * *")
        .body("tick")
        .send()
        .await;
    let error = Error::from_api(result.unwrap_err()).await;
    assert_eq!(error.status().map(|s| s.as_u16()), Some(503));
    assert_eq!(attempts(&server), 1, "create_schedule without id");
}

/// Limits too far away to represent are no reason to panic: the reset is
/// unknown, and a wait beyond the budget means the error comes back at once.
#[tokio::test]
async fn absurd_rate_limit_headers_neither_panic_nor_wait() {
    let server = FaultServer::start(|n, request| match (n, request) {
        (_, None) => Action::Accept,
        (0, _) => Action::status(503),
        _ => Action::status(429)
            .with_header("Burst-RateLimit-Limit", "1")
            .with_header("Burst-RateLimit-Reset", "18446744073709551615")
            .with_header("Retry-After", "18446744073709551615"),
    })
    .await;
    let clock = FakeClock::new();
    let error = list_queues(&server.client(&clock)).await.unwrap_err();
    let Error::RateLimited(limit) = &error else {
        panic!("expected a rate limit, got {error:?}");
    };
    assert_eq!(limit.reset, None);
    assert_eq!(server.received().len(), 2, "no retry past the budget");
    assert!(!error.to_string().is_empty());
}
