//! What to send and how QStash should deliver it: [`Message`] and its parts.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::Method;

use super::callback::{Callback, header_names};
use super::flow_control::FlowControl;
use super::provider::ProviderApi;
use crate::error::InvalidInput;

/// Where QStash delivers a message: one URL, every endpoint of a URL group,
/// or a provider's API (an email or LLM service QStash calls for you).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Destination {
    /// An `http://` or `https://` URL, query included.
    Url(String),
    /// The name of a URL group: QStash delivers a copy to each endpoint.
    UrlGroup(String),
    /// A provider's API, with its credentials forwarded to it.
    Api(ProviderApi),
}

impl Destination {
    /// Deliver to this URL. Checked when the message is sent: it must be an
    /// absolute `http(s)` URL without `.`/`..` path segments or a `#fragment`.
    pub fn url(url: impl Into<String>) -> Destination {
        Destination::Url(url.into())
    }

    /// Deliver to every endpoint of this URL group. Checked when the message
    /// is sent: letters, digits, `-`, `_` and `.` only.
    pub fn url_group(name: impl Into<String>) -> Destination {
        Destination::UrlGroup(name.into())
    }

    /// Deliver to a provider's API, such as Resend's email API or an LLM's
    /// chat completions (see [`ProviderApi`]).
    pub fn api(api: impl Into<ProviderApi>) -> Destination {
        Destination::Api(api.into())
    }
}

/// Checks a URL QStash will call: absolute and `http(s)` (which the URL
/// parser only accepts with a host), without `.` or `..` path segments, and
/// without a fragment (HTTP never sends one, so part of it would be lost).
pub(crate) fn check_url(field: &'static str, url: &str) -> Result<(), InvalidInput> {
    if plain_http_url(url) {
        return Ok(());
    }
    check_parsed_url(field, url)
}

/// Whether `url` is plainly one that [`check_url`] accepts, decided in one
/// pass without the URL parser, which costs a few microseconds and runs on
/// every publish: `http://` or `https://`, a host of lower-case letters,
/// digits, `-` and `.` (no empty or `xn--` label, so the parser decodes
/// nothing, and the last label beginning with a letter, so it does not read
/// an IPv4 address), an optional port, then a path and query of URL
/// characters without `#`, `\` or a dot segment. Anything else goes
/// through the parser, for its verdict and its message.
fn plain_http_url(url: &str) -> bool {
    let Some(rest) = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
    else {
        return false;
    };
    let (authority, tail) = rest.split_at(
        rest.bytes()
            .position(|b| b == b'/' || b == b'?')
            .unwrap_or(rest.len()),
    );
    let (host, port) = match authority.split_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (authority, None),
    };
    if port.is_some_and(|port| {
        !(1..=5).contains(&port.len())
            || !port.bytes().all(|b| b.is_ascii_digit())
            || port
                .parse::<u32>()
                .is_ok_and(|port| port > u32::from(u16::MAX))
    }) {
        return false;
    }
    // Bytes rather than `str::split`, whose searcher costs more than these
    // few short pieces.
    let mut last: &[u8] = b"";
    for label in host.as_bytes().split(|&b| b == b'.') {
        if label.is_empty() || label.starts_with(b"xn--") || !all_of(label, HOST) {
            return false;
        }
        last = label;
    }
    if !last.first().is_some_and(u8::is_ascii_lowercase) {
        return false;
    }
    let tail = tail.as_bytes();
    let (path, query) = match tail.iter().position(|&b| b == b'?') {
        Some(at) => tail.split_at(at),
        None => (tail, &b""[..]),
    };
    all_of(path, PATH) && all_of(query, QUERY) && !path.split(|&b| b == b'/').any(is_dot_segment)
}

/// What [`plain_http_url`] accepts of each byte, one table lookup each
/// (rather than a test per character class, and a search of the list of
/// punctuation): in a host ([`HOST`]), a path ([`PATH`]) or a query
/// ([`QUERY`]).
const URL_BYTES: [u8; 256] = {
    let mut classes = [0u8; 256];
    let mut byte = 0;
    while byte < 256 {
        let b = byte as u8;
        let mut class = 0;
        if b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' {
            class |= HOST;
        }
        if b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'-' | b'.'
                    | b'_'
                    | b'~'
                    | b'!'
                    | b'$'
                    | b'&'
                    | b'\''
                    | b'('
                    | b')'
                    | b'*'
                    | b'+'
                    | b','
                    | b';'
                    | b'='
                    | b':'
                    | b'@'
                    | b'/'
                    | b'%'
            )
        {
            class |= PATH | QUERY;
        }
        if b == b'?' {
            class |= QUERY;
        }
        classes[byte] = class;
        byte += 1;
    }
    classes
};
/// A lower-case letter, a digit or `-`.
const HOST: u8 = 1;
/// A letter, a digit, or one of `-._~!$&'()*+,;=:@/%`.
const PATH: u8 = 2;
/// What a path takes, and `?`.
const QUERY: u8 = 4;

/// Whether every byte of `bytes` is of `class` in [`URL_BYTES`].
fn all_of(bytes: &[u8], class: u8) -> bool {
    bytes
        .iter()
        .all(|&b| URL_BYTES[usize::from(b)] & class != 0)
}

/// [`check_url`] with the URL parser.
fn check_parsed_url(field: &'static str, url: &str) -> Result<(), InvalidInput> {
    let parsed = url::Url::parse(url).map_err(|e| {
        InvalidInput::new(
            field,
            format!("`{url}` is not an absolute URL ({e}); a URL group is Destination::url_group"),
        )
    })?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(InvalidInput::new(
            field,
            format!("`{url}` is not http or https"),
        ));
    }
    // The destination goes into the request path unencoded, where a dot
    // segment would be resolved against `/v2/publish/` and send the
    // request (with the token) to another endpoint or destination.
    let path = url.split(['?', '#']).next().unwrap_or_default();
    if let Some(segment) = path
        .split(['/', '\\'])
        .find(|segment| is_dot_segment(segment.as_bytes()))
    {
        return Err(InvalidInput::new(
            field,
            format!(
                "`{url}` has the path segment `{segment}`, which would change the request's \
                 path; resolve it first"
            ),
        ));
    }
    if parsed.fragment().is_some() {
        return Err(InvalidInput::new(
            field,
            format!("`{url}` has a #fragment, which HTTP never sends; percent-encode `#` as %23"),
        ));
    }
    Ok(())
}

/// `.` or `..`, each dot possibly written `%2e` or `%2E`; checked without
/// allocating, since every publish checks every segment of its destination.
fn is_dot_segment(segment: &[u8]) -> bool {
    let mut rest = segment;
    let mut dots = 0;
    while !rest.is_empty() {
        rest = match rest {
            [b'.', after @ ..] => after,
            [b'%', b'2', e, after @ ..] if e.eq_ignore_ascii_case(&b'e') => after,
            _ => return false,
        };
        dots += 1;
    }
    matches!(dots, 1 | 2)
}

/// Checks the name of a URL group or a queue, which goes into a path.
pub(crate) fn check_name(field: &'static str, what: &str, name: &str) -> Result<(), InvalidInput> {
    if name.is_empty() {
        return Err(InvalidInput::new(
            field,
            format!("the {what} name is empty"),
        ));
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
    {
        return Err(InvalidInput::new(
            field,
            format!("the {what} name `{name}` has `{bad}`; use letters, digits, `-`, `_` and `.`"),
        ));
    }
    Ok(())
}

/// A message for QStash to deliver: destination, body, and every delivery
/// option QStash has, typed. Send it with
/// [`Messages::publish`](super::Messages::publish),
/// [`enqueue`](super::Messages::enqueue), [`batch`](super::Messages::batch)
/// or as the message of a [schedule](crate::schedules::Schedules::create).
///
/// Setters never fail; what is wrong is reported by `send()` as
/// [`Error::InvalidInput`](crate::Error::InvalidInput) naming the option,
/// before anything is sent.
///
/// ```
/// use std::time::Duration;
/// use qstash::messages::{Callback, Destination, FlowControl, Message};
///
/// let message = Message::new(Destination::url("https://example.com/api/orders"))
///     .json(&serde_json::json!({ "order": 42 }))
///     .delay(Duration::from_secs(90))
///     .retries(5)
///     .header("X-Tenant", "acme")
///     .flow_control(FlowControl::new("acme").parallelism(2))
///     .callback(Callback::new("https://example.com/api/delivered").retries(1))
///     .label("orders");
/// ```
#[derive(Clone)]
pub struct Message {
    pub(crate) destination: Destination,
    pub(crate) body: Result<Vec<u8>, InvalidInput>,
    pub(crate) content_type: Option<String>,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) delay: Option<Duration>,
    pub(crate) retries: Option<u32>,
    pub(crate) uncommon: Option<Box<Uncommon>>,
}

/// The options most messages leave unset, in one box that only a message
/// setting one of them allocates: a message is moved several times on its
/// way to the wire (builder calls, `publish`, `send`), and each field left
/// here would also be one more to drop on every publish. With them
/// inline (the callbacks and flow control boxed one by one), a message was
/// 384 bytes; now 208.
#[derive(Clone)]
pub(crate) struct Uncommon {
    pub(crate) method: Option<Method>,
    pub(crate) not_before: Option<SystemTime>,
    pub(crate) deduplication_id: Option<String>,
    pub(crate) content_based_deduplication: bool,
    pub(crate) retry_delay: Option<String>,
    pub(crate) timeout: Option<Duration>,
    pub(crate) callback: Option<Callback>,
    pub(crate) failure_callback: Option<Callback>,
    pub(crate) flow_control: Option<FlowControl>,
    pub(crate) labels: Vec<String>,
    pub(crate) redact_body: bool,
    pub(crate) redact_all_headers: bool,
    pub(crate) redacted_headers: Vec<String>,
}

impl Uncommon {
    /// None of them set.
    const NONE: Uncommon = Uncommon {
        method: None,
        not_before: None,
        deduplication_id: None,
        content_based_deduplication: false,
        retry_delay: None,
        timeout: None,
        callback: None,
        failure_callback: None,
        flow_control: None,
        labels: Vec::new(),
        redact_body: false,
        redact_all_headers: false,
        redacted_headers: Vec::new(),
    };
}

/// What a message without uncommon options reads as.
static NONE_SET: Uncommon = Uncommon::NONE;

/// Header values are left out: forwarded headers often carry the
/// destination's credentials. Their names show, and the body's length.
impl fmt::Debug for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let uncommon = self.uncommon();
        f.debug_struct("Message")
            .field("destination", &self.destination)
            .field("body_len", &self.body.as_ref().map(Vec::len))
            .field("content_type", &self.content_type)
            .field("header_names", &header_names(&self.headers))
            .field("method", &uncommon.method)
            .field("delay", &self.delay)
            .field("not_before", &uncommon.not_before)
            .field("deduplication_id", &uncommon.deduplication_id)
            .field(
                "content_based_deduplication",
                &uncommon.content_based_deduplication,
            )
            .field("retries", &self.retries)
            .field("retry_delay", &uncommon.retry_delay)
            .field("timeout", &uncommon.timeout)
            .field("callback", &uncommon.callback)
            .field("failure_callback", &uncommon.failure_callback)
            .field("flow_control", &uncommon.flow_control)
            .field("labels", &uncommon.labels)
            .field("redact_body", &uncommon.redact_body)
            .field("redact_all_headers", &uncommon.redact_all_headers)
            .field("redacted_headers", &uncommon.redacted_headers)
            .finish()
    }
}

// The builder methods are `#[inline]`: called from another crate, each
// would otherwise be a function the whole message is copied into and out
// of, several times for every publish (`benches/publish_cost.rs`).
impl Message {
    /// A message to `destination` with an empty body and QStash's defaults
    /// for everything else.
    #[inline]
    pub fn new(destination: Destination) -> Message {
        Message {
            destination,
            body: Ok(Vec::new()),
            content_type: None,
            headers: Vec::new(),
            delay: None,
            retries: None,
            uncommon: None,
        }
    }

    /// The uncommon options, as set or all unset.
    pub(crate) fn uncommon(&self) -> &Uncommon {
        self.uncommon.as_deref().unwrap_or(&NONE_SET)
    }

    /// The uncommon options, to set one.
    pub(crate) fn uncommon_mut(&mut self) -> &mut Uncommon {
        self.uncommon
            .get_or_insert_with(|| Box::new(Uncommon::NONE))
    }

    /// The body is `value` as JSON, with `Content-Type: application/json`.
    /// A value that cannot be serialized makes `send()` fail.
    pub fn json<T: serde::Serialize + ?Sized>(mut self, value: &T) -> Message {
        self.body = serde_json::to_vec(value)
            .map_err(|e| InvalidInput::new("body", format!("cannot serialize as JSON: {e}")));
        self.content_type = Some("application/json".into());
        self
    }

    /// The body is `text`, with `Content-Type: text/plain; charset=utf-8`.
    #[inline]
    pub fn text(mut self, text: impl Into<String>) -> Message {
        self.body = Ok(text.into().into_bytes());
        self.content_type = Some("text/plain; charset=utf-8".into());
        self
    }

    /// The body is `bytes`, delivered with `Content-Type: content_type`.
    #[inline]
    pub fn bytes(mut self, content_type: impl Into<String>, bytes: impl Into<Vec<u8>>) -> Message {
        self.body = Ok(bytes.into());
        self.content_type = Some(content_type.into());
        self
    }

    /// A header for QStash to send with the delivery. As in the official
    /// SDKs, a name is sent as `Upstash-Forward-<name>` (QStash strips the
    /// prefix when delivering) unless it already starts with `Upstash-`
    /// (sent as is, for QStash itself) or is `Content-Type` (the body's
    /// type, replacing the one [`json`](Self::json) or [`text`](Self::text)
    /// set). An `Upstash-` header that a typed option sets (`Upstash-Delay`,
    /// `Upstash-Callback-Retries`, ...) is refused: the typed option is the
    /// one way to set it, and is checked for each way of sending.
    #[inline]
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Message {
        let (name, value) = (name.into(), value.into());
        if name.eq_ignore_ascii_case("content-type") {
            self.content_type = Some(value);
        } else {
            self.headers.push((name, value));
        }
        self
    }

    /// The HTTP method QStash delivers with: GET, POST (the default), PUT,
    /// PATCH or DELETE.
    #[inline]
    pub fn method(mut self, method: Method) -> Message {
        self.uncommon_mut().method = Some(method);
        self
    }

    /// Deliver no sooner than `delay` from now (whole seconds; sent as
    /// `Upstash-Delay`, e.g. `90s` or `1d10h30m`).
    #[inline]
    pub fn delay(mut self, delay: Duration) -> Message {
        self.delay = Some(delay);
        self
    }

    /// Deliver no sooner than `time` (sent as unix seconds, rounded up, in
    /// `Upstash-Not-Before`). QStash prefers it over [`delay`](Self::delay)
    /// when both are set. Not for schedules, which fire on their cron.
    #[inline]
    pub fn not_before(mut self, time: SystemTime) -> Message {
        self.uncommon_mut().not_before = Some(time);
        self
    }

    /// QStash ignores this message if one with the same id was accepted in
    /// the last 10 minutes.
    #[inline]
    pub fn deduplication_id(mut self, id: impl Into<String>) -> Message {
        self.uncommon_mut().deduplication_id = Some(id.into());
        self
    }

    /// QStash ignores this message if one with the same body (and
    /// destination) was accepted in the last 10 minutes.
    #[inline]
    pub fn content_based_deduplication(mut self) -> Message {
        self.uncommon_mut().content_based_deduplication = true;
        self
    }

    /// How many times QStash retries a failed delivery (default 3; the
    /// total number of deliveries is 1 + retries). Your plan caps it.
    #[inline]
    pub fn retries(mut self, retries: u32) -> Message {
        self.retries = Some(retries);
        self
    }

    /// The wait before each retry, in milliseconds, as an expression QStash
    /// evaluates with `retried` (0 for the first retry) and the functions
    /// `pow exp sqrt abs floor ceil round min max`, e.g.
    /// `pow(2, retried) * 1000`. Checked for syntax before sending. Without
    /// it QStash backs off exponentially.
    #[inline]
    pub fn retry_delay(mut self, expression: impl Into<String>) -> Message {
        self.uncommon_mut().retry_delay = Some(expression.into());
        self
    }

    /// How long QStash waits for your endpoint to answer a delivery before
    /// counting it as failed (whole seconds, more than zero); shortens your
    /// plan's limit.
    #[inline]
    pub fn timeout(mut self, timeout: Duration) -> Message {
        self.uncommon_mut().timeout = Some(timeout);
        self
    }

    /// QStash calls `callback` after each delivery attempt with the
    /// endpoint's answer.
    #[inline]
    pub fn callback(mut self, callback: Callback) -> Message {
        self.uncommon_mut().callback = Some(callback);
        self
    }

    /// QStash calls `callback` when the delivery failed for good (all
    /// retries used up).
    #[inline]
    pub fn failure_callback(mut self, callback: Callback) -> Message {
        self.uncommon_mut().failure_callback = Some(callback);
        self
    }

    /// Limits deliveries of all messages sharing the flow-control key.
    #[inline]
    pub fn flow_control(mut self, flow_control: FlowControl) -> Message {
        self.uncommon_mut().flow_control = Some(flow_control);
        self
    }

    /// Adds a label, by which logs and the DLQ can be filtered; call again
    /// for more. A label may not contain a comma.
    #[inline]
    pub fn label(mut self, label: impl Into<String>) -> Message {
        self.uncommon_mut().labels.push(label.into());
        self
    }

    /// QStash shows the body as `REDACTED:<sha256>` in its console and API
    /// answers; your endpoint still receives it.
    #[inline]
    pub fn redact_body(mut self) -> Message {
        self.uncommon_mut().redact_body = true;
        self
    }

    /// Like [`redact_body`](Self::redact_body), for every header.
    #[inline]
    pub fn redact_all_headers(mut self) -> Message {
        self.uncommon_mut().redact_all_headers = true;
        self
    }

    /// Like [`redact_body`](Self::redact_body), for the header `name` (as
    /// delivered, e.g. `Authorization`); call again for more.
    #[inline]
    pub fn redact_header(mut self, name: impl Into<String>) -> Message {
        self.uncommon_mut().redacted_headers.push(name.into());
        self
    }

    /// The destination this message goes to.
    pub fn destination(&self) -> &Destination {
        &self.destination
    }
}

/// `time` in unix seconds, rounded up so that "not before" holds.
pub(crate) fn unix_seconds(field: &'static str, time: SystemTime) -> Result<u64, InvalidInput> {
    let since = time
        .duration_since(UNIX_EPOCH)
        .map_err(|_| InvalidInput::new(field, "is before 1970"))?;
    Ok(since.as_secs() + u64::from(since.subsec_nanos() != 0))
}

#[cfg(test)]
mod tests {
    use super::{Destination, Message, check_parsed_url, is_dot_segment, plain_http_url};
    use proptest::prelude::*;

    /// The common options stay in the message; only an uncommon one
    /// allocates the box (what keeps a message small and its drop short).
    #[test]
    fn common_options_leave_the_uncommon_box_unallocated() {
        let common = Message::new(Destination::url("https://example.com/api"))
            .json(&serde_json::json!({ "order": 42 }))
            .text("hi")
            .bytes("application/octet-stream", vec![1, 2])
            .header("X-Tenant", "acme")
            .header("Content-Type", "text/csv")
            .delay(std::time::Duration::from_secs(90))
            .retries(3);
        assert!(common.uncommon.is_none());
        let _ = format!("{common:?}");
        assert!(common.uncommon.is_none(), "Debug allocated it");
        let uncommon = common.label("orders");
        assert_eq!(
            uncommon.uncommon.as_deref().map(|u| u.labels.as_slice()),
            Some(&["orders".to_string()][..])
        );
        #[cfg(target_pointer_width = "64")]
        assert!(
            std::mem::size_of::<Message>() <= 208,
            "a message is {} bytes",
            std::mem::size_of::<Message>()
        );
    }

    #[test]
    fn plain_urls_pass_without_the_parser_and_the_rest_go_through_it() {
        for plain in [
            "https://example.com/api",
            "http://example.com",
            "https://a-b.example.com:8443/x/y?q=1&r=%20?",
            "http://127.0.0.1.nip.io:65535/",
        ] {
            assert!(plain_http_url(plain), "{plain}");
            assert!(check_parsed_url("f", plain).is_ok(), "{plain}");
        }
        for other in [
            "HTTPS://example.com/",
            "ftp://example.com/",
            "https://Example.com/",
            "https://127.0.0.1/",
            "https://999.1.1.1/",
            "https://example.0x1f/",
            "https://xn--nxasmq6b.example/",
            "https://example..com/",
            "https://example.com./",
            "https://:80/",
            "https://example.com:/",
            "https://example.com:65536/",
            "https://user@example.com/",
            "https://[::1]/",
            "https://example.com/a#b",
            "https://example.com/a\\b",
            "https://example.com/a/../b",
            "https://example.com/a/%2e/b",
            "https://example.com/a b",
        ] {
            assert!(!plain_http_url(other), "{other}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// What the one-pass check lets through, the URL parser accepts.
        #[test]
        fn whatever_passes_plainly_passes_the_parser(
            url in "(https?|HTTP|ftp)://([a-z0-9x-]{0,6}\\.){0,3}[a-z0-9x-]{0,6}(:[0-9]{0,6})?([/?][a-z0-9./%?#:@\\\\-]{0,12})?"
        ) {
            if plain_http_url(&url) {
                prop_assert!(check_parsed_url("f", &url).is_ok(), "{}", url);
            }
        }
    }

    #[test]
    fn dot_segments_in_every_spelling_and_nothing_else() {
        for dots in [".", "..", "%2e", "%2E", ".%2e", "%2E.", "%2e%2E"] {
            assert!(is_dot_segment(dots.as_bytes()), "{dots}");
        }
        for other in [
            "",
            "...",
            "a.",
            ".a",
            "%2",
            "%2f",
            "%2e%2e%2e",
            "%%2e",
            "%2ea",
        ] {
            assert!(!is_dot_segment(other.as_bytes()), "{other}");
        }
    }
}
