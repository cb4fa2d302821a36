//! Tests of the management calls (`client.messages()` get/cancel,
//! `client.dlq()`, `client.logs()`, `client.queues()`,
//! `client.flow_control()`, `client.signing_keys()`) and of the page
//! streams, against servers on 127.0.0.1.
//!
//! Wire tests make one call and check exactly what the server received:
//! method, raw path, query parameters (a repeated parameter once per value),
//! body. Responses reuse `tests/fixtures/operations/`.
//!
//! The test binary counts allocations per thread (see `memory.rs`), so the
//! long-walk test can report its peak memory.

mod dlq;
mod flow_control;
mod keys;
mod logs;
mod memory;
mod messages;
mod queues;
mod streams;

use std::path::PathBuf;

use qstash::clock::{Clock, Sleep};
use qstash::{Client, RetryPolicy};
use serde_json::{Value, json};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

#[global_allocator]
static ALLOCATOR: memory::CountingAllocator = memory::CountingAllocator;

pub const TOKEN: &str = "test-token";

/// The real time, with backoff waits that end at once.
#[derive(Debug)]
struct NoWait;

impl Clock for NoWait {
    fn now(&self) -> std::time::SystemTime {
        std::time::SystemTime::now()
    }

    fn instant(&self) -> std::time::Instant {
        std::time::Instant::now()
    }

    fn sleep(&self, _: std::time::Duration) -> Sleep {
        Box::pin(std::future::ready(()))
    }
}

/// A mock server and a client pointed at it.
pub struct Api {
    pub server: MockServer,
    pub client: Client,
}

impl Api {
    /// A server with no mocks yet (tests mount their own), and a client
    /// that retries as in production but does not wait out its backoff.
    pub async fn empty() -> Api {
        let server = MockServer::start().await;
        let client = Client::builder()
            .token(TOKEN)
            .base_url(server.uri())
            .retry(RetryPolicy::default().clock(NoWait))
            .build()
            .expect("a client for the mock server");
        Api { server, client }
    }

    /// A server answering every request with `response`.
    pub async fn replying(response: ResponseTemplate) -> Api {
        let api = Api::empty().await;
        Mock::given(any())
            .respond_with(response)
            .mount(&api.server)
            .await;
        api
    }

    /// Every request the server received, in order.
    pub async fn requests(&self) -> Vec<Request> {
        self.server
            .received_requests()
            .await
            .expect("wiremock records requests by default")
    }

    /// The one request the server received.
    pub async fn request(&self) -> Request {
        let mut requests = self.requests().await;
        assert_eq!(
            requests.len(),
            1,
            "expected exactly one request, got:\n{}",
            requests.iter().map(describe).collect::<Vec<_>>().join("\n")
        );
        requests.remove(0)
    }
}

pub fn describe(request: &Request) -> String {
    format!(
        "{} {}\n{}",
        request.method,
        request.url,
        String::from_utf8_lossy(&request.body)
    )
}

/// `tests/fixtures/operations/<name>.json`.
pub fn fixture(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/operations")
        .join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("parsing {}: {e}", path.display()))
}

pub fn fixture_reply(status: u16, name: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(fixture(name))
}

pub fn error_reply(status: u16, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(json!({ "error": message }))
}

/// What a request must be: method, raw path, the query as a multiset of
/// decoded pairs (order-free: QStash does not care, and a repeated
/// parameter appears once per value), and a JSON body or none.
pub fn assert_request(
    request: &Request,
    method: &str,
    path: &str,
    query: &[(&str, &str)],
    body: Option<Value>,
) {
    let sent = describe(request);
    assert_eq!(request.method.as_str(), method, "method; sent:\n{sent}");
    assert_eq!(request.url.path(), path, "raw path; sent:\n{sent}");
    let mut expected: Vec<(String, String)> = query
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let mut actual: Vec<(String, String)> = request
        .url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    expected.sort();
    actual.sort();
    assert_eq!(actual, expected, "query parameters; sent:\n{sent}");
    assert_eq!(
        request
            .headers
            .get("authorization")
            .map(|v| v.to_str().unwrap_or_default()),
        Some(format!("Bearer {TOKEN}").as_str()),
        "authorization; sent:\n{sent}"
    );
    match body {
        None => assert!(request.body.is_empty(), "expected no body; sent:\n{sent}"),
        Some(expected) => {
            let actual: Value = serde_json::from_slice(&request.body)
                .unwrap_or_else(|e| panic!("body is not JSON ({e}); sent:\n{sent}"));
            assert_eq!(actual, expected, "JSON body; sent:\n{sent}");
        }
    }
}

/// An `Error::InvalidInput` naming `field`.
pub fn assert_invalid<T: std::fmt::Debug>(result: Result<T, qstash::Error>, field: &str) {
    match result {
        Err(qstash::Error::InvalidInput(invalid)) => {
            assert_eq!(invalid.field(), field, "{invalid}")
        }
        other => panic!("expected InvalidInput({field}), got {other:?}"),
    }
}

/// Serializing the decoded value gives back fixture `name`.
pub fn assert_same_as_fixture<T: serde::Serialize>(decoded: &T, name: &str) {
    let again = serde_json::to_value(decoded).expect("serializes");
    assert_eq!(again, fixture(name), "fixture `{name}` changed in decoding");
}

/// A point in time `ms` Unix milliseconds after 1970.
pub fn at_ms(ms: u64) -> std::time::SystemTime {
    std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms)
}
