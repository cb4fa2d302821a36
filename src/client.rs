//! Building a [`Client`]: token, server, timeouts, HTTP client.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::api;
use crate::auth::{AuthMode, Credentials};
use crate::config::{EnvSettings, normalize_base_url, resolve_env};
use crate::config_error::ConfigError;
use crate::env::process_env;
use crate::region::Region;
use crate::retry::{DeduplicationIds, RetryPolicy};

/// Default limit for a whole request, unless the caller sets one.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// Default limit for opening a connection, on the HTTP client the builder creates.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Default for [`ClientBuilder::max_response_bytes`]: 160 MiB, enough for
/// the largest answers QStash gives:
///
/// - one message (`GET /v2/messages/{id}`) of the largest size any plan
///   accepts, 50 MB on the Fixed plans
///   (<https://upstash.com/pricing/qstash>), which comes back base64-encoded
///   when it is not UTF-8: 67 MB;
/// - a full page of logs or DLQ messages: at most 100 entries (the spec's
///   maximum `count`), each with its body (base64 in the logs); with bodies
///   of 1 MB (the Free plan's maximum) that is about 134 MB, plus headers
///   and metadata.
///
/// A page of larger messages (up to 10 MB each on Pay as You Go, 50 MB on
/// Fixed plans) can be larger than any fixed figure: ask for fewer entries
/// per page (`count`) or raise the limit. The memory a call can take for
/// its answer is bounded by this figure, whatever a server sends.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 160 * 1024 * 1024;

/// What every request of a [`Client`] needs besides the URL: credentials,
/// timeout, retry policy, answer limit. Its `Debug` output never shows the
/// token.
#[derive(Clone)]
pub struct ClientConfig {
    /// Set once by the builder and shared by every copy of the client, so
    /// that the copy each publish makes (see [`Client::api_with_headers`])
    /// costs a reference count rather than a copy of every setting.
    pub(crate) shared: Arc<Shared>,
    pub(crate) allow_unfiltered_bulk: bool,
    /// Headers of one message that the generated builders cannot express
    /// (forwarded and callback headers, among others); set on a per-call
    /// copy by [`Client::api_with_headers`], empty otherwise.
    pub(crate) message_headers: MessageHeaders,
}

/// The settings of a client, from its builder.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) credentials: Credentials,
    pub(crate) timeout: Duration,
    pub(crate) retry: RetryPolicy,
    /// Where publish, enqueue and batch get their deduplication ids; `None`
    /// with retries off, or when the system had no randomness to give.
    pub(crate) deduplication_ids: Option<DeduplicationIds>,
    /// The base URL's path (empty, or a proxy's prefix such as `/qstash`),
    /// where the API path of every request starts.
    pub(crate) base_path: String,
    /// The largest answer read (see [`ClientBuilder::max_response_bytes`]).
    pub(crate) max_response_bytes: usize,
}

/// The headers of one call's message, which its generated `send` starts
/// the request's headers from (`hooks::header_map`): they are not copied,
/// and a copy of the client made for the call is never used for another
/// one.
#[derive(Default)]
pub(crate) struct MessageHeaders(Mutex<http::HeaderMap>);

impl MessageHeaders {
    /// The headers, leaving none behind.
    pub(crate) fn take(&self) -> http::HeaderMap {
        // A panic while the lock was held cannot leave a map half-written
        // that matters here: take whatever it holds.
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

impl Clone for MessageHeaders {
    fn clone(&self) -> Self {
        let headers = self.0.lock().unwrap_or_else(|e| e.into_inner()).clone();
        MessageHeaders(Mutex::new(headers))
    }
}

impl fmt::Debug for MessageHeaders {
    /// Names only: values are often credentials for the destination.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let headers = self.0.lock().unwrap_or_else(|e| e.into_inner());
        f.debug_list().entries(headers.keys()).finish()
    }
}

impl fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shared = &*self.shared;
        f.debug_struct("ClientConfig")
            .field("credentials", &shared.credentials)
            .field("timeout", &shared.timeout)
            .field("allow_unfiltered_bulk", &self.allow_unfiltered_bulk)
            .field("message_headers", &self.message_headers)
            .field("retry", &shared.retry)
            .field("base_path", &shared.base_path)
            .field("max_response_bytes", &shared.max_response_bytes)
            .finish()
    }
}

impl ClientConfig {
    /// Where the token goes on each request.
    pub fn auth_mode(&self) -> AuthMode {
        self.shared.credentials.mode()
    }

    /// The limit for a whole request.
    pub fn timeout(&self) -> Duration {
        self.shared.timeout
    }

    /// When requests are tried again.
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.shared.retry
    }

    /// The largest answer a request reads.
    pub fn max_response_bytes(&self) -> usize {
        self.shared.max_response_bytes
    }
}

/// A QStash client: cheap to clone (clones share connections), safe to use
/// from many tasks at once.
///
/// Each QStash area has its methods here, returning a request builder to
/// finish with `.send().await`; [`api`](Self::api) reaches the generated
/// low-level builders.
#[derive(Debug, Clone)]
pub struct Client {
    api: api::Client,
}

impl Client {
    /// Starts building a client; [`ClientBuilder::token`] is the one required call.
    ///
    /// ```
    /// # fn main() -> Result<(), qstash::ConfigError> {
    /// let client = qstash::Client::builder()
    ///     .token("my-token")
    ///     .region(qstash::Region::UsEast1)
    ///     .build()?;
    /// # Ok(()) }
    /// ```
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// A client configured from the environment variables the official SDKs
    /// read; see [`ClientBuilder::from_env`].
    pub fn from_env() -> Result<Client, ConfigError> {
        ClientBuilder::from_env()?.build()
    }

    /// The server this client talks to, normalized (no trailing slash).
    pub fn base_url(&self) -> &str {
        &self.api.baseurl
    }

    /// The token placement, timeout and retry policy every request uses.
    pub fn config(&self) -> &ClientConfig {
        &self.api.inner
    }

    /// The generated builder for every operation of the spec, with the same
    /// auth, timeout, checks and retries; see [`api`](crate::api) for when
    /// to use it, and [`Error::from_api`](crate::Error::from_api) to turn its
    /// errors into [`Error`](crate::Error).
    ///
    /// ```no_run
    /// # async fn run(client: qstash::Client) -> Result<(), qstash::Error> {
    /// let keys = match client.api().get_signing_keys().send().await {
    ///     Ok(keys) => keys.into_inner(),
    ///     Err(error) => return Err(qstash::Error::from_api(error).await),
    /// };
    /// # Ok(()) }
    /// ```
    pub fn api(&self) -> &api::Client {
        &self.api
    }

    /// The generated client for one call that adds `headers` to its request
    /// (see `hooks.rs`). Cloning shares the connection pool.
    pub(crate) fn api_with_headers(&self, headers: http::HeaderMap) -> api::Client {
        api::Client {
            baseurl: self.api.baseurl.clone(),
            client: self.api.client.clone(),
            inner: ClientConfig {
                shared: Arc::clone(&self.api.inner.shared),
                allow_unfiltered_bulk: self.api.inner.allow_unfiltered_bulk,
                message_headers: MessageHeaders(Mutex::new(headers)),
            },
        }
    }

    /// A copy of this client (sharing its connections) whose
    /// [`api`](Self::api) may send bulk cancel, DLQ delete and DLQ retry
    /// requests with no ids and no filter, which QStash applies to every
    /// message. Otherwise they are refused, because an id list that came out
    /// empty would mean "everything".
    ///
    /// ```no_run
    /// # async fn run(client: qstash::Client) -> Result<(), qstash::api::Error<()>> {
    /// // Cancel every pending message, on purpose.
    /// client.allow_unfiltered_bulk().api().cancel_messages().send().await?;
    /// # Ok(()) }
    /// ```
    pub fn allow_unfiltered_bulk(&self) -> Client {
        let mut client = self.clone();
        client.api.inner.allow_unfiltered_bulk = true;
        client
    }
}

/// Builds a [`Client`]. Its `Debug` output never shows the token.
#[derive(Default, Clone)]
pub struct ClientBuilder {
    token: Option<String>,
    base_url: Option<String>,
    auth_mode: AuthMode,
    timeout: Option<Duration>,
    connect_timeout: Option<Duration>,
    http_client: Option<reqwest::Client>,
    retry: Option<RetryPolicy>,
    max_response_bytes: Option<usize>,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field(
                "token",
                &self.token.as_ref().map(|_| crate::secret::REDACTED),
            )
            .field("base_url", &self.base_url)
            .field("auth_mode", &self.auth_mode)
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("http_client", &self.http_client.is_some())
            .field("retry", &self.retry)
            .field("max_response_bytes", &self.max_response_bytes)
            .finish()
    }
}

impl ClientBuilder {
    /// A builder filled from the process environment, as the official SDKs
    /// read it:
    ///
    /// | `QSTASH_REGION` | server | token |
    /// |---|---|---|
    /// | unset | `QSTASH_URL`, else `https://qstash.upstash.io` | `QSTASH_TOKEN` |
    /// | `EU_CENTRAL_1` or `US_EAST_1`, with `<REGION>_QSTASH_URL` and `<REGION>_QSTASH_TOKEN` both set | `<REGION>_QSTASH_URL` | `<REGION>_QSTASH_TOKEN` |
    /// | a region without both of those, or an unknown name | as if unset (a `tracing` warning says so) | as if unset |
    ///
    /// This is the TypeScript SDK's resolution, its fallback included.
    /// Empty variables count as unset; a variable that is not valid UTF-8 is
    /// an error. Further builder calls override what the environment said.
    pub fn from_env() -> Result<ClientBuilder, ConfigError> {
        Ok(Self::from_env_settings(resolve_env(process_env)?))
    }

    /// Like [`from_env`](Self::from_env), reading variables through `lookup`
    /// instead of the process environment (a secrets store, a test's map).
    ///
    /// ```
    /// # fn main() -> Result<(), qstash::ConfigError> {
    /// let vars = std::collections::HashMap::from([
    ///     ("QSTASH_REGION", "US_EAST_1"),
    ///     ("US_EAST_1_QSTASH_URL", "https://qstash-us-east-1.upstash.io"),
    ///     ("US_EAST_1_QSTASH_TOKEN", "us-token"),
    /// ]);
    /// let client = qstash::ClientBuilder::from_env_with(|name| vars.get(name).map(|v| v.to_string()))?
    ///     .build()?;
    /// # Ok(()) }
    /// ```
    pub fn from_env_with(
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<ClientBuilder, ConfigError> {
        Ok(Self::from_env_settings(resolve_env(|name| {
            Ok(lookup(name))
        })?))
    }

    fn from_env_settings(settings: EnvSettings) -> ClientBuilder {
        ClientBuilder {
            token: settings.token,
            base_url: Some(settings.base_url),
            ..ClientBuilder::default()
        }
    }

    /// The QStash token (Upstash console → QStash → Request builder).
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// Talk to a region's server. The default is [`Region::EuCentral1`].
    pub fn region(mut self, region: Region) -> Self {
        self.base_url = Some(region.base_url().into());
        self
    }

    /// Talk to any server, such as the local development server
    /// `http://127.0.0.1:8080` or a proxy. A trailing slash is removed; a URL
    /// that includes the API path (`.../v2/publish`) is refused with the URL
    /// to use instead.
    pub fn base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = Some(base_url.into());
        self
    }

    /// Where the token goes on each request; [`AuthMode::Bearer`] by default.
    pub fn auth_mode(mut self, mode: AuthMode) -> Self {
        self.auth_mode = mode;
        self
    }

    /// Limit for a whole request (connect, send, receive the body);
    /// [`DEFAULT_TIMEOUT`] unless set. It applies also to a client passed to
    /// [`http_client`](Self::http_client), next to any timeout of that
    /// client's own (the shorter ends the request).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Limit for opening a connection; [`DEFAULT_CONNECT_TIMEOUT`] unless set.
    /// Only for the HTTP client the builder creates.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout);
        self
    }

    /// Send requests with this `reqwest::Client` (its proxy, TLS and pool
    /// settings) instead of one the builder creates. With a rustls feature,
    /// see [`install_crypto_provider`](crate::install_crypto_provider) for
    /// the steps to build it.
    ///
    /// The builder's own client follows no redirect and sends no `Referer`.
    /// This one keeps its own policy, which the crate cannot change:
    /// reqwest's default follows redirects, re-sending the request (its
    /// body and forwarded headers; on another host without `Authorization`,
    /// with a `Referer` that holds the query token in
    /// [`AuthMode::QueryParameter`]). QStash never redirects, so a call
    /// whose request was redirected fails with
    /// [`Error::Redirected`](crate::Error::Redirected) either way; to keep
    /// the request from going anywhere else, build the client with
    /// `.redirect(reqwest::redirect::Policy::none())` and `.referer(false)`.
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
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http_client = Some(client);
        self
    }

    /// When to try a request again; [`RetryPolicy::default`] unless set
    /// (see [`retry`](crate::retry) for what is retried).
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = Some(policy);
        self
    }

    /// The largest answer (success or error) a request reads, in bytes;
    /// [`DEFAULT_MAX_RESPONSE_BYTES`] (160 MiB; how it was chosen is
    /// there) unless set. A larger answer, or one declaring a larger
    /// `Content-Length`, fails with [`Error::TooLarge`](crate::Error::TooLarge)
    /// and is not retried; no more than this is ever held for it.
    pub fn max_response_bytes(mut self, limit: usize) -> Self {
        self.max_response_bytes = Some(limit);
        self
    }

    /// Send every request once: no retries, and no deduplication id added
    /// to publish, enqueue and batch. Same as `.retry(RetryPolicy::none())`.
    pub fn no_retries(self) -> Self {
        self.retry(RetryPolicy::none())
    }

    /// Checks the settings and builds the client.
    ///
    /// The HTTP client it creates (unless [`http_client`](Self::http_client)
    /// gave one) gets its TLS from the crate's features and sets no
    /// process-wide state: see [Features](crate#features). Without a TLS
    /// feature an `https://` server is [`ConfigError::TlsNotEnabled`];
    /// with rustls, a system without root certificates is
    /// [`ConfigError::Tls`].
    pub fn build(self) -> Result<Client, ConfigError> {
        let token = self.token.ok_or(ConfigError::MissingToken)?;
        let credentials = Credentials::new(&token, self.auth_mode)?;
        let base_url = normalize_base_url(
            self.base_url
                .as_deref()
                .unwrap_or(Region::default().base_url()),
        )?;
        let retry = self.retry.unwrap_or_default();
        let http_client = match self.http_client {
            Some(_) if self.connect_timeout.is_some() => {
                return Err(ConfigError::ConnectTimeoutWithCustomClient);
            }
            Some(client) => client,
            None => {
                let builder = reqwest::Client::builder()
                    .connect_timeout(self.connect_timeout.unwrap_or(DEFAULT_CONNECT_TIMEOUT))
                    // QStash never redirects; following one would re-send
                    // the request, body, forwarded headers and (in
                    // query-token mode, through `Referer`) the token to
                    // wherever it points.
                    .redirect(reqwest::redirect::Policy::none())
                    .referer(false);
                // One retry layer at a time. reqwest's own repeats a request
                // an HTTP/2 server refused unprocessed, and for that copies
                // every request before sending it: about 1,450 instructions
                // a publish (`benches/publish_cost.rs`). While this crate's
                // retries are on, they repeat those refusals instead
                // (`retry::refused_unprocessed`), from the copy they keep;
                // with them off, reqwest's stay. `never()` alone would still
                // copy each request (reqwest checks its scope only from the
                // second try on): no retries per request is what skips it.
                let builder = if retry.retries() {
                    builder.retry(reqwest::retry::never().max_retries_per_request(0))
                } else {
                    builder
                };
                crate::tls::configure(builder, &base_url)?
                    .build()
                    .map_err(ConfigError::Http)?
            }
        };
        let shared = Shared {
            credentials,
            timeout: self.timeout.unwrap_or(DEFAULT_TIMEOUT),
            deduplication_ids: retry.retries().then(DeduplicationIds::new).flatten(),
            retry,
            base_path: url::Url::parse(&base_url)
                .map(|url| url.path().trim_end_matches('/').to_string())
                .unwrap_or_default(),
            max_response_bytes: self
                .max_response_bytes
                .unwrap_or(DEFAULT_MAX_RESPONSE_BYTES),
        };
        let config = ClientConfig {
            shared: Arc::new(shared),
            allow_unfiltered_bulk: false,
            message_headers: MessageHeaders::default(),
        };
        Ok(Client {
            api: api::Client::new_with_client(&base_url, http_client, config),
        })
    }
}
