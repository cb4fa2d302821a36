//! `GET /v2/logs`: every state change of every message, newest first.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::Uri;

use super::error::ApiError;
use super::query::Query;
use super::state::Shared;
use crate::types::{self, LogEntryState};

const PAGE: usize = 100;

pub(crate) async fn list(
    State(shared): State<Arc<Shared>>,
    uri: Uri,
) -> Result<Json<types::ListLogsResponse>, ApiError> {
    let query = Query::from_uri(&uri);
    let count = query.count(PAGE, PAGE)?;
    let states = match query.one("state") {
        None => None,
        Some(state) => Some(states(state)?),
    };
    let from = query.number("fromDate")?;
    let to = query.number("toDate")?;
    let labels = query.values("label");
    let field = |name: &str| query.one(name).map(String::from);
    let (message_id, url, topic, schedule, queue) = (
        field("messageId"),
        field("url"),
        field("topicName"),
        field("scheduleId"),
        field("queueName"),
    );
    let is = |filter: &Option<String>, value: &Option<String>| {
        filter.is_none() || filter.as_ref() == value.as_ref()
    };
    let state = shared.lock();
    // The cursor is the index of the newest entry not yet returned.
    let before = match query.cursor()? {
        Some(cursor) => usize::try_from(cursor)
            .unwrap_or(usize::MAX)
            .min(state.logs.len()),
        None => state.logs.len(),
    };
    let mut matching = state.logs[..before]
        .iter()
        .enumerate()
        .rev()
        .filter(|(_, entry)| {
            let time = entry.time.and_then(|t| u64::try_from(t).ok()).unwrap_or(0);
            states
                .as_ref()
                .is_none_or(|s| entry.state.as_ref().is_some_and(|e| s.contains(e)))
                && is(&message_id, &entry.message_id)
                && is(&url, &entry.url)
                && is(&topic, &entry.topic_name)
                && is(&schedule, &entry.schedule_id)
                && is(&queue, &entry.queue_name)
                && from.is_none_or(|from| time >= from)
                && to.is_none_or(|to| time <= to)
                && (labels.is_empty() || entry.labels.iter().any(|l| labels.contains(l)))
        });
    let page: Vec<(usize, &types::LogEntry)> = matching.by_ref().take(count).collect();
    let cursor = match (matching.next(), page.last()) {
        (Some(_), Some((index, _))) => Some(index.to_string()),
        _ => None,
    };
    Ok(Json(types::ListLogsResponse {
        cursor,
        logs: page.into_iter().map(|(_, entry)| entry.clone()).collect(),
        ..Default::default()
    }))
}

/// The official SDKs' form of the logs: `GET /v2/events`, answering
/// `events` where the spec's `GET /v2/logs` answers `logs`.
#[derive(serde::Serialize)]
pub(crate) struct Events {
    #[serde(skip_serializing_if = "Option::is_none")]
    cursor: Option<String>,
    events: Vec<types::LogEntry>,
}

pub(crate) async fn events(shared: State<Arc<Shared>>, uri: Uri) -> Result<Json<Events>, ApiError> {
    let Json(page) = list(shared, uri).await?;
    Ok(Json(Events {
        cursor: page.cursor,
        events: page.logs,
    }))
}

/// The states a `state` filter selects; `IN_PROGRESS` is ACTIVE, RETRY or ERROR.
fn states(name: &str) -> Result<Vec<LogEntryState>, ApiError> {
    use LogEntryState::*;
    Ok(match name {
        "CREATED" => vec![Created],
        "ACTIVE" => vec![Active],
        "RETRY" => vec![Retry],
        "ERROR" => vec![Error],
        "IN_PROGRESS" => vec![Active, Retry, Error],
        "DELIVERED" => vec![Delivered],
        "FAILED" => vec![Failed],
        "CANCEL_REQUESTED" => vec![CancelRequested],
        "CANCELLED" => vec![Cancelled],
        other => {
            return Err(ApiError::bad_request(format!(
                "unknown state `{other}`; expected CREATED, ACTIVE, RETRY, ERROR, IN_PROGRESS, \
                 DELIVERED, FAILED, CANCEL_REQUESTED or CANCELLED"
            )));
        }
    })
}
