//! A message as the server keeps it, what a destination answered, and
//! their views in the API's models.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderName, HeaderValue, Method};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::flow_key::FlowLimits;
use super::options::CallbackOptions;
use super::redact::Redact;
use super::retry_delay::RetryDelay;
use crate::types;

/// Retries when the publisher names none, as QStash documents.
pub(crate) const DEFAULT_RETRIES: u32 = 3;

/// What a message is for: callbacks do not get callbacks of their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Message,
    Callback,
}

/// What a message is, fixed when it is published. The live message, its
/// log entries and its DLQ entry share one of these, so its body (and
/// everything else) is stored once however long its history is kept.
#[derive(Debug, Clone)]
pub(crate) struct MessageInfo {
    pub(crate) id: String,
    pub(crate) kind: Kind,
    pub(crate) url: String,
    pub(crate) method: Method,
    /// Sent with every attempt: the stripped `Upstash-Forward-*` headers and
    /// `Content-Type`.
    pub(crate) headers: Vec<(HeaderName, HeaderValue)>,
    pub(crate) body: Bytes,
    pub(crate) max_retries: u32,
    pub(crate) retry_delay: Option<RetryDelay>,
    pub(crate) timeout: Option<Duration>,
    pub(crate) created_at_ms: u64,
    pub(crate) callback: Option<CallbackOptions>,
    pub(crate) failure_callback: Option<CallbackOptions>,
    pub(crate) topic_name: Option<String>,
    pub(crate) endpoint_name: Option<String>,
    pub(crate) queue_name: Option<String>,
    pub(crate) labels: Vec<String>,
    pub(crate) caller_ip: Option<String>,
    pub(crate) flow_control_key: Option<String>,
    /// The limits it was published with (`Upstash-Flow-Control-Value`).
    pub(crate) flow_limits: Option<FlowLimits>,
    /// The schedule that produced it.
    pub(crate) schedule_id: Option<String>,
    /// What the API shows hashed; deliveries use the real values.
    pub(crate) redact: Redact,
}

/// A message not yet delivered, failed or cancelled: what it is, and where
/// it stands.
#[derive(Debug, Clone)]
pub(crate) struct Message {
    pub(crate) info: Arc<MessageInfo>,
    pub(crate) retried: u32,
    pub(crate) not_before_ms: u64,
    /// Its flow-control key let it start: a slot is reserved for it.
    pub(crate) flow_admitted: bool,
    /// An attempt is on the wire.
    pub(crate) in_flight: bool,
    /// Cancelled while an attempt was on the wire: no further attempts.
    pub(crate) cancel_requested: bool,
}

/// What the destination answered on an attempt.
#[derive(Debug)]
pub(crate) struct Response {
    pub(crate) status: u16,
    pub(crate) headers: HashMap<String, Vec<String>>,
    pub(crate) body: Bytes,
}

impl Message {
    /// A new message, first due at `not_before_ms`.
    pub(crate) fn new(info: MessageInfo, not_before_ms: u64) -> Message {
        Message {
            info: Arc::new(info),
            retried: 0,
            not_before_ms,
            flow_admitted: false,
            in_flight: false,
            cancel_requested: false,
        }
    }

    pub(crate) fn view(&self) -> types::Message {
        let info = &*self.info;
        let (body, body_base64) = body_fields(&info.redact.body(&info.body));
        let limits = info.flow_limits.unwrap_or_default();
        let int = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        types::Message {
            body,
            body_base64,
            callback: info.callback.as_ref().map(|c| c.url.clone()),
            caller_ip: info.caller_ip.clone(),
            created_at: Some(ms_i64(info.created_at_ms)),
            endpoint_name: info.endpoint_name.clone(),
            failure_callback: info.failure_callback.as_ref().map(|c| c.url.clone()),
            flow_control_key: info.flow_control_key.clone(),
            header: info.shown_headers(),
            label: info.labels.first().cloned(),
            labels: info.labels.clone(),
            max_retries: Some(i64::from(info.max_retries)),
            message_id: Some(info.id.clone()),
            method: Some(info.method.to_string()),
            not_before: Some(ms_i64(self.not_before_ms)),
            parallelism: limits.parallelism.map(|p| int(p as u64)),
            period: limits.period_secs().map(int),
            queue_name: info.queue_name.clone(),
            rate: limits.rate.map(int),
            retry_delay_expression: info.retry_delay_expression(),
            schedule_id: info.schedule_id.clone(),
            topic_name: info.topic_name.clone(),
            url: Some(info.url.clone()),
            ..Default::default()
        }
    }
}

impl MessageInfo {
    pub(crate) fn header_map(&self) -> HashMap<String, Vec<String>> {
        header_map(&self.headers)
    }

    /// The headers as the API shows them.
    fn shown_headers(&self) -> HashMap<String, Vec<String>> {
        self.redact.headers(self.header_map())
    }

    pub(crate) fn retry_delay_expression(&self) -> Option<String> {
        self.retry_delay.as_ref().map(|r| r.source().to_owned())
    }

    /// A log entry in `state` at `time_ms`, with the message's settings.
    pub(crate) fn log_entry(&self, state: types::LogEntryState, time_ms: u64) -> types::LogEntry {
        let callback_headers = |c: &Option<CallbackOptions>| {
            c.as_ref()
                .map(|c| header_map(&c.forward))
                .unwrap_or_default()
        };
        types::LogEntry {
            body: Some(STANDARD.encode(self.redact.body(&self.body))),
            callback: self.callback.as_ref().map(|c| c.url.clone()),
            callback_headers: callback_headers(&self.callback),
            endpoint_name: self.endpoint_name.clone(),
            error: None,
            failure_callback: self.failure_callback.as_ref().map(|c| c.url.clone()),
            failure_callback_headers: callback_headers(&self.failure_callback),
            header: self.shown_headers(),
            label: self.labels.first().cloned(),
            labels: self.labels.clone(),
            max_retries: Some(i64::from(self.max_retries)),
            message_id: Some(self.id.clone()),
            method: Some(self.method.to_string()),
            next_delivery_time: None,
            queue_name: self.queue_name.clone(),
            response_body: None,
            response_headers: HashMap::new(),
            response_status: None,
            retry_delay_expression: self.retry_delay_expression(),
            schedule_id: self.schedule_id.clone(),
            state: Some(state),
            time: Some(ms_i64(time_ms)),
            timeout: self
                .timeout
                .map(|t| i64::try_from(t.as_millis()).unwrap_or(i64::MAX)),
            topic_name: self.topic_name.clone(),
            url: Some(self.url.clone()),
            ..Default::default()
        }
    }
}

/// Header names as QStash shows them: `Content-Type`, `X-Trace`.
pub(crate) fn header_map(headers: &[(HeaderName, HeaderValue)]) -> HashMap<String, Vec<String>> {
    let mut map: HashMap<String, Vec<String>> = HashMap::new();
    for (name, value) in headers {
        map.entry(canonical(name.as_str()))
            .or_default()
            .push(String::from_utf8_lossy(value.as_bytes()).into_owned());
    }
    map
}

fn canonical(name: &str) -> String {
    name.split('-')
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .collect::<Vec<_>>()
        .join("-")
}

/// `body` when it is UTF-8, `bodyBase64` otherwise, as the API reports it.
pub(crate) fn body_fields(body: &[u8]) -> (Option<String>, Option<String>) {
    match std::str::from_utf8(body) {
        Ok(text) => (Some(text.to_owned()), None),
        Err(_) => (None, Some(STANDARD.encode(body))),
    }
}

pub(crate) fn ms_i64(ms: u64) -> i64 {
    i64::try_from(ms).unwrap_or(i64::MAX)
}
