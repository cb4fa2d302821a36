//! Request overhead of the client: publishes through `client.messages()` next
//! to the same requests sent with a bare `reqwest::Client`, both against the
//! same local keep-alive HTTP server, in one run: one at a time, and
//! [`IN_FLIGHT`] at a time.
//!
//! `cargo bench --bench overhead`; the figures to read are each side's
//! median, and their ratio in each group.

mod support;

use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use support::Clients;

/// Publishes in flight at once in the concurrent group.
const IN_FLIGHT: usize = 32;
/// Publishes per iteration of the concurrent group: enough for the window
/// to stay full most of the time.
const ROUND: usize = 8 * IN_FLIGHT;

fn publish(c: &mut Criterion) {
    let clients = Clients::new(support::start_server());
    let clients = &clients;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("client runtime");

    // Two cores run the server, the client and everything else, so load
    // drifts over a run. Each iteration therefore runs both clients in
    // turns (first one, then the other, swapping who goes first) and times
    // each side separately: both medians come from the same moments and the
    // same positions in the turn.
    let turns = |iters: u64, time_qstash: bool, count: usize, in_flight: usize| async move {
        let mut timed = Duration::ZERO;
        for turn in 0..iters {
            for qstash_now in [turn % 2 == 0, turn % 2 == 1] {
                let start = Instant::now();
                if count == 1 {
                    if qstash_now {
                        clients.qstash().await;
                    } else {
                        clients.bare().await;
                    }
                } else {
                    clients.publish_many(qstash_now, count, in_flight).await;
                }
                if qstash_now == time_qstash {
                    timed += start.elapsed();
                }
            }
        }
        timed
    };

    let mut group = c.benchmark_group("publish");
    group.bench_function("qstash_client", |b| {
        b.to_async(&runtime)
            .iter_custom(|iters| turns(iters, true, 1, 1))
    });
    group.bench_function("bare_reqwest", |b| {
        b.to_async(&runtime)
            .iter_custom(|iters| turns(iters, false, 1, 1))
    });
    group.finish();

    let mut group = c.benchmark_group(format!("publish_{IN_FLIGHT}_in_flight"));
    group.throughput(Throughput::Elements(ROUND as u64));
    group.bench_function("qstash_client", |b| {
        b.to_async(&runtime)
            .iter_custom(|iters| turns(iters, true, ROUND, IN_FLIGHT))
    });
    group.bench_function("bare_reqwest", |b| {
        b.to_async(&runtime)
            .iter_custom(|iters| turns(iters, false, ROUND, IN_FLIGHT))
    });
    group.finish();
}

criterion_group!(benches, publish);
criterion_main!(benches);
