//! The tower layer, as `tests/receiver_axum.rs` tests the extractors: in
//! front of an axum router (nested too) and of a bare service, without a
//! socket, and in front of a hyper service on 127.0.0.1. The wrapped
//! service never sees an unsigned, forged or oversize request, whose body
//! is refused before it is read (the bodies here count what is pulled from
//! them); it gets verified ones with their body and a `Verified` (claims
//! and delivery headers) in the extensions.

#[path = "support/raw_http.rs"]
mod raw_http;

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::body::{Body, Bytes};
use axum::extract::DefaultBodyLimit;
use axum::routing::post;
use axum::{Extension, Router};
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt as _, Full};
use qstash::receiver::{
    Receiver, RequestVerifier, Signer, Verified, VerifiedRequestBody, VerifyLayer,
};
use tower::{Layer as _, ServiceExt as _};

const CURRENT: &str = "sig_tower_current";
const BASE: &str = "https://hooks.example.com";

fn verifier() -> RequestVerifier {
    RequestVerifier::new(Receiver::new(CURRENT, "sig_tower_next").unwrap(), BASE).unwrap()
}

fn sign(path: &str, body: &[u8]) -> String {
    Signer::new(CURRENT)
        .unwrap()
        .sign(&format!("{BASE}{path}"), body)
}

async fn raw(Extension(verified): Extension<Verified>, body: Bytes) -> String {
    format!(
        "{} {} {:?} {:?}",
        body.len(),
        verified.claims.url,
        verified.delivery.message_id,
        verified.delivery.retried
    )
}

/// `/raw` behind the layer, and `/api/raw` in a nested router with the
/// layer inside it. axum's own body limit is lifted, as the layer's docs
/// say: the layer has bounded the body already.
fn app_with(verifier: RequestVerifier) -> Router {
    let api = Router::new()
        .route("/raw", post(raw))
        .layer(DefaultBodyLimit::disable())
        .layer(VerifyLayer::new(verifier.clone()));
    Router::new()
        .route("/raw", post(raw))
        .layer(DefaultBodyLimit::disable())
        .layer(VerifyLayer::new(verifier))
        .nest("/api", api)
}

async fn text_of<B>(response: Response<B>) -> (StatusCode, String)
where
    B: http_body::Body,
    B::Error: std::fmt::Debug,
{
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(bytes.to_vec()).unwrap())
}

async fn send(path: &str, signature: Option<&str>, body: &[u8]) -> (StatusCode, String) {
    let mut builder = Request::post(path);
    if let Some(signature) = signature {
        builder = builder.header("Upstash-Signature", signature);
    }
    let request = builder.body(Body::from(body.to_vec())).unwrap();
    text_of(app_with(verifier()).oneshot(request).await.unwrap()).await
}

#[tokio::test]
async fn verified_body_and_delivery_headers_reach_the_service() {
    let body = [0u8, 1, 2, 255];
    let request = Request::post("/raw")
        .header("Upstash-Signature", sign("/raw", &body))
        .header("Upstash-Message-Id", "msg_1")
        .header("Upstash-Retried", "3")
        .body(Body::from(body.to_vec()))
        .unwrap();
    let response = app_with(verifier()).oneshot(request).await.unwrap();
    let (status, text) = text_of(response).await;
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
    let (status, text) = text_of(app_with(verifier()).oneshot(request).await.unwrap()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{text}");
    assert!(text.contains("upstash-message-id"), "{text}");
}

/// Inside a nested router the layer sees axum's stripped URI; it verifies
/// against the original one, which QStash signed.
#[tokio::test]
async fn a_nested_layer_verifies_the_full_uri() {
    let body = b"nested";
    let (status, text) = send("/api/raw", Some(&sign("/api/raw", body)), body).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    assert_eq!(text, format!("6 {BASE}/api/raw None None"));

    let (status, _) = send("/api/raw", Some(&sign("/raw", body)), body).await;
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
/// The wrapped service is called for none of them.
#[tokio::test]
async fn oversize_bodies_are_refused_before_or_at_the_limit() {
    let limit = 1024 * 1024;
    let forged = Signer::new("sig_not_ours")
        .unwrap()
        .sign(&format!("{BASE}/raw"), b"x");
    let genuine = sign("/raw", b"x");
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = calls.clone();
    let service = VerifyLayer::new(verifier().max_body_bytes(limit)).layer(tower::service_fn(
        move |_: Request<VerifiedRequestBody>| {
            counted.fetch_add(1, Ordering::SeqCst);
            async { Ok::<_, Infallible>(Response::new(Full::new(Bytes::new()))) }
        },
    ));
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
        let response = service.clone().oneshot(request).await.unwrap();
        assert_eq!(
            response.headers()["content-type"],
            "text/plain; charset=utf-8"
        );
        let (got, text) = text_of(response).await;
        assert_eq!(got, status, "{name}: {text}");
        let pulled = pulled.load(Ordering::SeqCst);
        assert!(
            pulled <= most,
            "{name}: {pulled} bytes read, at most {most} allowed"
        );
    }
    assert_eq!(calls.load(Ordering::SeqCst), 0);
}

/// Deliveries larger than axum's own body limit (2 MB) get through: the
/// layer reads up to the verifier's limit.
#[tokio::test]
async fn deliveries_larger_than_axums_default_limit_get_through() {
    let body = vec![b'y'; 3 * 1024 * 1024];
    let (status, text) = send("/raw", Some(&sign("/raw", &body)), &body).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    assert!(text.starts_with("3145728 "), "{text}");
}

/// In front of a plain hyper service on 127.0.0.1, with the `http://` base
/// URL a local service has: what the client sends as `Host` plays no part.
#[tokio::test]
async fn a_hyper_service_on_a_socket_verifies_its_deliveries() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let receiver = Receiver::new(CURRENT, "sig_tower_next").unwrap();
    let service = VerifyLayer::new(RequestVerifier::new(receiver, &base).unwrap()).layer(
        tower::service_fn(|request: Request<VerifiedRequestBody>| async move {
            let url = request
                .extensions()
                .get::<Verified>()
                .unwrap()
                .claims
                .url
                .clone();
            let body = request.into_body().collect().await?.to_bytes();
            let text = format!("{} bytes for {url}", body.len());
            Ok::<_, Infallible>(Response::new(Full::new(Bytes::from(text))))
        }),
    );
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let service = hyper_util::service::TowerToHyperService::new(service.clone());
            tokio::spawn(
                hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service),
            );
        }
    });
    let url = format!("{base}/raw");
    let (status, text) = raw_http::post_signed_for(&url, &url, CURRENT, b"xyz").await;
    assert_eq!(status, 200);
    assert_eq!(text, format!("3 bytes for {base}/raw"));
    let https = url.replace("http://", "https://");
    let (status, text) = raw_http::post_signed_for(&url, &https, CURRENT, b"xyz").await;
    assert_eq!(status, 401);
    assert_eq!(text, "token was issued for a different URL");
}
