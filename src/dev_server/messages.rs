//! Getting and cancelling messages that are not delivered yet.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::Uri;

use super::error::ApiError;
use super::query::{Filter, Query};
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

pub(crate) async fn cancel(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
) -> Result<(), ApiError> {
    let now = shared.clock.now_ms();
    let mut state = shared.lock();
    if cancel_one(&mut state, &id, now) {
        Ok(())
    } else {
        Err(ApiError::not_found(format!("message {id} not found")))
    }
}

/// `DELETE /v2/messages`: the ids given, else the messages matching the
/// filters (with no filter at all, every message, as QStash does), at most
/// `count`.
pub(crate) async fn cancel_many(
    State(shared): State<Arc<Shared>>,
    uri: Uri,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<types::CancelMessagesResponse>, ApiError> {
    let mut query = Query::from_uri(&uri);
    query.merge_json_body(&body.map_err(|e| ApiError::new(e.status(), e.body_text()))?)?;
    let ids = query.values("messageIds");
    let filter = Filter::parse(&query)?;
    let limit = query.count(usize::MAX, 500).map(|n| n.max(1))?;
    let now = shared.clock.now_ms();
    let mut state = shared.lock();
    let mut selected: Vec<(u64, String)> = state
        .messages
        .values()
        .filter(|m| {
            if ids.is_empty() {
                filter.matches(m, None)
            } else {
                ids.contains(&m.id)
            }
        })
        .map(|m| (m.created_at_ms, m.id.clone()))
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
fn cancel_one(state: &mut Store, id: &str, now: u64) -> bool {
    let Some(message) = state.messages.get_mut(id) else {
        return false;
    };
    if message.in_flight {
        message.cancel_requested = true;
        let entry = message.log(LogEntryState::CancelRequested, now);
        state.log(entry);
    } else if let Some(message) = state.messages.remove(id) {
        state.release(&message);
        if let (true, Some(key)) = (message.flow_admitted, &message.flow_control_key) {
            state.flow_finished(key, now);
        }
        state.log(message.log(LogEntryState::CancelRequested, now));
        state.log(message.log(LogEntryState::Cancelled, now));
    }
    true
}
