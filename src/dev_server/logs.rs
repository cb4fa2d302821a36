//! `GET /v2/logs`: every state change of every message still kept, newest
//! first, with the same filters as the DLQ (and `state`, `messageIds`).

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::Uri;

use super::error::ApiError;
use super::log_store::LogRecord;
use super::query::{Filter, PAGE_BODY_BYTES, Query};
use super::state::Shared;
use crate::types::{self, LogEntryState};

const PAGE: usize = 100;

pub(crate) async fn list(
    State(shared): State<Arc<Shared>>,
    uri: Uri,
) -> Result<Json<types::ListLogsResponse>, ApiError> {
    let query = Query::from_uri(&uri);
    let count = query.count(PAGE, PAGE)?;
    let states = query.one("state")?.map(states).transpose()?;
    let ids = query.values("messageIds")?;
    let filter = Filter::parse(&query)?;
    let cursor = query.cursor()?;
    let mut state = shared.lock();
    state.prune(shared.clock.now_ms());
    // A cursor is the seq of the oldest entry a page returned: the next
    // page is what is older.
    let mut matching = state.logs.newest_before(cursor).filter(|record| {
        states.as_ref().is_none_or(|s| s.contains(&record.state))
            && (ids.is_empty() || ids.contains(&record.message.id))
            && filter.matches(&record.message, record.time_ms, record.response_status())
    });
    let mut page: Vec<&LogRecord> = Vec::new();
    let mut bytes = 0;
    while page.len() < count && (page.is_empty() || bytes < PAGE_BODY_BYTES) {
        let Some(record) = matching.next() else {
            break;
        };
        bytes += record.body_bytes();
        page.push(record);
    }
    let cursor = match (matching.next(), page.last()) {
        (Some(_), Some(last)) => Some(last.seq.to_string()),
        _ => None,
    };
    Ok(Json(types::ListLogsResponse {
        cursor,
        logs: page.into_iter().map(LogRecord::view).collect(),
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
