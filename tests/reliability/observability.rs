//! One tracing span per attempt, with what an operator needs and never the
//! token or a body; and the token kept out of every error, including
//! transport errors in query-parameter auth mode.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use qstash::{AuthMode, Error};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::{Layer, registry::LookupSpan};

use crate::{Action, FakeClock, FaultServer, TOKEN, all_text, list_queues, publish, published};

/// A span as recorded: its name and every field, formatted.
#[derive(Debug, Clone, Default)]
struct SpanRecord {
    name: String,
    fields: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default)]
struct Captured {
    spans: Arc<Mutex<Vec<SpanRecord>>>,
    /// Span ids as the subscriber numbers them, to the index in `spans`.
    index: Arc<Mutex<BTreeMap<u64, usize>>>,
    events: Arc<Mutex<Vec<BTreeMap<String, String>>>>,
}

struct Fields<'a>(&'a mut BTreeMap<String, String>);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0.insert(field.name().into(), format!("{value:?}"));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().into(), value.into());
    }
}

thread_local! {
    /// The capture of the test running on this thread, if it installed one.
    static CURRENT: std::cell::RefCell<Option<Captured>> = const { std::cell::RefCell::new(None) };
}

/// The process-wide subscriber: hands what it sees to the capture of the
/// thread it happens on. One global subscriber, rather than one per test
/// with `set_default`, because tracing caches each call site's interest
/// process-wide: tests on other threads without a subscriber could leave
/// the request span switched off for a test that has one.
struct Router;

impl Router {
    fn with(f: impl FnOnce(&Captured)) {
        CURRENT.with(|current| {
            if let Some(captured) = current.borrow().as_ref() {
                f(captured)
            }
        })
    }
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Router {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, _: Context<'_, S>) {
        Router::with(|captured| {
            let mut record = SpanRecord {
                name: attrs.metadata().name().into(),
                ..SpanRecord::default()
            };
            attrs.record(&mut Fields(&mut record.fields));
            let mut spans = captured.spans.lock().unwrap();
            captured
                .index
                .lock()
                .unwrap()
                .insert(id.into_u64(), spans.len());
            spans.push(record);
        })
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, _: Context<'_, S>) {
        Router::with(|captured| {
            let Some(&index) = captured.index.lock().unwrap().get(&id.into_u64()) else {
                return;
            };
            values.record(&mut Fields(
                &mut captured.spans.lock().unwrap()[index].fields,
            ));
        })
    }

    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        Router::with(|captured| {
            let mut fields = BTreeMap::new();
            event.record(&mut Fields(&mut fields));
            captured.events.lock().unwrap().push(fields);
        })
    }
}

/// Removes a test's capture from its thread when the test ends.
struct Installed;

impl Drop for Installed {
    fn drop(&mut self) {
        CURRENT.with(|current| current.borrow_mut().take());
    }
}

impl Captured {
    fn install(&self) -> Installed {
        static GLOBAL: std::sync::Once = std::sync::Once::new();
        GLOBAL.call_once(|| {
            tracing::subscriber::set_global_default(tracing_subscriber::registry().with(Router))
                .expect("no other global subscriber in this test binary");
        });
        CURRENT.with(|current| *current.borrow_mut() = Some(self.clone()));
        Installed
    }

    fn requests(&self) -> Vec<BTreeMap<String, String>> {
        self.spans
            .lock()
            .unwrap()
            .iter()
            .filter(|s| s.name == "qstash.request")
            .map(|s| s.fields.clone())
            .collect()
    }

    /// Everything recorded, as one text.
    fn everything(&self) -> String {
        format!(
            "{:?}{:?}",
            self.spans.lock().unwrap(),
            self.events.lock().unwrap()
        )
    }
}

/// The test runtime is single-threaded, so the capture set for this thread
/// sees every span the call makes.
#[tokio::test]
async fn each_attempt_is_a_span_with_operation_attempt_status_duration_and_message_id() {
    let captured = Captured::default();
    let _guard = captured.install();
    let server = FaultServer::start(|n, request| match (n, request) {
        (_, None) => Action::Accept,
        (0, _) => Action::status(503),
        _ => published("msg_traced"),
    })
    .await;
    let clock = FakeClock::new();
    publish(&server.client(&clock), "a body that must not be logged")
        .await
        .unwrap();

    let spans = captured.requests();
    assert_eq!(spans.len(), 2, "{spans:?}");
    for (attempt, span) in spans.iter().enumerate() {
        assert_eq!(span["operation"], "publish_message");
        assert_eq!(span["attempt"], (attempt + 1).to_string());
        assert!(span["duration_ms"].parse::<u64>().is_ok(), "{span:?}");
    }
    assert_eq!(spans[0]["status"], "503");
    assert!(!spans[0].contains_key("message_id"));
    assert_eq!(spans[1]["status"], "200");
    assert_eq!(spans[1]["message_id"], "msg_traced");
    let events = captured.events.lock().unwrap().clone();
    assert!(
        events
            .iter()
            .any(|e| e.get("message").is_some_and(|m| m == "retrying")
                && e["reason"] == "lost_or_server_error"
                && e["wait_ms"] == "100"),
        "{events:?}"
    );
    let everything = captured.everything();
    assert!(!everything.contains("a body that must not be logged"));
    assert!(!everything.contains(TOKEN));
}

#[tokio::test]
async fn a_path_message_id_and_a_transport_failure_are_recorded() {
    let captured = Captured::default();
    let _guard = captured.install();
    let server = FaultServer::always(Action::ResetAfterRead).await;
    let clock = FakeClock::new();
    let client = server.builder(&clock).no_retries().build().unwrap();
    client
        .api()
        .get_message()
        .message_id("msg_path")
        .send()
        .await
        .unwrap_err();
    let spans = captured.requests();
    assert_eq!(spans.len(), 1);
    assert_eq!(spans[0]["operation"], "get_message");
    assert_eq!(spans[0]["message_id"], "msg_path");
    assert_eq!(spans[0]["error"], "request");
    assert!(!spans[0].contains_key("status"));
}

fn query_client(server: &FaultServer, clock: &FakeClock) -> qstash::Client {
    server
        .builder(clock)
        .auth_mode(AuthMode::QueryParameter)
        .build()
        .unwrap()
}

#[tokio::test]
async fn the_token_never_shows_in_a_transport_error_in_query_parameter_mode() {
    let captured = Captured::default();
    let _guard = captured.install();
    let server = FaultServer::always(Action::ResetAfterRead).await;
    let clock = FakeClock::new();
    let client = query_client(&server, &clock);
    // The token did go out, in the query.
    let error = list_queues(&client).await.unwrap_err();
    assert!(server.received()[0].target.contains(TOKEN));
    assert!(matches!(error, Error::Transport(_)), "{error:?}");
    let text = all_text(&error);
    assert!(!text.contains(TOKEN), "{text}");
    assert!(
        text.contains("qstash_token=REDACTED"),
        "the URL is kept, redacted: {text}"
    );
    assert!(!captured.everything().contains(TOKEN));

    // The generated layer's own error, before conversion, too.
    let raw = client.api().list_queues().send().await.unwrap_err();
    assert!(!format!("{raw}{raw:?}").contains(TOKEN));
}

#[tokio::test]
async fn the_token_never_shows_in_timeout_refused_or_unexpected_answer_errors() {
    let clock = FakeClock::new();
    let hang = FaultServer::always(Action::Hang).await;
    let client = hang
        .builder(&clock)
        .auth_mode(AuthMode::QueryParameter)
        .timeout(std::time::Duration::from_millis(100))
        .no_retries()
        .build()
        .unwrap();
    let error = list_queues(&client).await.unwrap_err();
    assert!(matches!(error, Error::Timeout(_)), "{error:?}");
    assert!(!all_text(&error).contains(TOKEN));

    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let client = qstash::Client::builder()
        .token(TOKEN)
        .auth_mode(AuthMode::QueryParameter)
        .base_url(url)
        .no_retries()
        .build()
        .unwrap();
    let error = list_queues(&client).await.unwrap_err();
    assert!(matches!(error, Error::Transport(_)), "{error:?}");
    assert!(!all_text(&error).contains(TOKEN), "{}", all_text(&error));

    // 500 is not declared for list_queues: the generated error holds the
    // whole response, URL included.
    let failing = FaultServer::always(Action::status(500)).await;
    let client = query_client(&failing, &clock);
    let raw = client.api().list_queues().send().await.unwrap_err();
    assert!(!format!("{raw:?}").contains(TOKEN), "{raw:?}");
    let error = Error::from_api(raw).await;
    assert!(!all_text(&error).contains(TOKEN));
}

/// The token is put on once per call, in `pre`; a retry sends a copy of the
/// same request, not one with a second token.
#[tokio::test]
async fn a_retried_request_in_query_parameter_mode_carries_the_token_once() {
    let server = FaultServer::start(|n, request| match (n, request) {
        (_, None) => Action::Accept,
        (0, _) => Action::status(503),
        _ => published("msg_1"),
    })
    .await;
    let clock = FakeClock::new();
    publish(&query_client(&server, &clock), "x").await.unwrap();
    let received = server.received();
    assert_eq!(received.len(), 2);
    for request in &received {
        assert_eq!(
            request.target.matches("qstash_token=").count(),
            1,
            "{}",
            request.target
        );
        assert!(request.header("authorization").is_none());
    }
    assert_eq!(received[0].target, received[1].target);
}

/// The first attempt has the client's whole timeout; a retry only what is
/// left of the budget (on the fake clock: 300 ms, less the 100 ms wait), and
/// no retry is made once waiting would use the rest. Read from the spans'
/// durations.
#[tokio::test]
async fn a_retry_gets_only_what_remains_of_the_budget_as_its_timeout() {
    let captured = Captured::default();
    let _guard = captured.install();
    let server = FaultServer::always(Action::Hang).await;
    let clock = FakeClock::new();
    let client = server
        .builder(&clock)
        .timeout(std::time::Duration::from_secs(1))
        .retry(
            qstash::RetryPolicy::default()
                .jitter(false)
                .initial_delay(std::time::Duration::from_millis(100))
                .max_elapsed(std::time::Duration::from_millis(300))
                .clock(clock.clone()),
        )
        .build()
        .unwrap();
    let error = list_queues(&client).await.unwrap_err();
    assert!(matches!(error, Error::Timeout(_)), "{error:?}");
    let durations: Vec<u64> = captured
        .requests()
        .iter()
        .map(|span| span["duration_ms"].parse().unwrap())
        .collect();
    assert_eq!(durations.len(), 2, "{durations:?}");
    assert!(durations[0] >= 1000, "{durations:?}");
    // 200 ms expected; a generous margin for a busy machine, well under 1 s.
    assert!(durations[1] >= 200 && durations[1] < 800, "{durations:?}");
    // 100 ms + 200 ms would leave nothing of the 300 ms to run in.
    assert_eq!(clock.sleeps(), vec![std::time::Duration::from_millis(100)]);
    assert_eq!(server.received().len(), 2);
}
