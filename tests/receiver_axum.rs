//! The axum extractors, driven through a router without a socket.
#![cfg(feature = "axum")]

use axum::Router;
use axum::body::Body;
use axum::extract::FromRef;
use axum::http::{Request, StatusCode};
use axum::routing::post;
use qstash::receiver::{Receiver, RequestVerifier, Signer, VerifiedBody, VerifiedJson};
use tower::ServiceExt as _;

const CURRENT: &str = "sig_axum_current";
const BASE: &str = "https://hooks.example.com";

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
    format!("{} {}", delivery.body.len(), delivery.claims.url)
}

async fn json(
    axum::extract::State(state): axum::extract::State<AppState>,
    VerifiedJson { value, claims }: VerifiedJson<Job>,
) -> String {
    format!("{} job {} key {:?}", state.greeting, value.id, claims.key)
}

fn app() -> Router {
    let verifier = RequestVerifier::new(Receiver::new(CURRENT, "sig_axum_next").unwrap())
        .public_base_url(BASE);
    let state = AppState {
        verifier,
        greeting: "hi",
    };
    let api = Router::new().route("/json", post(json));
    Router::new()
        .route("/raw", post(raw))
        .nest("/api", api)
        .with_state(state)
}

async fn send(path: &str, signature: Option<&str>, body: &[u8]) -> (StatusCode, String) {
    let mut builder = Request::post(path);
    if let Some(signature) = signature {
        builder = builder.header("Upstash-Signature", signature);
    }
    let response = app()
        .oneshot(builder.body(Body::from(body.to_vec())).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 16)
        .await
        .unwrap();
    (status, String::from_utf8(bytes.to_vec()).unwrap())
}

fn sign(path: &str, body: &[u8]) -> String {
    Signer::new(CURRENT)
        .unwrap()
        .sign(&format!("{BASE}{path}"), body)
}

#[tokio::test]
async fn verified_body_reaches_the_handler() {
    let body = [0u8, 1, 2, 255];
    let (status, text) = send("/raw", Some(&sign("/raw", &body)), &body).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    assert_eq!(text, format!("4 {BASE}/raw"));
}

#[tokio::test]
async fn unverified_requests_get_401_with_a_reason() {
    let (status, text) = send("/raw", None, b"x").await;
    assert_eq!(
        (status, text.as_str()),
        (StatusCode::UNAUTHORIZED, "missing Upstash-Signature header")
    );

    let token = sign("/raw", b"x");
    let (status, text) = send("/raw", Some(&token), b"tampered").await;
    assert_eq!(
        (status, text.as_str()),
        (
            StatusCode::UNAUTHORIZED,
            "body does not match the signed hash"
        )
    );
    assert!(!text.contains(&token));

    let (status, text) = send("/raw", Some(&sign("/elsewhere", b"x")), b"x").await;
    assert_eq!(
        (status, text.as_str()),
        (
            StatusCode::UNAUTHORIZED,
            "token was issued for a different URL"
        )
    );
}

#[tokio::test]
async fn json_is_parsed_after_verification_with_the_original_uri() {
    let body = br#"{"id":42}"#;
    // Nested under /api: the signed URL is the full one.
    let (status, text) = send("/api/json", Some(&sign("/api/json", body)), body).await;
    assert_eq!(
        (status, text.as_str()),
        (StatusCode::OK, "hi job 42 key Current")
    );

    let (status, _) = send("/api/json", Some(&sign("/json", body)), body).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let bad = b"{\"id\":\"x\"}";
    let (status, text) = send("/api/json", Some(&sign("/api/json", bad)), bad).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{text}");

    let (status, _) = send("/api/json", Some(&sign("/api/json", body)), bad).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}
