//! Verifying deliveries given as [`http`] requests: the part every web
//! framework shares. An extractor or middleware calls
//! [`RequestVerifier::verify_head`] on the headers before reading the body,
//! reads at most [`SignedHead::body_limit`] bytes, and finishes with
//! [`SignedHead::verify_body`]; the axum and actix-web extractors and the
//! tower layer (features `axum`, `actix-web`, `tower`) are that and
//! nothing more.

use http::request::Parts;
use http::{HeaderMap, Request, Uri};

use super::headers::{self, DeliveryHeaders};
use super::target::{TrustedHeaders, UrlSource, public_base_url};
use super::{Claims, ConfigError, Receiver, VerifyError, check_body};

/// Default for [`RequestVerifier::max_body_bytes`]: 50 MiB, at least the
/// largest message QStash accepts on any plan (50 MB on the Fixed plans;
/// 1 MB Free, 10 MB Pay as You Go: <https://upstash.com/pricing/qstash>).
/// A limit below what QStash may deliver turns a legitimate delivery into
/// an error that QStash retries until the message lands in the DLQ.
pub const DEFAULT_MAX_BODY_BYTES: usize = 50 * 1024 * 1024;

/// A [`Receiver`] plus where the URL a delivery was sent to comes from,
/// which verifies whole [`http`] requests.
///
/// QStash signs the URL it delivers to, so a token is only good for that
/// URL. By default that URL is the service's public base URL, from
/// configuration, followed by the request's path and query: a request's
/// `Host` header or absolute-form target cannot move a token from one
/// endpoint to another. Behind a proxy that strips a path prefix, include
/// the prefix in the base URL.
///
/// ```
/// use qstash::receiver::{Receiver, RequestVerifier, Signer};
///
/// let receiver = Receiver::new("sig_current", "sig_next")?;
/// let verifier = RequestVerifier::new(receiver, "https://api.example.com")?;
/// # let token = Signer::new("sig_current")?.sign("https://api.example.com/jobs?id=1", b"{}");
/// let request = http::Request::post("/jobs?id=1")
///     .header("Upstash-Signature", token)
///     .header("Upstash-Message-Id", "msg_123")
///     .body(b"{}".to_vec())?;
/// let verified = verifier.verify_request(&request)?;
/// assert_eq!(verified.claims.url, "https://api.example.com/jobs?id=1");
/// assert_eq!(verified.delivery.message_id.as_deref(), Some("msg_123"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct RequestVerifier {
    receiver: Receiver,
    url: UrlSource,
    max_body_bytes: usize,
}

/// A verified delivery: its claims and QStash's delivery headers.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Verified {
    /// What the token signed: URL, times, body hash, key.
    pub claims: Claims,
    /// QStash's other headers: message id (the idempotency key), retries,
    /// schedule, URL group, caller.
    pub delivery: DeliveryHeaders,
}

/// A delivery whose head verified: the signature header is there and well
/// formed, its MAC, issuer, lifetime and URL are right, the delivery
/// headers readable and the declared length within the limit. What
/// remains is its body: read at most [`body_limit`](Self::body_limit)
/// bytes of it and pass them to [`verify_body`](Self::verify_body).
#[derive(Debug)]
#[must_use = "the body is not verified until `verify_body` says so"]
pub struct SignedHead {
    claims: Claims,
    delivery: DeliveryHeaders,
    body_limit: usize,
    /// The `Content-Length`, within the limit, if the request declared one.
    declared: Option<u64>,
}

impl SignedHead {
    /// The most body bytes to read; more is
    /// [`VerifyError::BodyTooLarge`].
    pub fn body_limit(&self) -> usize {
        self.body_limit
    }

    /// The body length the request declared in `Content-Length`, within
    /// the limit: a hint to size the buffer by, not a promise (the body
    /// read may be shorter or longer, and is checked as it is).
    pub fn declared_length(&self) -> Option<u64> {
        self.declared
    }

    /// Checks the complete raw body against the signed hash.
    pub fn verify_body(self, body: &[u8]) -> Result<Verified, VerifyError> {
        if body.len() > self.body_limit {
            return Err(VerifyError::BodyTooLarge {
                limit: self.body_limit,
            });
        }
        Ok(Verified {
            claims: check_body(self.claims, body)?,
            delivery: self.delivery,
        })
    }
}

impl RequestVerifier {
    /// Verifies with `receiver` deliveries to `public_base_url`, the URL
    /// QStash calls this service at: scheme and host (and port, and a
    /// path prefix a proxy strips), such as `https://api.example.com` or
    /// `http://127.0.0.1:3000` for local development. The request's path
    /// and query are appended to it. Fails unless it is an `http` or
    /// `https` URL with a host and no user, query or fragment.
    pub fn new(receiver: Receiver, public_base_url: &str) -> Result<RequestVerifier, ConfigError> {
        Ok(RequestVerifier::with_source(
            receiver,
            UrlSource::Configured(self::public_base_url(public_base_url)?),
        ))
    }

    /// Verifies with `receiver`, taking the delivery URL from the request
    /// headers named by `headers`: only behind a proxy you run that sets
    /// them (see [`TrustedHeaders`] for why).
    pub fn trusting_headers(receiver: Receiver, headers: TrustedHeaders) -> RequestVerifier {
        RequestVerifier::with_source(receiver, UrlSource::Headers(headers))
    }

    /// Verifies with `receiver` without comparing `sub` with any URL: a
    /// token for any endpoint of the same QStash account then verifies
    /// here too, within its lifetime.
    pub fn without_url_check(receiver: Receiver) -> RequestVerifier {
        RequestVerifier::with_source(receiver, UrlSource::Unchecked)
    }

    fn with_source(receiver: Receiver, url: UrlSource) -> RequestVerifier {
        RequestVerifier {
            receiver,
            url,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
        }
    }

    /// The largest body to read, in bytes; [`DEFAULT_MAX_BODY_BYTES`] unless
    /// set. Lower it to the largest message your publishers send; raising
    /// it is only needed past QStash's own limits (an Enterprise plan).
    pub fn max_body_bytes(mut self, limit: usize) -> RequestVerifier {
        self.max_body_bytes = limit;
        self
    }

    /// The receiver holding the keys.
    pub fn receiver(&self) -> &Receiver {
        &self.receiver
    }

    /// The first step, before any of the body is read: the whole token is
    /// checked (structure, MAC, issuer, lifetime, URL), the delivery
    /// headers read, and a declared `Content-Length` over the limit
    /// refused. `target` is the request target as the client sent it:
    /// frameworks that rewrite the URI for nested routers pass the
    /// original.
    pub fn verify_head(
        &self,
        headers: &HeaderMap,
        target: &Uri,
    ) -> Result<SignedHead, VerifyError> {
        let signature = headers::signature(headers)?;
        let region = headers::region(headers)?;
        let url = self.url.url_of(headers, target)?;
        let claims =
            self.receiver
                .verify_token(signature, url.as_deref(), region, self.receiver.now())?;
        let delivery = DeliveryHeaders::read(headers)?;
        let declared = headers
            .get(http::header::CONTENT_LENGTH)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.trim().parse::<u64>().ok());
        if declared.is_some_and(|length| length > self.max_body_bytes as u64) {
            return Err(VerifyError::BodyTooLarge {
                limit: self.max_body_bytes,
            });
        }
        Ok(SignedHead {
            claims,
            delivery,
            body_limit: self.max_body_bytes,
            declared,
        })
    }

    /// Verifies a request given as parts and its complete raw body.
    pub fn verify(&self, parts: &Parts, body: &[u8]) -> Result<Verified, VerifyError> {
        self.verify_head(&parts.headers, &parts.uri)?
            .verify_body(body)
    }

    /// Verifies a request whose complete raw body is in memory.
    pub fn verify_request<B: AsRef<[u8]>>(
        &self,
        request: &Request<B>,
    ) -> Result<Verified, VerifyError> {
        self.verify_head(request.headers(), request.uri())?
            .verify_body(request.body().as_ref())
    }
}
