//! Getting and cancelling messages that are not delivered yet.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::Uri;

use super::error::ApiError;
use super::log_store::LogRecord;
use super::query::{FILTERS, Filter, Query};
use super::state::{Shared, State as Store};
use crate::types::{self, LogEntryState};

pub(crate) async fn get(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
) -> Result<Json<types::Message>, ApiError> {
    let state = shared.lock();
    state
        .messages
        .get(&id)
        .map(|message| Json(message.view()))
        .ok_or_else(|| ApiError::not_found(format!("message {id} not found")))
}

/// Answers `{"cancelled": 1}`, as QStash does.
pub(crate) async fn cancel(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
) -> Result<Json<types::CancelMessagesResponse>, ApiError> {
    let now = shared.clock.now_ms();
    let mut state = shared.lock();
    if cancel_one(&mut state, &id, now) {
        Ok(Json(types::CancelMessagesResponse {
            cancelled: Some(1),
            ..Default::default()
        }))
    } else {
        Err(ApiError::not_found(format!("message {id} not found")))
    }
}

/// `DELETE /v2/messages`: the ids given, else the messages matching the
/// filters (with no filter at all, every message, as QStash does), at most
/// `count`. A parameter it does not know is refused.
pub(crate) async fn cancel_many(
    State(shared): State<Arc<Shared>>,
    uri: Uri,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<types::CancelMessagesResponse>, ApiError> {
    let mut query = Query::from_uri(&uri);
    query.merge_json_body(&body.map_err(|e| ApiError::new(e.status(), e.body_text()))?)?;
    query.refuse_unknown(&[FILTERS, &["messageIds", "count", "cursor"]].concat())?;
    let ids = query.values("messageIds")?;
    let filter = Filter::parse(&query)?;
    let limit = query.count(usize::MAX, 500)?;
    let now = shared.clock.now_ms();
    let mut state = shared.lock();
    let mut selected: Vec<(u64, String)> = state
        .messages
        .values()
        // One already cancelled on the wire is not selected (nor counted)
        // again.
        .filter(|m| !m.cancel_requested)
        .filter(|m| {
            if ids.is_empty() {
                filter.matches(&m.info, m.info.created_at_ms, None)
            } else {
                ids.contains(&m.info.id)
            }
        })
        .map(|m| (m.info.created_at_ms, m.info.id.clone()))
        .collect();
    selected.sort();
    let mut cancelled = 0;
    for (_, id) in selected.into_iter().take(limit) {
        if cancel_one(&mut state, &id, now) {
            cancelled += 1;
        }
    }
    Ok(Json(types::CancelMessagesResponse {
        cancelled: Some(cancelled),
        ..Default::default()
    }))
}

/// Drops a waiting message; one on the wire gets no further attempt.
/// Whether it was cancelled now: one already cancelled while on the wire
/// is not cancelled (nor counted) twice.
fn cancel_one(state: &mut Store, id: &str, now: u64) -> bool {
    let Some(message) = state
        .messages
        .get_mut(id)
        .filter(|message| !message.cancel_requested)
    else {
        return false;
    };
    if message.in_flight {
        message.cancel_requested = true;
        let record = LogRecord::new(&message.info, LogEntryState::CancelRequested, now);
        state.log(record);
    } else if let Some(message) = state.messages.remove(id) {
        state.release(&message);
        if let (true, Some(key)) = (message.flow_admitted, &message.info.flow_control_key) {
            state.flow_finished(key, now);
        }
        state.log(LogRecord::new(
            &message.info,
            LogEntryState::CancelRequested,
            now,
        ));
        state.log(LogRecord::new(&message.info, LogEntryState::Cancelled, now));
    }
    true
}
