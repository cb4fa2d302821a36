//! How the QStash token rides on a request, and keeping it out of everything
//! that can be printed.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use memchr::memmem;
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue};
use url::Url;

use crate::config_error::ConfigError;
use crate::header_map;
use crate::secret::REDACTED;

/// The query parameter QStash reads the token from in [`AuthMode::QueryParameter`].
pub const TOKEN_QUERY_PARAMETER: &str = "qstash_token";

/// Tokens shorter than this are not looked for in answers: they would match
/// ordinary text. QStash's tokens are about a hundred characters.
const SHORTEST_SCRUBBED: usize = 8;

/// Where the token goes on each request. Both forms are in the QStash spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
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
    /// Searchers for the token in every form a server may send it back in
    /// (see [`echoes`]), longest first (so the last is the shortest); none
    /// for a token too short to look for.
    echoes: Arc<[memmem::Finder<'static>]>,
}

/// The token as it was sent (raw in the header, form-urlencoded in the
/// query) and as a server echoing it may have re-encoded it: percent
/// escapes in lower case, JSON string escapes (with `/` as `\/` too).
fn echoes(token: &str) -> Arc<[memmem::Finder<'static>]> {
    if token.len() < SHORTEST_SCRUBBED {
        return Arc::new([]);
    }
    let query: String = url::form_urlencoded::byte_serialize(token.as_bytes()).collect();
    let lower_hex = lower_percent_escapes(&query);
    let quoted = serde_json::to_string(token).unwrap_or_default();
    let json = quoted
        .strip_prefix('"')
        .and_then(|json| json.strip_suffix('"'))
        .unwrap_or(token)
        .to_string();
    let json_slashes = json.replace('/', "\\/");
    let mut forms: Vec<Box<[u8]>> = [token.to_string(), query, lower_hex, json, json_slashes]
        .into_iter()
        .map(|form| form.into_bytes().into_boxed_slice())
        .collect();
    forms.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
    forms.dedup();
    forms
        .iter()
        .map(|form| memmem::Finder::new(form).into_owned())
        .collect()
}

fn lower_percent_escapes(encoded: &str) -> String {
    let mut out = String::with_capacity(encoded.len());
    let mut hex_left = 0;
    for c in encoded.chars() {
        if c == '%' {
            hex_left = 2;
            out.push(c);
        } else if hex_left > 0 {
            hex_left -= 1;
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
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
            echoes: echoes(token),
        })
    }

    /// `text` with every echo of the token replaced by `REDACTED`; borrowed
    /// when there is none.
    pub(crate) fn scrub<'a>(&self, text: &'a [u8]) -> Cow<'a, [u8]> {
        // Most of what comes back (a publish's answer, most header values)
        // is shorter than any form of a real token: nothing to search.
        if self
            .echoes
            .last()
            .is_none_or(|shortest| text.len() < shortest.needle().len())
        {
            return Cow::Borrowed(text);
        }
        let mut text = Cow::Borrowed(text);
        for finder in self.echoes.iter() {
            if finder.find(&text).is_none() {
                continue;
            }
            let mut scrubbed = Vec::with_capacity(text.len());
            let mut rest = &text[..];
            while let Some(at) = finder.find(rest) {
                scrubbed.extend_from_slice(&rest[..at]);
                scrubbed.extend_from_slice(REDACTED.as_bytes());
                rest = &rest[at + finder.needle().len()..];
            }
            scrubbed.extend_from_slice(rest);
            text = Cow::Owned(scrubbed);
        }
        text
    }

    /// Every header value that echoes the token, scrubbed.
    pub(crate) fn scrub_headers(&self, headers: &mut HeaderMap) {
        for value in headers.values_mut() {
            if let Cow::Owned(scrubbed) = self.scrub(value.as_bytes()) {
                // Only visible ASCII went in, so the value stays valid.
                if let Ok(scrubbed) = HeaderValue::from_bytes(&scrubbed) {
                    *value = scrubbed;
                }
            }
        }
    }

    /// `url` without the token: the `qstash_token` parameter's value, and
    /// any echo of it elsewhere (a redirect's `Location` may carry one).
    pub(crate) fn scrub_url(&self, url: &mut Url) {
        redact_url(url);
        if let Cow::Owned(scrubbed) = self.scrub(url.as_str().as_bytes())
            && let Ok(scrubbed) = Url::parse(&String::from_utf8_lossy(&scrubbed))
        {
            *url = scrubbed;
        }
    }

    /// A transport error without the token in its URL.
    pub(crate) fn scrub_error(&self, mut error: reqwest::Error) -> reqwest::Error {
        if let Some(url) = error.url_mut() {
            self.scrub_url(url);
        }
        error
    }

    pub(crate) fn mode(&self) -> AuthMode {
        self.mode
    }

    pub(crate) fn apply(&self, request: &mut reqwest::Request) {
        match self.mode {
            AuthMode::Bearer => {
                header_map::set(request.headers_mut(), AUTHORIZATION, self.bearer.clone());
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
fn redact_url(url: &mut Url) {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn scrubbed(token: &str, text: &str) -> String {
        let credentials = Credentials::new(token, AuthMode::Bearer).unwrap();
        String::from_utf8(credentials.scrub(text.as_bytes()).into_owned()).unwrap()
    }

    #[test]
    fn every_echoed_form_of_the_token_is_replaced() {
        let token = r#"tok+en/with="quote"=="#;
        let text = format!(
            "raw {token} query {} lower {} json {} slashes {} twice {token}{token}",
            "tok%2Ben%2Fwith%3D%22quote%22%3D%3D",
            "tok%2ben%2fwith%3d%22quote%22%3d%3d",
            r#"tok+en/with=\"quote\"=="#,
            r#"tok+en\/with=\"quote\"=="#,
        );
        assert_eq!(
            scrubbed(token, &text),
            "raw REDACTED query REDACTED lower REDACTED json REDACTED slashes REDACTED \
             twice REDACTEDREDACTED"
        );
    }

    #[test]
    fn text_without_the_token_is_borrowed_and_short_tokens_are_not_looked_for() {
        let credentials = Credentials::new("a-long-token", AuthMode::Bearer).unwrap();
        assert!(matches!(
            credentials.scrub(b"nothing here"),
            Cow::Borrowed(_)
        ));
        assert_eq!(scrubbed("short", "a short text"), "a short text");
        // Exactly as long as the token is long enough to be it.
        assert_eq!(scrubbed("a-long-token", "a-long-token"), "REDACTED");
        assert_eq!(scrubbed("a-long-token", "a-long-toke"), "a-long-toke");
    }
}
