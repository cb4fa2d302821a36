//! The byte-level work of verification: splitting the compact JWS, checking
//! the algorithm, the MAC and the body hash, and decoding the claims.
//!
//! Everything that touches untrusted bytes lives here, in a few functions
//! that return errors rather than panic.

use base64::Engine as _;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, URL_SAFE_NO_PAD};
use ring::{digest, hmac};
use serde::Deserialize;

use super::claims::KeySlot;
use super::error::{Malformed, VerifyError};
use super::keys::KeyPair;

/// `{"alg":"HS256","typ":"JWT"}`, the header on every real token; matching it
/// textually skips decoding and parsing in the common case.
pub(super) const STANDARD_HEADER: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9";

/// QStash pads the `body` claim; other JWT tooling may not.
const PAD_INDIFFERENT: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Payloads up to this size decode on the stack; real ones are ~250 bytes
/// plus the URL.
const STACK_PAYLOAD: usize = 512;

/// A compact JWS split into its segments. Borrowed: splitting allocates nothing.
pub(super) struct Token<'a> {
    signing_input: &'a str,
    payload: &'a str,
    signature: [u8; 32],
}

impl<'a> Token<'a> {
    /// Splits the token, pins the algorithm to HS256 and decodes the
    /// signature. Nothing here depends on the keys.
    pub fn parse(token: &'a str) -> Result<Token<'a>, VerifyError> {
        let malformed = VerifyError::Malformed;
        let (signing_input, signature) = token
            .rsplit_once('.')
            .ok_or(malformed(Malformed::Segments))?;
        let (header, payload) = signing_input
            .split_once('.')
            .ok_or(malformed(Malformed::Segments))?;
        if payload.contains('.') {
            return Err(malformed(Malformed::Segments));
        }
        check_header(header)?;
        let mut tag = [0u8; 32];
        // decode_slice would accept a shorter signature; an HS256 tag is
        // exactly 32 bytes, which is 43 unpadded base64url characters.
        if signature.len() != 43 {
            return Err(malformed(Malformed::Signature));
        }
        URL_SAFE_NO_PAD
            .decode_slice(signature, &mut tag)
            .map_err(|_| malformed(Malformed::Signature))?;
        Ok(Token {
            signing_input,
            payload,
            signature: tag,
        })
    }

    /// Which key of the pair made the signature. `hmac::verify` compares in
    /// constant time; each key costs one HMAC.
    pub fn verify_mac(&self, keys: &KeyPair) -> Result<KeySlot, VerifyError> {
        let input = self.signing_input.as_bytes();
        if hmac::verify(&keys.current, input, &self.signature).is_ok() {
            Ok(KeySlot::Current)
        } else if hmac::verify(&keys.next, input, &self.signature).is_ok() {
            Ok(KeySlot::Next)
        } else {
            Err(VerifyError::Signature)
        }
    }

    /// Decodes the payload, on the stack when it is small, and hands the
    /// JSON bytes to `f` (the claims borrow from them).
    pub fn with_payload<T>(
        &self,
        f: impl FnOnce(&[u8]) -> Result<T, VerifyError>,
    ) -> Result<T, VerifyError> {
        let bad = || VerifyError::Malformed(Malformed::Payload);
        let encoded = self.payload.as_bytes();
        if base64::decoded_len_estimate(encoded.len()) <= STACK_PAYLOAD {
            let mut buf = [0u8; STACK_PAYLOAD];
            let len = URL_SAFE_NO_PAD
                .decode_slice(encoded, &mut buf)
                .map_err(|_| bad())?;
            f(&buf[..len])
        } else {
            let buf = URL_SAFE_NO_PAD.decode(encoded).map_err(|_| bad())?;
            f(&buf)
        }
    }
}

fn check_header(header: &str) -> Result<(), VerifyError> {
    if header == STANDARD_HEADER {
        return Ok(());
    }
    #[derive(Deserialize)]
    struct Header<'a> {
        #[serde(borrow)]
        alg: std::borrow::Cow<'a, str>,
        // A critical extension we do not implement must fail verification
        // (RFC 7515 §4.1.11); QStash never sends one.
        crit: Option<serde::de::IgnoredAny>,
    }
    let bad = || VerifyError::Malformed(Malformed::Header);
    let json = URL_SAFE_NO_PAD.decode(header).map_err(|_| bad())?;
    let header: Header<'_> = serde_json::from_slice(&json).map_err(|_| bad())?;
    if header.crit.is_some() {
        return Err(bad());
    }
    if header.alg != "HS256" {
        return Err(VerifyError::Algorithm);
    }
    Ok(())
}

/// SHA-256 of the body.
pub(super) fn body_sha256(body: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(digest::digest(&digest::SHA256, body).as_ref());
    out
}

/// The SHA-256 the `body` claim (base64url, padded or not) encodes; `None`
/// if it encodes anything else.
pub(super) fn decode_body_claim(claim: &str) -> Option<[u8; 32]> {
    let mut decoded = [0u8; 32];
    // The 32-byte buffer makes longer claims fail to decode; shorter ones
    // fail the length check. The comparison with the body's hash needs no
    // constant time: both sides are public, and the claim is authenticated
    // by the MAC already.
    match PAD_INDIFFERENT.decode_slice(claim, &mut decoded) {
        Ok(32) => Some(decoded),
        _ => None,
    }
}
