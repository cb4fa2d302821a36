//! A local QStash server, in process, for development and tests without an
//! account or a network (feature `dev-server`).
//!
//! It accepts the official dev server's default token and signs deliveries
//! with its default signing keys, so code written against
//! `npx @upstash/qstash-cli dev` works unchanged. Messages published to it
//! are delivered to their destinations with `Upstash-Signature` and the
//! other delivery headers, retried with QStash's backoff, moved to the DLQ
//! when retries run out, and logged at every state change. Queues keep
//! their order and parallelism, schedules fire on their cron expression
//! (`CRON_TZ=<zone>` included), and flow-control keys hold deliveries to
//! their parallelism and rate: every operation of the spec is served.
//!
//! ```no_run
//! use qstash::dev_server::DevServer;
//! use qstash::messages::{Destination, Message};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let server = DevServer::start().await?; // 127.0.0.1, a free port
//! let client = server.client()?;
//! let receiver = server.receiver()?; // verifies what the server delivers
//! let message = Message::new(Destination::url("http://127.0.0.1:3000/jobs")).text("hello");
//! client.messages().publish(message).send().await?;
//! # Ok(()) }
//! ```
//!
//! Delays, retries, cron schedules and rate periods follow a [`DevClock`]: [`DevClock::manual`] for tests
//! that move time themselves, [`DevClock::scaled`] to make a day pass in
//! milliseconds.

// Answers are built as `types::X { .., ..Default::default() }`, so that an
// optional field a newer spec adds to an answer leaves this code as it is
// (tests/spec_mutations.rs); today every field is set, which clippy calls
// a needless update.
#![allow(clippy::needless_update)]

// Handlers, one module per area of the API, and the routes to them.
mod auth;
mod dlq;
mod flow_control;
mod keys;
mod logs;
mod messages;
mod publish;
mod queues;
mod routes;
mod schedules;
mod url_groups;
// What the handlers use: taking messages in, delivering them.
mod delivery;
mod intake;
// The state, behind one lock.
mod state;
// What the state is made of, and the values requests carry.
mod clock;
mod dedup;
mod dlq_store;
mod error;
mod flow_key;
mod limits;
mod log_store;
mod message;
mod names;
mod options;
mod parse;
mod query;
mod redact;
mod retry_delay;
mod schedule;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub use self::clock::DevClock;
pub use self::error::StartError;
pub use self::limits::Limits;
use self::state::{Shared, SigningKeys};
use crate::receiver::Receiver;
use crate::{Client, ConfigError};

/// The official dev server's default token (public, documented).
pub const DEFAULT_TOKEN: &str =
    "eyJVc2VySUQiOiJkZWZhdWx0VXNlciIsIlBhc3N3b3JkIjoiZGVmYXVsdFBhc3N3b3JkIn0=";
/// The official dev server's default current signing key.
pub const DEFAULT_CURRENT_SIGNING_KEY: &str = "sig_7kYjw48mhY7kAjqNGcy6cr29RJ6r";
/// The official dev server's default next signing key.
pub const DEFAULT_NEXT_SIGNING_KEY: &str = "sig_5ZB6DVzB1wjE8S6rZ7eenA8Pdnhs";
/// The port the official dev server (and `qstash-dev-server`) listens on.
pub const DEFAULT_PORT: u16 = 8080;

/// A running dev server. Dropping it stops the server and its deliveries.
pub struct DevServer {
    address: SocketAddr,
    shared: Arc<Shared>,
    server: JoinHandle<()>,
    scheduler: JoinHandle<()>,
}

impl DevServer {
    /// Settings for a server: address, token, keys, clock, limits.
    pub fn builder() -> DevServerBuilder {
        DevServerBuilder::default()
    }

    /// A server on 127.0.0.1 on a free port, with the default token and
    /// keys and the system clock.
    pub async fn start() -> Result<DevServer, StartError> {
        DevServer::builder().start().await
    }

    /// Where it listens.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Its base URL, `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// The token it accepts.
    pub fn token(&self) -> &str {
        &self.shared.token
    }

    /// The current and next signing keys (they change when rotated).
    pub fn signing_keys(&self) -> (String, String) {
        let state = self.shared.lock();
        (state.keys.current.clone(), state.keys.next.clone())
    }

    /// The clock its delays and retries follow.
    pub fn clock(&self) -> &DevClock {
        &self.shared.clock
    }

    /// A client for this server, with its token.
    pub fn client(&self) -> Result<Client, ConfigError> {
        Client::builder()
            .base_url(self.url())
            .token(self.token())
            .build()
    }

    /// A receiver holding this server's current signing keys.
    pub fn receiver(&self) -> Result<Receiver, ConfigError> {
        let (current, next) = self.signing_keys();
        Receiver::new(&current, &next)
    }

    /// Waits until a log entry matching `predicate` is recorded (or already
    /// is) and returns the first such entry, so tests can await a state
    /// change (`DELIVERED`, `FAILED`, ...) instead of sleeping.
    ///
    /// ```no_run
    /// # async fn run(server: qstash::dev_server::DevServer, id: String) {
    /// use qstash::types::LogEntryState;
    /// let delivered = server
    ///     .wait_for_log(|entry| {
    ///         entry.message_id.as_deref() == Some(&*id)
    ///             && entry.state == Some(LogEntryState::Delivered)
    ///     })
    ///     .await;
    /// # }
    /// ```
    ///
    /// Only entries still kept are seen: with a small log retention, an
    /// entry dropped before this looks for it is missed.
    pub async fn wait_for_log(
        &self,
        predicate: impl Fn(&crate::types::LogEntry) -> bool,
    ) -> crate::types::LogEntry {
        let mut logged = self.shared.lock().logged.subscribe();
        let mut from = 0;
        loop {
            {
                let state = self.shared.lock();
                if let Some(entry) = state
                    .logs
                    .since(from)
                    .map(log_store::LogRecord::view)
                    .find(|e| predicate(e))
                {
                    return entry;
                }
                from = state.logs.next_seq();
                logged.borrow_and_update();
            }
            // The sender lives as long as `self`, so this cannot fail.
            let _ = logged.changed().await;
        }
    }

    /// Every log entry kept, oldest first.
    pub fn logs(&self) -> Vec<crate::types::LogEntry> {
        self.shared
            .lock()
            .logs
            .iter()
            .map(log_store::LogRecord::view)
            .collect()
    }

    /// Serves until the process ends (or the server task fails).
    pub async fn wait(mut self) {
        let _ = (&mut self.server).await;
    }
}

impl Drop for DevServer {
    fn drop(&mut self) {
        self.server.abort();
        self.scheduler.abort();
    }
}

impl std::fmt::Debug for DevServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DevServer")
            .field("address", &self.address)
            .field("clock", self.clock())
            .finish_non_exhaustive()
    }
}

/// How to start a [`DevServer`].
#[derive(Debug, Clone)]
pub struct DevServerBuilder {
    address: SocketAddr,
    token: String,
    current_key: String,
    next_key: String,
    clock: DevClock,
    limits: Limits,
}

impl Default for DevServerBuilder {
    fn default() -> DevServerBuilder {
        DevServerBuilder {
            address: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            token: DEFAULT_TOKEN.to_owned(),
            current_key: DEFAULT_CURRENT_SIGNING_KEY.to_owned(),
            next_key: DEFAULT_NEXT_SIGNING_KEY.to_owned(),
            clock: DevClock::system(),
            limits: Limits::default(),
        }
    }
}

impl DevServerBuilder {
    /// Listen on 127.0.0.1 at `port` (0, the default: any free port).
    pub fn port(mut self, port: u16) -> DevServerBuilder {
        self.address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        self
    }

    /// Listen on `address`.
    pub fn address(mut self, address: SocketAddr) -> DevServerBuilder {
        self.address = address;
        self
    }

    /// Accept `token` instead of [`DEFAULT_TOKEN`].
    pub fn token(mut self, token: impl Into<String>) -> DevServerBuilder {
        self.token = token.into();
        self
    }

    /// Sign with these keys instead of the defaults.
    pub fn signing_keys(mut self, current: &str, next: &str) -> DevServerBuilder {
        self.current_key = current.to_owned();
        self.next_key = next.to_owned();
        self
    }

    /// Follow `clock` for delays and retries.
    pub fn clock(mut self, clock: DevClock) -> DevServerBuilder {
        self.clock = clock;
        self
    }

    /// Accept and keep within `limits` instead of [`Limits::default`].
    pub fn limits(mut self, limits: Limits) -> DevServerBuilder {
        self.limits = limits;
        self
    }

    /// Binds the address and starts serving and delivering, on the current
    /// tokio runtime.
    pub async fn start(self) -> Result<DevServer, StartError> {
        let keys = SigningKeys::new(&self.current_key, &self.next_key)?;
        // Its own TLS configuration, like the client's: a dev server in a
        // program sets no process-wide rustls provider.
        let http = crate::tls::backend(reqwest::Client::builder())?.build()?;
        let listener =
            TcpListener::bind(self.address)
                .await
                .map_err(|source| StartError::Bind {
                    address: self.address,
                    source,
                })?;
        let address = listener.local_addr().map_err(|source| StartError::Bind {
            address: self.address,
            source,
        })?;
        let shared = Arc::new(Shared::new(
            keys,
            self.clock,
            self.token,
            http,
            self.limits,
            address,
        ));
        let app =
            routes::router(Arc::clone(&shared)).into_make_service_with_connect_info::<SocketAddr>();
        let server = tokio::spawn(async move {
            // Accept errors are retried inside axum::serve; it only returns
            // when the listener is gone.
            let _ = axum::serve(listener, app).await;
        });
        let scheduler = tokio::spawn(delivery::run_scheduler(Arc::clone(&shared)));
        Ok(DevServer {
            address,
            shared,
            server,
            scheduler,
        })
    }
}
