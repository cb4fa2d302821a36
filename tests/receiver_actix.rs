//! The actix-web extractors, as `tests/receiver_axum.rs` tests the axum
//! ones: the cases every integration must pass
//! (`tests/support/receiver_cases.rs`: unsigned, forged and oversize
//! requests refused before their bodies are read, legitimate deliveries
//! larger than actix-web's 256 kB default let through, QStash's delivery
//! headers passed to the handler) and the JSON extractor's, through an app
//! without a socket, with the verifier as plain app data and as
//! `web::Data`; and once over a real socket on 127.0.0.1.

#[path = "support/raw_http.rs"]
mod raw_http;
#[path = "support/receiver_cases.rs"]
mod receiver_cases;

use std::future::Future;
use std::pin::Pin;

use actix_web::body::MessageBody as _;
use actix_web::dev::{Payload, Service as _};
use actix_web::error::PayloadError;
use actix_web::test::{TestRequest, init_service};
use actix_web::web::{self, Bytes};
use actix_web::{App, HttpServer};
use futures_core::Stream;
use qstash::receiver::{Receiver, RequestVerifier, VerifiedBody, VerifiedJson};
use receiver_cases::{
    Body, CASES, CURRENT, Case, JSON_CASES, NEXT, RequestBody, Signature, check_all, handler_line,
};

#[derive(serde::Deserialize)]
struct Job {
    id: u64,
}

/// App data of the handlers' own, next to the verifier.
struct Greeting(&'static str);

async fn raw(delivery: VerifiedBody) -> String {
    handler_line(&delivery.body, &delivery.claims, &delivery.delivery)
}

async fn json(
    greeting: web::Data<Greeting>,
    VerifiedJson { value, claims, .. }: VerifiedJson<Job>,
) -> String {
    format!("{} job {} key {:?}", greeting.0, value.id, claims.key)
}

/// Runs `test` on actix-web's runtime.
fn run<F: Future>(test: F) -> F::Output {
    actix_web::rt::System::new().block_on(test)
}

/// The routes of every test: `/raw`, and `/raw` and `/json` in a scope
/// under `/api`.
fn routes(config: &mut web::ServiceConfig) {
    config.route("/raw", web::post().to(raw)).service(
        web::scope("/api")
            .route("/raw", web::post().to(raw))
            .route("/json", web::post().to(json)),
    );
}

/// How the app holds the request's verifier.
enum Shared {
    AppData,
    WebData,
    Nowhere,
}

type Chunks = Pin<Box<dyn Stream<Item = Result<Bytes, PayloadError>>>>;

/// One case's request through an app holding its verifier as `shared`
/// says; status and body.
async fn send(case: receiver_cases::Request, shared: Shared) -> (u16, String) {
    let app = App::new()
        .app_data(web::Data::new(Greeting("hi")))
        .configure(routes);
    let app = match shared {
        Shared::AppData => init_service(app.app_data(case.verifier)).await,
        Shared::WebData => init_service(app.app_data(web::Data::new(case.verifier))).await,
        Shared::Nowhere => init_service(app).await,
    };
    let (head, body) = case.request.into_parts();
    let mut request = TestRequest::post().uri(head.uri.path());
    for (name, value) in &head.headers {
        request = request.append_header((name.as_str(), value.as_bytes()));
    }
    let request = match body {
        RequestBody::Bytes(bytes) => request.set_payload(bytes).to_request(),
        RequestBody::Endless(endless) => {
            let chunks: Chunks = Box::pin(endless.into_stream());
            request
                .to_request()
                .replace_payload(Payload::from(chunks))
                .0
        }
    };
    let response = app.call(request).await.unwrap();
    let status = response.status();
    let body = response.into_body().try_into_bytes().unwrap();
    (status.as_u16(), String::from_utf8(body.to_vec()).unwrap())
}

#[test]
fn every_receiver_case() {
    run(check_all(CASES, |case| send(case, Shared::AppData)));
}

#[test]
fn every_json_case() {
    run(check_all(JSON_CASES, |case| send(case, Shared::AppData)));
}

/// The verifier may also be shared as `web::Data`; an app with none
/// answers 500 and verifies nothing.
#[test]
fn the_verifier_comes_from_the_app_data() {
    run(check_all(CASES.iter().chain(JSON_CASES), |case| {
        send(case, Shared::WebData)
    }));
    let none = Case {
        name: "no verifier in the app data: 500",
        path: "/raw",
        signature: Signature::Valid,
        headers: &[],
        body: Body::Bytes(b"x"),
        content_length: None,
        limit: None,
        status: 500,
        text: "no RequestVerifier in the app data",
    };
    run(check_all([&none], |case| send(case, Shared::Nowhere)));
}

/// Over a socket on 127.0.0.1, with the `http://` base URL a local
/// service has: what the client sends as `Host` plays no part.
#[test]
fn a_local_http_service_verifies_its_deliveries() {
    run(async {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let receiver = Receiver::new(CURRENT, NEXT).unwrap();
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
