//! Defaults as documented, and cancellation: dropping a call in flight
//! leaves the client as good as new.

use std::time::Duration;

use qstash::{Client, DEFAULT_CONNECT_TIMEOUT, DEFAULT_TIMEOUT, retry};

use crate::{Action, FakeClock, FaultServer, TOKEN, list_queues, publish, published};

#[test]
fn defaults_are_the_documented_ones() {
    assert_eq!(DEFAULT_TIMEOUT, Duration::from_secs(30));
    assert_eq!(DEFAULT_CONNECT_TIMEOUT, Duration::from_secs(10));
    let client = Client::builder().token(TOKEN).build().unwrap();
    assert_eq!(client.config().timeout(), DEFAULT_TIMEOUT);
    let policy = client.config().retry_policy();
    assert!(policy.retries());
    assert_eq!(policy.attempts(), retry::DEFAULT_MAX_ATTEMPTS);
    assert_eq!(retry::DEFAULT_MAX_ATTEMPTS, 4);
    assert_eq!(retry::DEFAULT_INITIAL_DELAY, Duration::from_millis(250));
    assert_eq!(retry::DEFAULT_MAX_DELAY, Duration::from_secs(8));
    assert_eq!(retry::DEFAULT_MAX_ELAPSED, Duration::from_secs(60));
    let debug = format!("{client:?}");
    assert!(!debug.contains(TOKEN), "{debug}");
}

/// A call is dropped once the server holds its request; the same client
/// then makes calls that succeed, many times over.
#[tokio::test]
async fn dropping_calls_in_flight_leaves_the_client_usable() {
    let server = FaultServer::start(|_, request| match request {
        None => Action::Accept,
        Some(request) if request.target.starts_with("/v2/publish/") => Action::Hang,
        Some(_) => Action::json(200, serde_json::json!([])),
    })
    .await;
    let clock = FakeClock::new();
    let client = server
        .builder(&clock)
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    for round in 0..20 {
        let call = publish(&client, "never answered");
        let arrived = server.arrival();
        // The publish is polled until its request has arrived, then
        // dropped: the arrival signal, not a timer, decides.
        tokio::select! {
            result = call => panic!("round {round}: the server never answers, got {result:?}"),
            _ = arrived => {}
        }
        list_queues(&client)
            .await
            .unwrap_or_else(|e| panic!("round {round}: {e}"));
        server.arrival().await;
    }
    // No retry happened behind the drops: one publish per round.
    let publishes = server
        .received()
        .iter()
        .filter(|r| r.target.starts_with("/v2/publish/"))
        .count();
    assert_eq!(publishes, 20);
    assert!(clock.sleeps().is_empty());
}

/// Dropped during a retry's wait: nothing more is sent, and the next call
/// goes through.
#[tokio::test]
async fn dropping_a_call_between_attempts_sends_nothing_more() {
    /// A clock whose waits never end, and which says when one begins.
    #[derive(Debug)]
    struct Pending(tokio::sync::mpsc::UnboundedSender<()>);
    impl qstash::clock::Clock for Pending {
        fn now(&self) -> std::time::SystemTime {
            std::time::SystemTime::now()
        }
        fn instant(&self) -> std::time::Instant {
            std::time::Instant::now()
        }
        fn sleep(&self, _: Duration) -> qstash::clock::Sleep {
            let _ = self.0.send(());
            Box::pin(std::future::pending())
        }
    }
    let server = FaultServer::start(|n, request| match (n, request) {
        (_, None) => Action::Accept,
        (0, _) => Action::status(503),
        _ => published("msg_2"),
    })
    .await;
    let (waiting, mut waits) = tokio::sync::mpsc::unbounded_channel();
    let client = Client::builder()
        .token(TOKEN)
        .base_url(&server.url)
        .retry(qstash::RetryPolicy::default().clock(Pending(waiting)))
        .build()
        .unwrap();
    tokio::select! {
        result = publish(&client, "x") => panic!("the wait never ends, got {result:?}"),
        _ = waits.recv() => {}
    }
    assert_eq!(server.received().len(), 1);
    publish(&client, "y").await.expect("the next call");
    let received = server.received();
    assert_eq!(received.len(), 2);
    assert_eq!(received[1].body, b"y");
}
