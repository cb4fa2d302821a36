//! The axum extractors: the cases every integration must pass
//! (`tests/support/receiver_cases.rs`: unsigned, forged and oversize
//! requests refused before their bodies are read, legitimate deliveries
//! larger than axum's 2 MB default let through, QStash's delivery headers
//! passed to the handler) and the JSON extractor's, through a router
//! without a socket; and once over a real socket on 127.0.0.1.

#[path = "support/raw_http.rs"]
mod raw_http;
#[path = "support/receiver_cases.rs"]
mod receiver_cases;

use axum::Router;
use axum::body::Body;
use axum::extract::FromRef;
use axum::http::StatusCode;
use axum::routing::post;
use qstash::receiver::{Receiver, RequestVerifier, VerifiedBody, VerifiedJson};
use receiver_cases::{CASES, CURRENT, JSON_CASES, NEXT, RequestBody, check_all, handler_line};
use tower::ServiceExt as _;

#[derive(Clone)]
struct AppState {
    verifier: RequestVerifier,
    greeting: &'static str,
}

impl FromRef<AppState> for RequestVerifier {
    fn from_ref(state: &AppState) -> RequestVerifier {
        state.verifier.clone()
    }
}

#[derive(serde::Deserialize)]
struct Job {
    id: u64,
}

async fn raw(delivery: VerifiedBody) -> String {
    handler_line(&delivery.body, &delivery.claims, &delivery.delivery)
}

async fn json(
    axum::extract::State(state): axum::extract::State<AppState>,
    VerifiedJson { value, claims, .. }: VerifiedJson<Job>,
) -> String {
    format!("{} job {} key {:?}", state.greeting, value.id, claims.key)
}

/// `/raw`, and `/raw` and `/json` in a router nested under `/api`; the
/// verifier comes from the state, next to the handlers' own.
fn app_with(verifier: RequestVerifier) -> Router {
    let state = AppState {
        verifier,
        greeting: "hi",
    };
    let api = Router::new()
        .route("/raw", post(raw))
        .route("/json", post(json));
    Router::new()
        .route("/raw", post(raw))
        .nest("/api", api)
        .with_state(state)
}

/// One case's request through the app; status and body.
async fn send(case: receiver_cases::Request) -> (u16, String) {
    let request = case.request.map(|body| match body {
        RequestBody::Bytes(bytes) => Body::from(bytes),
        RequestBody::Endless(endless) => Body::from_stream(endless.into_stream::<std::io::Error>()),
    });
    let response = app_with(case.verifier).oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 16)
        .await
        .unwrap();
    (status.as_u16(), String::from_utf8(bytes.to_vec()).unwrap())
}

#[tokio::test]
async fn every_receiver_case() {
    check_all(CASES, send).await;
}

#[tokio::test]
async fn every_json_case() {
    check_all(JSON_CASES, send).await;
}

/// Over a socket on 127.0.0.1, with the `http://` base URL a local
/// service has: what the client sends as `Host` plays no part.
#[tokio::test]
async fn a_local_http_service_verifies_its_deliveries() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let receiver = Receiver::new(CURRENT, NEXT).unwrap();
    let app = app_with(RequestVerifier::new(receiver, &base).unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let url = format!("{base}/raw");
    let (status, _) = raw_http::post_signed_for(&url, &url, CURRENT, b"x").await;
    assert_eq!(status, StatusCode::OK);
    let https = url.replace("http://", "https://");
    let (status, _) = raw_http::post_signed_for(&url, &https, CURRENT, b"x").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}
