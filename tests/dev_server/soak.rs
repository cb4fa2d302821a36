//! Soak: 200,000 messages through the `qstash-dev-server` binary (default
//! limits) to a local sink, published with `qstash::Client` (so each
//! carries a deduplication id, as every publish of the crate's client
//! does). Prints the server's resident memory at every 50,000 deliveries
//! and the end-to-end throughput of each 50,000 slice, against the targets:
//! memory flat once retention is reached (at most 150 MiB), the last
//! slice's throughput at least 90% of the first's.
//!
//! Not part of the default test run:
//! `cargo test --all-features --test dev_server soak -- --ignored --nocapture`
//! (`QSTASH_SOAK_BINARY=<path>` runs another build of the binary).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Path, State};
use futures_util::StreamExt;
use qstash::messages::{Destination, Message};
use tokio::net::TcpListener;

const MESSAGES: usize = 200_000;
const SLICE: usize = 50_000;
const IN_FLIGHT: usize = 64;

/// Deliveries per message number, and how many arrived in all.
struct Sink {
    seen: Vec<AtomicU8>,
    delivered: AtomicUsize,
}

async fn receive(State(sink): State<Arc<Sink>>, Path(n): Path<usize>) {
    if let Some(count) = sink.seen.get(n) {
        count.fetch_add(1, Ordering::Relaxed);
    }
    sink.delivered.fetch_add(1, Ordering::Relaxed);
}

/// The binary, running; stopped when dropped.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A process's resident memory now, from /proc (Linux), in MiB.
fn rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kib| kib.parse::<f64>().ok())
        .map_or(f64::NAN, |kib| kib / 1024.0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a soak benchmark: run it with --ignored --nocapture"]
async fn soak_200_000_messages_through_the_binary() {
    qstash::install_crypto_provider();
    let binary = std::env::var("QSTASH_SOAK_BINARY")
        .unwrap_or_else(|_| env!("CARGO_BIN_EXE_qstash-dev-server").to_owned());
    let mut child = Command::new(&binary)
        .args(["--port", "0"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let stdout = child.stdout.take().expect("piped stdout");
    let server = Server(child);
    let pid = server.0.id();
    // Read to the end on a thread of its own, so the binary never writes
    // to a closed pipe; the URL comes back on a channel.
    let (found, url) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let mut found = Some(found);
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(url) = line.strip_prefix("QSTASH_URL=")
                && let Some(sender) = found.take()
            {
                let _ = sender.send(url.to_owned());
            }
        }
    });
    let url = url.await.expect("the binary prints its URL");

    let sink = Arc::new(Sink {
        seen: (0..MESSAGES).map(|_| AtomicU8::new(0)).collect(),
        delivered: AtomicUsize::new(0),
    });
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sink_url = format!("http://{}", listener.local_addr().unwrap());
    let app = Router::new()
        .route("/{n}", axum::routing::post(receive))
        .with_state(Arc::clone(&sink));
    tokio::spawn(async move { axum::serve(listener, app).await });

    let client = qstash::Client::builder()
        .base_url(&url)
        .token(qstash::dev_server::DEFAULT_TOKEN)
        .build()
        .unwrap();
    let publisher = tokio::spawn(async move {
        futures_util::stream::iter(0..MESSAGES)
            .map(|n| {
                let message = Message::new(Destination::url(format!("{sink_url}/{n}"))).text("x");
                let sent = client.messages().publish(message);
                async move { sent.send().await.expect("published") }
            })
            .buffer_unordered(IN_FLIGHT)
            .for_each(|_| async {})
            .await;
    });

    println!("soak: {MESSAGES} messages through {binary}, {IN_FLIGHT} publishes in flight");
    println!("soak: delivered   RSS (MiB)   slice throughput (messages/s)");
    let started = Instant::now();
    let mut slice_started = started;
    let mut rates = Vec::new();
    let mut rss = Vec::new();
    for mark in (SLICE..=MESSAGES).step_by(SLICE) {
        while sink.delivered.load(Ordering::Relaxed) < mark {
            assert!(
                started.elapsed() < Duration::from_secs(1800),
                "stalled at {} deliveries",
                sink.delivered.load(Ordering::Relaxed)
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let now = Instant::now();
        let rate = SLICE as f64 / (now - slice_started).as_secs_f64();
        slice_started = now;
        rates.push(rate);
        rss.push(rss_mib(pid));
        println!(
            "soak: {mark:>9}   {:>9.1}   {rate:>8.0}",
            rss.last().unwrap()
        );
    }
    publisher.await.unwrap();
    let lost = sink
        .seen
        .iter()
        .filter(|c| c.load(Ordering::Relaxed) == 0)
        .count();
    let doubled = sink
        .seen
        .iter()
        .filter(|c| c.load(Ordering::Relaxed) > 1)
        .count();
    let peak = rss.iter().copied().fold(0.0, f64::max);
    let ratio = rates.last().unwrap() / rates[0];
    println!(
        "soak: {:.1} s in all; lost {lost}, doubled {doubled}; peak RSS {peak:.1} MiB \
         (target at most 150); last slice at {:.0}% of the first (target at least 90%)",
        started.elapsed().as_secs_f64(),
        ratio * 100.0
    );
    assert_eq!((lost, doubled), (0, 0), "none lost, none delivered twice");
}
