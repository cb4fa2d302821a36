//! Load: 10,000 messages across 10 queues and 5 flow-control keys, through
//! `qstash::Client`: none lost, none delivered twice, every cap respected
//! (measured at the destination). Prints throughput and the process's peak
//! memory; `cargo test --all-features --test dev_server load -- --nocapture`
//! shows them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use futures_util::StreamExt;
use qstash::dev_server::DevClock;
use qstash::messages::{Destination, FlowControl, Message};
use tokio::net::TcpListener;
use tokio::sync::Notify;

use crate::server;

const MESSAGES: usize = 10_000;
const QUEUES: usize = 10;
const KEYS: usize = 5;

#[derive(Default)]
struct Tally {
    /// Deliveries per message number.
    seen: HashMap<u32, u32>,
    /// Per lane (`q3`, `k1`): in flight now and the most at once.
    lanes: HashMap<String, (usize, usize)>,
}

#[derive(Clone)]
struct Sink {
    tally: Arc<Mutex<Tally>>,
    done: Arc<Notify>,
}

async fn receive(State(sink): State<Sink>, Path((lane, n)): Path<(String, u32)>, _: Bytes) {
    {
        let mut tally = sink.tally.lock().unwrap();
        let (now, peak) = tally.lanes.entry(lane.clone()).or_default();
        *now += 1;
        *peak = (*peak).max(*now);
    }
    // Let other deliveries overlap this one, so that a cap that does not
    // hold shows.
    for _ in 0..4 {
        tokio::task::yield_now().await;
    }
    let mut tally = sink.tally.lock().unwrap();
    if let Some((now, _)) = tally.lanes.get_mut(&lane) {
        *now -= 1;
    }
    *tally.seen.entry(n).or_default() += 1;
    if tally.seen.len() == MESSAGES {
        sink.done.notify_one();
    }
}

fn queue_parallelism(q: usize) -> usize {
    q % 3 + 1
}

fn key_parallelism(k: usize) -> usize {
    k + 2
}

/// The process's peak resident memory, from /proc (Linux), in MiB.
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_messages_across_queues_and_keys_none_lost_none_twice_caps_hold() {
    let server = server(DevClock::manual()).await;
    let client = server.client().unwrap();
    let sink = Sink {
        tally: Arc::default(),
        done: Arc::new(Notify::new()),
    };
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let app = Router::new()
        .route("/{lane}/{n}", axum::routing::post(receive))
        .with_state(sink.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    for q in 0..QUEUES {
        client
            .queues()
            .upsert(format!("q{q}"))
            .parallelism(u32::try_from(queue_parallelism(q)).unwrap())
            .send()
            .await
            .unwrap();
    }

    let started = Instant::now();
    // Even numbers go to a queue, odd ones through a flow-control key.
    let sends = futures_util::stream::iter(0..MESSAGES).map(|n| {
        let client = &client;
        let url = &url;
        async move {
            let lane = if n % 2 == 0 {
                format!("q{}", (n / 2) % QUEUES)
            } else {
                format!("k{}", (n / 2) % KEYS)
            };
            let message = Message::new(Destination::url(format!("{url}/{lane}/{n}"))).text("x");
            let sent = if let Some(q) = lane.strip_prefix('q') {
                client.messages().enqueue(format!("q{q}"), message)
            } else {
                let k: usize = lane[1..].parse().unwrap();
                let limits =
                    FlowControl::new(&lane).parallelism(u32::try_from(key_parallelism(k)).unwrap());
                client.messages().publish(message.flow_control(limits))
            };
            sent.send().await.unwrap();
        }
    });
    sends.buffer_unordered(32).collect::<Vec<()>>().await;
    let published = started.elapsed();
    let done = sink.done.notified();
    let finished = sink.tally.lock().unwrap().seen.len() == MESSAGES;
    if !finished {
        tokio::time::timeout(Duration::from_secs(300), done)
            .await
            .expect("every message delivered within 5 minutes");
    }
    let elapsed = started.elapsed();

    let tally = sink.tally.lock().unwrap();
    assert_eq!(tally.seen.len(), MESSAGES, "none lost");
    let twice: Vec<_> = tally.seen.iter().filter(|(_, c)| **c != 1).collect();
    assert!(twice.is_empty(), "delivered more than once: {twice:?}");
    for (lane, (now, peak)) in &tally.lanes {
        let n: usize = lane[1..].parse().unwrap();
        let cap = if lane.starts_with('q') {
            queue_parallelism(n)
        } else {
            key_parallelism(n)
        };
        assert_eq!(*now, 0, "{lane}");
        assert!(*peak <= cap, "{lane}: {peak} at once, cap {cap}");
        assert!(*peak >= 1, "{lane}");
    }
    assert_eq!(tally.lanes.len(), QUEUES + KEYS);
    let rate = MESSAGES as f64 / elapsed.as_secs_f64();
    let peaks: Vec<_> = {
        let mut lanes: Vec<_> = tally.lanes.iter().collect();
        lanes.sort();
        lanes
            .into_iter()
            .map(|(lane, (_, peak))| format!("{lane}:{peak}"))
            .collect()
    };
    println!(
        "load: {MESSAGES} messages, published in {published:.2?}, all delivered in {elapsed:.2?} \
         ({rate:.0} messages/s end to end); peak in flight per lane {}; peak RSS {:.1} MiB",
        peaks.join(" "),
        peak_rss_mib().unwrap_or(f64::NAN)
    );
}
