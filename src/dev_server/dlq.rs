//! The dead-letter queue's API: list, get, delete and retry, one or many.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};

use super::dlq_store::DlqEntry;
use super::error::ApiError;
use super::intake::check_callbacks;
use super::log_store::LogRecord;
use super::message::{Message, MessageInfo};
use super::options::Options;
use super::query::{FILTERS, Filter, PAGE_BODY_BYTES, Query};
use super::state::{Shared, random_id};
use crate::types::{self, LogEntryState};

/// Page size when `count` is not given, and its maximum, as in the spec.
const PAGE: usize = 100;

/// The bulk calls' parameters: the ids, the filters, a count and a cursor.
const BULK: &[&str] = &["dlqIds", "count", "cursor"];

/// DLQ ids end with the entry's sequence number.
fn seq_of(dlq_id: &str) -> Option<u64> {
    dlq_id.rsplit_once('-')?.1.parse().ok()
}

/// The parameters of a bulk call, from the query and a JSON body alike;
/// any it does not know is refused.
fn bulk_query(uri: &Uri, body: Result<Bytes, BytesRejection>) -> Result<Query, ApiError> {
    let mut query = Query::from_uri(uri);
    query.merge_json_body(&body.map_err(|e| ApiError::new(e.status(), e.body_text()))?)?;
    query.refuse_unknown(&[FILTERS, BULK].concat())?;
    Ok(query)
}

/// The sequence numbers selected by `dlqIds`, or else by the filters, after
/// `cursor`, at most `limit` (and within the page's body bytes); and the
/// cursor to continue from if more matched.
fn select(
    shared: &Shared,
    query: &Query,
    limit: usize,
) -> Result<(Vec<u64>, Option<String>), ApiError> {
    let ids = query.values("dlqIds")?;
    let filter = Filter::parse(query)?;
    let after = query.cursor()?.unwrap_or(0);
    let mut state = shared.lock();
    state.prune(shared.clock.now_ms());
    let mut selected = state
        .dlq
        .entries
        .range(after.saturating_add(1)..)
        .filter(|(_, entry)| {
            if ids.is_empty() {
                let status = entry.response.as_ref().map(|r| r.status);
                filter.matches(
                    &entry.message.info,
                    entry.message.info.created_at_ms,
                    status,
                )
            } else {
                ids.contains(&entry.dlq_id)
            }
        });
    let mut page = Vec::new();
    let mut bytes = 0;
    while page.len() < limit && (page.is_empty() || bytes < PAGE_BODY_BYTES) {
        let Some((seq, entry)) = selected.next() else {
            break;
        };
        bytes += entry.body_bytes();
        page.push(*seq);
    }
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
        .filter_map(|seq| state.dlq.entries.get(seq))
        .map(DlqEntry::view)
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
    let mut state = shared.lock();
    state.prune(shared.clock.now_ms());
    seq_of(&dlq_id)
        .and_then(|seq| state.dlq.entries.get(&seq))
        .filter(|entry| entry.dlq_id == dlq_id)
        .map(|entry| Json(entry.view()))
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
    let query = bulk_query(&uri, body)?;
    let (page, cursor) = select(&shared, &query, query.count(PAGE, PAGE)?)?;
    let mut state = shared.lock();
    let deleted = page
        .iter()
        .filter(|seq| state.dlq.entries.remove(seq).is_some())
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
    let overrides = overrides(&shared, &headers)?;
    let entry = take(&shared, &dlq_id)?;
    let response = republish(&shared, entry.message, &overrides);
    Ok((StatusCode::CREATED, Json(response)))
}

/// The ids (in the query or, as the SDKs send them, a JSON body
/// `{"dlqIds": [...]}`) or the filters select what is retried, never more.
pub(crate) async fn retry_many(
    State(shared): State<Arc<Shared>>,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<types::RetryDlqMessagesResponse>), ApiError> {
    let overrides = overrides(&shared, &headers)?;
    let query = bulk_query(&uri, body)?;
    let (page, cursor) = select(&shared, &query, query.count(PAGE, PAGE)?)?;
    let entries: Vec<DlqEntry> = {
        let mut state = shared.lock();
        page.iter()
            .filter_map(|seq| state.dlq.entries.remove(seq))
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

/// What a retry's headers override, within the limits.
fn overrides(shared: &Shared, headers: &HeaderMap) -> Result<Options, ApiError> {
    let overrides = Options::parse(headers)?;
    shared
        .limits
        .check_options(&overrides, shared.clock.now_ms())?;
    check_callbacks(shared, &overrides)?;
    Ok(overrides)
}

fn take(shared: &Shared, dlq_id: &str) -> Result<DlqEntry, ApiError> {
    let mut state = shared.lock();
    let seq = seq_of(dlq_id)
        .filter(|seq| {
            state
                .dlq
                .entries
                .get(seq)
                .is_some_and(|e| e.dlq_id == dlq_id)
        })
        .ok_or_else(|| not_found(dlq_id))?;
    state
        .dlq
        .entries
        .remove(&seq)
        .ok_or_else(|| not_found(dlq_id))
}

fn not_found(dlq_id: &str) -> ApiError {
    ApiError::not_found(format!("message {dlq_id} not found in the DLQ"))
}

/// A new message with the same destination, body and headers (the body
/// shared, not copied), and the original settings except those the retry
/// request's headers override.
fn republish(shared: &Shared, message: Message, overrides: &Options) -> types::PublishResponse {
    let now = shared.clock.now_ms();
    let mut info: MessageInfo = (*message.info).clone();
    info.id = random_id("msg_");
    info.created_at_ms = now;
    if let Some(method) = &overrides.method {
        info.method = method.clone();
    }
    if let Some(retries) = overrides.retries {
        info.max_retries = retries;
    }
    if let Some(delay) = &overrides.retry_delay {
        info.retry_delay = Some(delay.clone());
    }
    if let Some(timeout) = overrides.timeout {
        info.timeout = Some(timeout);
    }
    if let Some(labels) = &overrides.labels {
        info.labels = labels.clone();
    }
    if overrides.callback.is_some() {
        info.callback = overrides.callback.clone();
    }
    if overrides.failure_callback.is_some() {
        info.failure_callback = overrides.failure_callback.clone();
    }
    if let Some(redact) = &overrides.redact {
        info.redact = redact.clone();
    }
    let message = Message::new(info, overrides.due_ms(now));
    let id = message.info.id.clone();
    let mut state = shared.lock();
    state.log(LogRecord::new(&message.info, LogEntryState::Created, now));
    state.schedule(message);
    types::PublishResponse {
        deduplicated: None,
        message_id: Some(id),
        url: None,
        ..Default::default()
    }
}
