//! How the QStash token rides on a request, and keeping it out of everything
//! that can be printed.

use std::fmt;

use reqwest::header::{AUTHORIZATION, HeaderValue};
use url::Url;

use crate::error::ConfigError;

/// The query parameter QStash reads the token from in [`AuthMode::QueryParameter`].
pub const TOKEN_QUERY_PARAMETER: &str = "qstash_token";

/// What stands in for a secret in anything printable.
pub(crate) const REDACTED: &str = "REDACTED";

/// Where the token goes on each request. Both forms are in the QStash spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AuthMode {
    /// `Authorization: Bearer <token>` (the default, and what the official SDKs send).
    #[default]
    Bearer,
    /// `?qstash_token=<token>`, for proxies that strip the `Authorization`
    /// header. The token is redacted from every URL this crate hands back,
    /// including those inside errors and responses.
    QueryParameter,
}

/// A validated token, ready to put on requests.
#[derive(Clone)]
pub(crate) struct Credentials {
    mode: AuthMode,
    token: String,
    /// Built once: the header is the hot path and a `HeaderValue` clone is a
    /// reference-count bump. Marked sensitive so HTTP/2 never indexes it.
    bearer: HeaderValue,
}

impl Credentials {
    pub(crate) fn new(token: &str, mode: AuthMode) -> Result<Self, ConfigError> {
        let token = token.trim();
        if token.is_empty() {
            return Err(ConfigError::MissingToken);
        }
        // Checked for both modes so that a token is valid or not regardless of
        // where it is sent; the error names the position, never the token.
        if let Some(position) = token
            .bytes()
            .position(|b| !(b.is_ascii_graphic() || b == b' '))
        {
            return Err(ConfigError::InvalidToken { position });
        }
        let mut bearer = HeaderValue::try_from(format!("Bearer {token}"))
            .map_err(|_| ConfigError::InvalidToken { position: 0 })?;
        bearer.set_sensitive(true);
        Ok(Self {
            mode,
            token: token.to_string(),
            bearer,
        })
    }

    pub(crate) fn mode(&self) -> AuthMode {
        self.mode
    }

    pub(crate) fn apply(&self, request: &mut reqwest::Request) {
        match self.mode {
            AuthMode::Bearer => {
                request
                    .headers_mut()
                    .insert(AUTHORIZATION, self.bearer.clone());
            }
            AuthMode::QueryParameter => {
                request
                    .url_mut()
                    .query_pairs_mut()
                    .append_pair(TOKEN_QUERY_PARAMETER, &self.token);
            }
        }
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("mode", &self.mode)
            .field("token", &REDACTED)
            .finish()
    }
}

/// Replaces the value of every `qstash_token` query parameter in `url`.
pub(crate) fn redact_url(url: &mut Url) {
    if !url
        .query_pairs()
        .any(|(name, _)| name == TOKEN_QUERY_PARAMETER)
    {
        return;
    }
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(name, value)| {
            let value = if name == TOKEN_QUERY_PARAMETER {
                REDACTED.into()
            } else {
                value.into_owned()
            };
            (name.into_owned(), value)
        })
        .collect();
    url.query_pairs_mut().clear().extend_pairs(pairs);
}

/// A transport error's URL with the token redacted.
pub(crate) fn redact_error(mut error: reqwest::Error) -> reqwest::Error {
    if let Some(url) = error.url_mut() {
        redact_url(url);
    }
    error
}
