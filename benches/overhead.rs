//! Request overhead of the client: publishes through `client.messages()` next
//! to the same requests sent with a bare `reqwest::Client`, both against the
//! same local keep-alive HTTP server, in one run: one at a time, and
//! [`IN_FLIGHT`] at a time.
//!
//! `cargo bench --bench overhead`. Besides criterion's medians for each
//! side, each group ends with the figure to read: the median, over every
//! sample of both sides, of the ratio of qstash's time to bare reqwest's
//! in the same turns.

mod support;

use std::cell::RefCell;
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
    // drifts over a run (and with it how fast the server's thread wakes).
    // Each iteration therefore runs both clients in turns (first one, then
    // the other, swapping who goes first) and times each side separately;
    // each sample's pair of times, from the same turns, gives one ratio.
    let pairs = RefCell::new(Vec::<Pair>::new());
    let pairs = &pairs;
    let turns = |iters: u64, time_qstash: bool, count: usize| async move {
        let (mut qstash, mut bare) = (Duration::ZERO, Duration::ZERO);
        for turn in 0..iters {
            for qstash_now in [turn % 2 == 0, turn % 2 == 1] {
                let start = Instant::now();
                match (qstash_now, count) {
                    (true, 1) => clients.qstash().await,
                    (false, 1) => clients.bare().await,
                    (side, _) => clients.publish_many(side, count, IN_FLIGHT).await,
                }
                let elapsed = start.elapsed();
                if qstash_now {
                    qstash += elapsed;
                } else {
                    bare += elapsed;
                }
            }
        }
        pairs.borrow_mut().push(Pair {
            qstash,
            bare,
            publishes: iters * count as u64,
        });
        if time_qstash { qstash } else { bare }
    };

    for (name, count) in [
        ("publish".to_string(), 1),
        (format!("publish_{IN_FLIGHT}_in_flight"), ROUND),
    ] {
        let mut group = c.benchmark_group(&name);
        group.throughput(Throughput::Elements(count as u64));
        group.bench_function("qstash_client", |b| {
            b.to_async(&runtime)
                .iter_custom(|iters| turns(iters, true, count))
        });
        group.bench_function("bare_reqwest", |b| {
            b.to_async(&runtime)
                .iter_custom(|iters| turns(iters, false, count))
        });
        group.finish();
        report(&name, &pairs.take());
    }
}

/// One sample: both sides' times over the same turns.
struct Pair {
    qstash: Duration,
    bare: Duration,
    /// Per side.
    publishes: u64,
}

/// The median same-turn ratio, and each side's median time per publish.
fn report(name: &str, pairs: &[Pair]) {
    let median = |values: &mut dyn Iterator<Item = f64>| {
        let mut values: Vec<f64> = values.collect();
        values.sort_by(f64::total_cmp);
        values[values.len() / 2]
    };
    let ratio = median(
        &mut pairs
            .iter()
            .map(|p| p.qstash.as_secs_f64() / p.bare.as_secs_f64()),
    );
    let micros = |time: fn(&Pair) -> Duration| {
        median(
            &mut pairs
                .iter()
                .map(|p| time(p).as_secs_f64() * 1e6 / p.publishes as f64),
        )
    };
    println!(
        "{name}: qstash/bare = {ratio:.3} (median of {} same-turn ratios); per publish: \
         qstash {:.2} µs, bare {:.2} µs",
        pairs.len(),
        micros(|p| p.qstash),
        micros(|p| p.bare),
    );
}

criterion_group!(benches, publish);
criterion_main!(benches);
