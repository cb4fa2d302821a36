//! Typed async client for [Upstash QStash](https://upstash.com/docs/qstash),
//! generated at build time from the upstream OpenAPI spec.
//!
//! Every QStash operation is a method on [`Client`] that returns a request
//! builder: set the parameters, then `.send().await`.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let client = qstash::Client::from_env()?;
//! let published = client
//!     .publish_message()
//!     .destination("https://example.com/api")
//!     .content_type("application/json")
//!     .upstash_delay("10s")
//!     .body(r#"{"hello":"world"}"#)
//!     .send()
//!     .await?;
//! println!("{:?}", published.into_inner());
//! # Ok(()) }
//! ```
//!
//! - [`Client`]: built with [`Client::builder`] or [`Client::from_env`].
//! - [`types`]: every request and response model, with serde and
//!   [`schemars::JsonSchema`].
//! - [`api::builder`]: the generated request builders behind [`Client::api`].
//! - Management: [`Client::messages`] (get, cancel), [`Client::dlq`],
//!   [`Client::logs`], [`Client::queues`], [`Client::flow_control`],
//!   [`Client::signing_keys`]; cursor-paginated lists as a [`Paginated`]
//!   stream or one [`Page`] at a time, with typed filters ([`filters`]).
//! - [`receiver`]: verifying the `Upstash-Signature` of incoming deliveries
//!   ([`Receiver`], [`RequestVerifier`], axum extractors with the `axum`
//!   feature) and signing test deliveries ([`Signer`]).
//! - [`Error`]: what a call can fail with; [`ConfigError`]: what building a
//!   client or a receiver can fail with.
#![deny(missing_docs)]

pub mod api;
mod auth;
mod client;
mod config;
pub mod dlq;
mod error;
pub mod filters;
pub mod flow_control;
mod hooks;
pub mod keys;
pub mod logs;
pub mod messages;
pub mod pagination;
pub mod queues;
pub mod receiver;

pub use api::types;
pub use auth::{AuthMode, TOKEN_QUERY_PARAMETER};
#[cfg(feature = "rustls")]
pub use client::install_crypto_provider;
pub use client::{Client, ClientBuilder, ClientConfig, DEFAULT_CONNECT_TIMEOUT, DEFAULT_TIMEOUT};
pub use config::Region;
pub use error::{ConfigError, Error, InvalidInput, RateLimit, RateLimitKind};
pub use filters::{DlqFilter, LogFilter, LogState, MessageFilter};
pub use hooks::USER_AGENT_VALUE;
pub use pagination::{Page, Paginated};
pub use receiver::{Claims, Delivery, Receiver, RequestVerifier, Signer, VerifyError};

/// The items most programs need: `use qstash::prelude::*;`.
pub mod prelude {
    pub use crate::{
        AuthMode, Client, ClientBuilder, ConfigError, Delivery, DlqFilter, Error, LogFilter,
        LogState, MessageFilter, Receiver, Region, RequestVerifier, types,
    };
}
