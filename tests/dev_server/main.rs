//! The dev server end to end: published through `qstash::Client`, delivered
//! over HTTP to endpoints these tests start, verified with `Receiver`.
//!
//! Nothing sleeps: tests wait on deliveries (a channel) and on log entries
//! (`DevServer::wait_for_log`), under a generous timeout that only guards
//! against a hang. Time-dependent behaviour runs on a manual or sped-up
//! `DevClock`.

mod abuse;
mod api;
mod binary;
mod compat;
mod delivery;
mod flow_control;
mod limits;
mod load;
mod management;
mod messaging;
mod qstash_facts;
mod queues;
mod retries;
mod robustness;
mod schedules;
mod soak;
mod state;

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use qstash::dev_server::{DEFAULT_TOKEN, DevClock, DevServer, Limits};
use qstash::receiver::{Claims, RequestVerifier};
use qstash::types::{LogEntry, LogEntryState};
use reqwest::Method;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::mpsc;

/// Only a guard against hanging: every wait normally ends in milliseconds.
const PATIENCE: Duration = Duration::from_secs(20);

pub async fn within<T>(what: &str, future: impl Future<Output = T>) -> T {
    tokio::time::timeout(PATIENCE, future)
        .await
        .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
}

pub async fn server(clock: DevClock) -> DevServer {
    DevServer::builder()
        .clock(clock)
        .start()
        .await
        .expect("the dev server starts")
}

/// A server whose logs and DLQ keep their entries for as long as the test
/// runs, whatever its clock does: under a clock running a day in a
/// millisecond, the default retention (3 days of logs, 7 of DLQ) would
/// drop what the test is about to look at.
pub async fn server_keeping_history(clock: DevClock) -> DevServer {
    let forever = Duration::MAX;
    DevServer::builder()
        .clock(clock)
        .limits(
            Limits::default()
                .log_retention(10_000, forever)
                .dlq_retention(10_000, forever),
        )
        .start()
        .await
        .expect("the dev server starts")
}

/// A raw request with the dev token; returns the status and JSON body
/// (`Null` when there is none).
pub async fn call(
    base: &str,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, Value) {
    let mut request = reqwest::Client::new()
        .request(method, format!("{base}{path}"))
        .bearer_auth(DEFAULT_TOKEN)
        .body(body.to_owned());
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.expect("the server answers");
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    let value = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("{path}: not JSON: {text:?}"))
    };
    (status, value)
}

/// `body` is QStash's error shape, `{"error": ...}` alone, with `expected`
/// as the status and a message mentioning `mentions`.
pub fn assert_error(what: &str, (status, body): (u16, Value), expected: u16, mentions: &str) {
    assert_eq!(status, expected, "{what}: {body}");
    let message = body["error"]
        .as_str()
        .unwrap_or_else(|| panic!("{what}: no error field in {body}"));
    assert!(
        message.contains(mentions),
        "{what}: {message:?} should mention {mentions:?}"
    );
    assert_eq!(body.as_object().map(|o| o.len()), Some(1), "{what}: {body}");
}

/// One request an [`Endpoint`] received, and whether its signature verified.
#[derive(Debug)]
pub struct Delivery {
    pub path: String,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub verified: Result<Claims, String>,
}

impl Delivery {
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_else(|| panic!("no {name} header in {:?}", self.headers))
    }
}

/// A destination on 127.0.0.1 that verifies every request against the dev
/// server's keys, reports it on a channel, and answers 200, or 500 while
/// failing (always on paths under `/fail`, with a 3 MiB body under
/// `/fail/big`); under `/hang` it never answers.
pub struct Endpoint {
    pub url: String,
    deliveries: mpsc::UnboundedReceiver<Delivery>,
    failing: Arc<AtomicBool>,
}

#[derive(Clone)]
struct EndpointState {
    verifier: RequestVerifier,
    sender: mpsc::UnboundedSender<Delivery>,
    failing: Arc<AtomicBool>,
}

impl Endpoint {
    pub async fn start(server: &DevServer) -> Endpoint {
        Endpoint::start_with(server.receiver().expect("keys")).await
    }

    /// An endpoint verifying with `receiver`'s keys.
    pub async fn start_with(receiver: qstash::Receiver) -> Endpoint {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let (sender, deliveries) = mpsc::unbounded_channel();
        let failing = Arc::new(AtomicBool::new(false));
        let state = EndpointState {
            verifier: RequestVerifier::new(receiver, &url).expect("a base URL"),
            sender,
            failing: Arc::clone(&failing),
        };
        let app = Router::new().fallback(receive).with_state(state);
        tokio::spawn(async move { axum::serve(listener, app).await });
        Endpoint {
            url,
            deliveries,
            failing,
        }
    }

    pub fn set_failing(&self, failing: bool) {
        self.failing.store(failing, Ordering::SeqCst);
    }

    pub async fn next(&mut self) -> Delivery {
        within("a delivery", self.deliveries.recv())
            .await
            .expect("the endpoint is running")
    }
}

async fn receive(State(state): State<EndpointState>, request: Request) -> (StatusCode, String) {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX)
        .await
        .expect("a body");
    let verified = state
        .verifier
        .verify(&parts, &body)
        .map(|verified| verified.claims)
        .map_err(|e| e.to_string());
    let path = parts.uri.path().to_owned();
    if path.starts_with("/hang") {
        // Never answers: the server's attempt timeout has to end it.
        std::future::pending::<()>().await;
    }
    let fail = path.starts_with("/fail") || state.failing.load(Ordering::SeqCst);
    let big = path.starts_with("/fail/big");
    let _ = state.sender.send(Delivery {
        path,
        headers: parts.headers,
        body,
        verified,
    });
    match (fail, big) {
        (true, true) => (StatusCode::INTERNAL_SERVER_ERROR, "x".repeat(3 << 20)),
        (true, false) => (StatusCode::INTERNAL_SERVER_ERROR, String::new()),
        (false, _) => (StatusCode::OK, String::new()),
    }
}

/// Waits for `message_id` to reach `state` and returns that log entry.
pub async fn reached(server: &DevServer, message_id: &str, state: LogEntryState) -> LogEntry {
    within(
        &format!("{message_id} to reach {state:?}"),
        server.wait_for_log(|entry| {
            entry.message_id.as_deref() == Some(message_id) && entry.state.as_ref() == Some(&state)
        }),
    )
    .await
}

/// The states `message_id` went through, in order.
pub fn trail(server: &DevServer, message_id: &str) -> Vec<LogEntryState> {
    server
        .logs()
        .into_iter()
        .filter(|e| e.message_id.as_deref() == Some(message_id))
        .filter_map(|e| e.state)
        .collect()
}

/// The message id of a publish to a single URL.
pub fn single_id(response: qstash::types::PublishMessageResponse) -> String {
    match response {
        qstash::types::PublishMessageResponse::PublishResponse(r) => {
            r.message_id.expect("a message id")
        }
        other => panic!("expected one message, got {other:?}"),
    }
}
