//! The dead-letter queue: messages whose retries ran out.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};

use super::error::ApiError;
use super::message::{Message, body_fields};
use super::options::Options;
use super::query::{Filter, Query};
use super::state::{DlqEntry, Shared, random_id};
use crate::types::{self, LogEntryState};

/// Page size when `count` is not given, and its maximum, as in the spec.
const PAGE: usize = 100;

fn view(entry: &DlqEntry) -> types::DlqMessage {
    let m = entry.message.view();
    let response = entry.response.as_ref();
    let (response_body, response_body_base64) =
        response.map(|r| body_fields(&r.body)).unwrap_or_default();
    types::DlqMessage {
        body: m.body,
        body_base64: m.body_base64,
        callback: m.callback,
        caller_ip: m.caller_ip,
        created_at: m.created_at,
        dlq_id: Some(entry.dlq_id.clone()),
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
        parallelism: None,
        period: None,
        queue_name: m.queue_name,
        rate: None,
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

/// DLQ ids end with the entry's sequence number.
fn seq_of(dlq_id: &str) -> Option<u64> {
    dlq_id.rsplit_once('-')?.1.parse().ok()
}

/// The sequence numbers selected by `dlqIds`, or else by the filters, after
/// `cursor`; and whether more matched than `limit`.
fn select(
    shared: &Shared,
    query: &Query,
    limit: usize,
) -> Result<(Vec<u64>, Option<String>), ApiError> {
    let ids = query.values("dlqIds");
    let filter = Filter::parse(query)?;
    let after = query.cursor()?.unwrap_or(0);
    let state = shared.lock();
    let mut selected = state
        .dlq
        .range(after.saturating_add(1)..)
        .filter(|(_, entry)| {
            if ids.is_empty() {
                filter.matches(&entry.message, entry.response.as_ref().map(|r| r.status))
            } else {
                ids.contains(&entry.dlq_id)
            }
        });
    let page: Vec<u64> = selected.by_ref().take(limit).map(|(seq, _)| *seq).collect();
    let cursor = match (selected.next(), page.last()) {
        (Some(_), Some(last)) => Some(last.to_string()),
        _ => None,
    };
    Ok((page, cursor))
}

pub(crate) async fn list(
    State(shared): State<Arc<Shared>>,
    uri: Uri,
) -> Result<Json<types::ListDlqMessagesResponse>, ApiError> {
    let query = Query::from_uri(&uri);
    let (page, cursor) = select(&shared, &query, query.count(PAGE, PAGE)?)?;
    let state = shared.lock();
    let messages = page
        .iter()
        .filter_map(|seq| state.dlq.get(seq))
        .map(view)
        .collect();
    Ok(Json(types::ListDlqMessagesResponse {
        cursor,
        messages,
        ..Default::default()
    }))
}

pub(crate) async fn get(
    State(shared): State<Arc<Shared>>,
    Path(dlq_id): Path<String>,
) -> Result<Json<types::DlqMessage>, ApiError> {
    let state = shared.lock();
    seq_of(&dlq_id)
        .and_then(|seq| state.dlq.get(&seq))
        .filter(|entry| entry.dlq_id == dlq_id)
        .map(|entry| Json(view(entry)))
        .ok_or_else(|| not_found(&dlq_id))
}

pub(crate) async fn delete(
    State(shared): State<Arc<Shared>>,
    Path(dlq_id): Path<String>,
) -> Result<(), ApiError> {
    take(&shared, &dlq_id).map(drop)
}

pub(crate) async fn delete_many(
    State(shared): State<Arc<Shared>>,
    uri: Uri,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<types::DeleteDlqMessagesResponse>, ApiError> {
    let mut query = Query::from_uri(&uri);
    query.merge_json_body(&body.map_err(|e| ApiError::new(e.status(), e.body_text()))?)?;
    let (page, cursor) = select(&shared, &query, query.count(PAGE, PAGE)?)?;
    let mut state = shared.lock();
    let deleted = page
        .iter()
        .filter(|seq| state.dlq.remove(seq).is_some())
        .count();
    Ok(Json(types::DeleteDlqMessagesResponse {
        cursor,
        deleted: Some(deleted as i64),
        ..Default::default()
    }))
}

pub(crate) async fn retry(
    State(shared): State<Arc<Shared>>,
    Path(dlq_id): Path<String>,
    headers: HeaderMap,
) -> Result<(StatusCode, Json<types::PublishResponse>), ApiError> {
    let overrides = Options::parse(&headers)?;
    let entry = take(&shared, &dlq_id)?;
    let response = republish(&shared, entry.message, &overrides);
    Ok((StatusCode::CREATED, Json(response)))
}

pub(crate) async fn retry_many(
    State(shared): State<Arc<Shared>>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<(StatusCode, Json<types::RetryDlqMessagesResponse>), ApiError> {
    let overrides = Options::parse(&headers)?;
    let query = Query::from_uri(&uri);
    let (page, cursor) = select(&shared, &query, query.count(PAGE, PAGE)?)?;
    let entries: Vec<DlqEntry> = {
        let mut state = shared.lock();
        page.iter()
            .filter_map(|seq| state.dlq.remove(seq))
            .collect()
    };
    let responses = entries
        .into_iter()
        .map(|entry| republish(&shared, entry.message, &overrides))
        .collect();
    Ok((
        StatusCode::CREATED,
        Json(types::RetryDlqMessagesResponse {
            cursor,
            responses,
            ..Default::default()
        }),
    ))
}

fn take(shared: &Shared, dlq_id: &str) -> Result<DlqEntry, ApiError> {
    let mut state = shared.lock();
    let seq = seq_of(dlq_id)
        .filter(|seq| state.dlq.get(seq).is_some_and(|e| e.dlq_id == dlq_id))
        .ok_or_else(|| not_found(dlq_id))?;
    state.dlq.remove(&seq).ok_or_else(|| not_found(dlq_id))
}

fn not_found(dlq_id: &str) -> ApiError {
    ApiError::not_found(format!("message {dlq_id} not found in the DLQ"))
}

/// A new message with the same destination, body and headers, and the
/// original settings except those the retry request's headers override.
fn republish(shared: &Shared, mut message: Message, overrides: &Options) -> types::PublishResponse {
    let now = shared.clock.now_ms();
    message.id = random_id("msg_");
    message.retried = 0;
    message.created_at_ms = now;
    message.not_before_ms = match (overrides.not_before, overrides.delay) {
        (Some(secs), _) => secs.saturating_mul(1000),
        (None, Some(delay)) => {
            now.saturating_add(u64::try_from(delay.as_millis()).unwrap_or(u64::MAX))
        }
        (None, None) => now,
    };
    if let Some(method) = &overrides.method {
        message.method = method.clone();
    }
    if let Some(retries) = overrides.retries {
        message.max_retries = retries;
    }
    if let Some(delay) = &overrides.retry_delay {
        message.retry_delay = Some(delay.clone());
    }
    if let Some(timeout) = overrides.timeout {
        message.timeout = Some(timeout);
    }
    if let Some(labels) = &overrides.labels {
        message.labels = labels.clone();
    }
    if overrides.callback.is_some() {
        message.callback = overrides.callback.clone();
    }
    if overrides.failure_callback.is_some() {
        message.failure_callback = overrides.failure_callback.clone();
    }
    if let Some(redact) = &overrides.redact {
        message.redact = redact.clone();
    }
    let id = message.id.clone();
    let due = message.not_before_ms;
    let mut state = shared.lock();
    state.log(message.log(LogEntryState::Created, now));
    state.schedule(message, due);
    types::PublishResponse {
        deduplicated: None,
        message_id: Some(id),
        url: None,
        ..Default::default()
    }
}
