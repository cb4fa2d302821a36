//! Verifying that a request really comes from QStash.
//!
//! QStash signs every delivery with a JWT in the `Upstash-Signature` header.
//! A [`Receiver`] holds the current and next signing keys and checks a
//! [`Delivery`] (the header value, the raw body and, optionally, the URL it
//! was received on) against them, returning the verified [`Claims`] or a
//! [`VerifyError`] naming the rule that failed.
//!
//! For whole HTTP requests, a [`RequestVerifier`] adds where the URL comes
//! from (the service's configured public base URL), QStash's delivery
//! headers ([`DeliveryHeaders`]) and a body limit, in two steps any web
//! framework can drive: [`RequestVerifier::verify_head`] before the body is
//! read, [`SignedHead::verify_body`] after. The extractors `VerifiedBody`
//! and `VerifiedJson` (features `axum` and `actix-web`) and the tower
//! layer `VerifyLayer` (feature `tower`) are those two steps.
//!
//! Compared with the official TypeScript SDK, this verifier is stricter in
//! two ways, both covered by the shared test vectors: the algorithm is pinned
//! to HS256 (the SDK accepts an HS512 token made with the signing key), and
//! `exp` is required (the SDK accepts a token without one). The `aud` claim,
//! `""` on real tokens, is ignored.
//!
//! ```
//! use qstash::receiver::{Delivery, Receiver, Signer};
//!
//! let receiver = Receiver::new("sig_current", "sig_next")?;
//! # let token = Signer::new("sig_current")?.sign("https://example.com/api", b"{\"hello\":\"world\"}");
//! // `token` is the `Upstash-Signature` header of the incoming request.
//! let body = br#"{"hello":"world"}"#;
//! let claims = receiver.verify(Delivery::new(&token, body).url("https://example.com/api"))?;
//! assert_eq!(claims.url, "https://example.com/api");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![deny(missing_docs)]

#[cfg(feature = "actix-web")]
mod actix;
#[cfg(feature = "axum")]
mod axum;
mod claims;
mod error;
#[cfg(any(feature = "axum", feature = "actix-web", feature = "tower"))]
mod extract;
mod headers;
mod http;
mod keys;
mod signer;
mod target;
mod token;
#[cfg(feature = "tower")]
mod tower;

use std::sync::Arc;
use std::time::Duration;

pub use self::claims::{Claims, KeySlot};
pub use self::error::{Malformed, VerifyError};
#[cfg(any(feature = "axum", feature = "actix-web", feature = "tower"))]
#[cfg_attr(
    docsrs,
    doc(cfg(any(feature = "axum", feature = "actix-web", feature = "tower")))
)]
pub use self::extract::{BodyError, VerifyRejection};
#[cfg(any(feature = "axum", feature = "actix-web"))]
#[cfg_attr(docsrs, doc(cfg(any(feature = "axum", feature = "actix-web"))))]
pub use self::extract::{VerifiedBody, VerifiedJson};
pub use self::headers::{DeliveryHeaders, REGION_HEADER, SIGNATURE_HEADER};
pub use self::http::{DEFAULT_MAX_BODY_BYTES, RequestVerifier, SignedHead, Verified};
pub use self::signer::Signer;
pub use self::target::TrustedHeaders;
#[cfg(feature = "tower")]
#[cfg_attr(docsrs, doc(cfg(feature = "tower")))]
pub use self::tower::{VerifiedRequestBody, VerifyLayer, VerifyResponseBody, VerifyService};
pub use crate::config_error::ConfigError;
pub use crate::region::Region;

use crate::clock::{Clock, SystemClock};

use self::claims::WireClaims;
use self::keys::KeyPair;
use self::token::Token;

/// What arrived with a delivery: the `Upstash-Signature` header value, the
/// raw body, and optionally the URL it was received on and its region.
#[derive(Clone, Copy)]
pub struct Delivery<'a> {
    signature: &'a str,
    body: &'a [u8],
    url: Option<&'a str>,
    region: Option<Region>,
}

impl<'a> Delivery<'a> {
    /// A delivery with its signature header value and raw body bytes.
    pub fn new(signature: &'a str, body: &'a [u8]) -> Delivery<'a> {
        Delivery {
            signature,
            body,
            url: None,
            region: None,
        }
    }

    /// Requires the token's `sub` claim to equal `url` exactly. Without it
    /// the URL is not checked.
    pub fn url(mut self, url: &'a str) -> Delivery<'a> {
        self.url = Some(url);
        self
    }

    /// The region from the delivery's `Upstash-Region` header, selecting
    /// that region's keys when the receiver has them.
    pub fn region(mut self, region: Option<Region>) -> Delivery<'a> {
        self.region = region;
        self
    }
}

impl std::fmt::Debug for Delivery<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The token is a credential for its body and URL until it expires.
        f.debug_struct("Delivery")
            .field("signature", &crate::secret::REDACTED)
            .field("body_len", &self.body.len())
            .field("url", &self.url)
            .field("region", &self.region)
            .finish()
    }
}

/// Verifies QStash deliveries against a current/next signing-key pair, and
/// optionally per-region pairs.
///
/// Cheap to clone: share one per service.
#[derive(Clone)]
pub struct Receiver {
    plain: Option<KeyPair>,
    regional: [Option<KeyPair>; Region::ALL.len()],
    tolerance_secs: u64,
    clock: Arc<dyn Clock>,
}

impl Receiver {
    /// A receiver for the current and next signing keys from the Upstash
    /// console (the `sig_...` strings, used as they are).
    ///
    /// Fails if a key is empty.
    pub fn new(current: &str, next: &str) -> Result<Receiver, ConfigError> {
        Ok(Receiver::with_keys(Some(KeyPair::new(current, next)?)))
    }

    fn with_keys(plain: Option<KeyPair>) -> Receiver {
        Receiver {
            plain,
            regional: [None, None],
            tolerance_secs: 0,
            clock: Arc::new(SystemClock),
        }
    }

    /// Reads the keys from the process environment; see
    /// [`from_env_with`](Receiver::from_env_with).
    ///
    /// A variable that is not valid UTF-8 is an error, as for the client.
    pub fn from_env() -> Result<Receiver, ConfigError> {
        Receiver::from_lookup(crate::env::process_env)
    }

    /// Reads `QSTASH_CURRENT_SIGNING_KEY` / `QSTASH_NEXT_SIGNING_KEY` and, for
    /// each region, `<REGION>_QSTASH_CURRENT_SIGNING_KEY` /
    /// `<REGION>_QSTASH_NEXT_SIGNING_KEY` through `lookup`.
    ///
    /// A delivery naming a region uses that region's pair when it is set,
    /// and the plain pair otherwise. Fails when no pair is set, or when only
    /// one key of a pair is. Empty values count as unset; surrounding
    /// whitespace is trimmed.
    ///
    /// ```
    /// use qstash::receiver::Receiver;
    /// let env = [
    ///     ("QSTASH_CURRENT_SIGNING_KEY", "sig_current"),
    ///     ("QSTASH_NEXT_SIGNING_KEY", "sig_next"),
    ///     ("US_EAST_1_QSTASH_CURRENT_SIGNING_KEY", "sig_us_current"),
    ///     ("US_EAST_1_QSTASH_NEXT_SIGNING_KEY", "sig_us_next"),
    /// ];
    /// let receiver = Receiver::from_env_with(|name| {
    ///     env.iter().find(|(key, _)| *key == name).map(|(_, value)| value.to_string())
    /// })?;
    /// # Ok::<(), qstash::ConfigError>(())
    /// ```
    pub fn from_env_with(
        mut lookup: impl FnMut(&str) -> Option<String>,
    ) -> Result<Receiver, ConfigError> {
        Receiver::from_lookup(|name| Ok(lookup(name)))
    }

    fn from_lookup(
        mut lookup: impl FnMut(&str) -> Result<Option<String>, ConfigError>,
    ) -> Result<Receiver, ConfigError> {
        let mut receiver = Receiver::with_keys(KeyPair::from_lookup(&mut lookup, "")?);
        for region in Region::ALL {
            let prefix = format!("{}_", region.env_name());
            receiver.regional[region.index()] = KeyPair::from_lookup(&mut lookup, &prefix)?;
        }
        if receiver.plain.is_none() && receiver.regional.iter().all(Option::is_none) {
            return Err(ConfigError::NoSigningKeys);
        }
        Ok(receiver)
    }

    /// Uses `current` and `next` for deliveries from `region`.
    pub fn region_keys(
        mut self,
        region: Region,
        current: &str,
        next: &str,
    ) -> Result<Receiver, ConfigError> {
        self.regional[region.index()] = Some(KeyPair::new(current, next)?);
        Ok(self)
    }

    /// Accepts tokens up to `tolerance` past `exp` and before `nbf`, for
    /// clock skew between QStash and this host. Default: zero. Sub-second
    /// parts are ignored.
    pub fn clock_tolerance(mut self, tolerance: Duration) -> Receiver {
        self.tolerance_secs = tolerance.as_secs();
        self
    }

    /// Replaces the system clock: tokens' `exp` and `nbf` are checked
    /// against `clock`'s [`now`](Clock::now) (see [`Clock`] for a clock
    /// set to a chosen instant, to replay a delivery).
    pub fn clock(mut self, clock: impl Clock) -> Receiver {
        self.clock = Arc::new(clock);
        self
    }

    /// Verifies a delivery at the receiver's clock.
    pub fn verify(&self, delivery: Delivery<'_>) -> Result<Claims, VerifyError> {
        self.verify_at(delivery, self.now())
    }

    /// The receiver's clock, in unix seconds.
    pub(crate) fn now(&self) -> u64 {
        crate::clock::unix_secs(&*self.clock)
    }

    /// Verifies a delivery as of `now` (unix seconds).
    ///
    /// The checks run in this order, and the first failure is returned:
    /// token structure and algorithm (HS256 only), signature (current key,
    /// then next), claims shape, issuer, `exp`, `nbf`, `sub` (when a URL is
    /// given), body hash.
    pub fn verify_at(&self, delivery: Delivery<'_>, now: u64) -> Result<Claims, VerifyError> {
        let claims = self.verify_token(delivery.signature, delivery.url, delivery.region, now)?;
        check_body(claims, delivery.body)
    }

    /// Every check but the body's: what can be settled before the body is
    /// read. The claims' `body_sha256` is the hash the token signed, which
    /// [`check_body`] compares with the body's.
    pub(crate) fn verify_token(
        &self,
        signature: &str,
        url: Option<&str>,
        region: Option<Region>,
        now: u64,
    ) -> Result<Claims, VerifyError> {
        let (keys, region) = self.keys_for(region)?;
        let token = Token::parse(signature)?;
        let key = token.verify_mac(keys)?;
        token
            .with_payload(|json| self.check_claims(WireClaims::parse(json)?, url, now, key, region))
    }

    fn keys_for(&self, region: Option<Region>) -> Result<(&KeyPair, Option<Region>), VerifyError> {
        if let Some(region) = region
            && let Some(keys) = &self.regional[region.index()]
        {
            return Ok((keys, Some(region)));
        }
        self.plain
            .as_ref()
            .map(|keys| (keys, None))
            .ok_or(VerifyError::NoKeys)
    }

    fn check_claims(
        &self,
        wire: WireClaims<'_>,
        url: Option<&str>,
        now: u64,
        key: KeySlot,
        region: Option<Region>,
    ) -> Result<Claims, VerifyError> {
        let iss = wire.iss.ok_or(VerifyError::MissingClaim("iss"))?;
        if iss != "Upstash" {
            return Err(VerifyError::Issuer);
        }
        let exp = wire.exp.ok_or(VerifyError::MissingClaim("exp"))?;
        // u128 so that no tolerance, however large, overflows.
        let (now_wide, tolerance) = (u128::from(now), u128::from(self.tolerance_secs));
        if now_wide >= u128::from(exp) + tolerance {
            return Err(VerifyError::Expired);
        }
        let nbf = wire.nbf.ok_or(VerifyError::MissingClaim("nbf"))?;
        if now_wide + tolerance < u128::from(nbf) {
            return Err(VerifyError::NotYetValid);
        }
        let sub = wire.sub.ok_or(VerifyError::MissingClaim("sub"))?;
        if url.is_some_and(|url| url != sub) {
            return Err(VerifyError::Subject);
        }
        let body_claim = wire.body.ok_or(VerifyError::MissingClaim("body"))?;
        // A claim that is no SHA-256 matches no body.
        let body_sha256 = token::decode_body_claim(&body_claim).ok_or(VerifyError::BodyHash)?;
        Ok(Claims {
            url: sub.into_owned(),
            issued_at: wire.iat,
            expires_at: exp,
            not_before: nbf,
            jwt_id: wire.jti.map(|jti| jti.into_owned()),
            body_sha256,
            key,
            region,
        })
    }
}

/// The last check: `body` is the one the token's claims were signed for.
pub(crate) fn check_body(claims: Claims, body: &[u8]) -> Result<Claims, VerifyError> {
    if token::body_sha256(body) == claims.body_sha256 {
        Ok(claims)
    } else {
        Err(VerifyError::BodyHash)
    }
}

impl std::fmt::Debug for Receiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let regions: Vec<Region> = Region::ALL
            .into_iter()
            .filter(|region| self.regional[region.index()].is_some())
            .collect();
        f.debug_struct("Receiver")
            .field("keys", &crate::secret::REDACTED)
            .field("plain_pair", &self.plain.is_some())
            .field("regional_pairs", &regions)
            .field("tolerance_secs", &self.tolerance_secs)
            .finish_non_exhaustive()
    }
}
