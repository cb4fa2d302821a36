//! Publish a message and receive it, verified, on this machine.
//!
//! ```text
//! cargo run --example quickstart --features axum
//! ```
//!
//! 1. Starts a receiving service on 127.0.0.1 whose handler only sees
//!    deliveries whose `Upstash-Signature` verifies ([`VerifiedJson`]).
//! 2. Publishes a JSON message to it through [`qstash::Client`].
//! 3. Prints the delivery the service verified.
//!
//! With `QSTASH_URL` set (for example to the official local development
//! server, `npx @upstash/qstash-cli dev`, at `http://127.0.0.1:8080`), the
//! message goes through that server, with `QSTASH_TOKEN` and the signing keys
//! `QSTASH_CURRENT_SIGNING_KEY` / `QSTASH_NEXT_SIGNING_KEY` from the
//! environment (the dev server's defaults if unset). Without it, the example
//! starts a small stand-in for that server, which signs deliveries with
//! [`Signer`] exactly as QStash does, so it runs with no network at all.

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use qstash::receiver::{Receiver, RequestVerifier, Signer, VerifiedJson};
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

/// The local development server's documented default credentials (public).
const DEV_TOKEN: &str = "eyJVc2VySUQiOiJkZWZhdWx0VXNlciIsIlBhc3N3b3JkIjoiZGVmYXVsdFBhc3N3b3JkIn0=";
const DEV_CURRENT_SIGNING_KEY: &str = "sig_7kYjw48mhY7kAjqNGcy6cr29RJ6r";
const DEV_NEXT_SIGNING_KEY: &str = "sig_5ZB6DVzB1wjE8S6rZ7eenA8Pdnhs";

#[derive(Debug, Serialize, Deserialize)]
struct Job {
    id: u64,
    task: String,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());

    // 1. The receiving service.
    let receiver = Receiver::new(
        &env("QSTASH_CURRENT_SIGNING_KEY").unwrap_or_else(|| DEV_CURRENT_SIGNING_KEY.into()),
        &env("QSTASH_NEXT_SIGNING_KEY").unwrap_or_else(|| DEV_NEXT_SIGNING_KEY.into()),
    )?;
    let service = TcpListener::bind("127.0.0.1:0").await?;
    let service_url = format!("http://{}", service.local_addr()?);
    // `sub` is checked against the URL QStash was asked to call.
    let verifier = RequestVerifier::new(receiver).public_base_url(&service_url);
    let (deliveries, mut delivered) = mpsc::channel(1);
    let app = Router::new()
        .route(
            "/jobs",
            post(
                move |VerifiedJson { value, claims }: VerifiedJson<Job>| async move {
                    let _ = deliveries.send((value, claims)).await;
                    StatusCode::OK
                },
            ),
        )
        .with_state(verifier);
    tokio::spawn(async move { axum::serve(service, app).await });

    // 2. Publish.
    let client = match env("QSTASH_URL") {
        Some(_) => qstash::ClientBuilder::from_env()?
            .token(env("QSTASH_TOKEN").unwrap_or_else(|| DEV_TOKEN.into()))
            .build()?,
        None => {
            let stand_in = start_stand_in().await?;
            println!("no QSTASH_URL set: using a local stand-in for QStash at http://{stand_in}");
            qstash::Client::builder()
                .base_url(format!("http://{stand_in}"))
                .token(DEV_TOKEN)
                .build()?
        }
    };
    let job = Job {
        id: 42,
        task: "resize-image".into(),
    };
    let published = client
        .api()
        .publish_message()
        .destination(format!("{service_url}/jobs"))
        .content_type("application/json")
        .body(serde_json::to_vec(&job)?)
        .send()
        .await?
        .into_inner();
    println!("published to {service_url}/jobs: {published:?}");

    // 3. The verified delivery.
    let (job, claims) = tokio::time::timeout(Duration::from_secs(30), delivered.recv())
        .await?
        .ok_or("the service stopped before a delivery arrived")?;
    println!(
        "verified delivery: {job:?}, signed with the {:?} key for {}",
        claims.key, claims.url
    );
    Ok(())
}

/// Accepts `POST /v2/publish/<destination>` with the dev token, answers with
/// a message id, and delivers the body to the destination with an
/// `Upstash-Signature` made by [`Signer`], as QStash does.
async fn start_stand_in() -> Result<SocketAddr, Box<dyn std::error::Error>> {
    #[derive(Clone)]
    struct StandIn {
        signer: Signer,
        http: reqwest::Client,
    }

    async fn publish(
        State(stand_in): State<StandIn>,
        Path(destination): Path<String>,
        headers: HeaderMap,
        body: Bytes,
    ) -> Result<axum::Json<serde_json::Value>, (StatusCode, String)> {
        let authorized = headers
            .get("authorization")
            .is_some_and(|value| value == format!("Bearer {DEV_TOKEN}").as_str());
        if !authorized {
            return Err((StatusCode::UNAUTHORIZED, "bad token".into()));
        }
        let signature = stand_in.signer.sign(&destination, &body);
        let mut delivery = stand_in
            .http
            .post(&destination)
            .header("upstash-signature", signature)
            .body(body);
        if let Some(content_type) = headers.get("content-type") {
            delivery = delivery.header("content-type", content_type);
        }
        let response = delivery
            .send()
            .await
            .map_err(|e| (StatusCode::BAD_GATEWAY, e.to_string()))?;
        if !response.status().is_success() {
            return Err((
                StatusCode::BAD_GATEWAY,
                format!("delivery got {}", response.status()),
            ));
        }
        Ok(axum::Json(
            serde_json::json!({ "messageId": "msg_local_stand_in_1" }),
        ))
    }

    // This reqwest client is built before any qstash::Client.
    qstash::install_crypto_provider();
    let stand_in = StandIn {
        signer: Signer::new(DEV_CURRENT_SIGNING_KEY)?,
        http: reqwest::Client::new(),
    };
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    let app = Router::new()
        .route("/v2/publish/{*destination}", post(publish))
        .with_state(stand_in);
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(address)
}
