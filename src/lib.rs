//! Typed async client for [Upstash QStash](https://upstash.com/docs/qstash),
//! generated at build time from the upstream OpenAPI spec, with a
//! hand-written layer on top (typed options, one error type), and the
//! verification of the signature QStash puts on every delivery.
//!
//! The crate has two halves. The client (feature `client`, on by default)
//! publishes, schedules and manages. The [`receiver`] (always there)
//! verifies deliveries, with extractors for axum and actix-web and a tower
//! layer behind features. A service that only receives deliveries turns the
//! client off and compiles no HTTP client (no reqwest, no hyper client, no
//! code generator):
//!
//! ```toml
//! [dependencies]
//! qstash = { version = "0.1", default-features = false, features = ["axum"] }
//! ```
//!
#![cfg_attr(
    feature = "client",
    doc = r#"
# The client

Each QStash area is a method on [`Client`] returning request builders:
`client.area().action(..).option(..).send().await`.

Publish JSON with a delay and retries:

```no_run
# async fn run() -> Result<(), Box<dyn std::error::Error>> {
use std::time::Duration;
use qstash::messages::{Destination, Message};

let client = qstash::Client::from_env()?;
let message = Message::new(Destination::url("https://example.com/api/orders"))
    .json(&serde_json::json!({ "order": 42 }))
    .delay(Duration::from_secs(90))
    .retries(5);
let published = client.messages().publish(message).send().await?;
println!("message ids: {:?}", published.message_ids());
# Ok(()) }
```

Several messages in one request, one of them to a URL group:

```no_run
# async fn run(client: qstash::Client) -> Result<(), qstash::Error> {
use qstash::messages::{Destination, Message};

let results = client
    .messages()
    .batch()
    .publish(Message::new(Destination::url("https://example.com/a")).text("a"))
    .publish(Message::new(Destination::url_group("audit")).text("b"))
    .send()
    .await?;
# Ok(()) }
```

A schedule, every weekday at 9:00 in New York:

```no_run
# async fn run(client: qstash::Client) -> Result<(), qstash::Error> {
use qstash::messages::{Destination, Message};

let report = Message::new(Destination::url("https://example.com/api/report"));
client
    .schedules()
    .create("CRON_TZ=America/New_York 0 9 * * MON-FRI", report)
    .send()
    .await?;
# Ok(()) }
```

- [`Client`]: built with [`Client::builder`] or [`Client::from_env`].
- [`messages`]: [`Message`](messages::Message) and its options; publish,
  enqueue, batch. [`schedules`], [`url_groups`]: their areas.
- [`types`]: every request and response model, with serde and
  [`schemars::JsonSchema`].
- Management: [`Client::messages`] (get, cancel), [`Client::dlq`],
  [`Client::logs`], [`Client::queues`], [`Client::flow_control`],
  [`Client::signing_keys`]; cursor-paginated lists as a [`Paginated`]
  stream or one [`Page`] at a time, with typed filters ([`filters`]).
- [`Error`]: what a call can fail with; [`ConfigError`]: what building a
  client (or a receiver) can fail with.
- [`api`]: the generated builder of every operation, for what the
  hand-written layer does not cover.
- [`retry`]: which calls are retried and when ([`RetryPolicy`], on by
  default), and how a retried publish stays one message.
"#
)]
//!
//! # The receiver
//!
//! [`Receiver`] holds the signing keys and verifies one delivery;
//! [`RequestVerifier`] verifies a whole HTTP request against the service's
//! public URL, in the two steps every framework integration takes (the
//! token and headers before the body is read, then the body); [`Signer`]
//! makes tokens as QStash does, for tests. What a verification checks and
//! how to read the keys from the environment: [`receiver`].
//!
//! ```
//! use qstash::receiver::{Delivery, Receiver, Signer};
//!
//! let receiver = Receiver::new("sig_current", "sig_next")?;
//! # let token = Signer::new("sig_current")?.sign("https://example.com/api", b"{}");
//! // `token`: the delivery's `Upstash-Signature` header.
//! let claims = receiver.verify(Delivery::new(&token, b"{}").url("https://example.com/api"))?;
//! assert_eq!(claims.url, "https://example.com/api");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Shared by both: [`Region`], [`ConfigError`] (what building a client or a
//! receiver can fail with) and [`Clock`] (the time retries, receivers and
//! the dev server follow).
//!
//! # Features
//!
//! | feature | adds | compiles |
//! |---|---|---|
//! | `client` (default) | `Client` and every QStash area, the generated `api` and `types`, retries | reqwest (HTTP/1 and 2, no TLS of its own), progenitor's runtime, schemars, croner; the code generator, at build time |
//! | `rustls` (default) | HTTPS for the client through rustls, with the ring crypto provider and the platform's certificate verifier | `client`, rustls, ring, rustls-platform-verifier |
//! | `rustls-aws-lc-rs` | the same with the aws-lc-rs provider | `client`, rustls, aws-lc-rs (a longer native build) |
//! | `native-tls` | HTTPS for the client through the platform's TLS library (OpenSSL on Linux) | `client`, native-tls |
//! | `axum` | `VerifiedBody` and `VerifiedJson` as axum extractors | axum (no server) |
//! | `actix-web` | the same types as actix-web extractors | actix-web (no default features) |
//! | `tower` | `VerifyLayer`, verifying deliveries in front of any tower service (axum, tonic, hyper) | tower-layer, tower-service, http-body-util |
//! | `dev-server` | the local QStash server, `dev_server`, and the `qstash-dev-server` binary | `client`, axum with its server, tokio's runtime, chrono-tz |
//!
//! The receiver, [`Region`], [`ConfigError`] and [`Clock`] are always
//! there (ring, base64, serde_json, http, and tokio's timer).
//!
//! The client `ClientBuilder::build` creates gets its TLS configuration
//! from these features and sets no process-wide state (no rustls crypto
//! provider is installed). An explicitly enabled backend wins over the
//! default one: `native-tls`, then `rustls-aws-lc-rs`, then `rustls`. With
//! `client` and none of them, `http://` servers (the dev server, a local
//! proxy) work and an `https://` server is `ConfigError::TlsNotEnabled`
//! when the client is built.
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

// Shared by the client and the receiver: compiled with or without `client`.
pub mod clock;
mod config_error;
mod env;
pub mod receiver;
mod region;
mod secret;

// What the client, and the framework integrations of the receiver, read
// bodies with.
#[cfg(any(
    feature = "client",
    feature = "axum",
    feature = "actix-web",
    feature = "tower"
))]
mod bounded;

// The client (feature `client`).
#[cfg(feature = "client")]
#[cfg_attr(docsrs, doc(cfg(feature = "client")))]
pub mod api;
#[cfg(feature = "client")]
mod auth;
#[cfg(feature = "client")]
mod client;
#[cfg(feature = "client")]
mod config;
#[cfg(feature = "client")]
mod error;
#[cfg(feature = "client")]
mod header_map;
#[cfg(feature = "client")]
mod hooks;
#[cfg(feature = "client")]
mod operations;
#[cfg(feature = "client")]
#[cfg_attr(docsrs, doc(cfg(feature = "client")))]
pub mod retry;
#[cfg(feature = "client")]
mod tls;

#[cfg(feature = "dev-server")]
#[cfg_attr(docsrs, doc(cfg(feature = "dev-server")))]
pub mod dev_server;

pub use clock::{Clock, SystemClock};
pub use config_error::ConfigError;
pub use receiver::{Claims, Delivery, Receiver, RequestVerifier, Signer, VerifyError};
pub use region::Region;

#[cfg(feature = "client")]
#[cfg_attr(docsrs, doc(cfg(feature = "client")))]
pub use api::types;
#[cfg(feature = "client")]
#[cfg_attr(docsrs, doc(cfg(feature = "client")))]
pub use auth::{AuthMode, TOKEN_QUERY_PARAMETER};
#[cfg(feature = "client")]
#[cfg_attr(docsrs, doc(cfg(feature = "client")))]
pub use client::{
    Client, ClientBuilder, ClientConfig, DEFAULT_CONNECT_TIMEOUT, DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_TIMEOUT,
};
#[cfg(feature = "client")]
#[cfg_attr(docsrs, doc(cfg(feature = "client")))]
pub use error::{Error, ErrorBody, InvalidInput, RateLimit, RateLimitKind};
#[cfg(feature = "client")]
#[cfg_attr(docsrs, doc(cfg(feature = "client")))]
pub use hooks::USER_AGENT_VALUE;
#[cfg(feature = "client")]
#[cfg_attr(docsrs, doc(cfg(feature = "client")))]
pub use retry::RetryPolicy;
#[cfg(feature = "client")]
#[cfg_attr(docsrs, doc(cfg(feature = "client")))]
pub use tls::install_crypto_provider;

// The hand-written areas over the generated client (feature `client`),
// each also marked `not(qstash_spec_check)`: the spec-history check
// (`tests/spec_history.rs`) compiles with `--cfg qstash_spec_check`, which
// leaves them out, to show that the generated client of every upstream spec
// version compiles even where these areas were not written for it; without
// the flag it reports what in them a spec change breaks. (An attribute on
// each item rather than a macro around them, so that rustfmt sees them.)
#[cfg(all(feature = "client", not(qstash_spec_check)))]
#[cfg_attr(docsrs, doc(cfg(feature = "client")))]
pub mod dlq;
#[cfg(all(feature = "client", not(qstash_spec_check)))]
#[cfg_attr(docsrs, doc(cfg(feature = "client")))]
pub mod filters;
#[cfg(all(feature = "client", not(qstash_spec_check)))]
#[cfg_attr(docsrs, doc(cfg(feature = "client")))]
pub mod flow_control;
#[cfg(all(feature = "client", not(qstash_spec_check)))]
#[cfg_attr(docsrs, doc(cfg(feature = "client")))]
pub mod keys;
#[cfg(all(feature = "client", not(qstash_spec_check)))]
#[cfg_attr(docsrs, doc(cfg(feature = "client")))]
pub mod logs;
#[cfg(all(feature = "client", not(qstash_spec_check)))]
#[cfg_attr(docsrs, doc(cfg(feature = "client")))]
pub mod messages;
#[cfg(all(feature = "client", not(qstash_spec_check)))]
#[cfg_attr(docsrs, doc(cfg(feature = "client")))]
pub mod pagination;
#[cfg(all(feature = "client", not(qstash_spec_check)))]
#[cfg_attr(docsrs, doc(cfg(feature = "client")))]
pub mod queues;
#[cfg(all(feature = "client", not(qstash_spec_check)))]
#[cfg_attr(docsrs, doc(cfg(feature = "client")))]
pub mod schedules;
#[cfg(all(feature = "client", not(qstash_spec_check)))]
mod tolerant;
#[cfg(all(feature = "client", not(qstash_spec_check)))]
#[cfg_attr(docsrs, doc(cfg(feature = "client")))]
pub mod url_groups;
#[cfg(all(feature = "client", not(qstash_spec_check)))]
#[cfg_attr(docsrs, doc(cfg(feature = "client")))]
pub use filters::{DlqFilter, LogFilter, LogState, MessageFilter};
#[cfg(all(feature = "client", not(qstash_spec_check)))]
#[cfg_attr(docsrs, doc(cfg(feature = "client")))]
pub use pagination::{Page, Paginated};

/// The README's Rust examples, compiled (and run, where not `no_run`) as
/// doctests; the framework examples need their features, so this is
/// there when every feature is.
#[cfg(all(
    doctest,
    feature = "dev-server",
    feature = "axum",
    feature = "actix-web",
    feature = "tower"
))]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

/// The items most programs need: `use qstash::prelude::*;`.
pub mod prelude {
    #[cfg(all(feature = "client", not(qstash_spec_check)))]
    #[cfg_attr(docsrs, doc(cfg(feature = "client")))]
    pub use crate::messages::{Callback, Destination, FlowControl, Message, Published};
    #[cfg(all(feature = "client", not(qstash_spec_check)))]
    #[cfg_attr(docsrs, doc(cfg(feature = "client")))]
    pub use crate::url_groups::Endpoint;
    #[cfg(all(feature = "client", not(qstash_spec_check)))]
    #[cfg_attr(docsrs, doc(cfg(feature = "client")))]
    pub use crate::{
        AuthMode, Client, ClientBuilder, DlqFilter, Error, LogFilter, LogState, MessageFilter,
        RetryPolicy, types,
    };
    pub use crate::{ConfigError, Delivery, Receiver, Region, RequestVerifier};
}
