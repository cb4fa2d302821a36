//! Turning a [`Message`] into what goes on the wire: the destination for
//! the path, the body, and the `Upstash-*` headers, for each way of sending.

use http::Method;
use http::header::{Entry, HeaderMap, HeaderName, HeaderValue};

use super::callback::Callback;
use super::duration::{Units, render, render_positive};
use super::message::{Destination, Message, check_name, check_url, unix_seconds};
use super::retry_delay;
use crate::error::InvalidInput;
use crate::header_map;

/// The ways a message can be sent; the spec gives each its own options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sending {
    Publish,
    Enqueue,
    Batch,
    Schedule,
}

impl Sending {
    fn name(self) -> &'static str {
        match self {
            Sending::Publish => "publish",
            Sending::Enqueue => "enqueue",
            Sending::Batch => "batch",
            Sending::Schedule => "schedules",
        }
    }

    /// Options neither the spec nor the official SDKs give this operation:
    /// refused rather than sent for QStash to ignore. (Enqueue's delay,
    /// not-before and flow control, and schedules' flow control, are the
    /// SDKs' and named corrections of the spec.)
    fn unsupported(self) -> &'static [&'static str] {
        match self {
            Sending::Publish | Sending::Enqueue | Sending::Batch => &[],
            Sending::Schedule => &[
                "not_before",
                "deduplication_id",
                "content_based_deduplication",
            ],
        }
    }
}

/// A typed option of a [`Message`]: its name, and whether a message sets
/// it.
struct TypedOption {
    name: &'static str,
    is_set: fn(&Message) -> bool,
}

impl TypedOption {
    const fn new(name: &'static str, is_set: fn(&Message) -> bool) -> TypedOption {
        TypedOption { name, is_set }
    }
}

/// The typed options of a [`Message`]: for refusing what a way of sending
/// does not support ([`Sending::unsupported`]), and for sizing the header
/// map. Tests of fields, rather than a list of names and flags built on
/// every call: this runs for every publish.
const OPTIONS: [TypedOption; 11] = [
    TypedOption::new("method", |m| m.uncommon().method.is_some()),
    TypedOption::new("delay", |m| m.delay.is_some()),
    TypedOption::new("not_before", |m| m.uncommon().not_before.is_some()),
    TypedOption::new("deduplication_id", |m| {
        m.uncommon().deduplication_id.is_some()
    }),
    TypedOption::new("content_based_deduplication", |m| {
        m.uncommon().content_based_deduplication
    }),
    TypedOption::new("retries", |m| m.retries.is_some()),
    TypedOption::new("retry_delay", |m| m.uncommon().retry_delay.is_some()),
    TypedOption::new("timeout", |m| m.uncommon().timeout.is_some()),
    TypedOption::new("flow_control", |m| m.uncommon().flow_control.is_some()),
    TypedOption::new("labels", |m| !m.uncommon().labels.is_empty()),
    TypedOption::new("redact", |m| {
        let uncommon = m.uncommon();
        uncommon.redact_body || uncommon.redact_all_headers || !uncommon.redacted_headers.is_empty()
    }),
];

/// The `Upstash-` headers typed options render, with the option that sets
/// each (a name ending in `-` is a prefix): given as a raw
/// [`Message::header`] they are refused, so that every option has one way
/// in and the same checks for each way of sending.
const TYPED_HEADERS: &[(&str, &str)] = &[
    ("upstash-method", "Message::method"),
    ("upstash-delay", "Message::delay"),
    ("upstash-not-before", "Message::not_before"),
    ("upstash-deduplication-id", "Message::deduplication_id"),
    (
        "upstash-content-based-deduplication",
        "Message::content_based_deduplication",
    ),
    ("upstash-retries", "Message::retries"),
    ("upstash-retry-delay", "Message::retry_delay"),
    ("upstash-timeout", "Message::timeout"),
    ("upstash-callback", "Message::callback"),
    ("upstash-callback-", "Message::callback"),
    ("upstash-failure-callback", "Message::failure_callback"),
    ("upstash-failure-callback-", "Message::failure_callback"),
    ("upstash-flow-control-key", "Message::flow_control"),
    ("upstash-flow-control-value", "Message::flow_control"),
    ("upstash-label", "Message::label"),
    (
        "upstash-redact-fields",
        "Message::redact_body, redact_all_headers or redact_header",
    ),
    ("upstash-cron", "Schedules::create"),
    ("upstash-schedule-id", "CreateSchedule::schedule_id"),
    (
        "upstash-queue-name",
        "CreateSchedule::queue or Messages::enqueue",
    ),
];

/// The typed option that sets the raw header `lower` (lower case), if any.
fn typed_option(lower: &str) -> Option<&'static str> {
    TYPED_HEADERS
        .iter()
        .find(|(name, _)| {
            if name.ends_with('-') {
                lower.starts_with(name)
            } else {
                lower == *name
            }
        })
        .map(|(_, option)| *option)
}

/// A message ready to send.
#[derive(Debug)]
pub(crate) struct Rendered {
    pub(crate) destination: String,
    /// The body's media type, kept apart from `headers`: a batch carries
    /// it in each entry's JSON, the other ways of sending as the request's
    /// `Content-Type`.
    pub(crate) content_type: Option<HeaderValue>,
    /// With room for the headers the rest of a call adds
    /// ([`ADDED_BY_THE_CALL`]), so that the request's header map, which
    /// starts from this one (`hooks::header_map`), does not grow.
    pub(crate) headers: HeaderMap,
    pub(crate) body: Vec<u8>,
}

impl Rendered {
    /// What a request that carries the message itself (a publish, an
    /// enqueue, a schedule; not a batch entry) sends: the destination, the
    /// headers with `Content-Type` among them (moved in, rather than given
    /// to the builder's parameter, which would copy it into a `String` and
    /// parse it again), and the body.
    pub(crate) fn into_request(self) -> (String, HeaderMap, Vec<u8>) {
        let Rendered {
            destination,
            content_type,
            mut headers,
            body,
        } = self;
        if let Some(content_type) = content_type {
            header_map::set(&mut headers, http::header::CONTENT_TYPE, content_type);
        }
        (destination, headers, body)
    }
}

/// The headers a call adds to a message's: `Content-Type`, `Accept`,
/// `User-Agent`, `Authorization` and `Upstash-Deduplication-Id`.
const ADDED_BY_THE_CALL: usize = 5;

pub(crate) fn render_message(
    mut message: Message,
    sending: Sending,
) -> Result<Rendered, InvalidInput> {
    // Taken, not copied, like the body below: the message is this call's.
    let destination = match &mut message.destination {
        Destination::Url(url) => {
            check_url("destination", url)?;
            std::mem::take(url)
        }
        Destination::UrlGroup(name) => {
            check_name("destination", "URL group", name)?;
            std::mem::take(name)
        }
        Destination::Api(api) => {
            let provider = api.request()?;
            if provider.is_url {
                check_url("destination", &provider.destination)?;
            }
            if provider.needs_callback && message.uncommon().callback.is_none() {
                return Err(InvalidInput::new(
                    "callback",
                    "an LLM provider's answer is delivered to the callback; set Message::callback",
                ));
            }
            // The provider's method and media type, unless the message sets
            // its own; the message's headers win over the provider's.
            message.uncommon_mut().method.get_or_insert(Method::POST);
            message
                .content_type
                .get_or_insert_with(|| "application/json".into());
            for (name, value) in provider.forward {
                if !message
                    .headers
                    .iter()
                    .any(|(given, _)| given.eq_ignore_ascii_case(name))
                {
                    message.headers.push((name.into(), value));
                }
            }
            provider.destination
        }
    };
    let body = std::mem::replace(&mut message.body, Ok(Vec::new()))?;
    let unsupported = sending.unsupported();
    // Most ways of sending refuse nothing: then nothing is looked up for
    // the refusal.
    if !unsupported.is_empty()
        && let Some(option) = OPTIONS
            .iter()
            .find(|option| unsupported.contains(&option.name) && (option.is_set)(&message))
    {
        return Err(InvalidInput::new(
            option.name,
            format!(
                "the QStash spec has no such option for {}; publish the message instead",
                sending.name()
            ),
        ));
    }

    let options = OPTIONS
        .iter()
        .filter(|option| (option.is_set)(&message))
        .count();
    let mut headers = Headers {
        // A callback, flow control or redaction may render to more than one
        // header; then the map grows.
        map: HeaderMap::with_capacity(message.headers.len() + options + ADDED_BY_THE_CALL),
    };
    for (name, value) in &message.headers {
        let lower = name.to_ascii_lowercase();
        let wire = if lower.starts_with("upstash-forward-") {
            name.clone()
        } else if let Some(option) = typed_option(&lower) {
            return Err(InvalidInput::new(
                format!("header `{name}`"),
                format!("is set by {option}; use that, which is checked for each way of sending"),
            ));
        } else if lower.starts_with("upstash-") {
            name.clone()
        } else {
            format!("Upstash-Forward-{name}")
        };
        headers.raw(format!("header `{name}`"), &wire, value)?;
    }

    // Evaluated when compiling: a typed option's name costs nothing here.
    macro_rules! named {
        ($name:literal) => {
            const { HeaderName::from_static($name) }
        };
    }
    let uncommon = message.uncommon();
    if let Some(method) = &uncommon.method {
        headers.option(
            "method",
            named!("upstash-method"),
            delivery_method("method", method)?,
        )?;
    }
    if let Some(delay) = message.delay {
        headers.option(
            "delay",
            named!("upstash-delay"),
            &render("delay", delay, Units::WithDays)?,
        )?;
    }
    if let Some(time) = uncommon.not_before {
        let secs = unix_seconds("not_before", time)?;
        headers.option_value("not_before", named!("upstash-not-before"), secs.into())?;
    }
    if let Some(id) = &uncommon.deduplication_id {
        if id.is_empty() {
            return Err(InvalidInput::new("deduplication_id", "is empty"));
        }
        headers.option("deduplication_id", named!("upstash-deduplication-id"), id)?;
    }
    if uncommon.content_based_deduplication {
        headers.option(
            "content_based_deduplication",
            named!("upstash-content-based-deduplication"),
            "true",
        )?;
    }
    if let Some(retries) = message.retries {
        headers.option_value("retries", named!("upstash-retries"), retries.into())?;
    }
    if let Some(expression) = &uncommon.retry_delay {
        retry_delay::check("retry_delay", expression)?;
        headers.option("retry_delay", named!("upstash-retry-delay"), expression)?;
    }
    if let Some(timeout) = uncommon.timeout {
        let timeout = render_positive("timeout", timeout, Units::UpToHours)?;
        headers.option("timeout", named!("upstash-timeout"), &timeout)?;
    }
    if let Some(callback) = &uncommon.callback {
        headers.callback("callback", "Upstash-Callback", callback)?;
    }
    if let Some(callback) = &uncommon.failure_callback {
        headers.callback("failure_callback", "Upstash-Failure-Callback", callback)?;
    }
    if let Some(flow_control) = &uncommon.flow_control {
        let (key, value) = flow_control.render()?;
        headers.option("flow_control", named!("upstash-flow-control-key"), &key)?;
        headers.option("flow_control", named!("upstash-flow-control-value"), &value)?;
    }
    if !uncommon.labels.is_empty() {
        if let Some(bad) = uncommon
            .labels
            .iter()
            .find(|label| label.is_empty() || label.contains(','))
        {
            return Err(InvalidInput::new(
                "label",
                format!("`{bad}`: a label must be non-empty and without commas"),
            ));
        }
        headers.option("label", named!("upstash-label"), &uncommon.labels.join(","))?;
    }
    let mut redact: Vec<String> = Vec::new();
    if uncommon.redact_body {
        redact.push("body".into());
    }
    if uncommon.redact_all_headers {
        // The official SDKs' spelling, which their end-to-end tests show
        // QStash honours (qstash-js src/client/client.test.ts:711-736); the
        // spec's description says `headers`.
        redact.push("header".into());
    }
    for name in &uncommon.redacted_headers {
        HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
            InvalidInput::new("redact_header", format!("`{name}` is not a header name"))
        })?;
        redact.push(format!("header[{name}]"));
    }
    if !redact.is_empty() {
        headers.option("redact", named!("upstash-redact-fields"), &redact.join(","))?;
    }
    let content_type = match message.content_type {
        // Moved into the header value, not copied: the error cannot show it.
        Some(content_type) => Some(HeaderValue::try_from(content_type).map_err(|_| {
            InvalidInput::new(
                "content_type",
                "is not a valid header value: it has a character HTTP headers cannot carry",
            )
        })?),
        None => None,
    };
    Ok(Rendered {
        destination,
        content_type,
        headers: headers.map,
        body,
    })
}

/// The five methods QStash delivers with.
fn delivery_method(field: &'static str, method: &Method) -> Result<&'static str, InvalidInput> {
    let methods = [
        (Method::GET, "GET"),
        (Method::POST, "POST"),
        (Method::PUT, "PUT"),
        (Method::PATCH, "PATCH"),
        (Method::DELETE, "DELETE"),
    ];
    methods
        .into_iter()
        .find_map(|(known, name)| (known == *method).then_some(name))
        .ok_or_else(|| {
            InvalidInput::new(
                field,
                format!("QStash delivers with GET, POST, PUT, PATCH or DELETE, not {method}"),
            )
        })
}

struct Headers {
    map: HeaderMap,
}

impl Headers {
    /// A header the caller gave as `field`, sent as `wire`; repeated names
    /// are all kept.
    fn raw(&mut self, field: String, wire: &str, value: &str) -> Result<(), InvalidInput> {
        let Ok(header) = HeaderName::from_bytes(wire.as_bytes()) else {
            return Err(InvalidInput::new(field, "is not a valid header name"));
        };
        let Ok(value) = HeaderValue::from_str(value) else {
            return Err(InvalidInput::new(
                field,
                "has a value with a character HTTP headers cannot carry",
            ));
        };
        self.map.append(header, value);
        Ok(())
    }

    /// A header a typed option sets; refused if a raw header already set it,
    /// so that neither value is dropped in silence. The name is a
    /// `HeaderName` already (most are static): parsing it, and copying the
    /// parsed name with the request for a retry, would cost an allocation
    /// each on every publish.
    fn option(
        &mut self,
        field: &'static str,
        name: HeaderName,
        value: &str,
    ) -> Result<(), InvalidInput> {
        let value = HeaderValue::from_str(value).map_err(|_| {
            InvalidInput::new(
                field,
                format!("`{value}` has a character HTTP headers cannot carry"),
            )
        })?;
        self.option_value(field, name, value)
    }

    /// [`option`](Self::option) for a value that is a header value already
    /// (a number: `HeaderValue::from` writes its digits, with no formatting
    /// and no check).
    fn option_value(
        &mut self,
        field: &'static str,
        name: HeaderName,
        value: HeaderValue,
    ) -> Result<(), InvalidInput> {
        // One lookup of the name for both the test and the insert.
        match self.map.entry(name) {
            Entry::Occupied(taken) => Err(InvalidInput::new(
                field,
                format!(
                    "`{}` is also given with Message::header; set it one way",
                    taken.key()
                ),
            )),
            Entry::Vacant(vacant) => {
                vacant.insert(value);
                Ok(())
            }
        }
    }

    fn callback(
        &mut self,
        field: &'static str,
        prefix: &str,
        callback: &Callback,
    ) -> Result<(), InvalidInput> {
        check_url(field, &callback.url)?;
        let name = |suffix: &str| {
            let name = format!("{prefix}{suffix}");
            HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| InvalidInput::new(field, format!("`{name}` is not a header name")))
        };
        self.option(field, name("")?, &callback.url)?;
        if let Some(method) = &callback.method {
            let method = delivery_method(field, method)?;
            self.option(field, name("-Method")?, method)?;
        }
        if let Some(timeout) = callback.timeout {
            let timeout = render_positive(field, timeout, Units::UpToHours)?;
            self.option(field, name("-Timeout")?, &timeout)?;
        }
        if let Some(retries) = callback.retries {
            self.option_value(field, name("-Retries")?, retries.into())?;
        }
        if let Some(expression) = &callback.retry_delay {
            retry_delay::check(field, expression)?;
            self.option(field, name("-Retry-Delay")?, expression)?;
        }
        for (name, value) in &callback.headers {
            self.raw(
                format!("{field} header `{name}`"),
                &format!("{prefix}-Forward-{name}"),
                value,
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_typed_option_already_in_the_map_is_refused_and_the_first_value_kept() {
        let mut headers = Headers {
            map: HeaderMap::new(),
        };
        let name = HeaderName::from_static("upstash-retries");
        headers
            .option_value("retries", name.clone(), 3u32.into())
            .expect("the first one goes in");
        let refused = headers
            .option("retries", name.clone(), "5")
            .expect_err("the second one is refused");
        assert!(
            refused
                .to_string()
                .contains("`upstash-retries` is also given"),
            "{refused}"
        );
        assert_eq!(headers.map.get_all(&name).iter().count(), 1);
        assert_eq!(headers.map[&name], "3");
    }

    #[test]
    fn options_a_schedule_does_not_have_are_refused_by_name() {
        let url = || Message::new(Destination::url("https://example.com/api"));
        let at = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_900_000_000);
        for (option, message) in [
            ("not_before", url().not_before(at)),
            ("deduplication_id", url().deduplication_id("id-1")),
            (
                "content_based_deduplication",
                url().content_based_deduplication(),
            ),
        ] {
            let refused = render_message(message, Sending::Schedule).expect_err(option);
            assert_eq!(refused.field(), option);
            assert!(refused.reason().contains("for schedules"), "{refused}");
        }
        // The same options publish, and a schedule takes the others.
        render_message(
            url().not_before(at).deduplication_id("id-1"),
            Sending::Publish,
        )
        .expect("a publish has them");
        render_message(
            url().retries(2).delay(std::time::Duration::from_secs(5)),
            Sending::Schedule,
        )
        .expect("a schedule has these");
    }

    #[test]
    fn the_header_map_has_room_for_the_message_and_the_call() {
        let mut message = Message::new(Destination::url("https://example.com/api"))
            .retries(2)
            .delay(std::time::Duration::from_secs(5))
            .label("a");
        for n in 0..5 {
            message = message.header(format!("X-{n}"), "v");
        }
        let rendered = render_message(message, Sending::Publish).expect("renders");
        // Five headers, three options, and what the call adds: 13, which a
        // map sized without the options (10, room for 12) would not hold.
        assert!(rendered.headers.capacity() >= 5 + 3 + ADDED_BY_THE_CALL);
        assert_eq!(rendered.headers.len(), 5 + 3);
    }

    #[test]
    fn numbers_go_on_the_wire_as_their_digits() {
        let message = Message::new(Destination::url("https://example.com/api"))
            .retries(u32::MAX)
            .not_before(std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000));
        let rendered = render_message(message, Sending::Publish).expect("renders");
        assert_eq!(rendered.headers["upstash-retries"], "4294967295");
        assert_eq!(rendered.headers["upstash-not-before"], "1700000000");
    }
}
