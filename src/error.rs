//! Errors of this crate.
//!
//! Calls return [`Error`] (progenitor's request error, generic over the
//! operation's documented error body, usually [`types::Error`](crate::types::Error));
//! building a client returns [`ConfigError`]. Neither ever contains the token.

pub use progenitor_client::Error;

/// Why a [`Client`](crate::Client) or a [`Receiver`](crate::Receiver) could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// No token was given, or it was empty.
    #[error(
        "no QStash token: pass one to `ClientBuilder::token` or set QSTASH_TOKEN \
         (or <REGION>_QSTASH_TOKEN with QSTASH_REGION)"
    )]
    MissingToken,
    /// The token holds a byte that cannot go into an HTTP header or query.
    #[error(
        "the QStash token has a character not allowed in an HTTP header at byte {position}; \
         copy it again from the Upstash console"
    )]
    InvalidToken {
        /// Byte offset of the first offending character.
        position: usize,
    },
    /// The base URL is not a usable QStash server address.
    #[error("invalid QStash base URL `{url}`: {reason}")]
    InvalidBaseUrl {
        /// The URL as given.
        url: String,
        /// What is wrong and what to use instead.
        reason: String,
    },
    /// `QSTASH_REGION` (or a region name given to [`Region::from_name`](crate::Region::from_name))
    /// is not a QStash region.
    #[error("unknown QStash region `{0}`: use EU_CENTRAL_1 or US_EAST_1")]
    UnknownRegion(String),
    /// An environment variable is set but is not valid Unicode.
    #[error("environment variable {0} is not valid UTF-8")]
    NotUnicode(String),
    /// `connect_timeout` was set together with a caller-supplied `reqwest::Client`.
    #[error(
        "connect_timeout applies only to the HTTP client the builder creates; \
         set it on the reqwest::Client you pass to `http_client`"
    )]
    ConnectTimeoutWithCustomClient,
    /// A signing key is empty, which would make every forged token pass.
    #[error("signing key is empty")]
    EmptySigningKey,
    /// One key of a current/next signing-key pair is set and the other is not.
    #[error("environment variable `{missing}` is not set, but `{present}` is")]
    IncompleteSigningKeyPair {
        /// The variable that is missing.
        missing: String,
        /// Its partner, which is set.
        present: String,
    },
    /// No signing key pair is configured at all.
    #[error(
        "no signing keys: set QSTASH_CURRENT_SIGNING_KEY and QSTASH_NEXT_SIGNING_KEY \
         (or the <REGION>_ variants)"
    )]
    NoSigningKeys,
    /// reqwest could not build its client (for example, TLS setup failed).
    #[error("could not build the HTTP client: {0}")]
    Http(#[source] reqwest::Error),
}
