//! The headers QStash puts on every delivery besides the signature
//! (<https://upstash.com/docs/qstash/howto/receiving>).

use http::HeaderMap;

use super::error::VerifyError;
use super::{Malformed, Region};

/// The header carrying the token (header names are case-insensitive).
pub const SIGNATURE_HEADER: &str = "upstash-signature";
/// The header naming the region that signed the delivery.
pub const REGION_HEADER: &str = "upstash-region";

const MESSAGE_ID: &str = "upstash-message-id";
const RETRIED: &str = "upstash-retried";
const SCHEDULE_ID: &str = "upstash-schedule-id";
const URL_GROUP: &str = "upstash-topic-name";
const CALLER_IP: &str = "upstash-caller-ip";

/// QStash's headers on a delivery, next to its verified
/// [`Claims`](super::Claims).
///
/// **Idempotency:** QStash delivers at least once, so a handler may see a
/// message again (a retry after a timeout, a DLQ retry). Use
/// [`message_id`](Self::message_id) as the key to do its work once: it is
/// the same on every attempt, while the token's `jti`
/// ([`Claims::jwt_id`](super::Claims::jwt_id)) changes on each.
///
/// These headers are not covered by the signature (it signs the URL and
/// the body): whoever holds a token captured within its five-minute
/// lifetime could replay it with other values here, though only with the
/// same body to the same URL.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeliveryHeaders {
    /// `Upstash-Message-Id`: the message, the same on every delivery
    /// attempt; the idempotency key. A message published to a URL group
    /// has one id per endpoint.
    pub message_id: Option<String>,
    /// `Upstash-Retried`: how many attempts came before this one (0 on the
    /// first).
    pub retried: Option<u32>,
    /// `Upstash-Schedule-Id`: the schedule that created the message, if one did.
    pub schedule_id: Option<String>,
    /// `Upstash-Topic-Name`: the URL group it was published to, if any.
    pub url_group: Option<String>,
    /// `Upstash-Caller-Ip`: the address of whoever published the message.
    pub caller_ip: Option<String>,
}

impl DeliveryHeaders {
    /// Reads the delivery headers from `headers`; each may appear at most
    /// once, as visible ASCII.
    pub(super) fn read(headers: &HeaderMap) -> Result<DeliveryHeaders, VerifyError> {
        let text = |name| delivery_header(headers, name).map(|v| v.map(str::to_string));
        let retried = match delivery_header(headers, RETRIED)? {
            Some(value) => Some(
                value
                    .trim()
                    .parse()
                    .map_err(|_| VerifyError::DeliveryHeader(RETRIED))?,
            ),
            None => None,
        };
        Ok(DeliveryHeaders {
            message_id: text(MESSAGE_ID)?,
            retried,
            schedule_id: text(SCHEDULE_ID)?,
            url_group: text(URL_GROUP)?,
            caller_ip: text(CALLER_IP)?,
        })
    }
}

/// The `Upstash-Signature` value: present once, visible ASCII.
pub(super) fn signature(headers: &HeaderMap) -> Result<&str, VerifyError> {
    single(headers, SIGNATURE_HEADER)
        .map_err(|Unreadable| VerifyError::Malformed(Malformed::HeaderValue))?
        .ok_or(VerifyError::MissingSignature)
}

/// The region named by `Upstash-Region`; an unknown name is no region (the
/// plain keys apply), a repeated header is refused.
pub(super) fn region(headers: &HeaderMap) -> Result<Option<Region>, VerifyError> {
    Ok(delivery_header(headers, REGION_HEADER)?.and_then(|name| Region::from_name(name).ok()))
}

fn delivery_header<'a>(
    headers: &'a HeaderMap,
    name: &'static str,
) -> Result<Option<&'a str>, VerifyError> {
    single(headers, name).map_err(|Unreadable| VerifyError::DeliveryHeader(name))
}

/// A header that is repeated, or not visible ASCII.
pub(super) struct Unreadable;

/// The one value of `name`, if present.
pub(super) fn single<'a>(
    headers: &'a HeaderMap,
    name: &str,
) -> Result<Option<&'a str>, Unreadable> {
    let mut values = headers.get_all(name).iter();
    match (values.next(), values.next()) {
        (None, _) => Ok(None),
        (Some(value), None) => value.to_str().map(Some).map_err(|_| Unreadable),
        (Some(_), Some(_)) => Err(Unreadable),
    }
}
