//! Query parameters: multi-valued filters (repeated or comma-separated, as
//! QStash accepts them), dates, counts and cursors; and the filters that
//! select messages, DLQ entries and log entries.

use axum::http::Uri;

use super::error::ApiError;
use super::message::MessageInfo;

/// The filters of the bulk and list endpoints, by their parameter names.
pub(crate) const FILTERS: &[&str] = &[
    "messageId",
    "url",
    "host",
    "path",
    "topicName",
    "queueName",
    "scheduleId",
    "label",
    "flowControlKey",
    "callerIp",
    "callerIP",
    "responseStatus",
    "fromDate",
    "toDate",
];

/// A page (of logs, of the DLQ) stops early once the bodies it carries
/// reach this many bytes (it always holds at least one entry), so that a
/// page of large messages is not hundreds of megabytes of JSON; its cursor
/// continues it.
pub(crate) const PAGE_BODY_BYTES: usize = 8 << 20;

/// Read by every endpoint: authentication, not a parameter of the call.
const TOKEN: &str = crate::TOKEN_QUERY_PARAMETER;

pub(crate) struct Query {
    pairs: Vec<(String, String)>,
}

impl Query {
    pub(crate) fn from_uri(uri: &Uri) -> Query {
        let raw = uri.query().unwrap_or_default();
        Query {
            pairs: url::form_urlencoded::parse(raw.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        }
    }

    /// Adds the parameters of a JSON object body, as the Python and Go SDKs
    /// send bulk calls (`{"messageIds": [...]}`, `{"dlqIds": [...]}`) where
    /// the spec has query parameters. A body that is not such an object is
    /// refused rather than ignored: ignored, it would select everything.
    pub(crate) fn merge_json_body(&mut self, body: &[u8]) -> Result<(), ApiError> {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(());
        }
        let invalid = || {
            ApiError::bad_request(
                "the body must be a JSON object of parameters, e.g. {\"dlqIds\": [...]}, \
                 with strings or numbers as values",
            )
        };
        let object: serde_json::Map<String, serde_json::Value> =
            serde_json::from_slice(body).map_err(|_| invalid())?;
        for (name, value) in object {
            let values = match value {
                serde_json::Value::Array(items) if items.is_empty() => {
                    return Err(empty(&name));
                }
                serde_json::Value::Array(items) => items,
                single => vec![single],
            };
            for value in values {
                let text = match value {
                    serde_json::Value::String(text) => text,
                    serde_json::Value::Number(n) => n.to_string(),
                    _ => return Err(invalid()),
                };
                self.pairs.push((name.clone(), text));
            }
        }
        Ok(())
    }

    /// Refuses any parameter not in `known` (nor the token): on a bulk
    /// call, a misspelled filter (`labeel=x`) must not leave the call
    /// acting on everything.
    pub(crate) fn refuse_unknown(&self, known: &[&str]) -> Result<(), ApiError> {
        match self
            .pairs
            .iter()
            .find(|(name, _)| name != TOKEN && !known.contains(&name.as_str()))
        {
            Some((name, _)) => Err(ApiError::bad_request(format!(
                "unknown parameter `{name}`; this call takes {}",
                known.join(", ")
            ))),
            None => Ok(()),
        }
    }

    /// Every value of `name`, comma-separated ones split. A parameter
    /// given with no value (`label=`) is refused: read as "no filter", it
    /// would select more than asked.
    pub(crate) fn values(&self, name: &str) -> Result<Vec<String>, ApiError> {
        let mut given = false;
        let mut values = Vec::new();
        for (_, value) in self.pairs.iter().filter(|(key, _)| key == name) {
            given = true;
            values.extend(
                value
                    .split(',')
                    .map(str::trim)
                    .filter(|v| !v.is_empty())
                    .map(String::from),
            );
        }
        if given && values.is_empty() {
            return Err(empty(name));
        }
        Ok(values)
    }

    /// The one value of `name`; given twice or empty, refused.
    pub(crate) fn one(&self, name: &str) -> Result<Option<&str>, ApiError> {
        let mut found = self.pairs.iter().filter(|(key, _)| key == name);
        match (found.next(), found.next()) {
            (None, _) => Ok(None),
            (Some(_), Some(_)) => Err(ApiError::bad_request(format!(
                "{name} is given more than once"
            ))),
            (Some((_, value)), None) if value.trim().is_empty() => Err(empty(name)),
            (Some((_, value)), None) => Ok(Some(value.as_str())),
        }
    }

    pub(crate) fn number(&self, name: &str) -> Result<Option<u64>, ApiError> {
        self.one(name)?
            .map(|value| {
                value.parse().map_err(|_| {
                    ApiError::bad_request(format!(
                        "{name} must be a non-negative integer, got `{value}`"
                    ))
                })
            })
            .transpose()
    }

    /// `count`, at most `max`; `default` when absent.
    pub(crate) fn count(&self, default: usize, max: usize) -> Result<usize, ApiError> {
        match self.number("count")? {
            None => Ok(default),
            Some(n) if n >= 1 && n <= max as u64 => Ok(n as usize),
            Some(n) => Err(ApiError::bad_request(format!(
                "count must be between 1 and {max}, got {n}"
            ))),
        }
    }

    /// A cursor this server handed out: a sequence number.
    pub(crate) fn cursor(&self) -> Result<Option<u64>, ApiError> {
        self.one("cursor")?
            .map(|value| {
                value
                    .parse()
                    .map_err(|_| ApiError::bad_request(format!("invalid cursor `{value}`")))
            })
            .transpose()
    }
}

fn empty(name: &str) -> ApiError {
    ApiError::bad_request(format!(
        "{name} is empty; give at least one value (an empty filter would select everything)"
    ))
}

/// The filters that select messages (bulk cancel), DLQ entries and log
/// entries: one matches if, for every filter given, its value is one of the
/// filter's.
pub(crate) struct Filter {
    message_id: Vec<String>,
    url: Vec<String>,
    host: Vec<String>,
    path: Vec<String>,
    topic_name: Vec<String>,
    queue_name: Vec<String>,
    schedule_id: Vec<String>,
    label: Vec<String>,
    flow_control_key: Vec<String>,
    caller_ip: Vec<String>,
    response_status: Vec<u16>,
    from_date: Option<u64>,
    to_date: Option<u64>,
}

impl Filter {
    pub(crate) fn parse(query: &Query) -> Result<Filter, ApiError> {
        let mut caller_ip = query.values("callerIp")?;
        caller_ip.extend(query.values("callerIP")?);
        let response_status = query
            .values("responseStatus")?
            .iter()
            .map(|v| {
                v.parse().map_err(|_| {
                    ApiError::bad_request(format!(
                        "responseStatus must be a status code, got `{v}`"
                    ))
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(Filter {
            message_id: query.values("messageId")?,
            url: query.values("url")?,
            host: query.values("host")?,
            path: query.values("path")?,
            topic_name: query.values("topicName")?,
            queue_name: query.values("queueName")?,
            schedule_id: query.values("scheduleId")?,
            label: query.values("label")?,
            flow_control_key: query.values("flowControlKey")?,
            caller_ip,
            response_status,
            from_date: query.number("fromDate")?,
            to_date: query.number("toDate")?,
        })
    }

    /// Whether `message`, at `time_ms` (its creation for messages and DLQ
    /// entries, the entry's time for logs) and with the destination's last
    /// `response_status`, matches.
    pub(crate) fn matches(
        &self,
        message: &MessageInfo,
        time_ms: u64,
        response_status: Option<u16>,
    ) -> bool {
        fn any(filter: &[String], value: Option<&str>) -> bool {
            filter.is_empty() || value.is_some_and(|v| filter.iter().any(|f| f == v))
        }
        let parsed = (!self.host.is_empty() || !self.path.is_empty())
            .then(|| url::Url::parse(&message.url).ok())
            .flatten();
        any(&self.message_id, Some(&message.id))
            && any(&self.url, Some(&message.url))
            && any(&self.host, parsed.as_ref().and_then(|u| u.host_str()))
            && any(&self.path, parsed.as_ref().map(|u| u.path()))
            && any(&self.topic_name, message.topic_name.as_deref())
            && any(&self.queue_name, message.queue_name.as_deref())
            && any(&self.schedule_id, message.schedule_id.as_deref())
            && (self.label.is_empty() || message.labels.iter().any(|l| self.label.contains(l)))
            && any(&self.flow_control_key, message.flow_control_key.as_deref())
            && any(&self.caller_ip, message.caller_ip.as_deref())
            && (self.response_status.is_empty()
                || response_status.is_some_and(|s| self.response_status.contains(&s)))
            && self.from_date.is_none_or(|from| time_ms >= from)
            && self.to_date.is_none_or(|to| time_ms <= to)
    }
}
