//! The URL a delivery's token must have been signed for: the configured
//! public base URL and the request's path and query, or (an opt-in) what
//! the request's own headers say.

use http::header::HOST;
use http::uri::Authority;
use http::{HeaderMap, Uri};

use super::error::VerifyError;
use super::headers::{self, Unreadable};
use crate::config_error::ConfigError;

/// Request headers that say where a request was sent, trusted only when
/// asked for with [`RequestVerifier::trusting_headers`](super::RequestVerifier::trusting_headers).
///
/// Anyone can send any `Host` or `X-Forwarded-*` header: trusting them lets
/// a token QStash signed for one URL verify at another endpoint that
/// receives the same headers (another host name of the same service, say).
/// Use them only when every request reaches this service through a proxy
/// you run that sets them, replacing whatever came in; prefer a configured
/// base URL ([`RequestVerifier::new`](super::RequestVerifier::new)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TrustedHeaders {
    /// The `Host` header, or the authority of an absolute-form request
    /// target (if both are present they must agree), with `https://` or
    /// `http://` in front.
    Host {
        /// Whether the public URL is `https://` (else `http://`).
        https: bool,
    },
    /// `X-Forwarded-Proto` (`http` or `https`) and `X-Forwarded-Host` (or,
    /// without it, `Host`), and the optional `X-Forwarded-Prefix` of a
    /// proxy that strips a path prefix. Each must appear once, with a
    /// single value (a proxy that appends to a list the client started
    /// leaves the client's value first).
    Forwarded,
}

/// Where the URL compared with the token's `sub` claim comes from.
#[derive(Debug, Clone)]
pub(super) enum UrlSource {
    /// The configured public base URL, without a trailing slash.
    Configured(String),
    Headers(TrustedHeaders),
    Unchecked,
}

/// Checks a public base URL and drops its trailing slashes: scheme `http`
/// or `https`, a host, no user, query or fragment. (Parsed with `http`'s
/// own URI type, which the receiver needs anyway, so that a receiver-only
/// build compiles no URL library; a host must be ASCII, as in the URL
/// QStash signs: use the punycode form of an internationalized name.)
pub(super) fn public_base_url(base: &str) -> Result<String, ConfigError> {
    let invalid = |reason: &str| ConfigError::InvalidPublicUrl {
        url: shown(base),
        reason: reason.to_string(),
    };
    let base = base.trim();
    // `Uri` drops a fragment silently: look for it (and a query) first.
    if base.contains(['?', '#']) {
        return Err(invalid(
            "it has a query or fragment; the request's own path and query are appended to it",
        ));
    }
    let uri = base
        .parse::<Uri>()
        .ok()
        .filter(|uri| uri.scheme().is_some());
    let Some(uri) = uri else {
        return Err(invalid(
            "not a URL; write it as QStash calls it, e.g. `https://api.example.com`",
        ));
    };
    if !matches!(uri.scheme_str(), Some("http" | "https")) {
        return Err(invalid("the scheme must be http or https"));
    }
    let authority = uri.authority().map_or("", |a| a.as_str());
    if authority.contains('@') {
        return Err(invalid(
            "it has a user or password, which QStash never signs",
        ));
    }
    if uri.host().is_none_or(str::is_empty) {
        return Err(invalid("it has no host"));
    }
    Ok(base.trim_end_matches('/').to_string())
}

/// A base URL as an error may show it: without user, password, query or
/// fragment, where a secret may have been pasted.
fn shown(base: &str) -> String {
    let base = base.trim();
    let before_secrets = base.split(['?', '#']).next().unwrap_or_default();
    match before_secrets.parse::<Uri>() {
        Ok(uri) if uri.scheme().is_some() => {
            let port = uri.port_u16().map(|p| format!(":{p}")).unwrap_or_default();
            let host = uri.host().unwrap_or_default();
            let scheme = uri.scheme_str().unwrap_or_default();
            format!("{scheme}://{host}{port}{}", uri.path())
        }
        _ if !base.contains(['@', '?', '#']) => base.to_string(),
        _ => "(not shown: it has `@`, `?` or `#`)".to_string(),
    }
}

impl UrlSource {
    /// The URL `target` (with `headers`) was sent to; `None` when unchecked.
    pub(super) fn url_of(
        &self,
        headers: &HeaderMap,
        target: &Uri,
    ) -> Result<Option<String>, VerifyError> {
        // An absolute-form target's scheme and authority are the client's
        // say; only its path and query are used, unless trusted below.
        let path_and_query = target.path_and_query().map_or("/", |pq| pq.as_str());
        let path_and_query = if path_and_query.is_empty() {
            "/"
        } else {
            path_and_query
        };
        let (scheme, authority, prefix) = match self {
            UrlSource::Unchecked => return Ok(None),
            UrlSource::Configured(base) => return Ok(Some(format!("{base}{path_and_query}"))),
            UrlSource::Headers(TrustedHeaders::Host { https }) => {
                let scheme = if *https { "https" } else { "http" };
                (scheme, host(headers, target)?, "")
            }
            UrlSource::Headers(TrustedHeaders::Forwarded) => {
                let scheme = match single(headers, "x-forwarded-proto")? {
                    Some(proto) if proto.eq_ignore_ascii_case("https") => "https",
                    Some(proto) if proto.eq_ignore_ascii_case("http") => "http",
                    _ => return Err(VerifyError::RequestUrl),
                };
                let authority = match single(headers, "x-forwarded-host")? {
                    Some(forwarded) => authority(forwarded)?,
                    None => host(headers, target)?,
                };
                let prefix = single(headers, "x-forwarded-prefix")?.unwrap_or_default();
                if !(prefix.is_empty() || prefix.starts_with('/'))
                    || prefix.contains(['?', '#', ','])
                {
                    return Err(VerifyError::RequestUrl);
                }
                (scheme, authority, prefix.trim_end_matches('/'))
            }
        };
        Ok(Some(format!(
            "{scheme}://{authority}{prefix}{path_and_query}"
        )))
    }
}

/// The `Host` header or an absolute target's authority; both must agree
/// when both are there.
fn host(headers: &HeaderMap, target: &Uri) -> Result<String, VerifyError> {
    let header = single(headers, HOST.as_str())?.map(authority).transpose()?;
    let absolute = target
        .authority()
        .map(|a| authority(a.as_str()))
        .transpose()?;
    match (header, absolute) {
        (Some(header), Some(absolute)) if !header.eq_ignore_ascii_case(&absolute) => {
            Err(VerifyError::RequestUrl)
        }
        (Some(host), _) | (None, Some(host)) => Ok(host),
        (None, None) => Err(VerifyError::RequestUrl),
    }
}

/// A host and optional port, nothing else: a value with a path, a user or
/// a list in it would let a header rewrite the rest of the URL.
fn authority(value: &str) -> Result<String, VerifyError> {
    let value = value.trim();
    match value.parse::<Authority>() {
        Ok(parsed) if !value.is_empty() && !value.contains(['@', ',', ' ']) => {
            Ok(parsed.as_str().to_string())
        }
        _ => Err(VerifyError::RequestUrl),
    }
}

/// The one value of a header the URL is built from, trimmed.
fn single<'a>(headers: &'a HeaderMap, name: &str) -> Result<Option<&'a str>, VerifyError> {
    headers::single(headers, name)
        .map(|value| value.map(str::trim))
        .map_err(|Unreadable| VerifyError::RequestUrl)
}
