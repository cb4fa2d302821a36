//! Why a delivery or a receiver configuration was rejected.

use thiserror::Error;

/// Which part of the token could not be decoded.
///
/// Kept separate from the other failures so a handler can tell a garbled
/// header (a client or proxy bug) from a forged or stale one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Malformed {
    /// The `Upstash-Signature` header is repeated or not visible ASCII.
    HeaderValue,
    /// The token is not three dot-separated segments.
    Segments,
    /// The JOSE header is not base64url-encoded JSON with an `alg` string.
    Header,
    /// The signature segment is not base64url or has the wrong length.
    Signature,
    /// The claims are not base64url-encoded JSON of the expected shape.
    Payload,
}

impl std::fmt::Display for Malformed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Malformed::HeaderValue => "signature header is not a single ASCII value",
            Malformed::Segments => "not three dot-separated segments",
            Malformed::Header => "unreadable header",
            Malformed::Signature => "unreadable signature",
            Malformed::Payload => "unreadable claims",
        })
    }
}

/// A failed signature check, saying which rule failed.
///
/// The messages are short, fixed strings: they never contain the token, the
/// body or a signing key, so they are safe to log and to return to the caller.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// The request carries no `Upstash-Signature` header.
    #[error("missing Upstash-Signature header")]
    MissingSignature,
    /// The token could not be decoded.
    #[error("malformed token: {0}")]
    Malformed(Malformed),
    /// The header names an algorithm other than HS256 (including `none`).
    #[error("unsupported algorithm")]
    Algorithm,
    /// Neither signing key produced the token's signature.
    #[error("invalid signature")]
    Signature,
    /// The `iss` claim is not `Upstash`.
    #[error("wrong issuer")]
    Issuer,
    /// The `exp` claim is in the past, beyond the clock tolerance.
    #[error("token expired")]
    Expired,
    /// The `nbf` claim is in the future, beyond the clock tolerance.
    #[error("token not yet valid")]
    NotYetValid,
    /// The `sub` claim differs from the URL the delivery was received on.
    #[error("token was issued for a different URL")]
    Subject,
    /// The `body` claim is not the SHA-256 of the received body.
    #[error("body does not match the signed hash")]
    BodyHash,
    /// A claim QStash always sends is absent.
    #[error("missing claim `{0}`")]
    MissingClaim(&'static str),
    /// The receiver has no keys for this delivery: only regional keys are
    /// configured and the delivery names no configured region.
    #[error("no signing keys configured for this delivery's region")]
    NoKeys,
    /// The URL to compare with `sub` could not be rebuilt from the request
    /// headers the [`RequestVerifier`](super::RequestVerifier) was told to
    /// trust: missing, repeated, a list, or not a host (or, for the
    /// `Host` header, different from an absolute request target's).
    #[error("cannot determine the request URL")]
    RequestUrl,
    /// One of QStash's delivery headers (`Upstash-Message-Id`,
    /// `Upstash-Retried`, ..., `Upstash-Region`) is repeated or unreadable,
    /// which QStash never sends: which value would count is ambiguous.
    #[error("the {0} header is repeated or unreadable")]
    DeliveryHeader(&'static str),
    /// The body is larger than the receiving side accepts
    /// ([`RequestVerifier::max_body_bytes`](super::RequestVerifier::max_body_bytes)).
    #[error("the body is larger than {limit} bytes")]
    BodyTooLarge {
        /// The limit in force.
        limit: usize,
    },
}

impl VerifyError {
    /// The HTTP status to answer a refused delivery with: `413 Payload Too
    /// Large` for [`BodyTooLarge`](Self::BodyTooLarge), `401 Unauthorized`
    /// otherwise. QStash retries both; neither tells a forger more than
    /// the reason text does.
    pub fn status(&self) -> http::StatusCode {
        match self {
            VerifyError::BodyTooLarge { .. } => http::StatusCode::PAYLOAD_TOO_LARGE,
            _ => http::StatusCode::UNAUTHORIZED,
        }
    }
}
