//! Errors of this crate.
//!
//! Calls return [`Error`]; building a client or a receiver returns
//! [`ConfigError`]; verifying a delivery returns
//! [`VerifyError`](crate::VerifyError). None of them ever contains the token.

use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::StatusCode;
use reqwest::header::HeaderMap;

use crate::api::types;

/// What a call to QStash can fail with.
///
/// `Display` says what happened and what to do about it; nothing in it (or
/// in `Debug`) carries the token or a message body sent.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A builder refused its input before anything was sent.
    #[error("invalid {0}")]
    InvalidInput(#[from] InvalidInput),
    /// QStash answered with an error status other than 429.
    #[error("QStash answered {status}: {message}{}", api_hint(.status))]
    Api {
        /// The HTTP status.
        status: StatusCode,
        /// QStash's `{"error": "..."}` message, or the start of whatever
        /// body came instead.
        message: String,
    },
    /// QStash refused the request because a rate limit is used up.
    #[error("{0}")]
    RateLimited(RateLimit),
    /// No complete answer arrived within the client's timeout.
    #[error(
        "QStash did not answer within the timeout (raise `ClientBuilder::timeout` if calls \
         are slow, or check the network): {0}"
    )]
    Timeout(#[source] reqwest::Error),
    /// The request or its answer was lost on the way (DNS, connect, TLS,
    /// reset connection, an answer cut short).
    #[error("could not talk to QStash (check the base URL and the network): {0}")]
    Transport(#[source] reqwest::Error),
    /// QStash answered with a success status but a body this crate cannot read.
    #[error(
        "QStash's answer could not be read ({reason}); check that the base URL is QStash's \
         and no proxy rewrites answers; it began: {snippet}"
    )]
    Decode {
        /// Why it could not be read.
        reason: String,
        /// The start of what arrived.
        snippet: String,
    },
    /// The server answered with a redirect. QStash's API never redirects,
    /// so the client follows none: the request, its body, forwarded headers
    /// and token went nowhere else.
    #[error("{}", redirect_message(*.status, .location.as_deref()))]
    Redirected {
        /// The 3xx status; `None` when a `reqwest::Client` passed to
        /// [`ClientBuilder::http_client`](crate::ClientBuilder::http_client)
        /// followed the redirect itself (reqwest keeps no record of the hops).
        status: Option<StatusCode>,
        /// Where it pointed: the host, and the port if one was given. Never
        /// the path or query, which may echo the request. `None` without a
        /// usable `Location`.
        location: Option<String>,
    },
    /// An answer (success or error) was larger than
    /// [`ClientBuilder::max_response_bytes`](crate::ClientBuilder::max_response_bytes):
    /// reading stopped at the limit, or did not start when the answer
    /// declared a larger `Content-Length`.
    #[error(
        "QStash's answer is larger than the limit of {limit} bytes{}; ask for fewer entries \
         per page (`count`) or raise `ClientBuilder::max_response_bytes`",
        declared.map(|n| format!(" (it declared {n})")).unwrap_or_default()
    )]
    TooLarge {
        /// The limit in force.
        limit: usize,
        /// The `Content-Length` the answer declared, if it declared one.
        declared: Option<u64>,
    },
}

fn redirect_message(status: Option<StatusCode>, location: Option<&str>) -> String {
    let to = location.unwrap_or("no usable location");
    match status {
        Some(status) => format!(
            "the server answered {status}, a redirect to {to}; QStash never redirects, so it \
             was not followed and nothing was sent there: check the base URL"
        ),
        None => format!(
            "the request was redirected to {to}, and the reqwest::Client given to \
             `ClientBuilder::http_client` followed the redirect, sending the request there \
             too; QStash never redirects: check the base URL, and build that client with \
             `redirect(reqwest::redirect::Policy::none())`"
        ),
    }
}

/// Why the request hooks turned an answer down. The hooks can only return
/// a `reqwest::Error`, so a refusal travels as the source of one (see
/// [`Refusal::into_error`]) and [`Error::from_api`] turns it back into its
/// variant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// See [`Error::Redirected`].
    Redirected {
        status: Option<StatusCode>,
        location: Option<String>,
    },
    /// See [`Error::TooLarge`].
    TooLarge { limit: usize, declared: Option<u64> },
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.clone() {
            Refusal::Redirected { status, location } => {
                fmt::Display::fmt(&Error::Redirected { status, location }, f)
            }
            Refusal::TooLarge { limit, declared } => {
                fmt::Display::fmt(&Error::TooLarge { limit, declared }, f)
            }
        }
    }
}

impl std::error::Error for Refusal {}

impl Refusal {
    /// The refusal `error` carries, if the hooks made it.
    pub(crate) fn of(error: &reqwest::Error) -> Option<&Refusal> {
        causes::<Refusal>(error).next()
    }

    /// A `reqwest::Error` for `url` whose source is this refusal.
    pub(crate) fn into_error(self, url: url::Url) -> reqwest::Error {
        transport_error(Box::new(self), url)
    }
}

/// The errors of type `T` among `error`'s sources, outermost first.
pub(crate) fn causes<T: std::error::Error + 'static>(
    error: &reqwest::Error,
) -> impl Iterator<Item = &T> {
    std::iter::successors(std::error::Error::source(error), |inner| inner.source())
        .filter_map(|inner| inner.downcast_ref::<T>())
}

/// A `reqwest::Error` for `url` whose source is `source`: how the hooks'
/// own failures (a refusal, their timeout) travel, since a hook can only
/// return a `reqwest::Error`.
///
/// reqwest has no public constructor for its error, but reading a body
/// that fails yields one with the failure as its source: `source` is put in
/// such a body, which fails at once, and read. Polled once rather than
/// awaited: the read is ready on its first poll, and a function that
/// awaits would keep what the caller holds across it (an attempt's whole
/// answer) in the future of every call.
pub(crate) fn transport_error(
    source: Box<dyn std::error::Error + Send + Sync>,
    url: url::Url,
) -> reqwest::Error {
    use futures_util::FutureExt as _;

    let body = reqwest::Body::wrap(Failing(Some(source)));
    let response = reqwest::Response::from(http::Response::new(body));
    match response.bytes().now_or_never() {
        Some(Err(error)) => error.with_url(url),
        Some(Ok(_)) | None => {
            unreachable!("a failing body yields its error on the first poll of the first read")
        }
    }
}

/// The error of an attempt that got no complete answer within the time it
/// had: an I/O timeout, which `reqwest::Error::is_timeout` recognizes.
pub(crate) fn timed_out(limit: Duration) -> Box<dyn std::error::Error + Send + Sync> {
    Box::new(std::io::Error::new(
        std::io::ErrorKind::TimedOut,
        format!("no complete answer within {} ms", limit.as_millis()),
    ))
}

/// A body whose first read fails with the error it holds.
struct Failing(Option<Box<dyn std::error::Error + Send + Sync>>);

impl http_body::Body for Failing {
    type Data = bytes::Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<bytes::Bytes>, Self::Error>>> {
        std::task::Poll::Ready(self.get_mut().0.take().map(Err))
    }
}

/// What to do about an error status, where the status alone says.
fn api_hint(status: &StatusCode) -> &'static str {
    match status.as_u16() {
        401 => " (check the token: Upstash console → QStash)",
        403 => " (the token is valid but may not do this)",
        404 => " (check the id or name)",
        500..=599 => " (QStash could not handle it now; try again later)",
        _ => "",
    }
}

/// A builder's input that QStash would refuse or misread: which field, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidInput {
    field: Cow<'static, str>,
    reason: String,
}

impl InvalidInput {
    pub(crate) fn new(field: impl Into<Cow<'static, str>>, reason: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// The option or parameter at fault, e.g. `delay` or `header "X-Id"`.
    pub fn field(&self) -> &str {
        &self.field
    }

    /// What is wrong with it.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

impl fmt::Display for InvalidInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.reason)
    }
}

impl std::error::Error for InvalidInput {}

/// Which of QStash's limits a 429 answer reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RateLimitKind {
    /// Requests per second (`Burst-RateLimit-*` headers).
    Burst,
    /// The daily message quota (`RateLimit-*` headers).
    Daily,
    /// A 429 with neither set of headers.
    Unknown,
}

/// What a 429 answer said about the limit that was hit.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RateLimit {
    /// Which limit.
    pub kind: RateLimitKind,
    /// The limit, if the answer said.
    pub limit: Option<u64>,
    /// What remains of it (normally 0).
    pub remaining: Option<u64>,
    /// When the limit resets, if the answer said.
    pub reset: Option<SystemTime>,
    /// `Retry-After`, if the answer had it: its seconds, or the time from
    /// the answer's `Date` (else from when it arrived) to its HTTP date.
    pub retry_after: Option<Duration>,
    /// QStash's message.
    pub message: String,
}

impl RateLimit {
    /// Reads a 429's headers; `now` is the time a `Retry-After` date is
    /// counted from when the answer has no `Date` of its own.
    pub(crate) fn from_headers(headers: &HeaderMap, message: String, now: SystemTime) -> RateLimit {
        let text = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::trim)
        };
        let number = |name: &str| text(name).and_then(|v| v.parse::<u64>().ok());
        let (kind, prefix) = if headers.contains_key("burst-ratelimit-limit")
            || headers.contains_key("burst-ratelimit-reset")
        {
            (RateLimitKind::Burst, "burst-ratelimit-")
        } else if headers.contains_key("ratelimit-limit") || headers.contains_key("ratelimit-reset")
        {
            (RateLimitKind::Daily, "ratelimit-")
        } else {
            (RateLimitKind::Unknown, "")
        };
        let field = |suffix: &str| {
            if prefix.is_empty() {
                None
            } else {
                number(&format!("{prefix}{suffix}"))
            }
        };
        RateLimit {
            kind,
            limit: field("limit"),
            remaining: field("remaining"),
            // A reset too far to represent is no usable reset.
            reset: field("reset")
                .and_then(|secs| UNIX_EPOCH.checked_add(Duration::from_secs(secs))),
            retry_after: retry_after(text("retry-after"), text("date"), now),
            message,
        }
    }

    /// How long to wait from `now` before the limit allows requests again:
    /// `Retry-After` if given, else the time until the reset.
    pub fn wait_from(&self, now: SystemTime) -> Option<Duration> {
        self.retry_after.or_else(|| {
            self.reset
                .map(|reset| reset.duration_since(now).unwrap_or(Duration::ZERO))
        })
    }
}

/// `Retry-After` is seconds or an HTTP date (RFC 9110, section 10.2.3). A
/// date is counted from the answer's own `Date`, so that a clock difference
/// between QStash and this host does not change the wait, else from `now`;
/// a date already past means no wait.
fn retry_after(value: Option<&str>, date: Option<&str>, now: SystemTime) -> Option<Duration> {
    let value = value?;
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    let from = date
        .and_then(|date| httpdate::parse_http_date(date).ok())
        .unwrap_or(now);
    Some(at.duration_since(from).unwrap_or(Duration::ZERO))
}

impl fmt::Display for RateLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            RateLimitKind::Burst => "the per-second request limit",
            RateLimitKind::Daily => "the daily message quota",
            RateLimitKind::Unknown => "a rate limit",
        };
        write!(f, "QStash refused the request: {what} is used up")?;
        if let Some(limit) = self.limit {
            write!(f, " (limit {limit})")?;
        }
        if let Some(wait) = self.wait_from(SystemTime::now()) {
            write!(f, "; try again in {} s", wait.as_secs_f64().ceil())?;
        }
        if !self.message.is_empty() {
            write!(f, ": {}", self.message)?;
        }
        Ok(())
    }
}

/// The documented error bodies of the generated operations (QStash's
/// `{"error": "..."}`, or none), which [`Error::from_api`] turns into a
/// message. Implemented by this crate only.
pub trait ErrorBody: sealed::Sealed {
    /// QStash's message, or an empty string.
    fn into_message(self) -> String;
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for crate::api::types::Error {}
    impl Sealed for () {}
}

impl ErrorBody for types::Error {
    fn into_message(self) -> String {
        self.error
    }
}

impl ErrorBody for () {
    fn into_message(self) -> String {
        String::new()
    }
}

/// Between the parameter and the reason in a hook's refusal.
const HOOK_SEPARATOR: &str = ": ";

/// A refusal of the request hooks, naming the parameter at fault, as the
/// text of `progenitor_client::Error::Custom` (the one error a hook can
/// return); [`Error::from_api`] takes it apart again.
pub(crate) fn hook_error(field: &str, reason: &str) -> String {
    format!("{field}{HOOK_SEPARATOR}{reason}")
}

/// How much of an unexpected body an error keeps.
const SNIPPET_BYTES: usize = 200;

impl Error {
    /// Turns what a call through [`Client::api`](crate::Client::api)
    /// returned into this crate's error. It is async because an answer the
    /// spec does not declare is read (its first few hundred bytes) for the
    /// message.
    ///
    /// ```no_run
    /// # async fn run(client: qstash::Client) -> Result<(), qstash::Error> {
    /// let keys = match client.api().get_signing_keys().send().await {
    ///     Ok(keys) => keys.into_inner(),
    ///     Err(error) => return Err(qstash::Error::from_api(error).await),
    /// };
    /// # Ok(()) }
    /// ```
    pub async fn from_api<E: ErrorBody>(error: progenitor_client::Error<E>) -> Error {
        use progenitor_client::Error as Api;
        match error {
            // The hooks' own refusals name the parameter (see `hook_error`).
            Api::Custom(reason) => match reason.split_once(HOOK_SEPARATOR) {
                Some((field, reason)) => {
                    Error::InvalidInput(InvalidInput::new(field.to_string(), reason))
                }
                None => Error::InvalidInput(InvalidInput::new("request", reason)),
            },
            // progenitor's own: "message_id was not initialized", or a
            // conversion that failed.
            Api::InvalidRequest(reason) => {
                let field = reason
                    .strip_suffix(" was not initialized")
                    .or_else(|| reason.rsplit_once(" for ")?.1.strip_suffix(" failed"))
                    .filter(|field| !field.is_empty() && !field.contains(' '))
                    .map_or(Cow::Borrowed("request"), |field| {
                        Cow::Owned(field.to_string())
                    });
                Error::InvalidInput(InvalidInput::new(field, reason))
            }
            Api::CommunicationError(e) | Api::ResponseBodyError(e) | Api::InvalidUpgrade(e) => {
                Error::from_transport(e)
            }
            Api::ErrorResponse(response) => {
                let status = response.status();
                let headers = response.headers().clone();
                Error::from_status(status, &headers, response.into_inner().into_message())
            }
            Api::InvalidResponsePayload(bytes, e) => Error::Decode {
                reason: e.to_string(),
                snippet: snippet(&bytes),
            },
            Api::UnexpectedResponse(response) => {
                let status = response.status();
                let headers = response.headers().clone();
                let body = match read_prefix(response).await {
                    Ok(body) => body,
                    Err(e) => return Error::from_transport(e),
                };
                if status.is_success() {
                    return Error::Decode {
                        reason: format!("status {status} is not one the spec declares"),
                        snippet: snippet(&body),
                    };
                }
                let message = serde_json::from_slice::<types::Error>(&body)
                    .map(|body| body.error)
                    .unwrap_or_else(|_| snippet(&body));
                Error::from_status(status, &headers, message)
            }
        }
    }

    fn from_status(status: StatusCode, headers: &HeaderMap, message: String) -> Error {
        if status == StatusCode::TOO_MANY_REQUESTS {
            Error::RateLimited(RateLimit::from_headers(headers, message, SystemTime::now()))
        } else {
            Error::Api { status, message }
        }
    }

    fn from_transport(error: reqwest::Error) -> Error {
        // reqwest calls a body cut short by the connection "error decoding
        // response body"; the crate decodes JSON itself and asks reqwest
        // for no content decoding, so any reqwest error is one of transport,
        // or one of the hooks' refusals.
        match Refusal::of(&error).cloned() {
            Some(Refusal::Redirected { status, location }) => {
                Error::Redirected { status, location }
            }
            Some(Refusal::TooLarge { limit, declared }) => Error::TooLarge { limit, declared },
            None if error.is_timeout() => Error::Timeout(error),
            None => Error::Transport(error),
        }
    }

    /// The HTTP status QStash answered with, if it answered.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Error::Api { status, .. } => Some(*status),
            Error::RateLimited(_) => Some(StatusCode::TOO_MANY_REQUESTS),
            Error::Redirected { status, .. } => *status,
            _ => None,
        }
    }
}

/// Awaits a generated call and hands back its body, or this crate's error:
/// the one place the hand-written layer leaves progenitor's types behind.
///
/// A future of its own rather than an `async fn`, which would hold `call`
/// twice in its future (as its argument and as what it awaits), or a
/// chain of combinators (`then`, `Either`, `ready`), each a layer of code
/// that every wake-up of every call runs through: the future of every call
/// contains this one (`benches/publish_cost.rs`).
pub(crate) fn send<F, T, E>(call: F) -> Sent<F>
where
    F: Future<Output = Result<progenitor_client::ResponseValue<T>, progenitor_client::Error<E>>>
        + Unpin,
    E: ErrorBody + Send + 'static,
{
    Sent::Calling(call)
}

/// What [`send`] returns.
#[must_use = "futures do nothing unless polled"]
pub(crate) enum Sent<F> {
    /// The generated call, until it is ready.
    Calling(F),
    /// Turning its error into this crate's. Boxed: errors are rare, and
    /// would otherwise size every call's future.
    Converting(Pin<Box<dyn Future<Output = Error> + Send>>),
}

impl<F, T, E> Future for Sent<F>
where
    F: Future<Output = Result<progenitor_client::ResponseValue<T>, progenitor_client::Error<E>>>
        + Unpin,
    E: ErrorBody + Send + 'static,
{
    type Output = Result<T, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        loop {
            match this {
                Sent::Calling(call) => match std::task::ready!(Pin::new(call).poll(cx)) {
                    Ok(response) => return Poll::Ready(Ok(response.into_inner())),
                    Err(error) => *this = Sent::Converting(Box::pin(Error::from_api(error))),
                },
                Sent::Converting(converting) => return converting.as_mut().poll(cx).map(Err),
            }
        }
    }
}

/// Reads at most a snippet's worth of an unexpected body, so a huge answer
/// costs neither time nor memory.
async fn read_prefix(mut response: reqwest::Response) -> reqwest::Result<Vec<u8>> {
    let mut body = Vec::new();
    while body.len() < SNIPPET_BYTES * 4 {
        match response.chunk().await? {
            Some(chunk) => body.extend_from_slice(&chunk),
            None => break,
        }
    }
    Ok(body)
}

fn snippet(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        return "(empty body)".into();
    }
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(SNIPPET_BYTES)]);
    let mut text = text.trim().to_string();
    if bytes.len() > SNIPPET_BYTES {
        text.push('…');
    }
    text
}
