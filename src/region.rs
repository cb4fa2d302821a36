//! QStash's regions: shared by the client (where to send requests) and the
//! receiver (whose keys signed a delivery).

use std::fmt;
use std::str::FromStr;

use crate::config_error::ConfigError;

/// A QStash region. Each region is a separate deployment with its own
/// tokens and signing keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Region {
    /// Frankfurt, `https://qstash.upstash.io` (the default region).
    #[default]
    EuCentral1,
    /// Virginia, `https://qstash-us-east-1.upstash.io`.
    UsEast1,
}

impl Region {
    /// Every region, in the order the official SDKs list them.
    pub const ALL: [Region; 2] = [Region::EuCentral1, Region::UsEast1];

    /// The region's API base URL.
    pub fn base_url(self) -> &'static str {
        match self {
            Region::EuCentral1 => "https://qstash.upstash.io",
            Region::UsEast1 => "https://qstash-us-east-1.upstash.io",
        }
    }

    /// The name used in `QSTASH_REGION` and as the prefix of the regional
    /// variables (`US_EAST_1_QSTASH_TOKEN`), and in a delivery's
    /// `Upstash-Region` header.
    pub fn env_name(self) -> &'static str {
        match self {
            Region::EuCentral1 => "EU_CENTRAL_1",
            Region::UsEast1 => "US_EAST_1",
        }
    }

    /// Position in [`Region::ALL`], for per-region tables.
    pub(crate) fn index(self) -> usize {
        self as usize
    }

    /// Parses `EU_CENTRAL_1` / `US_EAST_1`; the URL form (`eu-central-1`) and
    /// any letter case are accepted too.
    pub fn from_name(name: &str) -> Result<Region, ConfigError> {
        let normalized = name.trim().replace('-', "_").to_ascii_uppercase();
        Region::ALL
            .into_iter()
            .find(|region| region.env_name() == normalized)
            .ok_or_else(|| ConfigError::UnknownRegion(name.to_string()))
    }
}

impl FromStr for Region {
    type Err = ConfigError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Region::from_name(name)
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.env_name())
    }
}
