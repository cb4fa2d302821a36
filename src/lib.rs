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
//!     .api()
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
//! - [`api`]: the generated request builders behind [`Client::api`].
//! - [`receiver`]: verifying the `Upstash-Signature` of incoming deliveries
//!   ([`Receiver`], [`RequestVerifier`], axum extractors with the `axum`
//!   feature) and signing test deliveries ([`Signer`]).
//! - [`Error`]: what a call can fail with; [`ConfigError`]: what building a
//!   client or a receiver can fail with.
//! - [`retry`]: which calls are retried and when ([`RetryPolicy`], on by
//!   default), and how a retried publish stays one message.
#![deny(missing_docs)]

pub mod api;
mod auth;
mod client;
mod config;
mod error;
mod hooks;
pub mod messages;
pub mod receiver;
pub mod retry;

pub use api::types;
pub use auth::{AuthMode, TOKEN_QUERY_PARAMETER};
#[cfg(feature = "rustls")]
pub use client::install_crypto_provider;
pub use client::{Client, ClientBuilder, ClientConfig, DEFAULT_CONNECT_TIMEOUT, DEFAULT_TIMEOUT};
pub use config::Region;
pub use error::{ConfigError, Error, ErrorBody, InvalidInput, RateLimit, RateLimitKind};
pub use hooks::USER_AGENT_VALUE;
pub use receiver::{Claims, Delivery, Receiver, RequestVerifier, Signer, VerifyError};
pub use retry::RetryPolicy;

/// The items most programs need: `use qstash::prelude::*;`.
pub mod prelude {
    pub use crate::{
        AuthMode, Client, ClientBuilder, ConfigError, Delivery, Error, Receiver, Region,
        RequestVerifier, RetryPolicy, types,
    };
}
