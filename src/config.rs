//! Where the client talks to: base URLs and the environment variables the
//! official SDKs use.

use url::Url;

use crate::config_error::ConfigError;
use crate::env::env_var;
use crate::region::Region;
use crate::secret::REDACTED;

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
/// through `lookup` so that tests need not touch the process environment,
/// exactly as the official TypeScript SDK does
/// (qstash-js src/client/multi-region/outgoing.ts:45-97, utils.ts:7-64):
///
/// 1. `QSTASH_REGION` names a region (`US_EAST_1`, `us-east-1`, ...) and both
///    `<REGION>_QSTASH_URL` and `<REGION>_QSTASH_TOKEN` are set: those two.
/// 2. Otherwise `QSTASH_URL` (default `https://qstash.upstash.io`) and
///    `QSTASH_TOKEN`. An unknown region, or a region whose two variables are
///    not both set, falls back to these with a warning (a `tracing` event),
///    as the TypeScript SDK does.
pub(crate) fn resolve_env(
    mut lookup: impl FnMut(&str) -> Result<Option<String>, ConfigError>,
) -> Result<EnvSettings, ConfigError> {
    let mut get = |name: &str| env_var(&mut lookup, name);
    if let Some(name) = get("QSTASH_REGION")? {
        match Region::from_name(&name) {
            Ok(region) => {
                let prefix = region.env_name();
                let url = get(&format!("{prefix}_QSTASH_URL"))?;
                let token = get(&format!("{prefix}_QSTASH_TOKEN"))?;
                if let (Some(base_url), Some(token)) = (url, token) {
                    return Ok(EnvSettings {
                        base_url,
                        token: Some(token),
                    });
                }
                tracing::warn!(
                    region = prefix,
                    "QSTASH_REGION is set but {prefix}_QSTASH_URL and {prefix}_QSTASH_TOKEN are \
                     not both set; falling back to QSTASH_URL and QSTASH_TOKEN"
                );
            }
            Err(_) => tracing::warn!(
                "QSTASH_REGION names no region QStash has (EU_CENTRAL_1, US_EAST_1); \
                 falling back to QSTASH_URL and QSTASH_TOKEN"
            ),
        }
    }
    Ok(EnvSettings {
        base_url: get("QSTASH_URL")?.unwrap_or_else(|| Region::default().base_url().into()),
        token: get("QSTASH_TOKEN")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `vars` resolve to: `(server, token)`.
    fn resolve(vars: &[(&str, &str)]) -> (String, Option<String>) {
        let settings = resolve_env(|name| {
            Ok(vars
                .iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| value.to_string()))
        })
        .expect("resolves");
        (settings.base_url, settings.token)
    }

    fn expect(vars: &[(&str, &str)], base_url: &str, token: Option<&str>) {
        assert_eq!(
            resolve(vars),
            (base_url.to_string(), token.map(str::to_string)),
            "{vars:?}"
        );
    }

    const EU_DEFAULT: &str = "https://qstash.upstash.io";

    // One test per row of the TypeScript SDK's client credential table,
    // qstash-js src/client/multi-region.test.ts (line of each row), same
    // variables, same expectations. Its rows with a `config` argument are
    // the builder's `.token(..)`/`.base_url(..)`, which override whatever
    // the environment said (tests/client.rs).

    /// :21 "should use default EU endpoint with token from env"
    #[test]
    fn default_eu_endpoint_with_token_from_env() {
        expect(
            &[("QSTASH_TOKEN", "test-token")],
            EU_DEFAULT,
            Some("test-token"),
        );
    }

    /// :41 "should warn when token is missing": no token (the builder then
    /// refuses to build, naming QSTASH_TOKEN; the SDK sends an empty one).
    #[test]
    fn missing_token_resolves_to_none() {
        expect(&[], EU_DEFAULT, None);
    }

    /// :52 "should resolve default credentials with signing keys present"
    #[test]
    fn signing_keys_do_not_change_the_credentials() {
        expect(
            &[
                ("QSTASH_TOKEN", "test-token"),
                ("QSTASH_CURRENT_SIGNING_KEY", "current-key"),
                ("QSTASH_NEXT_SIGNING_KEY", "next-key"),
            ],
            EU_DEFAULT,
            Some("test-token"),
        );
    }

    /// :67 "should use custom URL from environment"
    #[test]
    fn custom_url_from_env() {
        expect(
            &[
                ("QSTASH_URL", "https://custom-qstash.upstash.io"),
                ("QSTASH_TOKEN", "test-token"),
            ],
            "https://custom-qstash.upstash.io",
            Some("test-token"),
        );
    }

    /// :96 "should strip trailing slash from URL": resolution keeps the
    /// variable as it is; the builder strips the slash.
    #[test]
    fn trailing_slash_is_stripped_by_normalization() {
        let (url, _) = resolve(&[
            ("QSTASH_URL", "https://custom-qstash.upstash.io/"),
            ("QSTASH_TOKEN", "test-token"),
        ]);
        assert_eq!(
            normalize_base_url(&url).unwrap(),
            "https://custom-qstash.upstash.io"
        );
    }

    const BOTH_REGIONS: [(&str, &str); 4] = [
        ("US_EAST_1_QSTASH_URL", "https://us-qstash.upstash.io"),
        ("US_EAST_1_QSTASH_TOKEN", "us-token"),
        ("EU_CENTRAL_1_QSTASH_URL", "https://eu-qstash.upstash.io"),
        ("EU_CENTRAL_1_QSTASH_TOKEN", "eu-token"),
    ];

    /// :109 "should use US region credentials when QSTASH_REGION is US_EAST_1"
    #[test]
    fn us_region_credentials() {
        let mut vars = BOTH_REGIONS.to_vec();
        vars.push(("QSTASH_REGION", "US_EAST_1"));
        expect(&vars, "https://us-qstash.upstash.io", Some("us-token"));
    }

    /// :124 "should use EU region credentials when QSTASH_REGION is EU_CENTRAL_1"
    #[test]
    fn eu_region_credentials() {
        let mut vars = BOTH_REGIONS.to_vec();
        vars.push(("QSTASH_REGION", "EU_CENTRAL_1"));
        expect(&vars, "https://eu-qstash.upstash.io", Some("eu-token"));
    }

    /// :139 "should fallback to default when region credentials are missing"
    #[test]
    fn missing_region_credentials_fall_back_to_the_defaults() {
        expect(
            &[
                ("QSTASH_REGION", "US_EAST_1"),
                ("QSTASH_URL", "https://default-qstash.upstash.io"),
                ("QSTASH_TOKEN", "default-token"),
            ],
            "https://default-qstash.upstash.io",
            Some("default-token"),
        );
    }

    /// :152 "should warn and fallback when region is invalid"
    #[test]
    fn an_invalid_region_falls_back_to_the_defaults() {
        expect(
            &[
                ("QSTASH_REGION", "INVALID_REGION"),
                ("QSTASH_TOKEN", "default-token"),
            ],
            EU_DEFAULT,
            Some("default-token"),
        );
    }

    /// :399 "should warn when QSTASH_REGION is set but credentials are
    /// incomplete": the regional URL alone is not used.
    #[test]
    fn incomplete_region_credentials_fall_back_to_the_defaults() {
        expect(
            &[
                ("QSTASH_REGION", "US_EAST_1"),
                ("US_EAST_1_QSTASH_URL", "https://us-qstash.upstash.io"),
            ],
            EU_DEFAULT,
            None,
        );
        // Nor the regional token alone: the pair is all or nothing.
        expect(
            &[
                ("QSTASH_REGION", "US_EAST_1"),
                ("US_EAST_1_QSTASH_TOKEN", "us-token"),
                ("QSTASH_TOKEN", "default-token"),
            ],
            EU_DEFAULT,
            Some("default-token"),
        );
    }

    /// utils.ts:52: the region's name is read in any case, `-` for `_`.
    #[test]
    fn region_names_are_normalized() {
        let mut vars = BOTH_REGIONS.to_vec();
        vars.push(("QSTASH_REGION", "us-east-1"));
        expect(&vars, "https://us-qstash.upstash.io", Some("us-token"));
    }

    /// Deployment tools pass unset variables as empty strings: an empty
    /// value is unset (the SDK would use an empty `QSTASH_URL` as the URL).
    #[test]
    fn empty_values_count_as_unset() {
        expect(
            &[
                ("QSTASH_REGION", "US_EAST_1"),
                ("US_EAST_1_QSTASH_URL", ""),
                ("US_EAST_1_QSTASH_TOKEN", "us-token"),
                ("QSTASH_URL", " "),
                ("QSTASH_TOKEN", "default-token"),
            ],
            EU_DEFAULT,
            Some("default-token"),
        );
    }
}
