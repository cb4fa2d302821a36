//! The TLS of the HTTP client [`ClientBuilder::build`](crate::ClientBuilder::build)
//! creates, chosen by feature, set on that client alone: nothing here
//! touches process-wide state.
//!
//! | features | TLS |
//! |---|---|
//! | `native-tls` (with or without the others) | the platform's library, through reqwest |
//! | `rustls-aws-lc-rs` (with or without `rustls`) | rustls, aws-lc-rs provider, platform verifier |
//! | `rustls` (the default) | rustls, ring provider, platform verifier |
//! | none | none: `http://` servers only |
//!
//! An explicitly enabled backend wins over the default one, so adding a
//! feature without `default-features = false` still gets what was asked
//! for (reqwest also prefers native-tls when both are compiled).

use crate::config_error::ConfigError;

/// Sets the TLS backend of `builder`, the client for `base_url`: with no
/// TLS feature there is none, and an `https://` server is refused here
/// rather than failing on every call.
pub(crate) fn configure(
    builder: reqwest::ClientBuilder,
    base_url: &str,
) -> Result<reqwest::ClientBuilder, ConfigError> {
    if !ENABLED && url::Url::parse(base_url).is_ok_and(|url| url.scheme() == "https") {
        return Err(ConfigError::TlsNotEnabled {
            url: base_url.to_string(),
        });
    }
    backend(builder)
}

/// Whether a TLS feature is on.
const ENABLED: bool = cfg!(any(
    feature = "native-tls",
    feature = "rustls",
    feature = "rustls-aws-lc-rs"
));

/// Sets the TLS backend the features choose on `builder`, for any server
/// (the dev server's deliveries go to many).
#[cfg(feature = "native-tls")]
pub(crate) fn backend(
    builder: reqwest::ClientBuilder,
) -> Result<reqwest::ClientBuilder, ConfigError> {
    // Explicit: with a rustls feature also on, reqwest would pick one by
    // its own rule.
    Ok(builder.tls_backend_native())
}

/// Sets the TLS backend the features choose on `builder`, for any server
/// (the dev server's deliveries go to many).
#[cfg(all(
    not(feature = "native-tls"),
    any(feature = "rustls", feature = "rustls-aws-lc-rs")
))]
pub(crate) fn backend(
    builder: reqwest::ClientBuilder,
) -> Result<reqwest::ClientBuilder, ConfigError> {
    Ok(builder.tls_backend_preconfigured(rustls_config()?))
}

/// With no TLS feature there is no backend to set: `https://` requests
/// fail when sent.
#[cfg(not(any(
    feature = "native-tls",
    feature = "rustls",
    feature = "rustls-aws-lc-rs"
)))]
pub(crate) fn backend(
    builder: reqwest::ClientBuilder,
) -> Result<reqwest::ClientBuilder, ConfigError> {
    Ok(builder)
}

/// What reqwest would build with its own rustls backend, but with the
/// crate's provider instead of the process default: the platform's
/// certificate verifier (system roots), TLS 1.3 and 1.2, and ALPN offering
/// HTTP/2 then HTTP/1.1 (reqwest's order with its `http2` feature).
#[cfg(all(
    not(feature = "native-tls"),
    any(feature = "rustls", feature = "rustls-aws-lc-rs")
))]
fn rustls_config() -> Result<rustls::ClientConfig, ConfigError> {
    use rustls_platform_verifier::BuilderVerifierExt as _;

    let tls = |error: rustls::Error| ConfigError::Tls(Box::new(error));
    let mut config = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(provider()))
        .with_safe_default_protocol_versions()
        .map_err(tls)?
        .with_platform_verifier()
        .map_err(tls)?
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

/// The crypto provider the rustls features choose.
#[cfg(feature = "rustls-aws-lc-rs")]
fn provider() -> rustls::crypto::CryptoProvider {
    rustls::crypto::aws_lc_rs::default_provider()
}

/// The crypto provider the rustls features choose.
#[cfg(all(feature = "rustls", not(feature = "rustls-aws-lc-rs")))]
fn provider() -> rustls::crypto::CryptoProvider {
    rustls::crypto::ring::default_provider()
}

/// Makes the crate's rustls crypto provider (aws-lc-rs with the
/// `rustls-aws-lc-rs` feature, else ring) the process default, unless one
/// is set; without a rustls feature, does nothing.
///
/// Only for a `reqwest::Client` you build yourself: the client
/// [`ClientBuilder::build`](crate::ClientBuilder::build) creates carries
/// its own TLS configuration and needs no process-wide provider. With a
/// rustls feature, reqwest is compiled without a provider of its own (its
/// default, aws-lc, needs a long native build), so building a
/// `reqwest::Client` with none installed panics inside reqwest. To pass
/// your own client to [`ClientBuilder::http_client`](crate::ClientBuilder::http_client):
///
/// 1. call this first, or install a provider yourself
///    (`rustls::crypto::CryptoProvider::install_default`), or enable
///    reqwest's own `rustls` feature, which brings its default provider;
/// 2. build the client with `.redirect(reqwest::redirect::Policy::none())`
///    and `.referer(false)`, as the builder's own client is (see
///    [`ClientBuilder::http_client`](crate::ClientBuilder::http_client) for why);
/// 3. pass it to [`ClientBuilder::http_client`](crate::ClientBuilder::http_client).
///
/// This sets process-wide state: a program that installs another provider
/// later gets an error from `install_default`. Calling this more than once
/// is harmless.
///
/// ```
/// qstash::install_crypto_provider();
/// let http = reqwest::Client::builder()
///     .redirect(reqwest::redirect::Policy::none())
///     .referer(false)
///     .build()?;
/// let client = qstash::Client::builder().token("my-token").http_client(http).build()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn install_crypto_provider() {
    #[cfg(any(feature = "rustls", feature = "rustls-aws-lc-rs"))]
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Losing a race with another thread installing one is fine.
        let _ = provider().install_default();
    }
}
