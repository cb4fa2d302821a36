//! The claims of a verified token, and their wire form.

use std::borrow::Cow;

use serde::Deserialize;

use super::keys::Region;

/// Which key of a current/next pair verified the token.
///
/// A delivery that only verifies with the next key means QStash has rotated
/// keys: time to move the next key into the current slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeySlot {
    /// The current signing key.
    Current,
    /// The next signing key.
    Next,
}

/// The facts of a verified delivery, returned by [`Receiver::verify`](super::Receiver::verify).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Claims {
    /// The `sub` claim: the URL QStash delivered the message to.
    pub url: String,
    /// The `iat` claim (unix seconds), if present.
    pub issued_at: Option<u64>,
    /// The `exp` claim (unix seconds).
    pub expires_at: u64,
    /// The `nbf` claim (unix seconds).
    pub not_before: u64,
    /// The `jti` claim, unique per delivery attempt; handy for de-duplication.
    pub jwt_id: Option<String>,
    /// SHA-256 of the body, as signed in the `body` claim.
    pub body_sha256: [u8; 32],
    /// Which key verified the signature.
    pub key: KeySlot,
    /// The region whose keys verified the signature; `None` for the plain
    /// (non-regional) key pair.
    pub region: Option<Region>,
}

/// The payload as QStash sends it.
///
/// String fields borrow from the decoded payload; `Cow` because a JSON
/// encoder may escape characters (Go's escapes `&` in URLs as `\u0026`), and
/// then the value has to be unescaped into an owned string. Unknown fields,
/// including `aud` (always `""` on real tokens), are ignored; duplicate fields
/// are rejected by serde.
#[derive(Deserialize)]
pub(super) struct WireClaims<'a> {
    #[serde(borrow)]
    pub body: Option<Cow<'a, str>>,
    pub exp: Option<u64>,
    pub iat: Option<u64>,
    #[serde(borrow)]
    pub iss: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub jti: Option<Cow<'a, str>>,
    pub nbf: Option<u64>,
    #[serde(borrow)]
    pub sub: Option<Cow<'a, str>>,
}
