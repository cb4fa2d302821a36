//! Flow control through `qstash::Client`: the parallelism of a key
//! (measured at a gate), its rate over simulated windows, and the endpoints
//! that report and change the live state.

use std::sync::atomic::Ordering;
use std::time::Duration;

use qstash::dev_server::{DevClock, DevServer};
use qstash::messages::{Destination, FlowControl, Message};
use qstash::types::LogEntryState;

use crate::queues::Gate;
use crate::{Endpoint, reached, server};

const MINUTE: Duration = Duration::from_secs(60);

/// Publishes to `sentinel` (no flow control) and waits for its delivery:
/// whatever the scheduler could start at the current clock reading has
/// been started by then.
async fn settle(server: &DevServer, sentinel: &mut Endpoint) {
    let sent = server
        .client()
        .unwrap()
        .messages()
        .publish(Message::new(Destination::url(sentinel.url.clone())).text("s"))
        .send()
        .await
        .unwrap();
    sentinel.next().await;
    reached(server, sent.message_ids()[0], LogEntryState::Delivered).await;
}

/// Attempts started for `ids`.
fn started(server: &DevServer, ids: &[String]) -> usize {
    server
        .logs()
        .iter()
        .filter(|e| e.state == Some(LogEntryState::Active))
        .filter(|e| e.message_id.as_ref().is_some_and(|id| ids.contains(id)))
        .count()
}

#[tokio::test]
async fn a_keys_parallelism_is_never_exceeded() {
    let server = server(DevClock::manual()).await;
    let client = server.client().unwrap();
    let mut gate = Gate::start().await;
    let mut sentinel = Endpoint::start(&server).await;
    for i in 0..20 {
        let message = Message::new(Destination::url(format!("{}/fc", gate.url)))
            .text(i.to_string())
            .flow_control(FlowControl::new("tenant").parallelism(2));
        client.messages().publish(message).send().await.unwrap();
    }
    // Two held: the key reports them, and 18 waiting.
    let first = gate.arrival().await;
    let second = gate.arrival().await;
    assert_ne!(first, second);
    settle(&server, &mut sentinel).await;
    let key = client.flow_control().get("tenant").send().await.unwrap();
    assert_eq!(key.parallelism_max, Some(2));
    assert_eq!(key.parallelism_count, Some(2));
    assert_eq!(key.wait_list_size, Some(18));
    let global = client
        .flow_control()
        .global_parallelism()
        .send()
        .await
        .unwrap();
    assert_eq!(global.parallelism_count, Some(2));
    gate.release(2);
    let mut rest = gate.drain(18, 2).await;
    assert_eq!(gate.peak.load(Ordering::SeqCst), 2, "measured at the gate");
    rest.extend([first, second]);
    rest.sort_by_key(|b| b.parse::<u32>().unwrap());
    let expected: Vec<String> = (0..20).map(|i| i.to_string()).collect();
    assert_eq!(rest, expected, "each message delivered once");
}

#[tokio::test]
async fn a_keys_rate_holds_per_window_and_the_endpoints_change_it() {
    let server = server(DevClock::manual()).await;
    let client = server.client().unwrap();
    let mut endpoint = Endpoint::start(&server).await;
    let mut sentinel = Endpoint::start(&server).await;
    let mut ids = Vec::new();
    for i in 0..10 {
        let message = Message::new(Destination::url(endpoint.url.clone()))
            .text(i.to_string())
            .flow_control(FlowControl::new("r").rate(3).period(MINUTE));
        let sent = client.messages().publish(message).send().await.unwrap();
        ids.push(sent.message_ids()[0].to_owned());
    }
    // Window 1: three, then nothing more until the period ends.
    for _ in 0..3 {
        endpoint.next().await;
    }
    settle(&server, &mut sentinel).await;
    assert_eq!(started(&server, &ids), 3);
    let key = client.flow_control().get("r").send().await.unwrap();
    assert_eq!(
        (
            key.rate_max,
            key.rate_count,
            key.rate_period,
            key.wait_list_size
        ),
        (Some(3), Some(3), Some(60), Some(7))
    );
    // One second short of the window: still nothing.
    server.clock().advance(MINUTE - Duration::from_secs(1));
    settle(&server, &mut sentinel).await;
    assert_eq!(started(&server, &ids), 3);
    // Window 2.
    server.clock().advance(Duration::from_secs(1));
    for _ in 0..3 {
        endpoint.next().await;
    }
    settle(&server, &mut sentinel).await;
    assert_eq!(started(&server, &ids), 6);

    // Resetting the rate opens a new window now.
    client.flow_control().reset_rate("r").send().await.unwrap();
    for _ in 0..3 {
        endpoint.next().await;
    }
    settle(&server, &mut sentinel).await;
    assert_eq!(started(&server, &ids), 9);

    // Paused: the new window passes and the last message waits.
    client.flow_control().pause("r").send().await.unwrap();
    server.clock().advance(MINUTE);
    settle(&server, &mut sentinel).await;
    assert_eq!(started(&server, &ids), 9);
    let paused = client.flow_control().get("r").send().await.unwrap();
    assert_eq!(
        (paused.is_paused, paused.wait_list_size),
        (Some(true), Some(1))
    );
    client.flow_control().resume("r").send().await.unwrap();
    endpoint.next().await;
    for id in &ids {
        reached(&server, id, LogEntryState::Delivered).await;
    }
    assert_eq!(started(&server, &ids), 10, "none delivered twice");
}

#[tokio::test]
async fn a_pinned_configuration_wins_over_the_messages_until_unpinned() {
    let server = server(DevClock::manual()).await;
    let client = server.client().unwrap();
    let mut endpoint = Endpoint::start(&server).await;
    client
        .flow_control()
        .pin("p")
        .parallelism(7)
        .rate(50)
        .period(MINUTE)
        .send()
        .await
        .unwrap();
    let message = Message::new(Destination::url(endpoint.url.clone()))
        .text("x")
        .flow_control(FlowControl::new("p").parallelism(1));
    client
        .messages()
        .publish(message.clone())
        .send()
        .await
        .unwrap();
    endpoint.next().await;
    let pinned = client.flow_control().get("p").send().await.unwrap();
    assert_eq!(
        (
            pinned.parallelism_max,
            pinned.rate_max,
            pinned.rate_period,
            pinned.is_pinned_parallelism,
            pinned.is_pinned_rate
        ),
        (Some(7), Some(50), Some(60), Some(true), Some(true))
    );
    client
        .flow_control()
        .unpin("p")
        .parallelism(true)
        .rate(true)
        .send()
        .await
        .unwrap();
    client.messages().publish(message).send().await.unwrap();
    endpoint.next().await;
    let unpinned = client.flow_control().get("p").send().await.unwrap();
    assert_eq!(
        (
            unpinned.parallelism_max,
            unpinned.rate_max,
            unpinned.is_pinned_rate
        ),
        (Some(1), None, Some(false))
    );
    let keys = client.flow_control().list().send().await.unwrap();
    assert_eq!(keys.len(), 1);
    let missing = client.flow_control().get("nope").send().await.unwrap_err();
    assert!(missing.to_string().contains("404"), "{missing}");
}
