//! Flow control's API: the keys listed and looked up, paused, resumed,
//! pinned, unpinned and their rate reset; and the global parallelism.
//! Admission itself is the state's ([`State`](super::state::State)).

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::Uri;

use super::error::ApiError;
use super::flow_key::{FlowKey, FlowLimits};
use super::query::Query;
use super::state::Shared;
use crate::types;

fn not_found(key: &str) -> ApiError {
    ApiError::not_found(format!("flow-control key `{key}` not found"))
}

pub(crate) async fn list(State(shared): State<Arc<Shared>>) -> Json<Vec<types::FlowControlKey>> {
    let state = shared.lock();
    Json(
        state
            .flow_keys
            .iter()
            .map(|(key, flow)| flow.view(key, state.flow_waiting(flow)))
            .collect(),
    )
}

pub(crate) async fn get(
    State(shared): State<Arc<Shared>>,
    Path(key): Path<String>,
) -> Result<Json<types::FlowControlKey>, ApiError> {
    let state = shared.lock();
    state
        .flow_keys
        .get(&key)
        .map(|flow| Json(flow.view(&key, state.flow_waiting(flow))))
        .ok_or_else(|| not_found(&key))
}

/// Runs `change` on the key (created if it is new, so a key can be paused
/// or pinned before its first message), then lets waiting messages go.
fn update(shared: &Shared, key: &str, change: impl FnOnce(&mut FlowKey, u64)) {
    let now = shared.clock.now_ms();
    let mut state = shared.lock();
    change(state.flow_key(key, now), now);
    state.pump_flow(key, now);
}

/// New messages and waiting ones are held; those on the wire finish.
pub(crate) async fn pause(State(shared): State<Arc<Shared>>, Path(key): Path<String>) {
    update(&shared, &key, |flow, _| flow.set_paused(true));
}

pub(crate) async fn resume(State(shared): State<Arc<Shared>>, Path(key): Path<String>) {
    update(&shared, &key, |flow, _| flow.set_paused(false));
}

/// `?parallelism=&rate=&period=` (seconds): fixed until unpinned; resets
/// the rate period.
pub(crate) async fn pin(
    State(shared): State<Arc<Shared>>,
    Path(key): Path<String>,
    uri: Uri,
) -> Result<(), ApiError> {
    let query = Query::from_uri(&uri);
    let positive = |name: &str| -> Result<Option<u64>, ApiError> {
        match query.number(name)? {
            Some(0) => Err(ApiError::bad_request(format!("{name} must be at least 1"))),
            other => Ok(other),
        }
    };
    let parallelism = positive("parallelism")?;
    let rate = positive("rate")?;
    let period = positive("period")?;
    if period.is_some() && rate.is_none() {
        return Err(ApiError::bad_request("period needs a rate"));
    }
    let limits = FlowLimits {
        parallelism: parallelism.map(|p| usize::try_from(p).unwrap_or(usize::MAX)),
        rate,
        period_ms: period.map(|s| s.saturating_mul(1000)),
    };
    update(&shared, &key, |flow, now| flow.pin(limits, now));
    Ok(())
}

/// `?parallelism=true&rate=true`: which pins to remove. The settings stay
/// until a new message brings others.
pub(crate) async fn unpin(
    State(shared): State<Arc<Shared>>,
    Path(key): Path<String>,
    uri: Uri,
) -> Result<(), ApiError> {
    let query = Query::from_uri(&uri);
    let flag = |name: &str| match query.one(name)? {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(other) => Err(ApiError::bad_request(format!(
            "{name} must be true or false, got `{other}`"
        ))),
    };
    let (parallelism, rate) = (flag("parallelism")?, flag("rate")?);
    let mut state = shared.lock();
    // Unpinning a key that does not exist leaves nothing pinned: done.
    if let Some(flow) = state.flow_keys.get_mut(&key) {
        flow.unpin(parallelism, rate);
    }
    Ok(())
}

/// Ends the current rate period now: the count starts again from 0.
pub(crate) async fn reset_rate(State(shared): State<Arc<Shared>>, Path(key): Path<String>) {
    update(&shared, &key, |flow, now| flow.reset_rate(now));
}

/// Deliveries of flow-controlled messages in flight now, over every key.
/// The dev server has no plan, so no global maximum: `parallelismMax` is
/// left out.
pub(crate) async fn global_parallelism(
    State(shared): State<Arc<Shared>>,
) -> Json<types::GetGlobalParallelismResponse> {
    let state = shared.lock();
    let count: usize = state.flow_keys.values().map(|f| f.in_flight).sum();
    Json(types::GetGlobalParallelismResponse {
        parallelism_count: Some(i64::try_from(count).unwrap_or(i64::MAX)),
        parallelism_max: None,
        ..Default::default()
    })
}
