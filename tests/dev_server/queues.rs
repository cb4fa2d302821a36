//! Queues through `qstash::Client`: order, parallelism caps (measured at a
//! destination that holds each request until the test lets it go), pause
//! and resume, lag, delete.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use qstash::dev_server::DevClock;
use qstash::messages::{Destination, Message};
use qstash::types::LogEntryState;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, mpsc};

use crate::{Endpoint, reached, server, within};

/// A destination that reports each request's body on arrival, then holds
/// it until the test adds a permit; it counts requests being handled and
/// the most there ever were at once.
pub struct Gate {
    pub url: String,
    arrivals: mpsc::UnboundedReceiver<String>,
    permits: Arc<Semaphore>,
    pub peak: Arc<AtomicUsize>,
}

#[derive(Clone)]
struct GateState {
    arrivals: mpsc::UnboundedSender<String>,
    permits: Arc<Semaphore>,
    current: Arc<AtomicUsize>,
    peak: Arc<AtomicUsize>,
}

impl Gate {
    pub async fn start() -> Gate {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let (sender, arrivals) = mpsc::unbounded_channel();
        let state = GateState {
            arrivals: sender,
            permits: Arc::new(Semaphore::new(0)),
            current: Arc::new(AtomicUsize::new(0)),
            peak: Arc::new(AtomicUsize::new(0)),
        };
        let gate = Gate {
            url,
            arrivals,
            permits: Arc::clone(&state.permits),
            peak: Arc::clone(&state.peak),
        };
        let app = Router::new().fallback(hold).with_state(state);
        tokio::spawn(async move { axum::serve(listener, app).await });
        gate
    }

    pub async fn arrival(&mut self) -> String {
        within("a request at the gate", self.arrivals.recv())
            .await
            .expect("the gate is running")
    }

    pub fn release(&self, n: usize) {
        self.permits.add_permits(n);
    }

    /// Receives `total` requests, letting one go whenever `cap` are held
    /// (and all of them once the last has arrived); returns the bodies in
    /// arrival order.
    pub async fn drain(&mut self, total: usize, cap: usize) -> Vec<String> {
        let mut bodies = Vec::with_capacity(total);
        let mut held = 0;
        while bodies.len() < total {
            bodies.push(self.arrival().await);
            held += 1;
            if bodies.len() == total {
                self.release(held);
            } else if held == cap {
                self.release(1);
                held -= 1;
            }
        }
        bodies
    }
}

async fn hold(State(state): State<GateState>, body: Bytes) -> &'static str {
    let now = state.current.fetch_add(1, Ordering::SeqCst) + 1;
    state.peak.fetch_max(now, Ordering::SeqCst);
    let _ = state
        .arrivals
        .send(String::from_utf8_lossy(&body).into_owned());
    state
        .permits
        .acquire()
        .await
        .expect("the semaphore stays open")
        .forget();
    // Counted out before the answer leaves, so the server cannot start the
    // next delivery while this one still counts.
    state.current.fetch_sub(1, Ordering::SeqCst);
    "ok"
}

#[tokio::test]
async fn parallelism_one_delivers_strictly_in_order() {
    let server = server(DevClock::manual()).await;
    let client = server.client().unwrap();
    let mut gate = Gate::start().await;
    client.queues().upsert("fifo").send().await.unwrap();
    for i in 0..30 {
        let message =
            Message::new(Destination::url(format!("{}/job", gate.url))).text(i.to_string());
        client
            .messages()
            .enqueue("fifo", message)
            .send()
            .await
            .unwrap();
    }
    // Releasing one at a time would hide a second delivery in flight; the
    // gate lets one go only when it holds one, so it would see two.
    let bodies = gate.drain(30, 1).await;
    let expected: Vec<String> = (0..30).map(|i| i.to_string()).collect();
    assert_eq!(bodies, expected);
    assert_eq!(gate.peak.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn parallelism_n_never_has_more_than_n_in_flight() {
    let server = server(DevClock::manual()).await;
    let client = server.client().unwrap();
    let mut gate = Gate::start().await;
    client
        .queues()
        .upsert("wide")
        .parallelism(3)
        .send()
        .await
        .unwrap();
    for i in 0..24 {
        let message =
            Message::new(Destination::url(format!("{}/job", gate.url))).text(i.to_string());
        client
            .messages()
            .enqueue("wide", message)
            .send()
            .await
            .unwrap();
    }
    let mut bodies = gate.drain(24, 3).await;
    // Measured: the cap was reached and never passed.
    assert_eq!(gate.peak.load(Ordering::SeqCst), 3);
    bodies.sort_by_key(|b| b.parse::<u32>().unwrap());
    let expected: Vec<String> = (0..24).map(|i| i.to_string()).collect();
    assert_eq!(bodies, expected, "each message delivered once");
    let queue = client.queues().get("wide").send().await.unwrap();
    assert_eq!(queue.parallelism, Some(3));
}

#[tokio::test]
async fn a_paused_queue_accepts_and_holds_messages_then_resume_releases_them_in_order() {
    let server = server(DevClock::manual()).await;
    let client = server.client().unwrap();
    let mut endpoint = Endpoint::start(&server).await;
    let mut other = Endpoint::start(&server).await;
    client.queues().upsert("held").send().await.unwrap();
    client.queues().pause("held").send().await.unwrap();
    let mut ids = Vec::new();
    for i in 0..3 {
        let message =
            Message::new(Destination::url(format!("{}/q", endpoint.url))).text(i.to_string());
        let sent = client
            .messages()
            .enqueue("held", message)
            .send()
            .await
            .unwrap();
        ids.push(sent.message_ids()[0].to_owned());
    }
    // A message published after them is delivered; theirs are not started.
    let sentinel = client
        .messages()
        .publish(Message::new(Destination::url(other.url.clone())).text("after"))
        .send()
        .await
        .unwrap();
    other.next().await;
    reached(&server, sentinel.message_ids()[0], LogEntryState::Delivered).await;
    for id in &ids {
        assert_eq!(crate::trail(&server, id), [LogEntryState::Created], "{id}");
    }
    let queue = client.queues().get("held").send().await.unwrap();
    assert_eq!((queue.paused, queue.lag), (Some(true), Some(3)));
    let listed = client.queues().list().send().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].name.as_deref(), Some("held"));

    client.queues().resume("held").send().await.unwrap();
    for i in 0..3 {
        assert_eq!(endpoint.next().await.body, i.to_string());
    }
    for id in &ids {
        reached(&server, id, LogEntryState::Delivered).await;
    }
    let queue = client.queues().get("held").send().await.unwrap();
    assert_eq!((queue.paused, queue.lag), (Some(false), Some(0)));
}

#[tokio::test]
async fn enqueue_creates_the_queue_and_delete_cancels_what_waits() {
    let server = server(DevClock::manual()).await;
    let client = server.client().unwrap();
    let endpoint = Endpoint::start(&server).await;
    client.queues().upsert("gone").send().await.unwrap();
    client.queues().pause("gone").send().await.unwrap();
    let sent = client
        .messages()
        .enqueue(
            "gone",
            Message::new(Destination::url(endpoint.url.clone())).text("x"),
        )
        .send()
        .await
        .unwrap();
    client.queues().delete("gone").send().await.unwrap();
    reached(&server, sent.message_ids()[0], LogEntryState::Cancelled).await;
    let missing = client.queues().get("gone").send().await.unwrap_err();
    assert!(missing.to_string().contains("404"), "{missing}");

    client
        .messages()
        .enqueue(
            "auto",
            Message::new(Destination::url(endpoint.url.clone())).text("y"),
        )
        .send()
        .await
        .unwrap();
    let auto = client.queues().get("auto").send().await.unwrap();
    assert_eq!(auto.parallelism, Some(1));
}
