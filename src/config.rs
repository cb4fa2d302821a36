//! Where the client talks to: regions, base URLs and the environment
//! variables the official SDKs use.

use std::fmt;
use std::str::FromStr;

use url::Url;

use crate::auth::REDACTED;
use crate::error::ConfigError;

/// A QStash region. Each region is a separate deployment with its own
/// tokens and signing keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
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

/// Checks a base URL and puts it in the form the generated client joins
/// paths to: scheme, host, optional port and path prefix, no trailing slash.
pub(crate) fn normalize_base_url(raw: &str) -> Result<String, ConfigError> {
    let invalid = |reason: String| ConfigError::InvalidBaseUrl {
        url: displayable(raw),
        reason,
    };
    let url = Url::parse(raw.trim()).map_err(|e| {
        invalid(format!(
            "{e}; use a URL such as `https://qstash.upstash.io` or `http://127.0.0.1:8080`"
        ))
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid(format!(
            "scheme `{}` is not http or https",
            url.scheme()
        )));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(invalid("it has no host".into()));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid(
            "it has a query or fragment; pass the token with `.token(..)` and the server address alone"
                .into(),
        ));
    }
    let path = url.path().trim_end_matches('/');
    // A proxy may serve QStash under a prefix; `/v2` starts the API itself.
    if let Some(api) = path.split('/').position(|segment| segment == "v2") {
        let prefix: Vec<&str> = path.split('/').take(api).collect();
        let suggestion = format!("{}{}", origin(&url), prefix.join("/"));
        return Err(invalid(format!(
            "it includes the API path `{}`; use `{suggestion}`",
            &path[prefix.join("/").len()..]
        )));
    }
    Ok(format!("{}{path}", origin(&url)))
}

/// The URL as an error may show it: a password or query (where someone
/// may have pasted a token) is replaced.
fn displayable(raw: &str) -> String {
    match Url::parse(raw.trim()) {
        Ok(mut url) => {
            if url.password().is_some() {
                let _ = url.set_password(Some(REDACTED));
            }
            if url.query().is_some() {
                url.set_query(Some(REDACTED));
            }
            url.to_string()
        }
        Err(_) => match raw.split_once(['?', '@']) {
            Some((before, _)) => format!("{before}…"),
            None => raw.to_string(),
        },
    }
}

fn origin(url: &Url) -> String {
    let mut origin = format!("{}://", url.scheme());
    if !url.username().is_empty() {
        origin.push_str(url.username());
        if let Some(password) = url.password() {
            origin.push(':');
            origin.push_str(password);
        }
        origin.push('@');
    }
    origin.push_str(url.host_str().unwrap_or_default());
    if let Some(port) = url.port() {
        origin.push_str(&format!(":{port}"));
    }
    origin
}

/// What the environment says about the server and the token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EnvSettings {
    pub(crate) base_url: String,
    pub(crate) token: Option<String>,
}

/// Resolves the server and the token from environment variables, read
/// through `lookup` so that tests need not touch the process environment.
///
/// - `QSTASH_REGION` unset: `QSTASH_URL` (default: the EU region) and `QSTASH_TOKEN`.
/// - `QSTASH_REGION=<REGION>`: `<REGION>_QSTASH_URL` (default: that region's
///   URL) and `<REGION>_QSTASH_TOKEN` (default: `QSTASH_TOKEN`).
pub(crate) fn resolve_env(
    mut lookup: impl FnMut(&str) -> Result<Option<String>, ConfigError>,
) -> Result<EnvSettings, ConfigError> {
    let mut get = |name: &str| env_var(&mut lookup, name);
    match get("QSTASH_REGION")? {
        None => Ok(EnvSettings {
            base_url: get("QSTASH_URL")?.unwrap_or_else(|| Region::default().base_url().into()),
            token: get("QSTASH_TOKEN")?,
        }),
        Some(name) => {
            let region = Region::from_name(&name)?;
            let prefix = region.env_name();
            let token = match get(&format!("{prefix}_QSTASH_TOKEN"))? {
                Some(token) => Some(token),
                None => get("QSTASH_TOKEN")?,
            };
            Ok(EnvSettings {
                base_url: get(&format!("{prefix}_QSTASH_URL"))?
                    .unwrap_or_else(|| region.base_url().into()),
                token,
            })
        }
    }
}

/// A variable through `lookup`. Deployment tools pass unset variables as
/// empty strings, so an empty or blank value counts as unset.
pub(crate) fn env_var(
    lookup: &mut impl FnMut(&str) -> Result<Option<String>, ConfigError>,
    name: &str,
) -> Result<Option<String>, ConfigError> {
    Ok(lookup(name)?.filter(|value| !value.trim().is_empty()))
}

/// Reads a variable of the process environment; a value that is not
/// Unicode is an error rather than silently absent.
pub(crate) fn process_env(name: &str) -> Result<Option<String>, ConfigError> {
    match std::env::var(name) {
        Ok(value) => Ok(Some(value)),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => Err(ConfigError::NotUnicode(name.into())),
    }
}
