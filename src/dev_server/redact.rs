//! `Upstash-Redact-Fields`: what the API shows as `REDACTED:<SHA256>`.
//! Deliveries (and callbacks, which are deliveries) keep the real values.

use std::collections::HashMap;

use ring::digest::{SHA256, digest};

use super::error::ApiError;

/// Which fields of a message the API hides.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Redact {
    body: bool,
    all_headers: bool,
    /// Lowercase header names.
    headers: Vec<String>,
}

impl Redact {
    /// `body`, `headers` (the official SDKs send `header`), and
    /// `header[Name]` (also `headers[Name]`), comma-separated.
    pub(crate) fn parse(value: &str) -> Result<Redact, ApiError> {
        let mut redact = Redact::default();
        for field in value.split(',').map(str::trim).filter(|f| !f.is_empty()) {
            let named = field
                .strip_prefix("headers[")
                .or_else(|| field.strip_prefix("header["))
                .and_then(|rest| rest.strip_suffix(']'));
            match (field, named) {
                ("body", _) => redact.body = true,
                ("header" | "headers", _) => redact.all_headers = true,
                (_, Some(name)) if !name.is_empty() => {
                    redact.headers.push(name.to_ascii_lowercase());
                }
                _ => {
                    return Err(ApiError::bad_request(format!(
                        "Upstash-Redact-Fields: unknown field `{field}`; \
                         use body, headers or header[<name>]"
                    )));
                }
            }
        }
        Ok(redact)
    }

    pub(crate) fn body<'a>(&self, body: &'a [u8]) -> std::borrow::Cow<'a, [u8]> {
        if self.body {
            redacted(body).into_bytes().into()
        } else {
            body.into()
        }
    }

    pub(crate) fn headers(
        &self,
        mut headers: HashMap<String, Vec<String>>,
    ) -> HashMap<String, Vec<String>> {
        for (name, values) in &mut headers {
            if self.all_headers || self.headers.contains(&name.to_ascii_lowercase()) {
                for value in values.iter_mut() {
                    *value = redacted(value.as_bytes());
                }
            }
        }
        headers
    }
}

/// `REDACTED:` and the hex SHA-256 of the value, so a value can be checked
/// against it without being shown. (QStash does not document the hash's
/// encoding; hex is this server's choice.)
fn redacted(value: &[u8]) -> String {
    let hash = digest(&SHA256, value);
    let hex: String = hash.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    format!("REDACTED:{hex}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_parse_in_every_spelling() {
        let all = Redact::parse("body, header[Authorization], headers[X-Key]").unwrap();
        assert!(all.body && !all.all_headers);
        assert_eq!(all.headers, ["authorization", "x-key"]);
        assert!(Redact::parse("header").unwrap().all_headers);
        assert!(Redact::parse("headers").unwrap().all_headers);
        for bad in ["bodies", "header[]", "header[a", "cookies"] {
            assert!(Redact::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn values_become_their_hash() {
        let redact = Redact::parse("body,header[authorization]").unwrap();
        assert_eq!(
            &*redact.body(b"abc"),
            b"REDACTED:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let headers = HashMap::from([
            ("Authorization".to_owned(), vec!["abc".to_owned()]),
            ("X-Keep".to_owned(), vec!["k".to_owned()]),
        ]);
        let shown = redact.headers(headers);
        assert!(shown["Authorization"][0].starts_with("REDACTED:ba7816bf"));
        assert_eq!(shown["X-Keep"], ["k"]);
    }
}
