//! The dead-letter queue: messages whose retries ran out, kept by count and
//! by age (oldest dropped first).

use std::collections::BTreeMap;
use std::sync::Arc;

use super::limits::Retention;
use super::message::{Message, Response, body_fields};
use crate::types;

/// A message in the DLQ and what its destination last answered.
#[derive(Debug)]
pub(crate) struct DlqEntry {
    pub(crate) dlq_id: String,
    pub(crate) message: Message,
    pub(crate) response: Option<Arc<Response>>,
    pub(crate) added_ms: u64,
}

impl DlqEntry {
    pub(crate) fn view(&self) -> types::DlqMessage {
        let m = self.message.view();
        let response = self.response.as_deref();
        let (response_body, response_body_base64) =
            response.map(|r| body_fields(&r.body)).unwrap_or_default();
        types::DlqMessage {
            body: m.body,
            body_base64: m.body_base64,
            callback: m.callback,
            caller_ip: m.caller_ip,
            created_at: m.created_at,
            dlq_id: Some(self.dlq_id.clone()),
            endpoint_name: m.endpoint_name,
            failure_callback: m.failure_callback,
            flow_control_key: m.flow_control_key,
            header: m.header,
            label: m.label,
            labels: m.labels,
            max_retries: m.max_retries,
            message_id: m.message_id,
            method: m.method,
            not_before: m.not_before,
            parallelism: m.parallelism,
            period: m.period,
            queue_name: m.queue_name,
            rate: m.rate,
            response_body,
            response_body_base64,
            response_header: response.map(|r| r.headers.clone()).unwrap_or_default(),
            response_status: response.map(|r| i64::from(r.status)),
            retry_delay_expression: m.retry_delay_expression,
            schedule_id: m.schedule_id,
            topic_name: m.topic_name,
            url: m.url,
            ..Default::default()
        }
    }

    /// The bytes of body its view carries.
    pub(crate) fn body_bytes(&self) -> usize {
        self.message.info.body.len() + self.response.as_ref().map_or(0, |r| r.body.len())
    }
}

/// The DLQ by insertion sequence; a DLQ id ends with it.
#[derive(Debug)]
pub(crate) struct DlqStore {
    pub(crate) entries: BTreeMap<u64, DlqEntry>,
    retention: Retention,
}

impl DlqStore {
    pub(crate) fn new(retention: Retention) -> DlqStore {
        DlqStore {
            entries: BTreeMap::new(),
            retention,
        }
    }

    pub(crate) fn insert(&mut self, seq: u64, entry: DlqEntry, now_ms: u64) {
        self.entries.insert(seq, entry);
        self.prune(now_ms);
    }

    /// Drops the oldest entries beyond the count, and those older than the
    /// age.
    pub(crate) fn prune(&mut self, now_ms: u64) {
        while self.entries.len() > self.retention.count {
            self.entries.pop_first();
        }
        let oldest = self.retention.oldest_kept_ms(now_ms);
        while self
            .entries
            .first_key_value()
            .is_some_and(|(_, e)| e.added_ms < oldest)
        {
            self.entries.pop_first();
        }
    }
}
