//! Publish a message and receive it, verified, on this machine.
//!
//! ```text
//! cargo run --example quickstart --features dev-server,axum
//! ```
//!
//! 1. With no `QSTASH_TOKEN` set, starts the embedded dev server
//!    ([`DevServer`]) on 127.0.0.1; no network, no account.
//! 2. Starts a receiving service on 127.0.0.1 whose handler only sees
//!    deliveries whose `Upstash-Signature` verifies ([`VerifiedJson`]).
//! 3. Publishes a JSON message to it through [`qstash::Client`].
//! 4. Prints the trail: the message id, the delivery, its verification and
//!    the message's log states.
//!
//! With `QSTASH_TOKEN` set (and `QSTASH_URL`, e.g. `http://127.0.0.1:8080`
//! for a dev server started elsewhere), the same flow runs against that
//! server, verifying with `QSTASH_CURRENT_SIGNING_KEY` /
//! `QSTASH_NEXT_SIGNING_KEY` (the dev server's defaults if unset). QStash
//! itself cannot reach a service on 127.0.0.1, so against the cloud the
//! delivery step waits in vain.

use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::post;
use qstash::dev_server::{DEFAULT_CURRENT_SIGNING_KEY, DEFAULT_NEXT_SIGNING_KEY, DevServer};
use qstash::messages::{Destination, Message};
use qstash::receiver::{Receiver, RequestVerifier, VerifiedJson};
use qstash::types::LogEntryState;
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

#[derive(Debug, Serialize, Deserialize)]
struct Job {
    id: u64,
    task: String,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());

    // 1. QStash: the one in the environment, or the embedded dev server.
    let (client, receiver, dev_server) = match env("QSTASH_TOKEN") {
        Some(_) => {
            let receiver = Receiver::new(
                &env("QSTASH_CURRENT_SIGNING_KEY").unwrap_or(DEFAULT_CURRENT_SIGNING_KEY.into()),
                &env("QSTASH_NEXT_SIGNING_KEY").unwrap_or(DEFAULT_NEXT_SIGNING_KEY.into()),
            )?;
            let client = qstash::Client::from_env()?;
            println!("QSTASH_TOKEN is set: using QStash at {}", client.base_url());
            (client, receiver, None)
        }
        None => {
            let server = DevServer::start().await?;
            println!(
                "no QSTASH_TOKEN set: started the embedded dev server at {}",
                server.url()
            );
            (server.client()?, server.receiver()?, Some(server))
        }
    };

    // 2. The receiving service.
    let service = TcpListener::bind("127.0.0.1:0").await?;
    let service_url = format!("http://{}", service.local_addr()?);
    // `sub` is checked against the URL QStash was asked to call.
    let verifier = RequestVerifier::new(receiver, &service_url)?;
    let (deliveries, mut delivered) = mpsc::channel(1);
    let app = Router::new()
        .route(
            "/jobs",
            post(
                move |VerifiedJson {
                          value,
                          claims,
                          delivery,
                          ..
                      }: VerifiedJson<Job>| async move {
                    let _ = deliveries.send((value, claims, delivery)).await;
                    StatusCode::OK
                },
            ),
        )
        .with_state(verifier);
    tokio::spawn(async move { axum::serve(service, app).await });

    // 3. Publish.
    let job = Job {
        id: 42,
        task: "resize-image".into(),
    };
    let message = Message::new(Destination::url(format!("{service_url}/jobs"))).json(&job);
    let published = client.messages().publish(message).send().await?;
    let message_id = published
        .message_ids()
        .first()
        .map(|id| id.to_string())
        .ok_or("no message id in the answer")?;
    println!("1. published {message_id} to {service_url}/jobs");

    // 4. The verified delivery, then the message's log trail.
    let (job, claims, delivery) = tokio::time::timeout(Duration::from_secs(30), delivered.recv())
        .await?
        .ok_or("the service stopped before a delivery arrived")?;
    // The message id is the same on every retry: the key to handle it once.
    println!(
        "2. delivered: {job:?} as message {}, after {} retries",
        delivery.message_id.as_deref().unwrap_or("(none)"),
        delivery.retried.unwrap_or(0)
    );
    println!(
        "3. verified: signed with the {:?} signing key for {}",
        claims.key, claims.url
    );
    let delivered_logged = |entry: &qstash::types::LogEntry| {
        entry.message_id.as_deref() == Some(&*message_id)
            && entry.state == Some(LogEntryState::Delivered)
    };
    let mut logs = client
        .api()
        .list_logs()
        .message_id(&message_id)
        .send()
        .await?
        .into_inner();
    if let Some(server) = &dev_server {
        server.wait_for_log(delivered_logged).await;
        logs = client
            .api()
            .list_logs()
            .message_id(&message_id)
            .send()
            .await?
            .into_inner();
    } else {
        // A remote server records the delivery after our service answered.
        for _ in 0..50 {
            if logs.logs.iter().any(delivered_logged) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
            logs = client
                .api()
                .list_logs()
                .message_id(&message_id)
                .send()
                .await?
                .into_inner();
        }
    }
    // Newest first.
    let trail: Vec<String> = logs
        .logs
        .iter()
        .rev()
        .filter_map(|entry| entry.state.as_ref().map(|state| state.to_string()))
        .collect();
    println!("4. logs: {}", trail.join(" -> "));
    Ok(())
}
