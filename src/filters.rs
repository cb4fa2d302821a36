//! Typed filters for logs, the DLQ and bulk message cancellation, each with
//! exactly the parameters the spec gives that endpoint.
//!
//! A filter is built by value (`LogFilter::new().state(LogState::Failed)`)
//! and checked when the call using it is sent: an empty value, a time before
//! 1970, a range that ends before it starts, or (where QStash splits values
//! on commas) a value with a comma is refused as
//! [`Error::InvalidInput`](crate::Error::InvalidInput) naming the filter
//! field, and nothing is sent.
//!
//! Where a filter takes several values of one kind (several labels, several
//! URLs), an item matches if it has any of them; different kinds must all
//! match. The values go on the wire as repeated query parameters
//! (`label=a&label=b`), as the spec describes.

use std::time::{SystemTime, UNIX_EPOCH};

use crate::InvalidInput;

/// A message's state in the logs, as QStash names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LogState {
    /// `CREATED`: the message has been accepted and stored in QStash.
    Created,
    /// `ACTIVE`: the task is currently being processed by a worker.
    Active,
    /// `RETRY`: the task has been scheduled to retry.
    Retry,
    /// `ERROR`: the execution threw an error and the task is waiting to be
    /// retried or failed.
    Error,
    /// `IN_PROGRESS`: the task is in one of `ACTIVE`, `RETRY` or `ERROR`
    /// (a filter value only; entries carry the underlying state).
    InProgress,
    /// `DELIVERED`: the message was successfully delivered.
    Delivered,
    /// `FAILED`: the task has errored too many times or encountered an error
    /// that it cannot recover from.
    Failed,
    /// `CANCEL_REQUESTED`: the cancel request from the user is recorded.
    CancelRequested,
    /// `CANCELLED`: the cancel request from the user is honored.
    Cancelled,
}

impl LogState {
    /// The name QStash uses on the wire, e.g. `CANCEL_REQUESTED`.
    pub fn as_str(self) -> &'static str {
        match self {
            LogState::Created => "CREATED",
            LogState::Active => "ACTIVE",
            LogState::Retry => "RETRY",
            LogState::Error => "ERROR",
            LogState::InProgress => "IN_PROGRESS",
            LogState::Delivered => "DELIVERED",
            LogState::Failed => "FAILED",
            LogState::CancelRequested => "CANCEL_REQUESTED",
            LogState::Cancelled => "CANCELLED",
        }
    }
}

/// Which log entries [`Logs::list`](crate::logs::Logs::list) returns.
///
/// The spec's logs endpoint takes one value for each of its filters except
/// labels; the official SDKs also send caller IPs, flow-control keys, hosts
/// and paths, several of each (the correction `logs-filters`): call those
/// methods again to add a value.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LogFilter {
    message_id: Option<String>,
    state: Option<LogState>,
    url: Option<String>,
    url_group: Option<String>,
    queue_name: Option<String>,
    schedule_id: Option<String>,
    labels: Vec<String>,
    caller_ips: Vec<String>,
    flow_control_keys: Vec<String>,
    hosts: Vec<String>,
    paths: Vec<String>,
    range: TimeRange,
}

impl LogFilter {
    /// A filter that matches every entry.
    pub fn new() -> LogFilter {
        LogFilter::default()
    }

    /// Entries of this message (`messageId`).
    pub fn message_id(mut self, message_id: impl Into<String>) -> LogFilter {
        self.message_id = Some(message_id.into());
        self
    }

    /// Entries in this state (`state`).
    pub fn state(mut self, state: LogState) -> LogFilter {
        self.state = Some(state);
        self
    }

    /// Entries of messages to this destination URL (`url`).
    pub fn url(mut self, url: impl Into<String>) -> LogFilter {
        self.url = Some(url.into());
        self
    }

    /// Entries of messages sent to this URL group (`topicName`).
    pub fn url_group(mut self, url_group: impl Into<String>) -> LogFilter {
        self.url_group = Some(url_group.into());
        self
    }

    /// Entries of messages enqueued to this queue (`queueName`).
    pub fn queue_name(mut self, queue_name: impl Into<String>) -> LogFilter {
        self.queue_name = Some(queue_name.into());
        self
    }

    /// Entries of messages a schedule created (`scheduleId`).
    pub fn schedule_id(mut self, schedule_id: impl Into<String>) -> LogFilter {
        self.schedule_id = Some(schedule_id.into());
        self
    }

    /// Entries of messages with this label (`label`); call again to match
    /// any of several labels.
    pub fn label(mut self, label: impl Into<String>) -> LogFilter {
        self.labels.push(label.into());
        self
    }

    /// Entries of messages published from this IP address (`callerIp`).
    pub fn caller_ip(mut self, caller_ip: impl Into<String>) -> LogFilter {
        self.caller_ips.push(caller_ip.into());
        self
    }

    /// Entries of messages with this flow-control key (`flowControlKey`).
    pub fn flow_control_key(mut self, key: impl Into<String>) -> LogFilter {
        self.flow_control_keys.push(key.into());
        self
    }

    /// Entries of messages whose destination URL has this host (`host`).
    pub fn host(mut self, host: impl Into<String>) -> LogFilter {
        self.hosts.push(host.into());
        self
    }

    /// Entries of messages whose destination URL has this path (`path`).
    pub fn path(mut self, path: impl Into<String>) -> LogFilter {
        self.paths.push(path.into());
        self
    }

    /// Entries logged at or after this time (`fromDate`, inclusive).
    pub fn from_date(mut self, from: SystemTime) -> LogFilter {
        self.range.from = Some(from);
        self
    }

    /// Entries logged at or before this time (`toDate`, inclusive).
    pub fn to_date(mut self, to: SystemTime) -> LogFilter {
        self.range.to = Some(to);
        self
    }

    pub(crate) fn to_wire(&self) -> Result<LogQuery, InvalidInput> {
        let (from_date, to_date) = self.range.to_wire()?;
        let labels = self
            .labels
            .iter()
            .map(|label| non_empty("label", label))
            .collect::<Result<_, _>>()?;
        Ok(LogQuery {
            message_id: optional("message_id", &self.message_id)?,
            state: self.state,
            url: optional("url", &self.url)?,
            topic_name: optional("url_group", &self.url_group)?,
            queue_name: optional("queue_name", &self.queue_name)?,
            schedule_id: optional("schedule_id", &self.schedule_id)?,
            labels,
            caller_ip: listed("caller_ip", &self.caller_ips)?,
            flow_control_key: listed("flow_control_key", &self.flow_control_keys)?,
            host: listed("host", &self.hosts)?,
            path: listed("path", &self.paths)?,
            from_date,
            to_date,
        })
    }
}

/// A [`LogFilter`] checked and in wire form.
#[derive(Debug, Clone)]
pub(crate) struct LogQuery {
    pub message_id: Option<String>,
    pub state: Option<LogState>,
    pub url: Option<String>,
    pub topic_name: Option<String>,
    pub queue_name: Option<String>,
    pub schedule_id: Option<String>,
    pub labels: Vec<String>,
    pub caller_ip: Vec<String>,
    pub flow_control_key: Vec<String>,
    pub host: Vec<String>,
    pub path: Vec<String>,
    pub from_date: Option<i64>,
    pub to_date: Option<i64>,
}

/// Which DLQ messages a [`Dlq`](crate::dlq::Dlq) list, bulk delete or bulk
/// retry acts on.
///
/// Every filter but the message id takes several values: call its method
/// again to add one. QStash also reads a comma inside a value as separating
/// two values, so a value with a comma is refused.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DlqFilter {
    message_id: Option<String>,
    urls: Vec<String>,
    url_groups: Vec<String>,
    schedule_ids: Vec<String>,
    queue_names: Vec<String>,
    response_statuses: Vec<u16>,
    caller_ips: Vec<String>,
    labels: Vec<String>,
    flow_control_keys: Vec<String>,
    range: TimeRange,
}

impl DlqFilter {
    /// A filter that matches every DLQ message.
    pub fn new() -> DlqFilter {
        DlqFilter::default()
    }

    /// The DLQ message of this message id (`messageId`).
    pub fn message_id(mut self, message_id: impl Into<String>) -> DlqFilter {
        self.message_id = Some(message_id.into());
        self
    }

    /// Messages to this destination URL (`url`).
    pub fn url(mut self, url: impl Into<String>) -> DlqFilter {
        self.urls.push(url.into());
        self
    }

    /// Messages sent to this URL group (`topicName`).
    pub fn url_group(mut self, url_group: impl Into<String>) -> DlqFilter {
        self.url_groups.push(url_group.into());
        self
    }

    /// Messages a schedule created (`scheduleId`).
    pub fn schedule_id(mut self, schedule_id: impl Into<String>) -> DlqFilter {
        self.schedule_ids.push(schedule_id.into());
        self
    }

    /// Messages enqueued to this queue (`queueName`).
    pub fn queue_name(mut self, queue_name: impl Into<String>) -> DlqFilter {
        self.queue_names.push(queue_name.into());
        self
    }

    /// Messages whose last delivery attempt got this HTTP status
    /// (`responseStatus`).
    pub fn response_status(mut self, status: u16) -> DlqFilter {
        self.response_statuses.push(status);
        self
    }

    /// Messages published from this IP address (`callerIp`).
    pub fn caller_ip(mut self, caller_ip: impl Into<String>) -> DlqFilter {
        self.caller_ips.push(caller_ip.into());
        self
    }

    /// Messages with this label (`label`).
    pub fn label(mut self, label: impl Into<String>) -> DlqFilter {
        self.labels.push(label.into());
        self
    }

    /// Messages with this flow-control key (`flowControlKey`; on the list,
    /// the correction `dlq-list-filters`).
    pub fn flow_control_key(mut self, key: impl Into<String>) -> DlqFilter {
        self.flow_control_keys.push(key.into());
        self
    }

    /// Messages that reached the DLQ at or after this time (`fromDate`,
    /// inclusive).
    pub fn from_date(mut self, from: SystemTime) -> DlqFilter {
        self.range.from = Some(from);
        self
    }

    /// Messages that reached the DLQ at or before this time (`toDate`,
    /// inclusive).
    pub fn to_date(mut self, to: SystemTime) -> DlqFilter {
        self.range.to = Some(to);
        self
    }

    /// Whether no filter is set, so the filter matches every DLQ message.
    pub fn is_empty(&self) -> bool {
        *self == DlqFilter::default()
    }

    pub(crate) fn to_wire(&self) -> Result<DlqQuery, InvalidInput> {
        let (from_date, to_date) = self.range.to_wire()?;
        Ok(DlqQuery {
            message_id: optional("message_id", &self.message_id)?,
            url: listed("url", &self.urls)?,
            topic_name: listed("url_group", &self.url_groups)?,
            schedule_id: listed("schedule_id", &self.schedule_ids)?,
            queue_name: listed("queue_name", &self.queue_names)?,
            response_status: self.response_statuses.iter().map(|&s| s.into()).collect(),
            caller_ip: listed("caller_ip", &self.caller_ips)?,
            label: listed("label", &self.labels)?,
            flow_control_key: listed("flow_control_key", &self.flow_control_keys)?,
            from_date,
            to_date,
        })
    }
}

/// A [`DlqFilter`] checked and in wire form.
#[derive(Debug, Clone)]
pub(crate) struct DlqQuery {
    pub message_id: Option<String>,
    pub url: Vec<String>,
    pub topic_name: Vec<String>,
    pub schedule_id: Vec<String>,
    pub queue_name: Vec<String>,
    pub response_status: Vec<i64>,
    pub caller_ip: Vec<String>,
    pub label: Vec<String>,
    pub flow_control_key: Vec<String>,
    pub from_date: Option<i64>,
    pub to_date: Option<i64>,
}

/// Which pending messages
/// [`Messages::cancel_by_filter`](crate::messages::Messages::cancel_by_filter)
/// cancels.
///
/// Every filter but the time range takes several values: call its method
/// again to add one. QStash also reads a comma inside a value as separating
/// two values, so a value with a comma is refused.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MessageFilter {
    url_groups: Vec<String>,
    queue_names: Vec<String>,
    urls: Vec<String>,
    hosts: Vec<String>,
    paths: Vec<String>,
    labels: Vec<String>,
    flow_control_keys: Vec<String>,
    schedule_ids: Vec<String>,
    caller_ips: Vec<String>,
    range: TimeRange,
}

impl MessageFilter {
    /// A filter with nothing set. Cancelling by it is refused: cancelling
    /// everything is [`Messages::cancel_all`](crate::messages::Messages::cancel_all).
    pub fn new() -> MessageFilter {
        MessageFilter::default()
    }

    /// Messages sent to this URL group (`topicName`).
    pub fn url_group(mut self, url_group: impl Into<String>) -> MessageFilter {
        self.url_groups.push(url_group.into());
        self
    }

    /// Messages enqueued to this queue (`queueName`).
    pub fn queue_name(mut self, queue_name: impl Into<String>) -> MessageFilter {
        self.queue_names.push(queue_name.into());
        self
    }

    /// Messages to this destination URL (`url`).
    pub fn url(mut self, url: impl Into<String>) -> MessageFilter {
        self.urls.push(url.into());
        self
    }

    /// Messages whose destination URL has this host (`host`).
    pub fn host(mut self, host: impl Into<String>) -> MessageFilter {
        self.hosts.push(host.into());
        self
    }

    /// Messages whose destination URL has this path (`path`).
    pub fn path(mut self, path: impl Into<String>) -> MessageFilter {
        self.paths.push(path.into());
        self
    }

    /// Messages with this label (`label`).
    pub fn label(mut self, label: impl Into<String>) -> MessageFilter {
        self.labels.push(label.into());
        self
    }

    /// Messages with this flow-control key (`flowControlKey`).
    pub fn flow_control_key(mut self, key: impl Into<String>) -> MessageFilter {
        self.flow_control_keys.push(key.into());
        self
    }

    /// Messages a schedule created (`scheduleId`).
    pub fn schedule_id(mut self, schedule_id: impl Into<String>) -> MessageFilter {
        self.schedule_ids.push(schedule_id.into());
        self
    }

    /// Messages published from this IP address (`callerIp`).
    pub fn caller_ip(mut self, caller_ip: impl Into<String>) -> MessageFilter {
        self.caller_ips.push(caller_ip.into());
        self
    }

    /// Messages created at or after this time (`fromDate`, inclusive).
    pub fn from_date(mut self, from: SystemTime) -> MessageFilter {
        self.range.from = Some(from);
        self
    }

    /// Messages created at or before this time (`toDate`, inclusive).
    pub fn to_date(mut self, to: SystemTime) -> MessageFilter {
        self.range.to = Some(to);
        self
    }

    /// Whether no filter is set.
    pub fn is_empty(&self) -> bool {
        *self == MessageFilter::default()
    }

    pub(crate) fn to_wire(&self) -> Result<MessageQuery, InvalidInput> {
        let (from_date, to_date) = self.range.to_wire()?;
        Ok(MessageQuery {
            topic_name: listed("url_group", &self.url_groups)?,
            queue_name: listed("queue_name", &self.queue_names)?,
            url: listed("url", &self.urls)?,
            host: listed("host", &self.hosts)?,
            path: listed("path", &self.paths)?,
            label: listed("label", &self.labels)?,
            flow_control_key: listed("flow_control_key", &self.flow_control_keys)?,
            schedule_id: listed("schedule_id", &self.schedule_ids)?,
            caller_ip: listed("caller_ip", &self.caller_ips)?,
            from_date,
            to_date,
        })
    }
}

/// A [`MessageFilter`] checked and in wire form.
#[derive(Debug, Clone)]
pub(crate) struct MessageQuery {
    pub topic_name: Vec<String>,
    pub queue_name: Vec<String>,
    pub url: Vec<String>,
    pub host: Vec<String>,
    pub path: Vec<String>,
    pub label: Vec<String>,
    pub flow_control_key: Vec<String>,
    pub schedule_id: Vec<String>,
    pub caller_ip: Vec<String>,
    pub from_date: Option<i64>,
    pub to_date: Option<i64>,
}

/// Inclusive bounds in time, sent as Unix milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct TimeRange {
    from: Option<SystemTime>,
    to: Option<SystemTime>,
}

impl TimeRange {
    fn to_wire(self) -> Result<(Option<i64>, Option<i64>), InvalidInput> {
        let from = self.from.map(|t| unix_millis("from_date", t)).transpose()?;
        let to = self.to.map(|t| unix_millis("to_date", t)).transpose()?;
        if let (Some(from), Some(to)) = (from, to)
            && from > to
        {
            return Err(InvalidInput::new(
                "to_date",
                format!(
                    "ends ({to} ms) before from_date ({from} ms); the range would match nothing"
                ),
            ));
        }
        Ok((from, to))
    }
}

/// A point in time as QStash's filters take it: whole Unix milliseconds
/// (sub-millisecond parts are dropped, which the bounds being inclusive
/// makes harmless for `from`, and at most 1 ms short for `to`).
pub(crate) fn unix_millis(field: &'static str, time: SystemTime) -> Result<i64, InvalidInput> {
    let since = time
        .duration_since(UNIX_EPOCH)
        .map_err(|_| InvalidInput::new(field, "is before 1970, which QStash cannot represent"))?;
    i64::try_from(since.as_millis())
        .map_err(|_| InvalidInput::new(field, "is too far in the future for QStash"))
}

/// A value for a path segment or filter: an empty one would be dropped or
/// match nothing, or (in a path) reach a different endpoint.
pub(crate) fn non_empty(field: &'static str, value: &str) -> Result<String, InvalidInput> {
    if value.is_empty() {
        Err(InvalidInput::new(field, "is empty"))
    } else {
        Ok(value.to_string())
    }
}

fn optional(field: &'static str, value: &Option<String>) -> Result<Option<String>, InvalidInput> {
    value.as_deref().map(|v| non_empty(field, v)).transpose()
}

/// Values of a multi-value filter on an endpoint that also reads
/// `a,b` as two values: a comma inside one value would split it.
fn listed(field: &'static str, values: &[String]) -> Result<Vec<String>, InvalidInput> {
    values
        .iter()
        .map(|value| {
            if value.contains(',') {
                Err(InvalidInput::new(
                    field,
                    format!(
                        "`{value}` has a comma, which QStash reads as separating two values; \
                         add each value with its own call"
                    ),
                ))
            } else {
                non_empty(field, value)
            }
        })
        .collect()
}

/// Ids for a bulk call by ids: none may be empty (QStash would ignore it, or
/// worse, the list could end up meaning nothing was selected).
pub(crate) fn ids(field: &'static str, ids: Vec<String>) -> Result<Vec<String>, InvalidInput> {
    ids.into_iter()
        .map(|id| {
            if id.is_empty() {
                Err(InvalidInput::new(field, "holds an empty id"))
            } else if id.contains(',') {
                Err(InvalidInput::new(
                    field,
                    format!("`{id}` has a comma, which QStash reads as separating two ids"),
                ))
            } else {
                Ok(id)
            }
        })
        .collect()
}
