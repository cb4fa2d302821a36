//! The actix-web extractors, as `tests/receiver_axum.rs` tests the axum
//! ones: through an app without a socket, and once over a real one on
//! 127.0.0.1. Unsigned, forged and oversize requests are refused before
//! their bodies are read (the payloads here count what is pulled from
//! them); legitimate deliveries larger than actix-web's 256 kB default get
//! through; QStash's delivery headers reach the handler.

#[path = "support/raw_http.rs"]
mod raw_http;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use actix_web::body::MessageBody as _;
use actix_web::dev::{Payload, Service as _};
use actix_web::error::PayloadError;
use actix_web::http::StatusCode;
use actix_web::test::{TestRequest, init_service};
use actix_web::web::{self, Bytes};
use actix_web::{App, HttpServer};
use futures_core::Stream;
use qstash::receiver::{Receiver, RequestVerifier, Signer, VerifiedBody, VerifiedJson};

const CURRENT: &str = "sig_actix_current";
const BASE: &str = "https://hooks.example.com";

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

async fn json(VerifiedJson { value, claims, .. }: VerifiedJson<Job>) -> String {
    format!("job {} key {:?}", value.id, claims.key)
}

fn verifier() -> RequestVerifier {
    RequestVerifier::new(Receiver::new(CURRENT, "sig_actix_next").unwrap(), BASE).unwrap()
}

fn sign(path: &str, body: &[u8]) -> String {
    Signer::new(CURRENT)
        .unwrap()
        .sign(&format!("{BASE}{path}"), body)
}

/// Runs `test` on actix-web's runtime.
fn run<F: Future>(test: F) -> F::Output {
    actix_web::rt::System::new().block_on(test)
}

/// The routes of every test: `/raw`, and `/api/json` in a scope.
fn routes(config: &mut web::ServiceConfig) {
    config
        .route("/raw", web::post().to(raw))
        .service(web::scope("/api").route("/json", web::post().to(json)));
}

/// `request` (with `payload` instead of its own, if given) through an app
/// verifying with `verifier`; status and body.
async fn call(
    verifier: RequestVerifier,
    request: TestRequest,
    payload: Option<Payload>,
) -> (StatusCode, String) {
    let app = init_service(App::new().app_data(verifier).configure(routes)).await;
    let mut request = request.to_request();
    if let Some(payload) = payload {
        request = request.replace_payload(payload).0;
    }
    let response = app.call(request).await.unwrap();
    let status = response.status();
    let body = response.into_body().try_into_bytes().unwrap();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

async fn send(path: &str, signature: Option<&str>, body: &[u8]) -> (StatusCode, String) {
    let mut request = TestRequest::post().uri(path);
    if let Some(signature) = signature {
        request = request.insert_header(("Upstash-Signature", signature));
    }
    call(verifier(), request.set_payload(body.to_vec()), None).await
}

#[test]
fn verified_body_and_delivery_headers_reach_the_handler() {
    run(async {
        let body = [0u8, 1, 2, 255];
        let request = TestRequest::post()
            .uri("/raw")
            .insert_header(("Upstash-Signature", sign("/raw", &body)))
            .insert_header(("Upstash-Message-Id", "msg_1"))
            .insert_header(("Upstash-Retried", "3"))
            .set_payload(body.to_vec());
        let (status, text) = call(verifier(), request, None).await;
        assert_eq!(status, StatusCode::OK, "{text}");
        assert_eq!(text, format!("4 {BASE}/raw Some(\"msg_1\") Some(3)"));
    });
}

#[test]
fn unverified_requests_get_401_with_a_reason() {
    run(async {
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

        let request = TestRequest::post()
            .uri("/raw")
            .insert_header(("Upstash-Signature", sign("/raw", b"x")))
            .append_header(("Upstash-Message-Id", "msg_1"))
            .append_header(("Upstash-Message-Id", "msg_2"))
            .set_payload("x");
        let (status, text) = call(verifier(), request, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{text}");
        assert!(text.contains("upstash-message-id"), "{text}");

        // Two signatures: which one counts would be ambiguous.
        let request = TestRequest::post()
            .uri("/raw")
            .append_header(("Upstash-Signature", sign("/raw", b"x")))
            .append_header(("Upstash-Signature", sign("/raw", b"x")))
            .set_payload("x");
        let (status, text) = call(verifier(), request, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{text}");
    });
}

#[test]
fn json_is_parsed_after_verification_with_the_full_uri() {
    run(async {
        let body = br#"{"id":42}"#;
        // In a scope: the signed URL is the full one.
        let (status, text) = send("/api/json", Some(&sign("/api/json", body)), body).await;
        assert_eq!(
            (status, text.as_str()),
            (StatusCode::OK, "job 42 key Current")
        );

        let (status, _) = send("/api/json", Some(&sign("/json", body)), body).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);

        let bad = b"{\"id\":\"x\"}";
        let (status, text) = send("/api/json", Some(&sign("/api/json", bad)), bad).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{text}");

        let (status, _) = send("/api/json", Some(&sign("/api/json", body)), bad).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    });
}

/// The verifier may also be shared as `web::Data`; an app with none
/// answers 500 and verifies nothing.
#[test]
fn the_verifier_comes_from_the_app_data() {
    run(async {
        let body = b"x";
        let request = || {
            TestRequest::post()
                .uri("/raw")
                .insert_header(("Upstash-Signature", sign("/raw", body)))
                .set_payload(body.to_vec())
                .to_request()
        };
        let app = init_service(
            App::new()
                .app_data(web::Data::new(verifier()))
                .configure(routes),
        )
        .await;
        let response = app.call(request()).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);

        let app = init_service(App::new().configure(routes)).await;
        let response = app.call(request()).await.unwrap();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let text = response.into_body().try_into_bytes().unwrap();
        assert_eq!(text, "no RequestVerifier in the app data");
    });
}

const CHUNK: usize = 64 * 1024;
static FILL: [u8; CHUNK] = [b'x'; CHUNK];

type Chunks = Pin<Box<dyn Stream<Item = Result<Bytes, PayloadError>>>>;

/// A payload without end that counts the bytes pulled from it.
fn endless(pulled: Arc<AtomicUsize>) -> Payload {
    let chunks: Chunks = Box::pin(futures_util::stream::repeat_with(move || {
        pulled.fetch_add(CHUNK, Ordering::SeqCst);
        Ok(Bytes::from_static(&FILL))
    }));
    Payload::from(chunks)
}

/// An endless body, unsigned or with a token that does not verify, is
/// refused without a byte of it read; signed, it is read up to the limit.
#[test]
fn oversize_bodies_are_refused_before_or_at_the_limit() {
    run(async {
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
            let mut request = TestRequest::post().uri("/raw");
            if let Some(signature) = signature {
                request = request.insert_header(("Upstash-Signature", signature.as_str()));
            }
            if let Some(length) = length {
                request = request.insert_header(("Content-Length", length));
            }
            let payload = endless(pulled.clone());
            let (got, text) = call(verifier().max_body_bytes(limit), request, Some(payload)).await;
            assert_eq!(got, status, "{name}: {text}");
            let pulled = pulled.load(Ordering::SeqCst);
            assert!(
                pulled <= most,
                "{name}: {pulled} bytes read, at most {most} allowed"
            );
        }
    });
}

/// actix-web's own payload limit (256 kB) would refuse this legitimate
/// delivery, which QStash would retry into the DLQ; the verifier's default
/// takes it.
#[test]
fn deliveries_larger_than_actix_webs_default_limit_get_through() {
    run(async {
        let body = vec![b'y'; 3 * 1024 * 1024];
        let (status, text) = send("/raw", Some(&sign("/raw", &body)), &body).await;
        assert_eq!(status, StatusCode::OK, "{text}");
        assert!(text.starts_with("3145728 "), "{text}");
    });
}

/// Over a socket on 127.0.0.1, with the `http://` base URL a local
/// service has: what the client sends as `Host` plays no part.
#[test]
fn a_local_http_service_verifies_its_deliveries() {
    run(async {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let receiver = Receiver::new(CURRENT, "sig_actix_next").unwrap();
        let verifier = RequestVerifier::new(receiver, &base).unwrap();
        let server =
            HttpServer::new(move || App::new().app_data(verifier.clone()).configure(routes))
                .workers(1)
                .listen(listener)
                .unwrap()
                .run();
        let handle = server.handle();
        actix_web::rt::spawn(server);
        let url = format!("{base}/raw");
        let (status, _) = raw_http::post_signed_for(&url, &url, CURRENT, b"x").await;
        assert_eq!(status, 200);
        let https = url.replace("http://", "https://");
        let (status, _) = raw_http::post_signed_for(&url, &https, CURRENT, b"x").await;
        assert_eq!(status, 401);
        handle.stop(false).await;
    });
}
