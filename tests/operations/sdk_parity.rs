//! The requests of the official SDKs, captured on the wire
//! (`tests/fixtures/operations/wire/`, copied from `shared/wire/`), against
//! the requests our equivalent calls send: same method, raw path, query
//! (as a set of pairs), non-transport headers and body.
//!
//! Not compared, as the captures' README says: transport headers (host,
//! connection, accept*, sec-fetch-mode, user-agent, content-length) and
//! `upstash-telemetry-*`. Publishing, schedules and URL groups go through
//! the hand-written layer (`client.messages()`, `schedules()`,
//! `url_groups()`), the other calls through the generated builders.
//!
//! Where we follow the spec rather than the SDKs, [`Divergence`] says so for
//! that capture.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, UNIX_EPOCH};

use http::Method;
use qstash::messages::{Callback, Destination, FlowControl, Message};
use qstash::types::{ListLogsState, UpsertQueueBody};
use qstash::url_groups::Endpoint;
use qstash::{AuthMode, Client};
use serde::Deserialize;
use serde_json::{Value, json};
use wiremock::{Request, ResponseTemplate};

use crate::{Api, describe, json_differences};

const JS_SDK: &str = "js-sdk-2.12.0";
const PY_SDK: &str = "py-sdk-3.4.0";
/// The token the captures were made with.
const CAPTURE_TOKEN: &str = "test";

/// One request an official SDK sent (a line of a capture file).
#[derive(Deserialize)]
struct Capture {
    step: String,
    method: String,
    raw_path: String,
    headers: Vec<(String, String)>,
    body: String,
}

/// What we send differently from the SDK, on purpose.
#[derive(Default)]
struct Divergence {
    /// Our method instead of the SDK's.
    method: Option<&'static str>,
    /// Our path instead of the SDK's.
    path: Option<&'static str>,
    /// Fields of the SDK's JSON body that the spec's body does not have.
    body_fields_not_in_spec: &'static [&'static str],
}

fn wire_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/operations/wire")
}

fn captures(sdk: &str) -> Vec<Capture> {
    let path = wire_dir().join(format!("{sdk}.jsonl"));
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    text.lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{sdk}: {e}: {line}")))
        .collect()
}

fn strings(values: &[&str]) -> Vec<String> {
    values.iter().map(|v| v.to_string()).collect()
}

/// A message to `url` with the captures' JSON body `{"a":1}`.
fn json_message(url: &str) -> Message {
    Message::new(Destination::url(url)).json(&json!({ "a": 1 }))
}

/// The TS SDK always sends `Upstash-Method` (POST unless told otherwise);
/// qstash-py only when asked. Both are accepted by QStash, so each call sets
/// it exactly when its SDK did.
fn sent_as_by(js: bool, message: Message) -> Message {
    if js {
        message.method(Method::POST)
    } else {
        message
    }
}

/// Makes the call equivalent to capture `step` of `sdk`. The response is of
/// no interest here (the server answers `{}` to everything), only the
/// request; a call that sent nothing fails the one-request check.
async fn equivalent_call(client: Client, sdk: &str, step: &str) -> Divergence {
    let js = sdk == JS_SDK;
    match (sdk, step) {
        (JS_SDK, "publishJSON") | (PY_SDK, "publish_json") => {
            let message = sent_as_by(js, json_message("https://example.com/api"))
                .delay(Duration::from_secs(10))
                .retries(2)
                .header("x-foo", "bar");
            let _ = client.messages().publish(message).send().await;
        }
        (JS_SDK, "publish text") => {
            let message = Message::new(Destination::url("https://example.com/api?x=1&y=2"))
                .bytes("text/plain", "hello")
                .method(Method::POST);
            let _ = client.messages().publish(message).send().await;
        }
        (JS_SDK, "publishJSON full") => {
            let message = json_message("https://example.com/api")
                .method(Method::PUT)
                .not_before(UNIX_EPOCH + Duration::from_secs(1_900_000_000))
                .deduplication_id("dedup-1")
                .callback(Callback::new("https://example.com/cb"))
                .failure_callback(Callback::new("https://example.com/fail"))
                .timeout(Duration::from_secs(30))
                .retry_delay("1000 * (1 + retried)")
                .flow_control(
                    FlowControl::new("fc-key")
                        .parallelism(3)
                        .rate(10)
                        .period(Duration::from_secs(60)),
                )
                .label("my-label");
            let _ = client.messages().publish(message).send().await;
        }
        (JS_SDK, "publish urlGroup") => {
            let message = Message::new(Destination::url_group("my-group"))
                .json(&json!({ "a": 1 }))
                .method(Method::POST);
            let _ = client.messages().publish(message).send().await;
        }
        (JS_SDK, "schedules.create") | (PY_SDK, "schedule.create") => {
            let message = Message::new(Destination::url("https://example.com/api"))
                .bytes("application/json", r#"{"a":1}"#)
                .header("x-foo", "bar")
                .retries(2)
                .delay(Duration::from_secs(10));
            let _ = client
                .schedules()
                .create("*/5 * * * *", message)
                .schedule_id("my-schedule")
                .send()
                .await;
        }
        (JS_SDK, "schedules.list") => {
            let _ = client.schedules().list().send().await;
        }
        (JS_SDK, "schedules.get") => {
            let _ = client.schedules().get("my-schedule").send().await;
        }
        (JS_SDK, "schedules.delete") => {
            let _ = client.schedules().delete("my-schedule").send().await;
        }
        (JS_SDK, "schedules.pause") | (PY_SDK, "schedule.pause") => {
            let _ = client.schedules().pause("my-schedule").send().await;
            // The spec says POST; the TS, Python and Go SDKs send PATCH.
            return Divergence {
                method: Some("POST"),
                ..Divergence::default()
            };
        }
        (JS_SDK, "queue.upsert") | (PY_SDK, "queue.upsert") => {
            let body = UpsertQueueBody {
                queue_name: "my-queue".into(),
                parallelism: 2.try_into().expect("non-zero"),
            };
            let _ = client.api().upsert_queue().body(body).send().await;
            // The SDKs send `"paused": false`; the spec's body has no
            // `paused`, so the generated type cannot carry it.
            return Divergence {
                body_fields_not_in_spec: &["paused"],
                ..Divergence::default()
            };
        }
        (JS_SDK, "queue.enqueueJSON") | (PY_SDK, "enqueue_json") => {
            let message = sent_as_by(js, json_message("https://example.com/api"))
                .retries(2)
                .header("x-foo", "bar");
            let _ = client.messages().enqueue("my-queue", message).send().await;
        }
        (JS_SDK, "batchJSON") => {
            let _ = client
                .messages()
                .batch()
                .publish(
                    sent_as_by(js, json_message("https://example.com/a"))
                        .delay(Duration::from_secs(5)),
                )
                .enqueue(
                    "my-queue",
                    sent_as_by(js, Message::new(Destination::url("https://example.com/b")))
                        .json(&json!({ "b": 2 })),
                )
                .send()
                .await;
        }
        (JS_SDK, "messages.get") => {
            let _ = client
                .api()
                .get_message()
                .message_id("msg_123")
                .send()
                .await;
        }
        (JS_SDK, "messages.delete") => {
            let _ = client
                .api()
                .cancel_message()
                .message_id("msg_123")
                .send()
                .await;
        }
        (JS_SDK, "dlq.listMessages") => {
            let _ = client
                .api()
                .list_dlq_messages()
                .cursor("c1")
                .count(10)
                .url(strings(&["https://example.com/api"]))
                .send()
                .await;
        }
        (JS_SDK, "urlGroups.addEndpoints") => {
            let endpoint = Endpoint::new("https://example.com/a").name("a");
            let _ = client
                .url_groups()
                .upsert_endpoints("my-group", [endpoint])
                .send()
                .await;
        }
        (JS_SDK, "logs") => {
            let _ = client
                .api()
                .list_logs()
                .state(ListLogsState::Delivered)
                .count(5)
                .send()
                .await;
            // The spec has `GET /v2/logs`; the SDKs call `GET /v2/events`.
            return Divergence {
                path: Some("/v2/logs"),
                ..Divergence::default()
            };
        }
        _ => panic!("capture `{step}` of {sdk} has no equivalent call here: add one"),
    }
    Divergence::default()
}

/// Header names compared: lower case, without transport headers and
/// telemetry.
fn compared_headers<'a>(
    headers: impl Iterator<Item = (&'a str, String)>,
) -> BTreeMap<String, Vec<String>> {
    let mut compared: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (name, value) in headers {
        let name = name.to_ascii_lowercase();
        let transport = matches!(
            name.as_str(),
            "host" | "connection" | "sec-fetch-mode" | "user-agent" | "content-length"
        ) || name.starts_with("accept");
        if !transport && !name.starts_with("upstash-telemetry-") {
            compared.entry(name).or_default().push(value);
        }
    }
    compared
}

fn query_pairs(url: &url::Url) -> Vec<(String, String)> {
    let mut pairs: Vec<_> = url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    pairs.sort();
    pairs
}

/// The capture's JSON body as we must send it: no telemetry headers inside a
/// batch, no fields the spec lacks.
fn expected_json(capture: &Capture, divergence: &Divergence) -> Option<Value> {
    let mut body: Value = serde_json::from_str(&capture.body).ok()?;
    if let Value::Object(object) = &mut body {
        for field in divergence.body_fields_not_in_spec {
            object.remove(*field);
        }
    }
    if let Value::Array(items) = &mut body {
        for headers in items.iter_mut().filter_map(|i| i.get_mut("headers")) {
            if let Value::Object(headers) = headers {
                headers.retain(|name, _| !name.starts_with("upstash-telemetry-"));
            }
        }
    }
    Some(body)
}

/// How our request differs from the capture, beyond the known divergences.
fn differences(capture: &Capture, ours: &Request, divergence: &Divergence) -> Vec<String> {
    let mut found = Vec::new();
    let method = divergence.method.unwrap_or(&capture.method);
    if ours.method.as_str() != method {
        found.push(format!(
            "method: SDK {}, we {}",
            capture.method, ours.method
        ));
    }
    let theirs = url::Url::parse(&format!("http://127.0.0.1{}", capture.raw_path))
        .expect("a capture's raw path is a valid request target");
    let path = divergence.path.unwrap_or(theirs.path());
    if ours.url.path() != path {
        found.push(format!(
            "path: SDK {}, we {}",
            theirs.path(),
            ours.url.path()
        ));
    }
    if query_pairs(&theirs) != query_pairs(&ours.url) {
        found.push(format!(
            "query: SDK {:?}, we {:?}",
            theirs.query(),
            ours.url.query()
        ));
    }
    let their_headers =
        compared_headers(capture.headers.iter().map(|(k, v)| (k.as_str(), v.clone())));
    let our_headers = compared_headers(ours.headers.iter().map(|(k, v)| {
        (
            k.as_str(),
            String::from_utf8_lossy(v.as_bytes()).into_owned(),
        )
    }));
    let names: std::collections::BTreeSet<_> =
        their_headers.keys().chain(our_headers.keys()).collect();
    for name in names {
        let (theirs, ours) = (their_headers.get(name), our_headers.get(name));
        if theirs != ours {
            found.push(format!("header `{name}`: SDK {theirs:?}, we {ours:?}"));
        }
    }
    match expected_json(capture, divergence) {
        Some(expected) => match serde_json::from_slice::<Value>(&ours.body) {
            Ok(actual) => found.extend(
                json_differences(&expected, &actual)
                    .into_iter()
                    .map(|d| format!("body {d}")),
            ),
            Err(_) => found.push(format!(
                "body: SDK sent JSON {}, we sent {:?}",
                capture.body,
                String::from_utf8_lossy(&ours.body)
            )),
        },
        None if capture.body.as_bytes() != ours.body.as_slice() => found.push(format!(
            "body: SDK {:?}, we {:?}",
            capture.body,
            String::from_utf8_lossy(&ours.body)
        )),
        None => {}
    }
    found
}

/// Every capture of `sdk` against our equivalent request; all differences
/// are reported together.
async fn assert_parity(sdk: &str) {
    let mut failures = Vec::new();
    for capture in captures(sdk) {
        let reply = ResponseTemplate::new(200).set_body_json(serde_json::json!({}));
        let api = Api::start(CAPTURE_TOKEN, AuthMode::Bearer, reply).await;
        let divergence = equivalent_call(api.client.clone(), sdk, &capture.step).await;
        let ours = api.request().await;
        let found = differences(&capture, &ours, &divergence);
        if !found.is_empty() {
            failures.push(format!(
                "`{}`:\n  {}\nwe sent:\n{}",
                capture.step,
                found.join("\n  "),
                describe(&ours)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{sdk}: {} request(s) differ from the SDK's:\n\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[tokio::test]
async fn requests_match_the_typescript_sdk() {
    assert_parity(JS_SDK).await;
}

#[tokio::test]
async fn requests_match_the_python_sdk() {
    assert_parity(PY_SDK).await;
}

/// The copies here are what `shared/wire/` holds, when it is beside the
/// repository (a fresh clone may not have it).
#[test]
fn wire_captures_are_copies_of_the_shared_ones() {
    let shared = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/wire");
    if !shared.is_dir() {
        return;
    }
    for sdk in [JS_SDK, PY_SDK] {
        let name = format!("{sdk}.jsonl");
        let ours = std::fs::read(wire_dir().join(&name)).expect("our copy");
        let theirs = std::fs::read(shared.join(&name)).expect("the shared capture");
        assert!(
            ours == theirs,
            "{name} differs from shared/wire/{name}: copy it again"
        );
    }
}
