//! Arbitrary requests never take the server down: each gets a status and,
//! when it is an error, an `{"error": ...}` body; the server keeps serving.

use std::sync::OnceLock;

use proptest::prelude::*;
use qstash::dev_server::{DEFAULT_TOKEN, DevClock, DevServer};
use serde_json::Value;

struct Shared {
    runtime: tokio::runtime::Runtime,
    server: DevServer,
    http: reqwest::Client,
}

/// One server for every case, on a runtime that outlives them.
fn shared() -> &'static Shared {
    static SHARED: OnceLock<Shared> = OnceLock::new();
    SHARED.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("a runtime");
        let server = runtime.block_on(crate::server(DevClock::manual()));
        Shared {
            runtime,
            server,
            http: reqwest::Client::new(),
        }
    })
}

const PATHS: &[&str] = &[
    "/v2/publish/",
    "/v2/enqueue/",
    "/v2/batch",
    "/v2/messages/",
    "/v2/messages",
    "/v2/topics/",
    "/v2/dlq/",
    "/v2/dlq/retry/",
    "/v2/logs",
    "/v2/keys",
    "/v2/queues",
    "/v2/queues/",
    "/v2/schedules",
    "/v2/schedules/",
    "/v2/flowControl",
    "/v2/flowControl/",
    "/v2/globalParallelism",
];
const HEADERS: &[&str] = &[
    "upstash-delay",
    "upstash-not-before",
    "upstash-retries",
    "upstash-retry-delay",
    "upstash-method",
    "upstash-timeout",
    "upstash-callback",
    "upstash-callback-retries",
    "upstash-failure-callback-timeout",
    "upstash-deduplication-id",
    "upstash-content-based-deduplication",
    "upstash-label",
    "upstash-forward-x",
    "upstash-cron",
    "upstash-schedule-id",
    "upstash-flow-control-key",
    "upstash-flow-control-value",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn any_request_gets_an_answer(
        path in proptest::sample::select(PATHS),
        tail in "[ -~]{0,40}",
        query in "[a-zA-Z=&,%0-9]{0,30}",
        method in proptest::sample::select(&["GET", "POST", "DELETE", "PUT"][..]),
        header in proptest::sample::select(HEADERS),
        value in "[ -~]{0,30}",
        body in proptest::collection::vec(any::<u8>(), 0..200),
    ) {
        let shared = shared();
        let tail: String = tail.chars().filter(|c| !matches!(c, ' ' | '#' | '"' | '<' | '>' | '`' | '{' | '}' | '|' | '\\' | '^')).collect();
        // Only 127.0.0.1: no generated destination may name another host.
        if tail.contains("http") {
            return Ok(());
        }
        let url = format!("{}{path}{tail}?{query}", shared.server.url());
        let Ok(url) = reqwest::Url::parse(&url) else { return Ok(()) };
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let (status, text) = shared.runtime.block_on(async {
            let response = shared
                .http
                .request(method, url)
                .bearer_auth(DEFAULT_TOKEN)
                .header(header, value.trim())
                .body(body)
                .send()
                .await
                .expect("the server answers");
            (response.status(), response.text().await.unwrap_or_default())
        });
        prop_assert!(status.as_u16() < 500, "{status} {text}");
        if !status.is_success() {
            let parsed: Value = serde_json::from_str(&text).map_err(|e| TestCaseError::fail(format!("{status}: {text:?}: {e}")))?;
            prop_assert!(parsed["error"].is_string(), "{status}: {text}");
        }
        let keys = shared.runtime.block_on(async {
            shared.http.get(format!("{}/v2/keys", shared.server.url())).bearer_auth(DEFAULT_TOKEN).send().await.map(|r| r.status())
        });
        prop_assert_eq!(keys.ok().map(|s| s.as_u16()), Some(200));
    }
}
