//! Producing `Upstash-Signature` tokens, for tests and local development.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};

use base64::Engine as _;
use base64::engine::general_purpose::{URL_SAFE, URL_SAFE_NO_PAD};
use ring::hmac;
use ring::rand::{SecureRandom as _, SystemRandom};

use super::token::{STANDARD_HEADER, body_sha256};
use crate::clock::{SystemClock, unix_secs};
use crate::config_error::ConfigError;

/// How long QStash's tokens are valid: `exp` is `iat` plus this.
const LIFETIME_SECS: u64 = 300;

/// Signs deliveries exactly as QStash does, so handlers can be tested (or
/// served by a local stand-in for QStash) without the real service.
///
/// ```
/// use qstash::receiver::{Delivery, Receiver, Signer};
///
/// let signer = Signer::new("sig_current")?;
/// let token = signer.sign("https://example.com/api", b"hello");
/// let receiver = Receiver::new("sig_current", "sig_next")?;
/// assert!(receiver.verify(Delivery::new(&token, b"hello")).is_ok());
/// # Ok::<(), qstash::ConfigError>(())
/// ```
#[derive(Clone)]
pub struct Signer {
    key: hmac::Key,
}

impl Signer {
    /// A signer for `key`, a signing key string as shown in the Upstash
    /// console. Fails if the key is empty.
    pub fn new(key: &str) -> Result<Signer, ConfigError> {
        if key.is_empty() {
            return Err(ConfigError::EmptySigningKey);
        }
        Ok(Signer {
            key: hmac::Key::new(hmac::HMAC_SHA256, key.as_bytes()),
        })
    }

    /// A token for delivering `body` to `url`, issued now with a fresh
    /// random `jti`.
    pub fn sign(&self, url: &str, body: &[u8]) -> String {
        self.sign_at(url, body, unix_secs(&SystemClock), &fresh_jwt_id())
    }

    /// A token issued at `issued_at` (unix seconds) with the given `jti`,
    /// byte-for-byte what QStash would send for the same inputs: header
    /// `{"alg":"HS256","typ":"JWT"}`, claims `aud` (`""`), `body` (padded
    /// base64url SHA-256), `exp` (`iat` + 300), `iat`, `iss` (`Upstash`),
    /// `jti`, `nbf` (`iat`), `sub`, in that order.
    pub fn sign_at(&self, url: &str, body: &[u8], issued_at: u64, jwt_id: &str) -> String {
        // serde_json's map keeps keys sorted (or in insertion order with
        // `preserve_order`); both give QStash's alphabetical order here.
        let claims = serde_json::json!({
            "aud": "",
            "body": URL_SAFE.encode(body_sha256(body)),
            "exp": issued_at.saturating_add(LIFETIME_SECS),
            "iat": issued_at,
            "iss": "Upstash",
            "jti": jwt_id,
            "nbf": issued_at,
            "sub": url,
        });
        let mut token = format!(
            "{STANDARD_HEADER}.{}",
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let tag = hmac::sign(&self.key, token.as_bytes());
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(tag.as_ref(), &mut token);
        token
    }
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("key", &crate::secret::REDACTED)
            .finish()
    }
}

/// `jwt_` and 32 hex digits. A `jti` only has to be unique, so should the
/// system RNG fail, the time and a process-wide counter stand in for it.
fn fresh_jwt_id() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut bytes = [0u8; 16];
    if SystemRandom::new().fill(&mut bytes).is_err() {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |since| since.as_nanos() as u64);
        bytes[..8].copy_from_slice(&nanos.to_le_bytes());
        bytes[8..].copy_from_slice(&COUNTER.fetch_add(1, Ordering::Relaxed).to_le_bytes());
    }
    let mut id = String::with_capacity(4 + 32);
    id.push_str("jwt_");
    for byte in bytes {
        // Writing to a String cannot fail.
        let _ = write!(id, "{byte:02x}");
    }
    id
}
