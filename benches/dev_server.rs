//! Deliveries per second through the dev server to a local endpoint, with
//! 1,000 messages in flight, next to the floors it cannot go below: the same
//! 1,000 requests sent straight to the endpoint with a bare
//! `reqwest::Client`, and signing 1,000 deliveries.
//!
//! `cargo bench --features dev-server --bench dev_server`. Each iteration
//! publishes 1,000 messages with a delay (on a manual clock, so none is
//! due), then advances the clock: all 1,000 become due at once, and the time
//! until the endpoint has received all of them is measured.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use qstash::dev_server::{DevClock, DevServer};
use qstash::receiver::Signer;
use qstash::types::BatchMessagesBodyItem;
use tokio::net::TcpListener;
use tokio::sync::mpsc;

const IN_FLIGHT: usize = 1_000;
const BODY: &str = r#"{"order":12345,"items":["a","b","c"],"note":"dev server benchmark"}"#;

/// An endpoint that answers 200 and reports each request.
async fn endpoint() -> (String, mpsc::UnboundedReceiver<()>) {
    async fn receive(State(sender): State<mpsc::UnboundedSender<()>>) -> StatusCode {
        let _ = sender.send(());
        StatusCode::OK
    }
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!(
        "http://{}/deliveries",
        listener.local_addr().expect("address")
    );
    let (sender, received) = mpsc::unbounded_channel();
    let app = Router::new().fallback(receive).with_state(sender);
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, received)
}

async fn receive_all(received: &mut mpsc::UnboundedReceiver<()>) {
    for _ in 0..IN_FLIGHT {
        received.recv().await.expect("the endpoint is running");
    }
}

fn deliveries(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let (server, url, received) = runtime.block_on(async {
        let server = DevServer::builder()
            .clock(DevClock::manual())
            .start()
            .await
            .expect("the dev server starts");
        let (url, received) = endpoint().await;
        (server, url, received)
    });
    let server = Arc::new(server);
    let received = Arc::new(tokio::sync::Mutex::new(received));
    let client = server.client().expect("a client");
    let batch: Vec<BatchMessagesBodyItem> = (0..IN_FLIGHT)
        .map(|_| {
            serde_json::from_value(serde_json::json!({
                "destination": url,
                "body": BODY,
                "headers": {"Upstash-Delay": "1s", "Content-Type": "application/json"},
            }))
            .expect("a batch item")
        })
        .collect();

    let mut group = c.benchmark_group("dev_server");
    group.throughput(Throughput::Elements(IN_FLIGHT as u64));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(10));

    group.bench_function("deliver 1000 in flight", |b| {
        b.to_async(&runtime).iter_custom(|iters| {
            let (server, client, batch, received) = (
                Arc::clone(&server),
                client.clone(),
                batch.clone(),
                Arc::clone(&received),
            );
            async move {
                let mut received = received.lock().await;
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    client
                        .api()
                        .batch_messages()
                        .body(batch.clone())
                        .send()
                        .await
                        .expect("batch");
                    let start = Instant::now();
                    server.clock().advance(Duration::from_secs(1));
                    receive_all(&mut received).await;
                    total += start.elapsed();
                }
                total
            }
        });
    });

    // The dev server's delivery client carries its own TLS configuration;
    // a bare reqwest client needs the process-wide provider (with a rustls
    // feature), though this one posts plain HTTP.
    qstash::install_crypto_provider();
    let http = reqwest::Client::new();
    group.bench_function("floor: 1000 concurrent bare reqwest posts", |b| {
        b.to_async(&runtime).iter_custom(|iters| {
            let (http, url, received) = (http.clone(), url.clone(), Arc::clone(&received));
            async move {
                let mut received = received.lock().await;
                let start = Instant::now();
                for _ in 0..iters {
                    let requests: Vec<_> = (0..IN_FLIGHT)
                        .map(|_| tokio::spawn(http.post(&url).body(BODY).send()))
                        .collect();
                    for request in requests {
                        let _ = request.await;
                    }
                    receive_all(&mut received).await;
                }
                start.elapsed()
            }
        });
    });

    let signer = Signer::new("sig_7kYjw48mhY7kAjqNGcy6cr29RJ6r").expect("a key");
    group.bench_function("floor: signing 1000 deliveries", |b| {
        b.iter(|| {
            for _ in 0..IN_FLIGHT {
                std::hint::black_box(signer.sign(&url, BODY.as_bytes()));
            }
        });
    });
    group.finish();
}

criterion_group!(benches, deliveries);
criterion_main!(benches);
