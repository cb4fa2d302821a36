//! What happens to every request between the generated builder and the
//! network: the header map it starts from (a message's headers), checks,
//! User-Agent and auth (`pre`);
//! deduplication ids, retries, the time limit, tracing, and what comes back
//! treated as hostile (`exec`): read within `max_response_bytes`, a
//! redirect refused, the token taken out.
//!
//! This runs on every call, publishes by the thousand, so it is measured
//! (`benches/publish_cost.rs`, `benches/overhead.rs`): nothing is copied
//! that can be moved or borrowed, and the future of a call holds each value
//! once (see `exec`).

use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use progenitor_client::{ClientHooks, ClientInfo, Error, OperationInfo, ResponseValue};
use reqwest::header::{Entry, HeaderMap, HeaderName, HeaderValue, USER_AGENT};
use tracing::Instrument;
use tracing::field::Empty;
use url::Url;

use crate::api::Client;
use crate::auth::Credentials;
use crate::bounded::BoundedBody;
use crate::client::{ClientConfig, Shared};
use crate::error::{RateLimit, Refusal, timed_out, transport_error};
use crate::header_map;
use crate::operations::{self, Guard, Operation, Retry};
use crate::retry::{self, DeduplicationIds, Failure, Safety};

/// `qstash-rs/<version>`, sent on every request.
pub const USER_AGENT_VALUE: &str = concat!("qstash-rs/", env!("CARGO_PKG_VERSION"));

/// Query parameters of the operations guarded by
/// [`Guard::AllWhenUnfiltered`] that page or limit, not select.
const NOT_A_FILTER: &[&str] = &["cursor", "count"];

/// The path parameter that takes the rest of the path, unencoded.
const DESTINATION: &str = "{destination}";

// progenitor's generated client asks for this impl; its methods (the
// trait's defaults) are never called: every generated `send` calls `pre`
// and `exec` below instead (see `build/generate.rs`,
// `sends_prepared_then_awaited`).
impl ClientHooks<ClientConfig> for Client {}

/// Checks and completes the request of every generated `send` before it
/// is sent (see `build/generate.rs`, `sends_prepared_then_awaited`): no
/// `#fragment`, path parameters that keep the endpoint, no unfiltered bulk
/// action unless allowed; User-Agent and auth.
// progenitor's error, which the generated `send` returns as it is.
#[allow(clippy::result_large_err)]
pub(crate) fn pre<E>(
    client: &Client,
    request: &mut reqwest::Request,
    info: &OperationInfo,
) -> Result<(), Error<E>> {
    // Destinations go into the path unencoded (see build/generate.rs),
    // so a `#` in one ends the URL: HTTP would silently drop the rest.
    if let Some(fragment) = request.url().fragment() {
        return Err(Error::InvalidRequest(format!(
            "the destination has a #fragment (`#{fragment}`), which HTTP never sends; \
             remove it, or percent-encode `#` as %23 if it belongs to the path or query"
        )));
    }
    let config = &*client.inner.shared;
    let operation = operations::find(info.operation_id);
    check_path(&config.base_path, request.url(), operation)
        .map_err(|(field, reason)| Error::Custom(crate::error::hook_error(&field, &reason)))?;
    if let Some(bulk) = operation.filter(|operation| operation.guard == Guard::AllWhenUnfiltered)
        && !client.inner.allow_unfiltered_bulk
        && !has_filter(request.url())
    {
        return Err(Error::InvalidRequest(format!(
            "{} without ids or filters would act on every message; pass ids or a filter, \
             or use `Client::allow_unfiltered_bulk` to mean everything",
            bulk.name
        )));
    }
    header_map::set(
        request.headers_mut(),
        USER_AGENT,
        HeaderValue::from_static(USER_AGENT_VALUE),
    );
    config.credentials.apply(request);
    Ok(())
}

/// The map every generated `send` starts its request's headers from (see
/// `build/generate.rs`, `RequestsBuiltCheaply`): the message's headers, on
/// the per-call copy of the client a publish, enqueue or schedule makes
/// (moved, not copied: that copy makes one call), which `render_message`
/// sized for what the call adds; otherwise an empty map, which allocates
/// when the first header comes.
pub(crate) fn header_map(client: &Client) -> HeaderMap {
    client.inner.message_headers.take()
}

/// The error of a generated `send` for a parameter that is unset or failed
/// its conversion (see `build/generate.rs`, `ParameterErrorsCold`). Cold, so
/// that the compiler keeps the paths that fail out of the code every call
/// runs.
#[cold]
pub(crate) fn invalid_request<E>(message: String) -> Error<E> {
    Error::InvalidRequest(message)
}

/// The same for an optional header parameter, which `send` checks where it
/// lies (see `build/generate.rs`, `HeaderParametersOutOfLine`).
// `&String` is what `Result::as_ref` gives the check.
#[allow(clippy::ptr_arg)]
#[cold]
pub(crate) fn invalid_parameter<E>(message: &String) -> Error<E> {
    invalid_request(message.clone())
}

/// Appends the header parameters of a generated `send` that are set, each
/// under its name, in order (see `build/generate.rs`,
/// `HeaderParametersOutOfLine`); the error of the first value that is not
/// a valid header value. One function for every parameter of every
/// `send`, called only when one is set.
// progenitor's error, which the generated `send` returns as it is.
#[allow(clippy::result_large_err)]
#[inline(never)]
pub(crate) fn append_parameters<E>(
    headers: &mut HeaderMap,
    names: &[HeaderName],
    values: &[Option<&dyn std::fmt::Display>],
) -> Result<(), Error<E>> {
    for (name, value) in names.iter().zip(values) {
        if let Some(value) = value {
            let value = HeaderValue::try_from(value.to_string()).map_err(invalid_header_value)?;
            headers.append(name.clone(), value);
        }
    }
    Ok(())
}

/// What progenitor's `send` makes of a header parameter that is not a
/// valid header value.
#[cold]
fn invalid_header_value<E>(error: reqwest::header::InvalidHeaderValue) -> Error<E> {
    error.into()
}

/// Makes `parameters` (the generated builder's header map: the message's
/// headers, the operation's header parameters and `Accept`) the request's
/// headers,
/// adding what the request builder set itself (a JSON body's
/// `Content-Type`) under the names `parameters` lacks: what
/// `RequestBuilder::headers` makes of the two, without copying
/// `parameters` into the builder's smaller map (see `build/generate.rs`,
/// `RequestHeadersBuiltOnce`).
pub(crate) fn set_headers(request: &mut reqwest::Request, mut parameters: HeaderMap) {
    let mut built = std::mem::take(request.headers_mut());
    // A request whose builder set nothing (a query without a JSON body):
    // no name of `parameters` is looked up in an empty map.
    if built.is_empty() {
        *request.headers_mut() = parameters;
        return;
    }
    for name in parameters.keys() {
        built.remove(name);
    }
    append_moved(&mut parameters, built);
    *request.headers_mut() = parameters;
}

/// The request of a generated `send` whose request builder would only
/// have been given its method, URL and body (see `build/generate.rs`,
/// `RequestHeadersBuiltOnce`), with `headers` as its headers: what
/// `http.request(method, url).body(body).build()` and
/// [`set_headers`] make of them, without reqwest's builder, which is
/// generic over the URL's type (a copy of its code in this crate, run on
/// every call), holds a copy of the client (two atomic counts), and gives
/// the request a map of its own that `headers` then replaces. A URL the
/// builder treats specially (credentials in it become an `Authorization`
/// header) or refuses goes through the builder, for the same request or
/// the same error. What the builder does is reqwest 0.13's (read in
/// 0.13.5: `Client::request`, `RequestBuilder::new`, `IntoUrl` for
/// `String`), which sets nothing else on the request, extensions
/// included; the test below compares all of a request that reqwest shows.
pub(crate) fn new_request(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    body: Option<reqwest::Body>,
    headers: HeaderMap,
) -> reqwest::Result<reqwest::Request> {
    match Url::parse(&url) {
        Ok(parsed)
            if parsed.has_host() && parsed.username().is_empty() && parsed.password().is_none() =>
        {
            let mut request = reqwest::Request::new(method, parsed);
            *request.headers_mut() = headers;
            *request.body_mut() = body;
            Ok(request)
        }
        _ => {
            let builder = http.request(method, url);
            let builder = match body {
                Some(body) => builder.body(body),
                None => builder,
            };
            let mut request = builder.build()?;
            set_headers(&mut request, headers);
            Ok(request)
        }
    }
}

/// Sends the request of every generated `send` (see `build/generate.rs`,
/// `sends_prepared_then_awaited`): the deduplication id, the retry loop, and each
/// attempt's answer read whole and scrubbed, handed back as an [`Answer`].
///
/// Written as a function returning a future rather than as an `async fn`:
/// every publish's future contains this one, and an `async fn` keeps its
/// by-value arguments twice (as given and as moved into the body), which
/// here is the whole request.
pub(crate) fn exec<'a>(
    client: &'a Client,
    mut request: reqwest::Request,
    info: &OperationInfo,
) -> impl Future<Output = reqwest::Result<Answer<'a>>> + use<'a> {
    let config = &*client.inner.shared;
    let operation = info.operation_id;
    let row = operations::find(operation);
    let publishes = row.is_some_and(|row| row.retry == Retry::Deduplicated);
    let mut safety = retry::safety(row, &request);
    // The id goes on before the first attempt, so every attempt of this
    // call carries the same one and QStash keeps one message however
    // many of them arrive.
    if let Some(ids) = config.deduplication_ids.as_ref().filter(|_| publishes)
        && deduplicate(&mut request, operation, ids)
    {
        safety = Safety::Repeatable;
    }
    let policy = &config.retry;
    let clock = policy.clock_ref();
    let started = clock.instant();
    let call = Call {
        client,
        operation,
        publishes,
    };
    // Boxed: the retry loop and an attempt in flight take about 900
    // bytes, which every future above this one (the call's, the caller's,
    // a set of futures a caller pushes it into) would otherwise hold and
    // copy each time it is moved; one allocation costs less than those
    // copies (`benches/publish_cost.rs`). Kept under about 1,000 bytes:
    // glibc serves a larger allocation on its slow path (with
    // `malloc_consolidate`), which costs more than the copies.
    let exec = async move {
        let mut attempt = 1;
        // The first attempt has the whole timeout; a retry what is left
        // of the budget, if that is less.
        let mut limit = config.timeout;
        // While another attempt may follow, a copy goes out and the
        // request stays for it.
        while attempt < policy.attempts() {
            // A streaming body cannot be copied: sent once, as the last.
            let Some(copy) = copy(&request) else {
                break;
            };
            // In a block of its own, which ends before the wait: the
            // answer is not kept across it, so the future of every call
            // does not make room for one there.
            let wait = {
                let outcome = call
                    .attempt(copy, Some(request.url()), limit, span(operation, attempt))
                    .await;
                let failure = match &outcome {
                    Ok(answer) => Failure::of_status(answer.status()),
                    Err(error) => Failure::of_error(error),
                };
                if !failure.retryable(safety) {
                    return outcome;
                }
                let wait = match &outcome {
                    Ok(answer) if failure == Failure::RateLimited => {
                        RateLimit::from_headers(answer.headers(), String::new(), clock.now())
                            .wait_from(clock.now())
                            .filter(|wait| !wait.is_zero())
                            .unwrap_or_else(|| policy.backoff(attempt))
                    }
                    _ => policy.backoff(attempt),
                };
                // A retry must have some of the budget left to run in, not
                // only to wait in.
                let elapsed = clock.instant().saturating_duration_since(started);
                let reason = failure.as_str();
                let wait_ms = wait.as_millis() as u64;
                // Between the attempts' spans, so these name the call and
                // the attempt themselves: a span held here until now would
                // be in every call's future.
                if elapsed.saturating_add(wait) >= policy.budget() {
                    tracing::info!(
                        operation,
                        attempt,
                        wait_ms,
                        reason,
                        "not retrying: the wait would end past the retry budget"
                    );
                    return outcome;
                }
                tracing::info!(operation, attempt, wait_ms, reason, "retrying");
                wait
            };
            clock.sleep(wait).await;
            let spent = clock.instant().saturating_duration_since(started);
            limit = config.timeout.min(policy.budget().saturating_sub(spent));
            attempt += 1;
        }
        // The last attempt sends the request itself.
        call.attempt(request, None, limit, span(operation, attempt))
            .await
    };
    Box::pin(exec)
}

/// The future of a generated `send` (see `build/generate.rs`,
/// `sends_prepared_then_awaited`): what `exec` answers, decoded by
/// `decode`, or the error that kept the request from being sent.
// progenitor's error, which the generated `send` returns as it is.
#[allow(clippy::result_large_err)]
pub(crate) fn answer<'a, X, D, T, E>(sent: Result<X, Error<E>>, decode: D) -> Answered<X, D, E>
where
    X: Future<Output = reqwest::Result<Answer<'a>>> + Unpin,
    D: FnOnce(Answer<'a>) -> Result<T, Error<E>>,
{
    match sent {
        Ok(exec) => Answered::Sending(exec, Some(decode)),
        Err(error) => Answered::Refused(Some(error)),
    }
}

/// What [`answer`] returns. An enum polled in one step, not
/// `Either<Map<_, _>, Ready<_>>`: every wake-up of every call runs this,
/// and each of those layers is code of its own that moves the answer (a
/// few hundred bytes) on to the next (`benches/publish_cost.rs`).
#[must_use = "futures do nothing unless polled"]
pub(crate) enum Answered<X, D, E> {
    /// Sent (by `exec`); decoded by the function once answered.
    Sending(X, Option<D>),
    /// Refused before it was sent.
    Refused(Option<Error<E>>),
}

impl<'a, X, D, T, E> Future for Answered<X, D, E>
where
    X: Future<Output = reqwest::Result<Answer<'a>>> + Unpin,
    D: FnOnce(Answer<'a>) -> Result<T, Error<E>>,
    Self: Unpin,
{
    type Output = Result<T, Error<E>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // Polling a future again after it is ready breaks `Future`'s
        // contract: it panics, as the combinators did (in `exec`'s future,
        // polled first, when it was sent).
        const DONE: &str = "a call's future polled after it was ready";
        match self.get_mut() {
            Answered::Sending(exec, decode) => {
                let answer = std::task::ready!(Pin::new(exec).poll(cx));
                let decode = decode.take().expect(DONE);
                Poll::Ready(answer.map_err(Error::from).and_then(decode))
            }
            Answered::Refused(error) => Poll::Ready(Err(error.take().expect(DONE))),
        }
    }
}

/// What one attempt got back: the answer, its body read whole, the token
/// taken out of its headers and body (and out of its URL when it becomes a
/// `reqwest::Response` again). The generated `send`s decode it.
pub(crate) struct Answer<'a> {
    response: reqwest::Response,
    body: Bytes,
    credentials: &'a Credentials,
}

impl<'a> Answer<'a> {
    fn new(mut response: reqwest::Response, body: Bytes, credentials: &'a Credentials) -> Self {
        credentials.scrub_headers(response.headers_mut());
        let body = match credentials.scrub(&body) {
            Cow::Owned(scrubbed) => {
                header_map::set(
                    response.headers_mut(),
                    reqwest::header::CONTENT_LENGTH,
                    HeaderValue::from(scrubbed.len()),
                );
                Bytes::from(scrubbed)
            }
            Cow::Borrowed(_) => body,
        };
        Answer {
            response,
            body,
            credentials,
        }
    }

    pub(crate) fn status(&self) -> reqwest::StatusCode {
        self.response.status()
    }

    fn headers(&self) -> &HeaderMap {
        self.response.headers()
    }

    /// The body decoded as JSON, as progenitor's
    /// `ResponseValue::from_response` decodes it, with the headers moved
    /// rather than copied.
    // progenitor's error, which the generated `send` returns as it is.
    #[allow(clippy::result_large_err)]
    pub(crate) fn decode<T: serde::de::DeserializeOwned, E>(
        mut self,
    ) -> Result<ResponseValue<T>, Error<E>> {
        let headers = std::mem::take(self.response.headers_mut());
        match serde_json::from_slice(&self.body) {
            Ok(inner) => Ok(ResponseValue::new(inner, self.response.status(), headers)),
            Err(error) => Err(Error::InvalidResponsePayload(self.body, error)),
        }
    }

    /// The answer without its body, as progenitor's `ResponseValue::empty`.
    pub(crate) fn empty(mut self) -> ResponseValue<()> {
        let headers = std::mem::take(self.response.headers_mut());
        ResponseValue::new((), self.response.status(), headers)
    }

    /// A `reqwest::Response` again, for an answer the spec does not declare
    /// (`Error::UnexpectedResponse`): its read body put back, and the token
    /// taken out of its URL. Status, version, headers and extensions are
    /// moved over, not copied.
    pub(crate) fn into_response(self) -> reqwest::Response {
        use reqwest::ResponseBuilderExt;

        let Answer {
            mut response,
            body,
            credentials,
        } = self;
        let mut url = response.url().clone();
        credentials.scrub_url(&mut url);
        let mut rebuilt = http::Response::new(reqwest::Body::from(body));
        *rebuilt.status_mut() = response.status();
        *rebuilt.version_mut() = response.version();
        *rebuilt.headers_mut() = std::mem::take(response.headers_mut());
        let extensions = rebuilt.extensions_mut();
        *extensions = std::mem::take(response.extensions_mut());
        // reqwest keeps a response's URL outside `http::Response`; it comes
        // back only through the extension `ResponseBuilderExt::url` sets.
        if let Some(carrier) = http::Response::builder().url(url).extensions_mut() {
            extensions.extend(std::mem::take(carrier));
        }
        reqwest::Response::from(rebuilt)
    }
}

/// The span of one attempt: what it is, and fields the attempt records.
fn span(operation: &'static str, attempt: u32) -> tracing::Span {
    tracing::info_span!(
        "qstash.request",
        operation,
        attempt,
        status = Empty,
        duration_ms = Empty,
        message_id = Empty,
        messages = Empty,
        error = Empty,
    )
}

/// The URL an attempt went to, for its errors: the kept request's, while
/// another attempt may follow, or a copy (boxed: this is in every call's
/// future, a `Url` is 88 bytes).
enum SentTo<'u> {
    Kept(&'u Url),
    Copied(Box<Url>),
}

impl std::ops::Deref for SentTo<'_> {
    type Target = Url;

    fn deref(&self) -> &Url {
        match self {
            SentTo::Kept(url) => url,
            SentTo::Copied(url) => url,
        }
    }
}

/// What every attempt of one call shares.
#[derive(Clone, Copy)]
struct Call<'a> {
    client: &'a Client,
    operation: &'static str,
    publishes: bool,
}

impl<'a> Call<'a> {
    /// One attempt, recorded on `span`: send `request` (`kept`, if given,
    /// is the URL of the same request, kept for the next attempt), read the
    /// answer whole within the size limit (so that an answer cut short is a
    /// failure of this attempt, which can be retried, rather than of
    /// decoding after the retry loop is over), all within `limit`, refuse a
    /// redirect, and take the token out of anything that goes back to the
    /// caller.
    ///
    /// The time limit is this future's own rather than reqwest's
    /// per-request timeout, which lives in the request's extensions: a map
    /// allocated for each request, and copied with it for the next attempt.
    // Inlined into `exec`'s loop, so that the attempt's future (about 540
    // bytes) is built where it is awaited instead of being copied out of
    // this function and into the loop's future: two copies an attempt
    // (1,080 bytes and about 185 instructions a publish, by
    // `benches/publish_cost.rs`).
    #[inline(always)]
    fn attempt<'u>(
        self,
        request: reqwest::Request,
        kept: Option<&'u Url>,
        limit: Duration,
        span: tracing::Span,
    ) -> impl Future<Output = reqwest::Result<Answer<'a>>> + 'u
    where
        'a: 'u,
    {
        let operation = self.operation;
        // What only a subscriber would read is not worked out without one.
        let traced = !span.is_disabled();
        if let Some(id) = traced
            .then(|| path_message_id(operation, request.url()))
            .flatten()
        {
            span.record("message_id", id.as_str());
        }
        let sent = match kept {
            Some(kept) => SentTo::Kept(kept),
            None => SentTo::Copied(Box::new(request.url().clone())),
        };
        let started = traced.then(Instant::now);
        let pending = self.client.client().execute(request);
        async move {
            let answer = async {
                let mut response = pending.await.map_err(Failed::Transport)?;
                let config = &*self.client.inner.shared;
                if let Some(refusal) = refusal(config, &response, &sent) {
                    return Err(Failed::Refused(refusal));
                }
                let body = read_within(&mut response, config.max_response_bytes).await?;
                Ok((response, body))
            };
            // A refusal or the time limit becomes a `reqwest::Error` here,
            // without awaiting (see `transport_error`).
            let result = match tokio::time::timeout(limit, answer).await {
                Ok(Ok(answer)) => Ok(answer),
                Ok(Err(Failed::Transport(error))) => Err(error),
                Ok(Err(Failed::Refused(refusal))) => Err(refusal.into_error(Url::clone(&sent))),
                Err(_) => Err(transport_error(timed_out(limit), Url::clone(&sent))),
            };
            if traced {
                // The attempt's span, which `instrument` enters while this
                // runs: taken here rather than held in this future.
                let span = tracing::Span::current();
                if let Some(started) = started {
                    span.record("duration_ms", started.elapsed().as_millis() as u64);
                }
                match &result {
                    Ok((response, body)) => {
                        span.record("status", response.status().as_u16());
                        if response.status().is_success() && self.publishes {
                            record_message_ids(&span, body);
                        }
                    }
                    Err(error) => {
                        span.record("error", error_kind(error));
                    }
                }
            }
            // From here on the answer reaches callers (in errors, and in
            // `Error::UnexpectedResponse`), so the token leaves it now.
            let credentials = &self.client.inner.shared.credentials;
            match result {
                Ok((response, body)) => Ok(Answer::new(response, body, credentials)),
                Err(error) => Err(credentials.scrub_error(error)),
            }
        }
        .instrument(span)
    }
}

/// How reading an answer failed: in transport, or refused by the hooks.
enum Failed {
    Transport(reqwest::Error),
    Refused(Refusal),
}

/// The answer's body, read within `limit` bytes. Not an `async fn`, which
/// would keep its two arguments twice (16 bytes more) in the future of
/// every call.
#[allow(clippy::manual_async_fn)]
fn read_within(
    response: &mut reqwest::Response,
    limit: usize,
) -> impl Future<Output = Result<Bytes, Failed>> + '_ {
    async move {
        let mut body = BoundedBody::new(limit, response.content_length());
        while let Some(chunk) = response.chunk().await.map_err(Failed::Transport)? {
            if body.push(&chunk).is_err() {
                return Err(Failed::Refused(Refusal::TooLarge {
                    limit,
                    declared: None,
                }));
            }
        }
        Ok(body.into_bytes())
    }
}

/// Why an answer is refused before its body is read: a redirect, followed
/// or not, or a declared length over the limit.
fn refusal(config: &Shared, response: &reqwest::Response, sent: &Url) -> Option<Refusal> {
    let credentials = &config.credentials;
    let limit = config.max_response_bytes;
    if let Some(location) = followed(sent, response.url()) {
        // Only a caller's client follows redirects (the builder's own
        // follows none); the request went there, the answer is not used.
        Some(Refusal::Redirected {
            status: None,
            location: location.map(|l| scrub_text(credentials, &l)),
        })
    } else if response.status().is_redirection() {
        Some(Refusal::Redirected {
            status: Some(response.status()),
            location: location(sent, response.headers()).map(|l| scrub_text(credentials, &l)),
        })
    } else {
        let declared = response.content_length();
        declared
            .filter(|&n| n > limit as u64)
            .map(|_| Refusal::TooLarge { limit, declared })
    }
}

/// A copy of `request` for another attempt; `None` for a streaming body,
/// which cannot be copied.
///
/// Not `reqwest::Request::try_clone`, which shares the body's bytes but
/// always allocates a map for the copy's extensions (to copy the request's
/// timeout into, which the hooks never set: see `Call::attempt`), three
/// allocations that cost more than copying a body of a few kilobytes; a
/// larger body is shared that way.
fn copy(request: &reqwest::Request) -> Option<reqwest::Request> {
    const COPIED: usize = 16 * 1024;
    let body = match request.body().map(|body| body.as_bytes()) {
        None => None,
        Some(Some(bytes)) if bytes.len() <= COPIED => Some(reqwest::Body::from(bytes.to_vec())),
        Some(_) => return request.try_clone(),
    };
    let mut copy = reqwest::Request::new(request.method().clone(), request.url().clone());
    *copy.headers_mut() = request.headers().clone();
    *copy.version_mut() = request.version();
    if let Some(&timeout) = request.timeout() {
        *copy.timeout_mut() = Some(timeout);
    }
    *copy.body_mut() = body;
    Some(copy)
}

/// Appends every value of `extra` to `headers` (after any of the same
/// name), moving names and values rather than copying them.
fn append_moved(headers: &mut HeaderMap, extra: HeaderMap) {
    let mut extra = extra.into_iter();
    // A `None` name repeats the one before it; the first always has one.
    let Some((Some(mut name), mut value)) = extra.next() else {
        return;
    };
    'names: loop {
        let mut entry = match headers.entry(name) {
            Entry::Occupied(mut entry) => {
                entry.append(value);
                entry
            }
            Entry::Vacant(entry) => entry.insert_entry(value),
        };
        loop {
            match extra.next() {
                Some((Some(next), next_value)) => {
                    (name, value) = (next, next_value);
                    continue 'names;
                }
                Some((None, repeated)) => entry.append(repeated),
                None => return,
            }
        }
    }
}

/// Puts ids from `ids` on a publishing request that has none; whether it
/// now has them.
fn deduplicate(request: &mut reqwest::Request, operation: &str, ids: &DeduplicationIds) -> bool {
    if operation != "batch_messages" {
        retry::deduplicate_headers(request.headers_mut(), ids);
        return true;
    }
    let Some(body) = request.body().and_then(reqwest::Body::as_bytes) else {
        return false;
    };
    match retry::deduplicate_batch(body, ids) {
        Some(Some(changed)) => {
            *request.body_mut() = Some(changed.into());
            true
        }
        Some(None) => true,
        None => false,
    }
}

fn scrub_text(credentials: &Credentials, text: &str) -> String {
    String::from_utf8_lossy(&credentials.scrub(text.as_bytes())).into_owned()
}

/// Where a caller's client took the request, if it followed a redirect:
/// `Some(host and port)` when the answer is for another URL than the one
/// sent.
fn followed(sent: &Url, answered: &Url) -> Option<Option<String>> {
    // The same text is the same URL: one comparison on every answer, where
    // the parts below are each worked out from the text.
    let same = sent.as_str() == answered.as_str()
        || sent.scheme() == answered.scheme()
            && sent.host_str() == answered.host_str()
            && sent.port_or_known_default() == answered.port_or_known_default()
            && sent.path() == answered.path()
            && sent.query() == answered.query();
    (!same).then(|| host_and_port(answered))
}

/// The host (and port, if given) a redirect's `Location` points to.
fn location(sent: &Url, headers: &reqwest::header::HeaderMap) -> Option<String> {
    let value = headers.get(reqwest::header::LOCATION)?.to_str().ok()?;
    host_and_port(&sent.join(value.trim()).ok()?)
}

/// `host` or `host:port`: never the path or query, which may echo the request.
fn host_and_port(url: &Url) -> Option<String> {
    let host = url.host_str()?;
    Some(match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_string(),
    })
}

/// What kind of failure, for the span: never the error text, which holds the URL.
fn error_kind(error: &reqwest::Error) -> &'static str {
    if let Some(refusal) = Refusal::of(error) {
        match refusal {
            Refusal::Redirected { .. } => "redirect",
            Refusal::TooLarge { .. } => "too_large",
        }
    } else if error.is_timeout() {
        "timeout"
    } else if error.is_connect() {
        "connect"
    } else if error.is_body() || error.is_decode() {
        "body"
    } else {
        "request"
    }
}

/// The message a `get_message` or `cancel_message` request is about.
fn path_message_id(operation: &str, url: &Url) -> Option<String> {
    if !matches!(operation, "get_message" | "cancel_message") {
        return None;
    }
    let last = url.path_segments()?.next_back()?;
    Some(
        percent_encoding::percent_decode_str(last)
            .decode_utf8_lossy()
            .into_owned(),
    )
}

/// `message_id` (if the answer names one message) and `messages` (how
/// many) from a publish, enqueue or batch answer.
fn record_message_ids(span: &tracing::Span, body: &[u8]) {
    fn collect<'a>(value: &'a serde_json::Value, depth: u8, out: &mut Vec<&'a str>) {
        match value {
            serde_json::Value::Object(map) => {
                if let Some(id) = map.get("messageId").and_then(|v| v.as_str()) {
                    out.push(id);
                } else if depth > 0 {
                    map.values().for_each(|v| collect(v, depth - 1, out));
                }
            }
            serde_json::Value::Array(items) if depth > 0 => {
                items.iter().for_each(|v| collect(v, depth - 1, out));
            }
            _ => {}
        }
    }
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) else {
        return;
    };
    let mut ids = Vec::new();
    collect(&value, 3, &mut ids);
    if let [id] = ids.as_slice() {
        span.record("message_id", *id);
    }
    span.record("messages", ids.len() as u64);
}

/// Refuses a path parameter that is empty or would change which endpoint
/// the request reaches: `/v2/messages/` with no id is the bulk cancel, and
/// an id of `..` is resolved away by URL parsing. Compares the path with the
/// operation's template segment by segment; `Err((parameter, reason))`.
fn check_path(
    base_path: &str,
    url: &Url,
    operation: Option<&Operation>,
) -> Result<(), (String, String)> {
    let Some(Operation { path: template, .. }) = operation else {
        // Not an operation of the spec: nothing to compare with.
        return Ok(());
    };
    // A path that no longer starts with the base URL's was climbed out of
    // by dot segments: refused like any other change of endpoint.
    let Some(rest) = url.path().strip_prefix(base_path) else {
        return Err(changed(None, template));
    };
    // A dot segment resolved away shifts everything after it, so the
    // mismatch shows up past the parameter at fault: blame the template's
    // first parameter (the literals are this crate's own). Worked out only
    // for the error: this runs on every request.
    let culprit = || {
        template
            .split('/')
            .filter(|segment| *segment != DESTINATION)
            .find_map(parameter_name)
    };
    let (mut actual, mut template_rest) = (rest.as_bytes(), template.as_bytes());
    // What follows the base path starts a segment: `/qstash` followed by
    // `X/v2/...` is another endpoint (a dot segment climbed out and back
    // into `/qstashX`), not this one with a first segment to skip.
    if !actual.is_empty() && !actual.starts_with(b"/") {
        return Err(changed(culprit().as_deref(), template));
    }
    while let Some(expected) = next_segment(&mut template_rest) {
        let segment = next_segment(&mut actual);
        if expected == DESTINATION.as_bytes() {
            // The destination is sent raw and takes the rest of the path.
            if segment.is_none_or(<[u8]>::is_empty) {
                return Err(empty("destination", template));
            }
            return Ok(());
        }
        match (expected.first() == Some(&b'{'), segment) {
            (true, None | Some(b"")) => {
                let name = std::str::from_utf8(expected)
                    .ok()
                    .and_then(parameter_name)
                    .unwrap_or_default();
                return Err(empty(&name, template));
            }
            (true, Some(_)) => {}
            (false, Some(literal)) if literal == expected => {}
            (false, _) => return Err(changed(culprit().as_deref(), template)),
        }
    }
    if !actual.is_empty() {
        return Err(changed(culprit().as_deref(), template));
    }
    Ok(())
}

/// The segment after the `/` that `path` starts with (`None` at its end),
/// leaving `path` at the next `/`. Bytes rather than `str::split`, whose
/// searcher costs more than these few short segments on every request.
fn next_segment<'p>(path: &mut &'p [u8]) -> Option<&'p [u8]> {
    let rest = path.strip_prefix(b"/")?;
    let end = rest.iter().position(|&b| b == b'/').unwrap_or(rest.len());
    let (segment, after) = rest.split_at(end);
    *path = after;
    Some(segment)
}

fn empty(name: &str, template: &str) -> (String, String) {
    (
        name.to_string(),
        format!(
            "must not be empty: the request would go to a different endpoint than `{template}`"
        ),
    )
}

fn changed(name: Option<&str>, template: &str) -> (String, String) {
    (
        name.unwrap_or("path").to_string(),
        format!(
            "is `.`, `..` or otherwise changes the path, so the request would not reach `{template}`"
        ),
    )
}

/// `{messageId}` → `message_id`, the name of the builder method that sets it.
fn parameter_name(segment: &str) -> Option<String> {
    let name = segment.strip_prefix('{')?.strip_suffix('}')?;
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    Some(out)
}

fn has_filter(url: &Url) -> bool {
    url.query_pairs()
        .any(|(name, value)| !value.is_empty() && !NOT_A_FILTER.contains(&name.as_ref()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(path: &str, operation: &str) -> Result<(), (String, String)> {
        let url = Url::parse(&format!("http://127.0.0.1/prefix{path}")).unwrap();
        check_path("/prefix", &url, operations::find(operation))
    }

    #[test]
    fn message_headers_are_appended_with_their_repeats() {
        let value = HeaderValue::from_static;
        let mut headers = HeaderMap::new();
        headers.insert("content-type", value("text/plain"));
        headers.insert("upstash-label", value("request"));
        let mut extra = HeaderMap::new();
        extra.append("upstash-forward-a", value("1"));
        extra.append("upstash-forward-a", value("2"));
        extra.append("upstash-label", value("message"));
        extra.append("upstash-forward-b", value("3"));
        append_moved(&mut headers, extra);
        let all = |name| -> Vec<_> { headers.get_all(name).iter().collect() };
        assert_eq!(all("upstash-forward-a"), ["1", "2"]);
        assert_eq!(all("upstash-label"), ["request", "message"]);
        assert_eq!(all("upstash-forward-b"), ["3"]);
        assert_eq!(all("content-type"), ["text/plain"]);
        append_moved(&mut headers, HeaderMap::new());
        assert_eq!(headers.len(), 6);
    }

    /// `set_headers` gives what reqwest's own merge
    /// (`RequestBuilder::headers`) gives the request progenitor built.
    #[test]
    fn request_headers_are_what_the_builders_merge_makes() {
        let value = HeaderValue::from_static;
        let mut parameters = HeaderMap::new();
        parameters.append("upstash-forward-a", value("1"));
        parameters.append("upstash-forward-a", value("2"));
        parameters.append("accept", value("text/plain"));
        let build = || {
            reqwest::Client::new()
                .post("http://127.0.0.1/")
                .header("accept", "application/json")
                .header("content-type", "application/json")
                .header("x-twice", "a")
                .header("x-twice", "b")
        };
        let merged = build().headers(parameters.clone()).build().unwrap();
        let mut ours = build().build().unwrap();
        set_headers(&mut ours, parameters.clone());
        let sorted = |headers: &HeaderMap| {
            let mut all: Vec<_> = headers
                .iter()
                .map(|(name, value)| (name.to_string(), value.clone()))
                .collect();
            all.sort_by(|a, b| a.0.cmp(&b.0));
            all
        };
        assert_eq!(sorted(ours.headers()), sorted(merged.headers()));
        assert_eq!(ours.headers().get_all("x-twice").iter().count(), 2);
        assert_eq!(ours.headers()["accept"], "text/plain");
        // A builder that set nothing: the parameters are the headers.
        let bare = || reqwest::Client::new().post("http://127.0.0.1/");
        let merged = bare().headers(parameters.clone()).build().unwrap();
        let mut ours = bare().build().unwrap();
        set_headers(&mut ours, parameters);
        assert_eq!(sorted(ours.headers()), sorted(merged.headers()));
        assert_eq!(
            ours.headers().get_all("upstash-forward-a").iter().count(),
            2
        );
    }

    /// `new_request` makes the request reqwest's builder and `set_headers`
    /// make: for a plain URL without the builder, for one with credentials
    /// (which the builder turns into an `Authorization` header) and for one
    /// it refuses through it.
    #[test]
    fn requests_built_directly_are_what_the_builder_makes() {
        let http = reqwest::Client::new();
        let mut headers = HeaderMap::new();
        headers.append("upstash-forward-a", HeaderValue::from_static("1"));
        headers.append("upstash-forward-a", HeaderValue::from_static("2"));
        headers.append("accept", HeaderValue::from_static("application/json"));
        let built = |method: reqwest::Method, url: &str, body: Option<&'static [u8]>| {
            let builder = http.request(method, url);
            let builder = match body {
                Some(body) => builder.body(body),
                None => builder,
            };
            builder.build().map(|mut request| {
                set_headers(&mut request, headers.clone());
                request
            })
        };
        let direct = |method: reqwest::Method, url: &str, body: Option<&'static [u8]>| {
            new_request(
                &http,
                method,
                url.to_string(),
                body.map(reqwest::Body::from),
                headers.clone(),
            )
        };
        let same = |ours: reqwest::Request, theirs: reqwest::Request| {
            assert_eq!(ours.method(), theirs.method());
            assert_eq!(ours.url(), theirs.url());
            assert_eq!(ours.version(), theirs.version());
            assert_eq!(ours.timeout(), theirs.timeout());
            assert_eq!(ours.headers(), theirs.headers());
            assert_eq!(
                ours.body().and_then(reqwest::Body::as_bytes),
                theirs.body().and_then(reqwest::Body::as_bytes)
            );
        };
        let cases: [(reqwest::Method, &str, Option<&'static [u8]>); 4] = [
            (
                reqwest::Method::POST,
                "http://127.0.0.1:8080/v2/publish/https://example.com/a?b=c",
                Some(b"{}"),
            ),
            (
                reqwest::Method::GET,
                "https://qstash.upstash.io/v2/queues",
                None,
            ),
            (
                reqwest::Method::DELETE,
                "http://user:secret@127.0.0.1/v2/x",
                None,
            ),
            (
                reqwest::Method::POST,
                "http://:secret@127.0.0.1/v2/x",
                Some(b""),
            ),
        ];
        for (method, url, body) in cases {
            same(
                direct(method.clone(), url, body).unwrap(),
                built(method, url, body).unwrap(),
            );
        }
        let credentials =
            direct(reqwest::Method::GET, "http://user:secret@127.0.0.1/", None).unwrap();
        assert!(
            credentials
                .headers()
                .contains_key(reqwest::header::AUTHORIZATION)
        );
        assert_eq!(credentials.url().as_str(), "http://127.0.0.1/");
        for refused in ["http://[::1/", "not a url", "data:text/plain,hi"] {
            let ours = direct(reqwest::Method::GET, refused, None).unwrap_err();
            let theirs = built(reqwest::Method::GET, refused, None).unwrap_err();
            assert!(ours.is_builder(), "{refused}");
            assert_eq!(ours.to_string(), theirs.to_string(), "{refused}");
        }
    }

    #[test]
    fn empty_or_dot_path_parameters_are_refused_by_name() {
        assert!(check("/v2/messages/msg_1", "get_message").is_ok());
        assert_eq!(
            check("/v2/messages/", "cancel_message").unwrap_err().0,
            "message_id"
        );
        assert_eq!(
            check("/v2/queues//pause", "pause_queue").unwrap_err().0,
            "queue_name"
        );
        // `..` resolved away: `/v2/queues/../pause` became `/v2/pause`.
        assert_eq!(
            check("/v2/pause", "pause_queue").unwrap_err().0,
            "queue_name"
        );
        assert_eq!(
            check("/v2/dlq/retry/", "retry_dlq_message").unwrap_err().0,
            "dlq_id"
        );
        assert_eq!(
            check("/v2/schedules/", "get_schedule").unwrap_err().0,
            "schedule_id"
        );
        assert_eq!(
            check("/v2/topics/", "get_url_group").unwrap_err().0,
            "url_group_name"
        );
        assert_eq!(
            check("/v2/flowControl//resetRate", "reset_flow_control_rate")
                .unwrap_err()
                .0,
            "flow_control_key"
        );
        assert_eq!(
            check("/v2/enqueue//https://a.b/c", "enqueue_message")
                .unwrap_err()
                .0,
            "queue_name"
        );
        assert_eq!(
            check("/v2/publish/", "publish_message").unwrap_err().0,
            "destination"
        );
        assert!(check("/v2/publish/https://a.b//c/", "publish_message").is_ok());
        assert!(check("/v2/messages", "cancel_messages").is_ok());
        assert!(check("/v2/anything/", "an_operation_from_a_newer_spec").is_ok());
    }

    /// Dot segments that climb out of the base path and into a sibling
    /// (`/prefix/v2/publish/../../../prefixX/v2/publish/...` resolves to
    /// `/prefixX/v2/publish/...`) reach another endpoint: refused, however
    /// much of the rest looks like the operation's.
    #[test]
    fn a_path_that_leaves_the_base_path_for_a_sibling_is_refused() {
        let url = Url::parse(
            "http://127.0.0.1/prefix/v2/publish/../../../prefixX/v2/publish/https://a.b/c",
        )
        .unwrap();
        assert_eq!(url.path(), "/prefixX/v2/publish/https://a.b/c");
        let refused = check_path("/prefix", &url, operations::find("publish_message"));
        // The destination is not blamed: the template has no other
        // parameter, so the error names the path.
        assert_eq!(refused.unwrap_err().0, "path");
        // Nothing after the base path is not the operation's path either.
        assert_eq!(check("", "get_message").unwrap_err().0, "message_id");
        assert!(check("/v2/messages/", "cancel_message").is_err());
        assert!(check("/v2/messages/msg_1/", "get_message").is_err());
    }
}
