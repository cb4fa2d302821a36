//! A schedule: a cron expression (with an optional `CRON_TZ=` zone), the
//! message it publishes at each occurrence, and where it stands.

use axum::body::Bytes;
use axum::http::Method;
use axum::http::header::CONTENT_TYPE;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use croner::Cron;

use super::error::ApiError;
use super::message::{DEFAULT_RETRIES, body_fields, header_map, ms_i64};
use super::options::Options;
use crate::types::{self, LogEntryState};

/// A schedule as the server keeps it.
pub(crate) struct Schedule {
    pub(crate) cron_source: String,
    cron: Cron,
    zone: Tz,
    pub(crate) destination: String,
    pub(crate) options: Options,
    pub(crate) body: Bytes,
    /// `Upstash-Queue-Name`: its messages are enqueued there.
    pub(crate) queue_name: Option<String>,
    pub(crate) created_at_ms: u64,
    pub(crate) caller_ip: Option<String>,
    pub(crate) paused: bool,
    pub(crate) last_ms: Option<u64>,
    pub(crate) next_ms: Option<u64>,
    /// The messages of the last firing and the latest state of each, kept
    /// up to date as they are logged.
    pub(crate) last_states: Vec<(String, LogEntryState)>,
}

/// What a schedule is made of, checked, before it is stored.
pub(crate) struct NewSchedule {
    pub(crate) cron_source: String,
    pub(crate) destination: String,
    pub(crate) options: Options,
    pub(crate) body: Bytes,
    pub(crate) queue_name: Option<String>,
    pub(crate) caller_ip: Option<String>,
}

impl Schedule {
    /// A schedule created at `now_ms`; its cron expression is checked.
    pub(crate) fn new(new: NewSchedule, now_ms: u64) -> Result<Schedule, ApiError> {
        let (cron, zone) = parse_cron(&new.cron_source)?;
        let mut schedule = Schedule {
            cron_source: new.cron_source,
            cron,
            zone,
            destination: new.destination,
            options: new.options,
            body: new.body,
            queue_name: new.queue_name,
            created_at_ms: now_ms,
            caller_ip: new.caller_ip,
            paused: false,
            last_ms: None,
            next_ms: None,
            last_states: Vec::new(),
        };
        schedule.next_ms = schedule.next_after(now_ms);
        Ok(schedule)
    }

    /// The first occurrence strictly after `after_ms`, in unix milliseconds.
    pub(crate) fn next_after(&self, after_ms: u64) -> Option<u64> {
        let utc = DateTime::<Utc>::from_timestamp_millis(i64::try_from(after_ms).ok()?)?;
        let next = self
            .cron
            .find_next_occurrence(&utc.with_timezone(&self.zone), false)
            .ok()?;
        u64::try_from(next.timestamp_millis()).ok()
    }

    /// The latest occurrence at or before `at_ms`.
    pub(crate) fn latest_at_or_before(&self, at_ms: u64) -> Option<u64> {
        let utc = DateTime::<Utc>::from_timestamp_millis(i64::try_from(at_ms).ok()?)?;
        let latest = self
            .cron
            .find_previous_occurrence(&utc.with_timezone(&self.zone), true)
            .ok()?;
        u64::try_from(latest.timestamp_millis()).ok()
    }

    pub(crate) fn view(&self, id: &str) -> types::Schedule {
        let options = &self.options;
        let mut headers = options.forward.clone();
        if let Some(content_type) = &options.content_type {
            headers.push((CONTENT_TYPE, content_type.clone()));
        }
        let labels = options.labels.clone().unwrap_or_default();
        // A schedule saved without a body has none, rather than "".
        let (body, body_base64) = if self.body.is_empty() {
            (None, None)
        } else {
            body_fields(&self.body)
        };
        let limits = options.flow_control.unwrap_or_default();
        let int = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        types::Schedule {
            body,
            body_base64,
            callback: options.callback.as_ref().map(|c| c.url.clone()),
            caller_ip: self.caller_ip.clone(),
            created_at: ms_i64(self.created_at_ms),
            cron: self.cron_source.clone(),
            delay: options
                .delay
                .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX)),
            destination: self.destination.clone(),
            failure_callback: options.failure_callback.as_ref().map(|c| c.url.clone()),
            flow_control_key: options.flow_control_key.clone(),
            header: header_map(&headers),
            is_paused: self.paused,
            label: labels.first().cloned(),
            labels,
            last_schedule_states: self
                .last_states
                .iter()
                .map(|(id, state)| (id.clone(), state.to_string()))
                .collect(),
            last_schedule_time: self.last_ms.map(ms_i64),
            method: options
                .method
                .clone()
                .unwrap_or(Method::POST)
                .as_str()
                .to_owned(),
            next_schedule_time: self.next_ms.map(ms_i64),
            parallelism: limits.parallelism.map(|p| int(p as u64)),
            period: limits.period_ms.map(|ms| int(ms / 1000)),
            queue_name: self.queue_name.clone(),
            rate: limits.rate.map(int),
            retries: Some(i64::from(options.retries.unwrap_or(DEFAULT_RETRIES))),
            retry_delay_expression: options.retry_delay.as_ref().map(|r| r.source().to_owned()),
            schedule_id: id.to_owned(),
        }
    }
}

/// `CRON_TZ=<zone> <five fields>` or the five fields alone (UTC), read by
/// the parser the client checks with.
fn parse_cron(expression: &str) -> Result<(Cron, Tz), ApiError> {
    let invalid =
        |why: String| ApiError::bad_request(format!("invalid Upstash-Cron `{expression}`: {why}"));
    let parsed = crate::schedules::parse_cron(expression).map_err(invalid)?;
    let zone = match parsed.zone {
        None => Tz::UTC,
        Some(name) => name
            .parse()
            .map_err(|_| invalid(format!("unknown time zone `{name}`")))?,
    };
    Ok((parsed.cron, zone))
}
