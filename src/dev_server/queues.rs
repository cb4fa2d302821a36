//! Queues: upsert, get, list (with lag), pause, resume, delete. Delivery
//! order and parallelism are kept by [`State`](super::state::State).

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use serde_json::Value;

use super::error::ApiError;
use super::limits::exceeded;
use super::log_store::LogRecord;
use super::message::ms_i64;
use super::names::check_name;
use super::state::{Queue, Shared, State as Store};
use crate::types::{self, LogEntryState};

fn view(state: &Store, name: &str, queue: &Queue) -> types::Queue {
    let waiting = queue
        .waiting
        .iter()
        .filter(|id| state.messages.contains_key(*id))
        .count();
    types::Queue {
        created_at: Some(ms_i64(queue.created_at_ms)),
        lag: Some(i64::try_from(waiting + queue.active.len()).unwrap_or(i64::MAX)),
        name: Some(name.to_owned()),
        parallelism: Some(i64::try_from(queue.parallelism).unwrap_or(i64::MAX)),
        paused: Some(queue.paused),
        updated_at: Some(ms_i64(queue.updated_at_ms)),
        ..Default::default()
    }
}

/// `POST /v2/queues` with `{"queueName": ..., "parallelism": ..., "paused": ...}`;
/// `paused`, as the official SDKs send it, pauses or resumes the queue.
pub(crate) async fn upsert(
    State(shared): State<Arc<Shared>>,
    body: Result<Bytes, BytesRejection>,
) -> Result<(), ApiError> {
    let body = body.map_err(|e| ApiError::new(e.status(), e.body_text()))?;
    let usage = "the body must be {\"queueName\": <name>, \"parallelism\": <at least 1>, \
                 \"paused\": <true or false>}";
    let value: Value = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("{usage}: {e}")))?;
    let name = value["queueName"]
        .as_str()
        .ok_or_else(|| ApiError::bad_request(format!("{usage}: queueName is missing")))?;
    check_name("queue name", name)?;
    let parallelism = match &value["parallelism"] {
        Value::Null => 1,
        number => number
            .as_u64()
            .filter(|n| *n >= 1)
            .and_then(|n| usize::try_from(n).ok())
            .ok_or_else(|| {
                ApiError::bad_request(format!("{usage}: parallelism must be at least 1"))
            })?,
    };
    let paused = match &value["paused"] {
        Value::Null => None,
        Value::Bool(paused) => Some(*paused),
        _ => {
            return Err(ApiError::bad_request(format!(
                "{usage}: paused must be true or false"
            )));
        }
    };
    let now = shared.clock.now_ms();
    let mut state = shared.lock();
    let max = shared.limits.max_queues;
    if !state.queues.contains_key(name) && state.queues.len() >= max {
        return Err(exceeded(
            format!("queue `{name}` would be one more than the {max} queues allowed"),
            "max-queues",
        ));
    }
    let queue = state
        .queues
        .entry(name.to_owned())
        .or_insert_with(|| Queue::new(now, parallelism));
    queue.parallelism = parallelism;
    if let Some(paused) = paused {
        queue.paused = paused;
    }
    queue.updated_at_ms = now;
    state.pump_queue(name);
    Ok(())
}

pub(crate) async fn list(State(shared): State<Arc<Shared>>) -> Json<Vec<types::Queue>> {
    let state = shared.lock();
    Json(
        state
            .queues
            .iter()
            .map(|(name, queue)| view(&state, name, queue))
            .collect(),
    )
}

pub(crate) async fn get(
    State(shared): State<Arc<Shared>>,
    Path(name): Path<String>,
) -> Result<Json<types::Queue>, ApiError> {
    check_name("queue name", &name)?;
    let state = shared.lock();
    state
        .queues
        .get(&name)
        .map(|queue| Json(view(&state, &name, queue)))
        .ok_or_else(|| ApiError::not_found(format!("queue `{name}` not found")))
}

/// Deletes the queue and cancels its messages that have not started; those
/// on the wire or waiting for a retry finish as they would have. Deleting
/// a queue that does not exist is not an error: the outcome is the same.
pub(crate) async fn delete(
    State(shared): State<Arc<Shared>>,
    Path(name): Path<String>,
) -> Result<(), ApiError> {
    check_name("queue name", &name)?;
    let now = shared.clock.now_ms();
    let mut state = shared.lock();
    let Some(queue) = state.queues.remove(&name) else {
        return Ok(());
    };
    for id in queue.waiting {
        if let Some(message) = state.messages.remove(&id) {
            state.log(LogRecord::new(
                &message.info,
                LogEntryState::CancelRequested,
                now,
            ));
            state.log(LogRecord::new(&message.info, LogEntryState::Cancelled, now));
        }
    }
    Ok(())
}

/// Stops giving slots to waiting messages; new ones are still accepted.
pub(crate) async fn pause(
    State(shared): State<Arc<Shared>>,
    Path(name): Path<String>,
) -> Result<(), ApiError> {
    set_paused(&shared, &name, true)
}

/// Starts giving slots again, oldest message first.
pub(crate) async fn resume(
    State(shared): State<Arc<Shared>>,
    Path(name): Path<String>,
) -> Result<(), ApiError> {
    set_paused(&shared, &name, false)
}

fn set_paused(shared: &Shared, name: &str, paused: bool) -> Result<(), ApiError> {
    check_name("queue name", name)?;
    let now = shared.clock.now_ms();
    let mut state = shared.lock();
    let queue = state
        .queues
        .get_mut(name)
        .ok_or_else(|| ApiError::not_found(format!("queue `{name}` not found")))?;
    if queue.paused != paused {
        queue.paused = paused;
        queue.updated_at_ms = now;
    }
    state.pump_queue(name);
    Ok(())
}
