//! The `Upstash-*` headers of a publish request, parsed and checked.

use std::time::Duration;

use axum::http::{HeaderMap, HeaderName, HeaderValue, Method};

use super::error::ApiError;
use super::flow_key::FlowLimits;
use super::parse::{parse_count, parse_duration, parse_method, parse_url};
use super::redact::Redact;
use super::retry_delay::RetryDelay;

const FORWARD: &str = "upstash-forward-";
const CALLBACK: &str = "upstash-callback";
const FAILURE_CALLBACK: &str = "upstash-failure-callback";

/// Everything a publish request says about its message(s). Each field is
/// `None` when its header is absent, so a DLQ retry can override only what
/// it names.
#[derive(Debug, Clone, Default)]
pub(crate) struct Options {
    pub(crate) method: Option<Method>,
    pub(crate) content_type: Option<HeaderValue>,
    /// `Upstash-Forward-*` headers with the prefix stripped.
    pub(crate) forward: Vec<(HeaderName, HeaderValue)>,
    pub(crate) retries: Option<u32>,
    pub(crate) retry_delay: Option<RetryDelay>,
    pub(crate) timeout: Option<Duration>,
    pub(crate) delay: Option<Duration>,
    /// Unix seconds.
    pub(crate) not_before: Option<u64>,
    pub(crate) labels: Option<Vec<String>>,
    pub(crate) dedup_id: Option<String>,
    pub(crate) content_dedup: bool,
    pub(crate) callback: Option<CallbackOptions>,
    pub(crate) failure_callback: Option<CallbackOptions>,
    pub(crate) flow_control_key: Option<String>,
    pub(crate) flow_control: Option<FlowLimits>,
    pub(crate) redact: Option<Redact>,
}

/// Where and how a callback or failure callback is sent.
#[derive(Debug, Clone)]
pub(crate) struct CallbackOptions {
    pub(crate) url: String,
    pub(crate) method: Option<Method>,
    pub(crate) forward: Vec<(HeaderName, HeaderValue)>,
    pub(crate) timeout: Option<Duration>,
    pub(crate) retries: Option<u32>,
    pub(crate) retry_delay: Option<RetryDelay>,
}

impl Options {
    pub(crate) fn parse(headers: &HeaderMap) -> Result<Options, ApiError> {
        let text = |name: &str| header_text(headers, name);
        let options = Options {
            method: text("upstash-method")?.map(parse_method).transpose()?,
            content_type: headers.get("content-type").cloned(),
            forward: forwarded(headers, FORWARD),
            retries: text("upstash-retries")?
                .map(|v| parse_count("Upstash-Retries", v))
                .transpose()?,
            retry_delay: text("upstash-retry-delay")?
                .map(|v| parse_retry_delay("Upstash-Retry-Delay", v))
                .transpose()?,
            timeout: text("upstash-timeout")?
                .map(|v| parse_duration("Upstash-Timeout", v))
                .transpose()?,
            delay: text("upstash-delay")?
                .map(|v| parse_duration("Upstash-Delay", v))
                .transpose()?,
            not_before: text("upstash-not-before")?
                .map(|v| {
                    v.trim().parse::<u64>().map_err(|_| {
                        ApiError::bad_request(format!(
                            "Upstash-Not-Before must be a unix timestamp in seconds, got `{v}`"
                        ))
                    })
                })
                .transpose()?,
            labels: text("upstash-label")?.map(|v| {
                v.split(',')
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .map(String::from)
                    .collect()
            }),
            dedup_id: text("upstash-deduplication-id")?.map(String::from),
            content_dedup: match text("upstash-content-based-deduplication")? {
                None | Some("false") => false,
                Some("true") => true,
                Some(other) => {
                    return Err(ApiError::bad_request(format!(
                        "Upstash-Content-Based-Deduplication must be `true` or `false`, got `{other}`"
                    )));
                }
            },
            callback: callback(headers, CALLBACK)?,
            failure_callback: callback(headers, FAILURE_CALLBACK)?,
            flow_control_key: text("upstash-flow-control-key")?.map(String::from),
            flow_control: text("upstash-flow-control-value")?
                .map(FlowLimits::parse)
                .transpose()?,
            redact: text("upstash-redact-fields")?
                .map(Redact::parse)
                .transpose()?,
        };
        Ok(options)
    }

    /// When a message published now with these options is first due.
    pub(crate) fn due_ms(&self, now_ms: u64) -> u64 {
        match (self.not_before, self.delay) {
            (Some(secs), _) => secs.saturating_mul(1000),
            (None, Some(delay)) => {
                now_ms.saturating_add(u64::try_from(delay.as_millis()).unwrap_or(u64::MAX))
            }
            (None, None) => now_ms,
        }
    }

    /// The callback and failure callback, those set.
    pub(crate) fn callbacks(&self) -> impl Iterator<Item = &CallbackOptions> {
        self.callback.iter().chain(&self.failure_callback)
    }
}

/// A header's value as text, trimmed; `None` when absent.
pub(crate) fn header_text<'h>(
    headers: &'h HeaderMap,
    name: &str,
) -> Result<Option<&'h str>, ApiError> {
    headers
        .get(name)
        .map(|value| {
            value
                .to_str()
                .map(str::trim)
                .map_err(|_| ApiError::bad_request(format!("header {name} is not visible ASCII")))
        })
        .transpose()
}

fn forwarded(headers: &HeaderMap, prefix: &str) -> Vec<(HeaderName, HeaderValue)> {
    headers
        .iter()
        .filter_map(|(name, value)| {
            let stripped = name.as_str().strip_prefix(prefix)?;
            Some((
                HeaderName::from_bytes(stripped.as_bytes()).ok()?,
                value.clone(),
            ))
        })
        .collect()
}

fn callback(headers: &HeaderMap, prefix: &str) -> Result<Option<CallbackOptions>, ApiError> {
    let text = |suffix: &str| header_text(headers, &format!("{prefix}{suffix}"));
    let Some(url) = text("")? else {
        return Ok(None);
    };
    let label = if prefix == CALLBACK {
        "Upstash-Callback"
    } else {
        "Upstash-Failure-Callback"
    };
    parse_url(label, url)?;
    Ok(Some(CallbackOptions {
        url: url.to_owned(),
        method: text("-method")?.map(parse_method).transpose()?,
        forward: forwarded(headers, &format!("{prefix}-forward-")),
        timeout: text("-timeout")?
            .map(|v| parse_duration(label, v))
            .transpose()?,
        retries: text("-retries")?
            .map(|v| parse_count(label, v))
            .transpose()?,
        retry_delay: text("-retry-delay")?
            .map(|v| parse_retry_delay(label, v))
            .transpose()?,
    }))
}

fn parse_retry_delay(header: &str, value: &str) -> Result<RetryDelay, ApiError> {
    RetryDelay::parse(value)
        .map_err(|e| ApiError::bad_request(format!("{header}: invalid expression `{value}`: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_checked() {
        let parse = |name: &'static str, value: &'static str| {
            let mut headers = HeaderMap::new();
            headers.insert(name, HeaderValue::from_static(value));
            Options::parse(&headers)
        };
        assert!(parse("upstash-method", "TRACE").is_err());
        assert!(parse("upstash-retries", "-1").is_err());
        assert!(parse("upstash-retry-delay", "pow(").is_err());
        assert!(parse("upstash-callback", "ftp://x").is_err());
        assert!(parse("upstash-content-based-deduplication", "yes").is_err());
        assert!(parse("upstash-not-before", "tomorrow").is_err());
        let ok = parse("upstash-forward-x-trace", "abc").unwrap();
        assert_eq!(ok.forward[0].0.as_str(), "x-trace");
    }
}
