//! The values requests carry, read and checked: durations (`1d10h30m`),
//! absolute URLs, methods, counts, and the destination on a request line.

use std::time::Duration;

use axum::http::{Method, Uri};

use super::error::ApiError;

/// `<number><unit>` groups with units d, h, m, s, e.g. `1d10h30m`; nothing
/// QStash would refuse (such as `ms`), so code that works here works there.
pub(crate) fn parse_duration(header: &str, value: &str) -> Result<Duration, ApiError> {
    let bad = || {
        ApiError::bad_request(format!(
            "{header} must look like 50s, 10m, 1h or 1d10h30m, got `{value}`"
        ))
    };
    let mut rest = value;
    let mut total = Duration::ZERO;
    if rest.is_empty() {
        return Err(bad());
    }
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        let number: u64 = rest[..digits].parse().map_err(|_| bad())?;
        rest = &rest[digits..];
        let unit_len = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
        let unit_ms = match &rest[..unit_len] {
            "s" => 1_000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            _ => return Err(bad()),
        };
        rest = &rest[unit_len..];
        let part = number.checked_mul(unit_ms).ok_or_else(bad)?;
        total = total
            .checked_add(Duration::from_millis(part))
            .ok_or_else(bad)?;
    }
    Ok(total)
}

/// An absolute `http(s)` URL with a host, as destinations and callbacks must be.
pub(crate) fn parse_url(what: &str, value: &str) -> Result<url::Url, ApiError> {
    let invalid = |why: &str| ApiError::bad_request(format!("invalid {what} `{value}`: {why}"));
    let parsed = url::Url::parse(value).map_err(|e| invalid(&e.to_string()))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(invalid("the scheme must be http or https"));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(invalid("no host"));
    }
    Ok(parsed)
}

pub(crate) fn parse_method(value: &str) -> Result<Method, ApiError> {
    match value.to_ascii_uppercase().as_str() {
        "GET" => Ok(Method::GET),
        "POST" => Ok(Method::POST),
        "PUT" => Ok(Method::PUT),
        "PATCH" => Ok(Method::PATCH),
        "DELETE" => Ok(Method::DELETE),
        _ => Err(ApiError::bad_request(format!(
            "Upstash-Method must be one of GET, POST, PUT, PATCH, DELETE, got `{value}`"
        ))),
    }
}

pub(crate) fn parse_count(header: &str, value: &str) -> Result<u32, ApiError> {
    value.parse().map_err(|_| {
        ApiError::bad_request(format!(
            "{header} must be a non-negative integer, got `{value}`"
        ))
    })
}

/// The destination from the request line, kept as the official SDKs send it
/// (unencoded, its own `?query` becoming the request's); a percent-encoded
/// one is decoded.
pub(crate) fn destination_from(uri: &Uri, prefix: &str) -> Result<String, ApiError> {
    let raw = uri.path().strip_prefix(prefix).unwrap_or_default();
    let mut destination = if raw.contains("://") {
        raw.to_owned()
    } else {
        percent_encoding::percent_decode_str(raw)
            .decode_utf8()
            .map(|decoded| decoded.into_owned())
            .map_err(|_| ApiError::bad_request("the destination is not UTF-8 once decoded"))?
    };
    let query: Vec<&str> = uri
        .query()
        .unwrap_or_default()
        .split('&')
        .filter(|pair| !pair.is_empty() && !pair.starts_with("qstash_token="))
        .collect();
    if !query.is_empty() {
        destination.push('?');
        destination.push_str(&query.join("&"));
    }
    if destination.is_empty() {
        return Err(ApiError::bad_request("no destination given"));
    }
    Ok(destination)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        let ms = |v: &str| parse_duration("x", v).map(|d| d.as_millis());
        assert_eq!(ms("50s"), Ok(50_000));
        assert_eq!(ms("1d10h30m"), Ok(124_200_000));
        for bad in [
            "",
            "10",
            "s",
            "10x",
            "250ms",
            "1.5s",
            "-1s",
            "99999999999999999999d",
            "1d 2h",
        ] {
            assert!(ms(bad).is_err(), "{bad:?} accepted");
        }
    }
}
