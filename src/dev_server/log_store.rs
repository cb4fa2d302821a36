//! The logs: every state change of every message, kept by count and by
//! age (oldest dropped first). An entry holds its message by reference, so
//! a body is stored once however many entries name it.

use std::collections::VecDeque;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::limits::Retention;
use super::message::{MessageInfo, Response, ms_i64};
use crate::types::{self, LogEntryState};

/// One state change of a message.
#[derive(Debug)]
pub(crate) struct LogRecord {
    /// Its place in the whole history, from 1; a cursor names it.
    pub(crate) seq: u64,
    pub(crate) time_ms: u64,
    pub(crate) state: LogEntryState,
    pub(crate) message: Arc<MessageInfo>,
    pub(crate) error: Option<String>,
    pub(crate) next_delivery_ms: Option<u64>,
    pub(crate) response: Option<Arc<Response>>,
}

impl LogRecord {
    /// `message` reached `state` at `time_ms`.
    pub(crate) fn new(message: &Arc<MessageInfo>, state: LogEntryState, time_ms: u64) -> LogRecord {
        LogRecord {
            seq: 0,
            time_ms,
            state,
            message: Arc::clone(message),
            error: None,
            next_delivery_ms: None,
            response: None,
        }
    }

    pub(crate) fn view(&self) -> types::LogEntry {
        let mut entry = self.message.log_entry(self.state.clone(), self.time_ms);
        entry.error.clone_from(&self.error);
        entry.next_delivery_time = self.next_delivery_ms.map(ms_i64);
        if let Some(response) = &self.response {
            entry.response_status = Some(i64::from(response.status));
            entry.response_headers = response.headers.clone();
            entry.response_body = Some(STANDARD.encode(&response.body));
        }
        entry
    }

    /// The status the destination answered, on an ERROR entry.
    pub(crate) fn response_status(&self) -> Option<u16> {
        self.response.as_ref().map(|r| r.status)
    }

    /// The bytes of body its view carries, which dominate its size.
    pub(crate) fn body_bytes(&self) -> usize {
        self.message.body.len() + self.response.as_ref().map_or(0, |r| r.body.len())
    }
}

/// The retained log records, oldest first.
#[derive(Debug)]
pub(crate) struct LogStore {
    records: VecDeque<LogRecord>,
    next_seq: u64,
    retention: Retention,
}

impl LogStore {
    pub(crate) fn new(retention: Retention) -> LogStore {
        LogStore {
            records: VecDeque::new(),
            next_seq: 1,
            retention,
        }
    }

    /// Appends `record` (its `seq` assigned here) and drops what retention
    /// no longer keeps; returns the record's seq.
    pub(crate) fn push(&mut self, mut record: LogRecord, now_ms: u64) -> u64 {
        record.seq = self.next_seq;
        self.next_seq += 1;
        self.records.push_back(record);
        self.prune(now_ms);
        self.next_seq - 1
    }

    /// Drops the oldest records beyond the count, and those older than the
    /// age.
    pub(crate) fn prune(&mut self, now_ms: u64) {
        let excess = self.records.len().saturating_sub(self.retention.count);
        self.records.drain(..excess);
        let oldest = self.retention.oldest_kept_ms(now_ms);
        while self.records.front().is_some_and(|r| r.time_ms < oldest) {
            self.records.pop_front();
        }
    }

    /// The records before `cursor` (a seq; all when `None`), newest first.
    pub(crate) fn newest_before(&self, cursor: Option<u64>) -> impl Iterator<Item = &LogRecord> {
        let end = match cursor {
            Some(seq) => self.position(seq),
            None => self.records.len(),
        };
        self.records.range(..end).rev()
    }

    /// The records from seq `from` on, oldest first.
    pub(crate) fn since(&self, from: u64) -> impl Iterator<Item = &LogRecord> {
        self.records.range(self.position(from)..)
    }

    /// The seq the next record will get.
    pub(crate) fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// Every record, oldest first.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &LogRecord> {
        self.records.iter()
    }

    /// Where the record `seq` is, or would be: seqs are consecutive.
    fn position(&self, seq: u64) -> usize {
        let first = self.records.front().map_or(self.next_seq, |r| r.seq);
        usize::try_from(seq.saturating_sub(first))
            .unwrap_or(usize::MAX)
            .min(self.records.len())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::dev_server::message::{Kind, MessageInfo};

    fn info() -> Arc<MessageInfo> {
        Arc::new(MessageInfo {
            id: "msg_1".into(),
            kind: Kind::Message,
            url: "http://127.0.0.1:9/".into(),
            method: axum::http::Method::POST,
            headers: Vec::new(),
            body: axum::body::Bytes::from_static(b"x"),
            max_retries: 0,
            retry_delay: None,
            timeout: None,
            created_at_ms: 0,
            callback: None,
            failure_callback: None,
            topic_name: None,
            endpoint_name: None,
            queue_name: None,
            labels: Vec::new(),
            caller_ip: None,
            flow_control_key: None,
            flow_limits: None,
            schedule_id: None,
            redact: Default::default(),
        })
    }

    #[test]
    fn retention_drops_the_oldest_by_count_and_by_age() {
        let mut store = LogStore::new(Retention {
            count: 3,
            age: Duration::from_millis(100),
        });
        let message = info();
        for time in 0..5 {
            store.push(LogRecord::new(&message, LogEntryState::Created, time), time);
        }
        let kept: Vec<u64> = store.iter().map(|r| r.seq).collect();
        assert_eq!(kept, [3, 4, 5]);
        // The cursor of a record still kept finds what is older than it.
        let older: Vec<u64> = store.newest_before(Some(5)).map(|r| r.seq).collect();
        assert_eq!(older, [4, 3]);
        // Past their age, records go even under the count.
        store.prune(103);
        let kept: Vec<u64> = store.iter().map(|r| r.seq).collect();
        assert_eq!(kept, [4, 5]);
        assert_eq!(store.since(5).count(), 1);
        assert_eq!(store.since(1).count(), 2);
        // Every record shares the one message (and its body).
        assert_eq!(Arc::strong_count(&message), 3);
    }
}
