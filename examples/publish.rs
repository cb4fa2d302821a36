//! Publishing with QStash's options, and what goes on the wire.
//!
//! ```text
//! cargo run --example publish
//! ```
//!
//! Publishes one message with a JSON body, a delay, retries with a backoff
//! expression, a forwarded header, flow control, a failure callback with
//! settings of its own, labels and redaction; then a batch and a schedule.
//!
//! With `QSTASH_TOKEN` set (and optionally `QSTASH_URL`), it talks to that
//! server and prints what QStash answered. Without it, it starts a local
//! stand-in on 127.0.0.1 that prints each request as QStash would receive
//! it, so it runs with no account and no network.

use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::Request;
use axum::http::Method;
use axum::response::{IntoResponse, Json};
use qstash::Client;
use qstash::messages::{Callback, Destination, FlowControl, Message};
use serde_json::json;
use tokio::net::TcpListener;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let client = match std::env::var("QSTASH_TOKEN").ok().filter(|t| !t.is_empty()) {
        Some(_) => Client::from_env()?,
        None => {
            let base_url = start_stand_in().await?;
            println!("No QSTASH_TOKEN: publishing to a local stand-in at {base_url}\n");
            Client::builder()
                .token("local")
                .base_url(base_url)
                .build()?
        }
    };

    let order = json!({ "order": 42, "items": ["tea", "cake"] });
    let message = Message::new(Destination::url("https://example.com/api/orders"))
        .json(&order)
        .delay(Duration::from_secs(90))
        .retries(4)
        .retry_delay("max(1000, pow(2, retried) * 500)")
        .timeout(Duration::from_secs(20))
        .header("X-Tenant", "acme")
        .flow_control(
            FlowControl::new("acme")
                .parallelism(2)
                .rate(10)
                .period(Duration::from_secs(60)),
        )
        .failure_callback(
            Callback::new("https://example.com/api/orders/failed")
                .retries(1)
                .header("Authorization", "Bearer callback-secret"),
        )
        .label("orders")
        .label("eu")
        .redact_header("Authorization");
    let published = client.messages().publish(message).send().await?;
    println!("published: {:?}\n", published.message_ids());

    let results = client
        .messages()
        .batch()
        .publish(Message::new(Destination::url("https://example.com/api/a")).text("first"))
        .enqueue(
            "emails",
            Message::new(Destination::url("https://example.com/api/b")).text("second"),
        )
        .send()
        .await?;
    println!("batch: {} results\n", results.len());

    let report =
        Message::new(Destination::url("https://example.com/api/report")).method(http::Method::GET);
    let schedule = client
        .schedules()
        .create("CRON_TZ=Europe/Berlin 0 6 * * MON-FRI", report)
        .schedule_id("weekday-report")
        .send()
        .await?;
    println!("schedule: {:?}", schedule.schedule_id);
    Ok(())
}

/// A server that prints each request and answers as QStash would.
async fn start_stand_in() -> std::io::Result<String> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let base_url = format!("http://{}", listener.local_addr()?);
    let app = Router::new().fallback(print_and_answer);
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(base_url)
}

async fn print_and_answer(request: Request) -> impl IntoResponse {
    let (parts, body) = request.into_parts();
    let body: Bytes = axum::body::to_bytes(body, 1 << 20)
        .await
        .unwrap_or_default();
    println!("{} {}", parts.method, parts.uri);
    for (name, value) in &parts.headers {
        let name = name.as_str();
        if name.starts_with("upstash-") || name == "content-type" {
            println!("  {name}: {}", value.to_str().unwrap_or("<binary>"));
        }
    }
    println!("  body: {}", String::from_utf8_lossy(&body));
    let path = parts.uri.path();
    if path == "/v2/batch" {
        let count = serde_json::from_slice::<Vec<serde_json::Value>>(&body).map_or(0, |v| v.len());
        let answers: Vec<_> = (0..count)
            .map(|i| json!({ "messageId": format!("msg_local_{i}") }))
            .collect();
        Json(json!(answers))
    } else if path.starts_with("/v2/schedules/") && parts.method == Method::POST {
        Json(json!({ "scheduleId": "weekday-report" }))
    } else {
        Json(json!({ "messageId": "msg_local" }))
    }
}
