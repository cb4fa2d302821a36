//! Signing keys, regions, and reading both from the environment.

use ring::hmac;

use super::error::ConfigError;

/// A QStash region, as named in the `Upstash-Region` header of a delivery
/// and in the `<REGION>_QSTASH_*_SIGNING_KEY` environment variables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Region {
    /// `EU_CENTRAL_1`.
    EuCentral1,
    /// `US_EAST_1`.
    UsEast1,
}

impl Region {
    /// Every region, in a fixed order.
    pub const ALL: [Region; 2] = [Region::EuCentral1, Region::UsEast1];

    /// The name used in headers and environment variables, e.g. `US_EAST_1`.
    pub fn as_str(self) -> &'static str {
        match self {
            Region::EuCentral1 => "EU_CENTRAL_1",
            Region::UsEast1 => "US_EAST_1",
        }
    }

    /// Parses an `Upstash-Region` header value (ASCII case-insensitive);
    /// `None` for a region this crate does not know.
    ///
    /// ```
    /// use qstash::receiver::Region;
    /// assert_eq!(Region::from_header("us_east_1"), Some(Region::UsEast1));
    /// assert_eq!(Region::from_header("MARS_1"), None);
    /// ```
    pub fn from_header(value: &str) -> Option<Region> {
        let value = value.trim();
        Region::ALL
            .into_iter()
            .find(|region| region.as_str().eq_ignore_ascii_case(value))
    }

    pub(super) fn index(self) -> usize {
        match self {
            Region::EuCentral1 => 0,
            Region::UsEast1 => 1,
        }
    }
}

impl std::fmt::Display for Region {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

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
        lookup: &mut impl FnMut(&str) -> Option<String>,
        prefix: &str,
    ) -> Result<Option<KeyPair>, ConfigError> {
        let current_var = format!("{prefix}QSTASH_CURRENT_SIGNING_KEY");
        let next_var = format!("{prefix}QSTASH_NEXT_SIGNING_KEY");
        // Secrets mounted from files often end in a newline, and deployment
        // tools pass unset variables as empty strings; real keys contain
        // neither whitespace nor nothing.
        let mut read = |name: &str| lookup(name).filter(|value| !value.trim().is_empty());
        match (read(&current_var), read(&next_var)) {
            (Some(current), Some(next)) => KeyPair::new(current.trim(), next.trim()).map(Some),
            (None, None) => Ok(None),
            (Some(_), None) => Err(ConfigError::IncompletePair {
                missing: next_var,
                present: current_var,
            }),
            (None, Some(_)) => Err(ConfigError::IncompletePair {
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
        return Err(ConfigError::EmptyKey);
    }
    Ok(hmac::Key::new(hmac::HMAC_SHA256, key.as_bytes()))
}
