//! 1,000 concurrent publishes through one client while one request in ten
//! fails transiently: every call ends Ok or with a typed error, and the
//! server keeps every accepted message exactly once.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use qstash::Error;
use qstash::types::PublishMessageResponse;

use crate::{Action, FakeClock, FaultServer, publish};

const CALLS: usize = 1_000;

/// QStash's deduplication as this test models it: a message per
/// deduplication id; a repeat is answered with the first message's id.
#[derive(Default)]
struct Store {
    /// Deduplication id → (message id, body).
    messages: HashMap<String, (String, Vec<u8>)>,
}

impl Store {
    fn accept(&mut self, request: &crate::Received) -> (String, bool) {
        let id = request
            .header("upstash-deduplication-id")
            .expect("every publish carries an id")
            .to_string();
        let next = format!("msg_{}", self.messages.len());
        let before = self.messages.len();
        let (message, _) = self
            .messages
            .entry(id)
            .or_insert_with(|| (next, request.body.clone()));
        (message.clone(), self.messages.len() == before)
    }
}

/// The process's peak resident memory (VmHWM), in KiB.
fn peak_rss_kib() -> Option<u64> {
    std::fs::read_to_string("/proc/self/status")
        .ok()?
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_publishes_with_transient_failures_each_land_once() {
    let store = Arc::new(Mutex::new(Store::default()));
    let server_store = store.clone();
    let failures = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let failed = failures.clone();
    // Request n fails when n % 10 == 0, in turn: a 503 (not accepted), an
    // accepted request whose answer is lost, a 429, an accepted request
    // whose answer is cut short.
    // The server runs on its own runtime whose threads the heap counter
    // leaves out: the figure is the client's.
    let server_runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .on_thread_start(crate::heap::mark_server_thread)
        .build()
        .expect("server runtime");
    let server = FaultServer::start_on(server_runtime.handle(), move |n, request| {
        let Some(request) = request else {
            return Action::Accept;
        };
        let accept = || server_store.lock().unwrap().accept(request);
        if n % 10 == 0 {
            failed.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
        match (n % 10, (n / 10) % 4) {
            (0, 0) => Action::status(503),
            (0, 1) => {
                accept();
                Action::ResetAfterRead
            }
            (0, 2) => Action::status(429).with_header("Retry-After", "1"),
            (0, _) => {
                accept();
                Action::Truncated {
                    declared: 64,
                    body: b"{\"messageId\":".to_vec(),
                }
            }
            _ => {
                let (id, repeat) = accept();
                Action::json(
                    200,
                    serde_json::json!({"messageId": id, "deduplicated": repeat}),
                )
            }
        }
    });
    let clock = FakeClock::new();
    let client = server
        .builder(&clock)
        .timeout(Duration::from_secs(60))
        .retry(
            qstash::RetryPolicy::default()
                .initial_delay(Duration::from_millis(100))
                // All calls share the fake clock, whose time every wait
                // moves: a budget this size is never the limit here.
                .max_elapsed(Duration::from_secs(24 * 3600))
                .clock(clock.clone()),
        )
        .build()
        .unwrap();

    let peak_before = peak_rss_kib();
    let heap_before = crate::heap::reset_peak();
    let started = Instant::now();
    let mut calls = tokio::task::JoinSet::new();
    for call in 0..CALLS {
        let client = client.clone();
        calls.spawn(async move { (call, publish(&client, &format!("call-{call}")).await) });
    }
    let mut results = Vec::with_capacity(CALLS);
    while let Some(joined) = calls.join_next().await {
        results.push(joined.expect("no call panics"));
    }
    let elapsed = started.elapsed();
    let peak_after = peak_rss_kib();
    let client_heap_peak = crate::heap::peak() - heap_before;

    let received = server.received();
    let store = store.lock().unwrap();
    // Every attempt of one call carried one id.
    let mut ids_per_body: HashMap<Vec<u8>, HashSet<String>> = HashMap::new();
    for request in &received {
        ids_per_body
            .entry(request.body.clone())
            .or_default()
            .insert(
                request
                    .header("upstash-deduplication-id")
                    .unwrap()
                    .to_string(),
            );
    }
    assert_eq!(ids_per_body.len(), CALLS, "every call reached the server");
    assert!(ids_per_body.values().all(|ids| ids.len() == 1));
    // Every stored message is a different call.
    let stored_bodies: HashSet<&Vec<u8>> = store.messages.values().map(|(_, body)| body).collect();
    assert_eq!(
        stored_bodies.len(),
        store.messages.len(),
        "a call stored twice"
    );

    let mut ok = 0;
    let mut errors: HashMap<&'static str, usize> = HashMap::new();
    for (call, result) in &results {
        match result {
            Ok(PublishMessageResponse::PublishResponse(answer)) => {
                ok += 1;
                let id = answer.message_id.as_deref().expect("a message id");
                let (_, body) = store
                    .messages
                    .values()
                    .find(|(message, _)| message == id)
                    .expect("the answered message is stored");
                assert_eq!(body, format!("call-{call}").as_bytes());
            }
            Ok(other) => panic!("call {call}: {other:?}"),
            Err(error) => {
                let kind = match error {
                    Error::Api { .. } => "api",
                    Error::RateLimited(_) => "rate_limited",
                    Error::Transport(_) => "transport",
                    Error::Timeout(_) => "timeout",
                    Error::Decode { .. } => "decode",
                    other => panic!("call {call}: unexpected {other:?}"),
                };
                *errors.entry(kind).or_default() += 1;
            }
        }
    }
    assert_eq!(ok + errors.values().sum::<usize>(), CALLS);
    // A call fails only if all four of its attempts fail; with one in ten
    // failing that is rare, so most calls must succeed.
    assert!(ok >= CALLS * 95 / 100, "{ok} ok, errors {errors:?}");
    let failed_requests = failures.load(std::sync::atomic::Ordering::SeqCst);
    println!(
        "load: {CALLS} calls, {ok} ok, errors {errors:?}, {} requests ({failed_requests} failed), \
         {} messages stored, {:.0} ms, client heap peak {} KiB above its start \
         (other tests running at the same time count too), process peak RSS (client and \
         server) {:?} KiB before, {:?} KiB after",
        received.len(),
        store.messages.len(),
        elapsed.as_secs_f64() * 1000.0,
        client_heap_peak / 1024,
        peak_before,
        peak_after,
    );
    drop(store);
    // A runtime cannot be dropped inside another's async context.
    server_runtime.shutdown_background();
}
