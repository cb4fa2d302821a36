//! The tower layer, as `tests/receiver_axum.rs` tests the extractors: the
//! cases every integration must pass (`tests/support/receiver_cases.rs`)
//! in front of an axum router (nested too), and their refusals in front of
//! a bare service, without a socket; and in front of a hyper service on
//! 127.0.0.1. The wrapped service never sees an unsigned, forged or
//! oversize request, whose body is refused before it is read; it gets
//! verified ones with their body and a `Verified` (claims and delivery
//! headers) in the extensions.

#[path = "support/raw_http.rs"]
mod raw_http;
#[path = "support/receiver_cases.rs"]
mod receiver_cases;

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::body::{Body, Bytes};
use axum::extract::DefaultBodyLimit;
use axum::routing::post;
use axum::{Extension, Router};
use http::{Request, Response};
use http_body_util::{BodyExt as _, Full};
use qstash::receiver::{Receiver, RequestVerifier, Verified, VerifiedRequestBody, VerifyLayer};
use receiver_cases::{CASES, CURRENT, NEXT, RequestBody, check_all, handler_line};
use tower::{Layer as _, ServiceExt as _};

async fn raw(Extension(verified): Extension<Verified>, body: Bytes) -> String {
    handler_line(&body, &verified.claims, &verified.delivery)
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

/// One case's verifier, and its request with an axum body.
fn request_of(case: receiver_cases::Request) -> (RequestVerifier, Request<Body>) {
    let request = case.request.map(|body| match body {
        RequestBody::Bytes(bytes) => Body::from(bytes),
        RequestBody::Endless(endless) => Body::from_stream(endless.into_stream::<std::io::Error>()),
    });
    (case.verifier, request)
}

async fn text_of<B>(response: Response<B>) -> (u16, String)
where
    B: http_body::Body,
    B::Error: std::fmt::Debug,
{
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status.as_u16(), String::from_utf8(bytes.to_vec()).unwrap())
}

/// One case's request through the layered router; status and body.
async fn send(case: receiver_cases::Request) -> (u16, String) {
    let (verifier, request) = request_of(case);
    text_of(app_with(verifier).oneshot(request).await.unwrap()).await
}

#[tokio::test]
async fn every_receiver_case() {
    check_all(CASES, send).await;
}

/// Every refusal of the table, in front of a bare service: the service is
/// called for none of them, and the reason comes as plain text.
#[tokio::test]
async fn a_bare_service_never_sees_a_refused_request() {
    let calls = Arc::new(AtomicUsize::new(0));
    let send = |case: receiver_cases::Request| {
        let calls = calls.clone();
        async move {
            let (verifier, request) = request_of(case);
            let counted = calls.clone();
            let service = VerifyLayer::new(verifier).layer(tower::service_fn(
                move |_: Request<VerifiedRequestBody>| {
                    counted.fetch_add(1, Ordering::SeqCst);
                    async { Ok::<_, Infallible>(Response::new(Full::new(Bytes::new()))) }
                },
            ));
            let response = service.oneshot(request).await.unwrap();
            let content_type = response.headers()["content-type"].clone();
            let (status, text) = text_of(response).await;
            if calls.swap(0, Ordering::SeqCst) != 0 {
                (status, format!("the service was called: {text}"))
            } else if content_type != "text/plain; charset=utf-8" {
                (status, format!("content-type {content_type:?}: {text}"))
            } else {
                (status, text)
            }
        }
    };
    check_all(CASES.iter().filter(|case| case.status != 200), send).await;
}

/// In front of a plain hyper service on 127.0.0.1, with the `http://` base
/// URL a local service has: what the client sends as `Host` plays no part.
#[tokio::test]
async fn a_hyper_service_on_a_socket_verifies_its_deliveries() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let receiver = Receiver::new(CURRENT, NEXT).unwrap();
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
