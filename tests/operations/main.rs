//! Wire tests of every QStash operation, against a local mock server.
//!
//! Each test makes one call with realistic parameters, then checks what the
//! server received, exactly (method, raw path, query, the headers that
//! matter, body), and what the client decoded from a response shaped like
//! QStash's (`tests/fixtures/operations/<operation>.json`, which must come
//! back unchanged when the decoded value is serialized again, so that no
//! field the server sends is silently dropped).
//!
//! The server answers every request with one canned response; the request is
//! read back with `received_requests` and compared field by field, so a
//! failure prints what was actually sent.

mod auth;
mod bad_input;
mod dlq;
mod flow_control;
mod keys_and_logs;
mod messages;
mod providers;
mod publishing;
mod queues;
mod schedules;
mod sdk_parity;
mod url_groups;

use std::fmt::Debug;
use std::path::PathBuf;

use qstash::{AuthMode, Client, USER_AGENT_VALUE};
use serde::Serialize;
use serde_json::{Value, json};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

/// The token of every client here unless a test says otherwise.
pub const TOKEN: &str = "test-token";

/// A mock QStash server that answers every request with one response, and a
/// client pointed at it.
pub struct Api {
    pub server: MockServer,
    pub client: Client,
}

impl Api {
    /// A server answering `response`, and a client with [`TOKEN`] as bearer.
    pub async fn replying(response: ResponseTemplate) -> Api {
        Api::start(TOKEN, AuthMode::Bearer, response).await
    }

    pub async fn start(token: &str, mode: AuthMode, response: ResponseTemplate) -> Api {
        let server = MockServer::start().await;
        Mock::given(any())
            .respond_with(response)
            .mount(&server)
            .await;
        let client = Client::builder()
            .token(token)
            .auth_mode(mode)
            .base_url(server.uri())
            // What the official SDKs send, one request per call: retries
            // would add a deduplication id to publishes and repeat the
            // error statuses these tests answer with (tests/reliability/).
            .no_retries()
            .build()
            .expect("a client for the mock server");
        Api { server, client }
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
            "expected exactly one request, the server received:\n{}",
            requests.iter().map(describe).collect::<Vec<_>>().join("\n")
        );
        requests.remove(0)
    }
}

/// A request as text, for failure messages.
pub fn describe(request: &Request) -> String {
    let mut text = format!("{} {}\n", request.method, request.url);
    for (name, value) in &request.headers {
        text.push_str(&format!(
            "{name}: {}\n",
            String::from_utf8_lossy(value.as_bytes())
        ));
    }
    text.push_str(&format!("\n{}\n", String::from_utf8_lossy(&request.body)));
    text
}

fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/operations")
}

/// `tests/fixtures/operations/<name>.json`.
pub fn fixture(name: &str) -> Value {
    let path = fixtures_dir().join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("parsing {}: {e}", path.display()))
}

/// A JSON response with the body of fixture `name`.
pub fn fixture_reply(status: u16, name: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(fixture(name))
}

/// A response without a body.
pub fn empty_reply(status: u16) -> ResponseTemplate {
    ResponseTemplate::new(status)
}

/// QStash's error body, `{"error": "..."}`.
pub fn error_reply(status: u16, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(json!({ "error": message }))
}

/// Where differences between two JSON values are, one line each
/// (`$.messages[0].dlqId: dropped`).
pub fn json_differences(expected: &Value, actual: &Value) -> Vec<String> {
    fn walk(path: &str, expected: &Value, actual: &Value, out: &mut Vec<String>) {
        match (expected, actual) {
            (Value::Object(e), Value::Object(a)) => {
                for (key, value) in e {
                    match a.get(key) {
                        Some(other) => walk(&format!("{path}.{key}"), value, other, out),
                        None => out.push(format!("{path}.{key}: dropped (was {value})")),
                    }
                }
                for (key, value) in a.iter().filter(|(key, _)| !e.contains_key(*key)) {
                    out.push(format!("{path}.{key}: added ({value})"));
                }
            }
            (Value::Array(e), Value::Array(a)) if e.len() == a.len() => {
                for (index, (e, a)) in e.iter().zip(a).enumerate() {
                    walk(&format!("{path}[{index}]"), e, a, out);
                }
            }
            _ if expected == actual => {}
            _ => out.push(format!("{path}: expected {expected}, got {actual}")),
        }
    }
    let mut out = Vec::new();
    walk("$", expected, actual, &mut out);
    out
}

/// Serializing the decoded value again gives back fixture `name`: every
/// field QStash sent survived decoding.
pub fn assert_round_trip<T: Serialize>(decoded: &T, name: &str) {
    let again = serde_json::to_value(decoded).expect("a decoded value serializes");
    let differences = json_differences(&fixture(name), &again);
    assert!(
        differences.is_empty(),
        "decoding then re-serializing fixture `{name}` loses or changes fields:\n{}",
        differences.join("\n")
    );
}

/// A documented error status whose `{"error": ...}` body is decoded.
pub fn assert_error_response<T: Debug>(
    result: Result<T, qstash::api::Error<qstash::types::Error>>,
    status: u16,
    message: &str,
) {
    match result {
        Err(qstash::api::Error::ErrorResponse(response)) => {
            assert_eq!(response.status().as_u16(), status);
            assert_eq!(response.into_inner().error, message);
        }
        other => panic!("expected Error::ErrorResponse({status}, {message:?}), got {other:?}"),
    }
}

/// A status the spec does not declare for the operation: an error holding
/// the response; returns its body.
pub async fn unexpected_response_body<T: Debug, E: Debug>(
    result: Result<T, qstash::api::Error<E>>,
    status: u16,
) -> String {
    match result {
        Err(qstash::api::Error::UnexpectedResponse(response)) => {
            assert_eq!(response.status().as_u16(), status);
            response
                .text()
                .await
                .expect("the response body is readable")
        }
        other => panic!("expected Error::UnexpectedResponse({status}), got {other:?}"),
    }
}

/// `DELETE /v2/messages`, `DELETE /v2/dlq` and `POST /v2/dlq/retry` act on
/// everything when they carry no ids and no filter. Whatever the client does
/// with an empty id list, it must never send that.
pub async fn assert_no_unfiltered_bulk_request(api: &Api, path: &str) {
    for request in api.requests().await {
        let unfiltered = request.url.path() == path
            && request
                .url
                .query_pairs()
                .all(|(name, _)| name == "qstash_token");
        assert!(
            !unfiltered,
            "an empty id list went out as a request on everything:\n{}",
            describe(&request)
        );
    }
}

/// A bulk request with nothing to select by is refused before it is sent.
pub fn assert_refused_as_everything<T: std::fmt::Debug, E: std::fmt::Debug>(
    result: Result<T, qstash::api::Error<E>>,
) {
    match result {
        Err(qstash::api::Error::InvalidRequest(message)) => {
            assert!(message.contains("every message"), "{message}")
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
}

/// How the token must arrive.
enum Auth {
    Bearer(String),
    Query(String),
}

enum Query {
    /// No query string at all.
    None,
    /// These pairs (decoded), in any order: QStash does not care about the
    /// order of query parameters, nor of a repeated one's values.
    Pairs(Vec<(String, String)>),
    /// This raw query string, byte for byte (a destination's own query).
    Exact(String),
}

enum Body {
    Empty,
    Json(Value),
    Raw(Vec<u8>),
}

/// What one request must look like. Besides what is set here, every request
/// must carry `User-Agent: qstash-rs/<version>` and no `api-version`, no
/// `Upstash-*` header other than those listed, and a `Content-Type` only if
/// one is listed.
pub struct Expect {
    method: &'static str,
    path: String,
    query: Query,
    headers: Vec<(String, String)>,
    body: Body,
    auth: Auth,
}

impl Expect {
    pub fn new(method: &'static str, path: &str) -> Expect {
        Expect {
            method,
            path: path.to_string(),
            query: Query::None,
            headers: Vec::new(),
            body: Body::Empty,
            auth: Auth::Bearer(TOKEN.to_string()),
        }
    }

    /// Query parameters compared as a set of decoded pairs.
    pub fn query(mut self, pairs: &[(&str, &str)]) -> Expect {
        self.query = Query::Pairs(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        );
        self
    }

    /// The raw query string, exactly.
    pub fn raw_query(mut self, query: &str) -> Expect {
        self.query = Query::Exact(query.to_string());
        self
    }

    /// Headers (name in any case) that must be there, once, with this value.
    pub fn headers(mut self, headers: &[(&str, &str)]) -> Expect {
        self.headers.extend(
            headers
                .iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), v.to_string())),
        );
        self
    }

    /// A JSON body (compared as JSON) with `Content-Type: application/json`.
    pub fn json(mut self, body: Value) -> Expect {
        self.body = Body::Json(body);
        self.headers(&[("content-type", "application/json")])
    }

    /// A body compared byte for byte, with this `Content-Type`.
    pub fn raw_body(mut self, body: &[u8], content_type: &str) -> Expect {
        self.body = Body::Raw(body.to_vec());
        self.headers(&[("content-type", content_type)])
    }

    /// A body compared byte for byte, with no `Content-Type` at all.
    pub fn unlabelled_body(mut self, body: &[u8]) -> Expect {
        self.body = Body::Raw(body.to_vec());
        self
    }

    /// The token in `?qstash_token=` (listed in the query like any other
    /// pair) and no `Authorization` header.
    pub fn token_in_query(mut self, token: &str) -> Expect {
        self.auth = Auth::Query(token.to_string());
        self
    }

    pub fn bearer(mut self, token: &str) -> Expect {
        self.auth = Auth::Bearer(token.to_string());
        self
    }

    pub fn assert(&self, request: &Request) {
        let sent = describe(request);
        assert_eq!(
            request.method.as_str(),
            self.method,
            "method; sent:\n{sent}"
        );
        assert_eq!(request.url.path(), self.path, "raw path; sent:\n{sent}");
        self.assert_query(request, &sent);
        self.assert_auth(request, &sent);
        self.assert_headers(request, &sent);
        self.assert_body(request, &sent);
    }

    fn assert_query(&self, request: &Request, sent: &str) {
        match &self.query {
            Query::None => assert!(
                request.url.query().is_none_or(str::is_empty),
                "expected no query string; sent:\n{sent}"
            ),
            Query::Exact(query) => assert_eq!(
                request.url.query(),
                Some(query.as_str()),
                "query string; sent:\n{sent}"
            ),
            Query::Pairs(pairs) => {
                let mut expected = pairs.clone();
                let mut actual: Vec<(String, String)> = request
                    .url
                    .query_pairs()
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect();
                expected.sort();
                actual.sort();
                assert_eq!(actual, expected, "query parameters; sent:\n{sent}");
            }
        }
    }

    fn assert_auth(&self, request: &Request, sent: &str) {
        let tokens: Vec<String> = request
            .url
            .query_pairs()
            .filter(|(name, _)| name == qstash::TOKEN_QUERY_PARAMETER)
            .map(|(_, value)| value.into_owned())
            .collect();
        match &self.auth {
            Auth::Bearer(token) => {
                assert_eq!(
                    header_values(request, "authorization"),
                    [format!("Bearer {token}")],
                    "authorization header; sent:\n{sent}"
                );
                assert!(tokens.is_empty(), "token also in the query; sent:\n{sent}");
            }
            Auth::Query(token) => {
                assert_eq!(tokens, [token.as_str()], "qstash_token; sent:\n{sent}");
                assert!(
                    header_values(request, "authorization").is_empty(),
                    "authorization header in query mode; sent:\n{sent}"
                );
            }
        }
    }

    fn assert_headers(&self, request: &Request, sent: &str) {
        assert_eq!(
            header_values(request, "user-agent"),
            [USER_AGENT_VALUE],
            "user-agent; sent:\n{sent}"
        );
        assert!(
            header_values(request, "api-version").is_empty(),
            "progenitor's api-version header was sent:\n{sent}"
        );
        for (name, value) in &self.headers {
            assert_eq!(
                header_values(request, name),
                [value.as_str()],
                "header `{name}`; sent:\n{sent}"
            );
        }
        for name in request.headers.keys().map(|name| name.as_str()) {
            let checked = name.starts_with("upstash-") || name == "content-type";
            assert!(
                !checked || self.headers.iter().any(|(expected, _)| expected == name),
                "unexpected header `{name}`; sent:\n{sent}"
            );
        }
    }

    fn assert_body(&self, request: &Request, sent: &str) {
        match &self.body {
            Body::Empty => assert!(request.body.is_empty(), "expected no body; sent:\n{sent}"),
            Body::Raw(bytes) => assert!(request.body == *bytes, "body bytes; sent:\n{sent}"),
            Body::Json(expected) => {
                let actual: Value = serde_json::from_slice(&request.body)
                    .unwrap_or_else(|e| panic!("body is not JSON ({e}); sent:\n{sent}"));
                let differences = json_differences(expected, &actual);
                assert!(
                    differences.is_empty(),
                    "JSON body differs:\n{}\nsent:\n{sent}",
                    differences.join("\n")
                );
            }
        }
    }
}

/// All values of header `name`, as text.
pub fn header_values(request: &Request, name: &str) -> Vec<String> {
    request
        .headers
        .get_all(name)
        .iter()
        .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned())
        .collect()
}

/// The checks of [`Expect`] must be able to fail: a correct request passes,
/// and each mutation of it, one difference at a time, is caught.
mod self_check {
    use std::panic::{AssertUnwindSafe, catch_unwind};

    use wiremock::Request;
    use wiremock::http::{HeaderMap, HeaderName, HeaderValue, Url};

    use super::{Expect, TOKEN, USER_AGENT_VALUE};

    #[derive(Clone)]
    struct Parts {
        method: &'static str,
        target: String,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    }

    impl Parts {
        fn new(method: &'static str, target: &str, headers: &[(&str, &str)], body: &[u8]) -> Parts {
            let mut all = vec![
                ("authorization".to_string(), format!("Bearer {TOKEN}")),
                ("user-agent".to_string(), USER_AGENT_VALUE.to_string()),
            ];
            all.extend(headers.iter().map(|(k, v)| (k.to_string(), v.to_string())));
            Parts {
                method,
                target: target.to_string(),
                headers: all,
                body: body.to_vec(),
            }
        }

        fn request(&self) -> Request {
            let mut headers = HeaderMap::new();
            for (name, value) in &self.headers {
                headers.append(
                    HeaderName::from_bytes(name.as_bytes()).expect("header name"),
                    HeaderValue::from_str(value).expect("header value"),
                );
            }
            Request {
                url: Url::parse(&format!("http://localhost{}", self.target)).expect("url"),
                method: self.method.parse().expect("method"),
                headers,
                body: self.body.clone(),
            }
        }

        fn set_header(&mut self, name: &str, value: &str) {
            self.headers.retain(|(n, _)| n != name);
            self.headers.push((name.to_string(), value.to_string()));
        }
    }

    type Mutation = (&'static str, fn(&mut Parts));

    fn assert_catches(expect: &Expect, correct: &Parts, mutations: &[Mutation]) {
        expect.assert(&correct.request());
        for (what, mutate) in mutations {
            let mut parts = correct.clone();
            mutate(&mut parts);
            let request = parts.request();
            let caught = catch_unwind(AssertUnwindSafe(|| expect.assert(&request))).is_err();
            assert!(caught, "the request checks missed: {what}");
        }
    }

    #[test]
    fn a_raw_request_with_headers_is_checked_exactly() {
        let expect = Expect::new("POST", "/v2/publish/https://example.com/api")
            .raw_query("x=1&y=2")
            .raw_body(b"hello", "text/plain")
            .headers(&[("Upstash-Retries", "2")]);
        let correct = Parts::new(
            "POST",
            "/v2/publish/https://example.com/api?x=1&y=2",
            &[("content-type", "text/plain"), ("upstash-retries", "2")],
            b"hello",
        );
        assert_catches(
            &expect,
            &correct,
            &[
                ("another method", |p| p.method = "PUT"),
                ("a percent-encoded destination", |p| {
                    p.target = "/v2/publish/https:%2F%2Fexample.com%2Fapi?x=1&y=2".into()
                }),
                ("the destination query reordered", |p| {
                    p.target = "/v2/publish/https://example.com/api?y=2&x=1".into()
                }),
                ("a header value", |p| p.set_header("upstash-retries", "3")),
                ("a header missing", |p| {
                    p.headers.retain(|(n, _)| n != "upstash-retries")
                }),
                ("an extra Upstash header", |p| {
                    p.set_header("upstash-delay", "10s")
                }),
                ("api-version sent", |p| p.set_header("api-version", "2.0.0")),
                ("another user agent", |p| {
                    p.set_header("user-agent", "reqwest")
                }),
                ("another token", |p| {
                    p.set_header("authorization", "Bearer other")
                }),
                ("no authorization", |p| {
                    p.headers.retain(|(n, _)| n != "authorization")
                }),
                ("another content type", |p| {
                    p.set_header("content-type", "application/json")
                }),
                ("one body byte", |p| p.body = b"hellO".to_vec()),
            ],
        );
    }

    #[test]
    fn query_pairs_and_json_bodies_are_checked_as_sets_and_json() {
        let expect = Expect::new("DELETE", "/v2/dlq")
            .query(&[("dlqIds", "a"), ("dlqIds", "b"), ("count", "5")])
            .json(serde_json::json!({ "x": [1, 2], "y": "z" }));
        let correct = Parts::new(
            "DELETE",
            "/v2/dlq?dlqIds=a&dlqIds=b&count=5",
            &[("content-type", "application/json")],
            br#"{"x":[1,2],"y":"z"}"#,
        );
        assert_catches(
            &expect,
            &correct,
            &[
                ("a repeated value missing", |p| {
                    p.target = "/v2/dlq?dlqIds=a&count=5".into()
                }),
                ("an extra parameter", |p| {
                    p.target = "/v2/dlq?dlqIds=a&dlqIds=b&count=5&qstash_token=t".into()
                }),
                ("a JSON value", |p| {
                    p.body = br#"{"x":[2,1],"y":"z"}"#.to_vec()
                }),
                ("a JSON field dropped", |p| {
                    p.body = br#"{"x":[1,2]}"#.to_vec()
                }),
                ("not JSON", |p| p.body = b"x".to_vec()),
            ],
        );
        // Order is not meaningful for pairs, nor layout for JSON.
        let mut reordered = correct.clone();
        reordered.target = "/v2/dlq?count=5&dlqIds=b&dlqIds=a".into();
        reordered.body = br#"{ "y": "z", "x": [1, 2] }"#.to_vec();
        expect.assert(&reordered.request());
    }
}
