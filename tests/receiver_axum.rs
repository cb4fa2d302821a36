//! The axum extractors: driven through a router without a socket, and once
//! over a real one on 127.0.0.1. Unsigned, forged and oversize requests are
//! refused before their bodies are read (the bodies here count what is
//! pulled from them); legitimate deliveries larger than axum's 2 MB default
//! get through; QStash's delivery headers reach the handler.

#[path = "support/raw_http.rs"]
mod raw_http;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::body::{Body, Bytes};
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
    format!(
        "{} {} {:?} {:?}",
        delivery.body.len(),
        delivery.claims.url,
        delivery.delivery.message_id,
        delivery.delivery.retried
    )
}

async fn json(
    axum::extract::State(state): axum::extract::State<AppState>,
    VerifiedJson { value, claims, .. }: VerifiedJson<Job>,
) -> String {
    format!("{} job {} key {:?}", state.greeting, value.id, claims.key)
}

fn verifier() -> RequestVerifier {
    RequestVerifier::new(Receiver::new(CURRENT, "sig_axum_next").unwrap(), BASE).unwrap()
}

fn app_with(verifier: RequestVerifier) -> Router {
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

async fn call(app: Router, request: Request<Body>) -> (StatusCode, String) {
    let response = app.oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 16)
        .await
        .unwrap();
    (status, String::from_utf8(bytes.to_vec()).unwrap())
}

async fn send(path: &str, signature: Option<&str>, body: &[u8]) -> (StatusCode, String) {
    let mut builder = Request::post(path);
    if let Some(signature) = signature {
        builder = builder.header("Upstash-Signature", signature);
    }
    call(
        app_with(verifier()),
        builder.body(Body::from(body.to_vec())).unwrap(),
    )
    .await
}

fn sign(path: &str, body: &[u8]) -> String {
    Signer::new(CURRENT)
        .unwrap()
        .sign(&format!("{BASE}{path}"), body)
}

#[tokio::test]
async fn verified_body_and_delivery_headers_reach_the_handler() {
    let body = [0u8, 1, 2, 255];
    let request = Request::post("/raw")
        .header("Upstash-Signature", sign("/raw", &body))
        .header("Upstash-Message-Id", "msg_1")
        .header("Upstash-Retried", "3")
        .body(Body::from(body.to_vec()))
        .unwrap();
    let (status, text) = call(app_with(verifier()), request).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    assert_eq!(text, format!("4 {BASE}/raw Some(\"msg_1\") Some(3)"));
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

    let request = Request::post("/raw")
        .header("Upstash-Signature", sign("/raw", b"x"))
        .header("Upstash-Message-Id", "msg_1")
        .header("Upstash-Message-Id", "msg_2")
        .body(Body::from("x"))
        .unwrap();
    let (status, text) = call(app_with(verifier()), request).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{text}");
    assert!(text.contains("upstash-message-id"), "{text}");
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

const CHUNK: usize = 64 * 1024;
static FILL: [u8; CHUNK] = [b'x'; CHUNK];

/// A body without end that counts the bytes pulled from it.
fn endless(pulled: Arc<AtomicUsize>) -> Body {
    Body::from_stream(futures_util::stream::repeat_with(move || {
        pulled.fetch_add(CHUNK, Ordering::SeqCst);
        Ok::<_, std::io::Error>(Bytes::from_static(&FILL))
    }))
}

/// An endless body, unsigned or with a token that does not verify, is
/// refused without a byte of it read; signed, it is read up to the limit.
#[tokio::test]
async fn oversize_bodies_are_refused_before_or_at_the_limit() {
    let limit = 1024 * 1024;
    let forged = Signer::new("sig_not_ours")
        .unwrap()
        .sign(&format!("{BASE}/raw"), b"x");
    let genuine = sign("/raw", b"x");
    for (name, signature, length, status, most) in [
        ("unsigned", None, None, StatusCode::UNAUTHORIZED, 0),
        ("forged", Some(&forged), None, StatusCode::UNAUTHORIZED, 0),
        (
            "declared too long",
            Some(&genuine),
            Some(limit + 1),
            StatusCode::PAYLOAD_TOO_LARGE,
            0,
        ),
        (
            "endless",
            Some(&genuine),
            None,
            StatusCode::PAYLOAD_TOO_LARGE,
            limit + CHUNK,
        ),
    ] {
        let pulled = Arc::new(AtomicUsize::new(0));
        let mut builder = Request::post("/raw");
        if let Some(signature) = signature {
            builder = builder.header("Upstash-Signature", signature);
        }
        if let Some(length) = length {
            builder = builder.header("Content-Length", length);
        }
        let request = builder.body(endless(pulled.clone())).unwrap();
        let (got, text) = call(app_with(verifier().max_body_bytes(limit)), request).await;
        assert_eq!(got, status, "{name}: {text}");
        let pulled = pulled.load(Ordering::SeqCst);
        assert!(
            pulled <= most,
            "{name}: {pulled} bytes read, at most {most} allowed"
        );
    }
}

/// axum's own limit (2 MB) would answer 413 to this legitimate delivery,
/// which QStash would retry into the DLQ; the verifier's default takes it.
#[tokio::test]
async fn deliveries_larger_than_axums_default_limit_get_through() {
    let body = vec![b'y'; 3 * 1024 * 1024];
    let (status, text) = send("/raw", Some(&sign("/raw", &body)), &body).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    assert!(text.starts_with("3145728 "), "{text}");
}

/// Over a socket on 127.0.0.1, with the `http://` base URL a local
/// service has: what the client sends as `Host` plays no part.
#[tokio::test]
async fn a_local_http_service_verifies_its_deliveries() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let receiver = Receiver::new(CURRENT, "sig_axum_next").unwrap();
    let app = app_with(RequestVerifier::new(receiver, &base).unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let url = format!("{base}/raw");
    let (status, _) = raw_http::post_signed_for(&url, &url, CURRENT, b"x").await;
    assert_eq!(status, StatusCode::OK);
    let https = url.replace("http://", "https://");
    let (status, _) = raw_http::post_signed_for(&url, &https, CURRENT, b"x").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}
