//! Typed async client for [Upstash QStash](https://upstash.com/docs/qstash),
//! generated at build time from the upstream OpenAPI spec, with a
//! hand-written layer on top: typed options, one error type, signature
//! verification.
//!
//! Each QStash area is a method on [`Client`] returning request builders:
//! `client.area().action(..).option(..).send().await`.
//!
//! Publish JSON with a delay and retries:
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use std::time::Duration;
//! use qstash::messages::{Destination, Message};
//!
//! let client = qstash::Client::from_env()?;
//! let message = Message::new(Destination::url("https://example.com/api/orders"))
//!     .json(&serde_json::json!({ "order": 42 }))
//!     .delay(Duration::from_secs(90))
//!     .retries(5);
//! let published = client.messages().publish(message).send().await?;
//! println!("message ids: {:?}", published.message_ids());
//! # Ok(()) }
//! ```
//!
//! Several messages in one request, one of them to a URL group:
//!
//! ```no_run
//! # async fn run(client: qstash::Client) -> Result<(), qstash::Error> {
//! use qstash::messages::{Destination, Message};
//!
//! let results = client
//!     .messages()
//!     .batch()
//!     .publish(Message::new(Destination::url("https://example.com/a")).text("a"))
//!     .publish(Message::new(Destination::url_group("audit")).text("b"))
//!     .send()
//!     .await?;
//! # Ok(()) }
//! ```
//!
//! A schedule, every weekday at 9:00 in New York:
//!
//! ```no_run
//! # async fn run(client: qstash::Client) -> Result<(), qstash::Error> {
//! use qstash::messages::{Destination, Message};
//!
//! let report = Message::new(Destination::url("https://example.com/api/report"));
//! client
//!     .schedules()
//!     .create("CRON_TZ=America/New_York 0 9 * * MON-FRI", report)
//!     .send()
//!     .await?;
//! # Ok(()) }
//! ```
//!
//! - [`Client`]: built with [`Client::builder`] or [`Client::from_env`].
//! - [`messages`]: [`Message`](messages::Message) and its options; publish,
//!   enqueue, batch. [`schedules`], [`url_groups`]: their areas.
//! - [`types`]: every request and response model, with serde and
//!   [`schemars::JsonSchema`].
//! - Management: [`Client::messages`] (get, cancel), [`Client::dlq`],
//!   [`Client::logs`], [`Client::queues`], [`Client::flow_control`],
//!   [`Client::signing_keys`]; cursor-paginated lists as a [`Paginated`]
//!   stream or one [`Page`] at a time, with typed filters ([`filters`]).
//! - [`receiver`]: verifying the `Upstash-Signature` of incoming deliveries
//!   ([`Receiver`], [`RequestVerifier`], axum extractors with the `axum`
//!   feature) and signing test deliveries ([`Signer`]).
//! - [`dev_server`] (feature `dev-server`): a local QStash server, in
//!   process, that delivers, signs, retries and logs like QStash.
//! - [`Error`]: what a call can fail with; [`ConfigError`]: what building a
//!   client or a receiver can fail with.
//! - [`api`]: the generated builder of every operation, for what the
//!   hand-written layer does not cover.
//! - [`retry`]: which calls are retried and when ([`RetryPolicy`], on by
//!   default), and how a retried publish stays one message.
//!
//! # Features
//!
//! | feature | adds |
//! |---|---|
//! | `rustls` (default) | HTTPS through rustls, with the ring crypto provider and the platform's certificate verifier |
//! | `rustls-aws-lc-rs` | HTTPS through rustls with the aws-lc-rs provider instead (a longer native build) |
//! | `native-tls` | HTTPS through the platform's TLS library (OpenSSL on Linux) |
//! | `axum` | `VerifiedBody` and `VerifiedJson` as axum extractors |
//! | `actix-web` | the same types as actix-web extractors |
//! | `tower` | `VerifyLayer`, verifying deliveries in front of any tower service (axum, tonic, hyper) |
//! | `dev-server` | the local QStash server, `dev_server`, and the `qstash-dev-server` binary |
//!
//! The client [`ClientBuilder::build`] creates gets its TLS configuration
//! from these features and sets no process-wide state (no rustls crypto
//! provider is installed). An explicitly enabled backend wins over the
//! default one: `native-tls`, then `rustls-aws-lc-rs`, then `rustls`. With
//! none of them, `http://` servers (the dev server, a local proxy) work and
//! an `https://` server is [`ConfigError::TlsNotEnabled`] at build time.
#![deny(missing_docs)]

pub mod api;
mod auth;
mod bounded;
mod client;
mod config;
#[cfg(feature = "dev-server")]
pub mod dev_server;
mod error;
mod hooks;
mod operations;
pub mod receiver;
pub mod retry;
mod tls;

pub use api::types;
pub use auth::{AuthMode, TOKEN_QUERY_PARAMETER};
pub use client::{
    Client, ClientBuilder, ClientConfig, DEFAULT_CONNECT_TIMEOUT, DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_TIMEOUT,
};
pub use config::Region;
pub use error::{ConfigError, Error, ErrorBody, InvalidInput, RateLimit, RateLimitKind};
pub use hooks::USER_AGENT_VALUE;
pub use receiver::{Claims, Delivery, Receiver, RequestVerifier, Signer, VerifyError};
pub use retry::RetryPolicy;
pub use tls::install_crypto_provider;

// The hand-written areas over the generated client, each marked
// `cfg(not(qstash_spec_check))`: the spec-history check
// (`tests/spec_history.rs`) compiles with `--cfg qstash_spec_check`, which
// leaves them out, to show that the generated client of every upstream spec
// version compiles even where these areas were not written for it; without
// the flag it reports what in them a spec change breaks. (An attribute on
// each item rather than a macro around them, so that rustfmt sees them.)
#[cfg(not(qstash_spec_check))]
pub mod dlq;
#[cfg(not(qstash_spec_check))]
pub mod filters;
#[cfg(not(qstash_spec_check))]
pub mod flow_control;
#[cfg(not(qstash_spec_check))]
pub mod keys;
#[cfg(not(qstash_spec_check))]
pub mod logs;
#[cfg(not(qstash_spec_check))]
pub mod messages;
#[cfg(not(qstash_spec_check))]
pub mod pagination;
#[cfg(not(qstash_spec_check))]
pub mod queues;
#[cfg(not(qstash_spec_check))]
pub mod schedules;
#[cfg(not(qstash_spec_check))]
mod tolerant;
#[cfg(not(qstash_spec_check))]
pub mod url_groups;
#[cfg(not(qstash_spec_check))]
pub use filters::{DlqFilter, LogFilter, LogState, MessageFilter};
#[cfg(not(qstash_spec_check))]
pub use pagination::{Page, Paginated};

/// The items most programs need: `use qstash::prelude::*;`.
#[cfg(not(qstash_spec_check))]
pub mod prelude {
    pub use crate::messages::{Callback, Destination, FlowControl, Message, Published};
    pub use crate::url_groups::Endpoint;
    pub use crate::{
        AuthMode, Client, ClientBuilder, ConfigError, Delivery, DlqFilter, Error, LogFilter,
        LogState, MessageFilter, Receiver, Region, RequestVerifier, RetryPolicy, types,
    };
}
