//! Signing keys, and reading them from the environment.

use ring::hmac;

use crate::config_error::ConfigError;
use crate::env::env_var;

/// A current/next key pair, prepared once so verification does not redo the
/// HMAC key schedule per request.
#[derive(Clone)]
pub(super) struct KeyPair {
    pub current: hmac::Key,
    pub next: hmac::Key,
}

impl KeyPair {
    pub fn new(current: &str, next: &str) -> Result<KeyPair, ConfigError> {
        Ok(KeyPair {
            current: hmac_key(current)?,
            next: hmac_key(next)?,
        })
    }

    /// Reads `<prefix>QSTASH_CURRENT_SIGNING_KEY` and
    /// `<prefix>QSTASH_NEXT_SIGNING_KEY`; `Ok(None)` when neither is set.
    pub fn from_lookup(
        lookup: &mut impl FnMut(&str) -> Result<Option<String>, ConfigError>,
        prefix: &str,
    ) -> Result<Option<KeyPair>, ConfigError> {
        let current_var = format!("{prefix}QSTASH_CURRENT_SIGNING_KEY");
        let next_var = format!("{prefix}QSTASH_NEXT_SIGNING_KEY");
        // Secrets mounted from files often end in a newline; real keys
        // contain no whitespace, so it is trimmed.
        match (env_var(lookup, &current_var)?, env_var(lookup, &next_var)?) {
            (Some(current), Some(next)) => KeyPair::new(current.trim(), next.trim()).map(Some),
            (None, None) => Ok(None),
            (Some(_), None) => Err(ConfigError::IncompleteSigningKeyPair {
                missing: next_var,
                present: current_var,
            }),
            (None, Some(_)) => Err(ConfigError::IncompleteSigningKeyPair {
                missing: current_var,
                present: next_var,
            }),
        }
    }
}

/// QStash uses the UTF-8 bytes of the key string as the HMAC key, not a
/// decoding of it.
fn hmac_key(key: &str) -> Result<hmac::Key, ConfigError> {
    if key.is_empty() {
        return Err(ConfigError::EmptySigningKey);
    }
    Ok(hmac::Key::new(hmac::HMAC_SHA256, key.as_bytes()))
}
