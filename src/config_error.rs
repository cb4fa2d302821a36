//! Why a client or a receiver could not be built: shared by both, so it
//! is compiled with or without the `client` feature; the variants only the
//! client can produce come with it.

/// Why a `Client` (feature `client`) or a [`Receiver`](crate::receiver::Receiver)
/// could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// No token was given, or it was empty.
    #[cfg(feature = "client")]
    #[cfg_attr(docsrs, doc(cfg(feature = "client")))]
    #[error(
        "no QStash token: pass one to `ClientBuilder::token` or set QSTASH_TOKEN \
         (or <REGION>_QSTASH_TOKEN with QSTASH_REGION)"
    )]
    MissingToken,
    /// The token holds a byte that cannot go into an HTTP header or query.
    #[cfg(feature = "client")]
    #[cfg_attr(docsrs, doc(cfg(feature = "client")))]
    #[error(
        "the QStash token has a character not allowed in an HTTP header at byte {position}; \
         copy it again from the Upstash console"
    )]
    InvalidToken {
        /// Byte offset of the first offending character.
        position: usize,
    },
    /// The base URL is not a usable QStash server address.
    #[cfg(feature = "client")]
    #[cfg_attr(docsrs, doc(cfg(feature = "client")))]
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
    #[cfg(feature = "client")]
    #[cfg_attr(docsrs, doc(cfg(feature = "client")))]
    #[error(
        "connect_timeout applies only to the HTTP client the builder creates; \
         set it on the reqwest::Client you pass to `http_client`"
    )]
    ConnectTimeoutWithCustomClient,
    /// The public base URL given to a
    /// [`RequestVerifier`](crate::receiver::RequestVerifier) is not one QStash could
    /// have signed a delivery for.
    #[error("invalid public base URL `{url}`: {reason}")]
    InvalidPublicUrl {
        /// The URL as given, up to any query, fragment or user.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
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
    #[cfg(feature = "client")]
    #[cfg_attr(docsrs, doc(cfg(feature = "client")))]
    #[error("could not build the HTTP client: {0}")]
    Http(#[source] reqwest::Error),
    /// The TLS configuration of the builder's HTTP client could not be
    /// made, for example because the system has no root certificates.
    #[cfg(feature = "client")]
    #[cfg_attr(docsrs, doc(cfg(feature = "client")))]
    #[error("could not set up TLS for the HTTP client: {0}")]
    Tls(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The server URL is `https://`, but the crate was built without a TLS
    /// feature (`rustls`, `rustls-aws-lc-rs` or `native-tls`).
    #[cfg(feature = "client")]
    #[cfg_attr(docsrs, doc(cfg(feature = "client")))]
    #[error(
        "`{url}` needs TLS, but qstash was built without a TLS feature: enable `rustls` \
         (the default), `rustls-aws-lc-rs` or `native-tls`, or use an http:// server"
    )]
    TlsNotEnabled {
        /// The server URL.
        url: String,
    },
}
