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
//! - [`builder`]: the request builders the client's methods return.
//! - [`receiver`]: verifying the `Upstash-Signature` of incoming deliveries
//!   ([`Receiver`], [`RequestVerifier`], axum extractors with the `axum`
//!   feature) and signing test deliveries ([`Signer`]).
//! - [`dev_server`] (feature `dev-server`): a local QStash server, in
//!   process, that delivers, signs, retries and logs like QStash.
//! - [`Error`]: what a call can fail with; [`ConfigError`]: what building a
//!   client or a receiver can fail with.
#![deny(missing_docs)]

mod auth;
mod client;
mod config;
#[cfg(feature = "dev-server")]
pub mod dev_server;
mod error;
mod generated;
mod hooks;
pub mod receiver;

pub use auth::{AuthMode, TOKEN_QUERY_PARAMETER};
#[cfg(feature = "rustls")]
pub use client::install_crypto_provider;
pub use client::{ClientBuilder, ClientConfig, DEFAULT_CONNECT_TIMEOUT, DEFAULT_TIMEOUT};
pub use config::Region;
pub use error::{ConfigError, Error};
pub use generated::{Client, ResponseValue, builder, types};
pub use hooks::USER_AGENT_VALUE;
pub use receiver::{Claims, Delivery, Receiver, RequestVerifier, Signer, VerifyError};

/// The items most programs need: `use qstash::prelude::*;`.
pub mod prelude {
    pub use crate::{
        AuthMode, Client, ClientBuilder, ConfigError, Delivery, Error, Receiver, Region,
        RequestVerifier, types,
    };
}
