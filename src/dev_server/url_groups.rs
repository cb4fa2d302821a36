//! URL groups (topics): named sets of endpoints a message fans out to.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};

use super::error::ApiError;
use super::intake::refuse_own;
use super::limits::exceeded;
use super::message::ms_i64;
use super::names::check_name;
use super::state::{Shared, UrlGroup};
use crate::types;

fn view(name: &str, group: &UrlGroup) -> types::UrlGroup {
    types::UrlGroup {
        created_at: Some(ms_i64(group.created_at_ms)),
        endpoints: group.endpoints.clone(),
        name: Some(name.to_owned()),
        updated_at: Some(ms_i64(group.updated_at_ms)),
        ..Default::default()
    }
}

pub(crate) async fn list(State(shared): State<Arc<Shared>>) -> Json<Vec<types::UrlGroup>> {
    let state = shared.lock();
    Json(
        state
            .url_groups
            .iter()
            .map(|(name, group)| view(name, group))
            .collect(),
    )
}

pub(crate) async fn get(
    State(shared): State<Arc<Shared>>,
    Path(name): Path<String>,
) -> Result<Json<types::UrlGroup>, ApiError> {
    let state = shared.lock();
    state
        .url_groups
        .get(&name)
        .map(|group| Json(view(&name, group)))
        .ok_or_else(|| ApiError::not_found(format!("URL group `{name}` not found")))
}

/// Deleting a group that does not exist is not an error: the outcome is the same.
pub(crate) async fn delete(State(shared): State<Arc<Shared>>, Path(name): Path<String>) {
    shared.lock().url_groups.remove(&name);
}

fn parse_body<T: serde::de::DeserializeOwned>(
    body: Result<Bytes, BytesRejection>,
) -> Result<T, ApiError> {
    let body = body.map_err(|e| ApiError::new(e.status(), e.body_text()))?;
    serde_json::from_slice(&body).map_err(|e| {
        ApiError::bad_request(format!(
            "the body must be {{\"endpoints\": [{{\"url\": ..., \"name\": ...}}]}}: {e}"
        ))
    })
}

/// Adds endpoints, creating the group if needed; an endpoint with a URL or
/// name already in the group replaces that one. An endpoint that is this
/// server itself is refused: the group would publish to itself without end.
pub(crate) async fn upsert_endpoints(
    State(shared): State<Arc<Shared>>,
    Path(name): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<(), ApiError> {
    check_name("URL group name", &name)?;
    let body: types::UpsertUrlGroupEndpointsBody = parse_body(body)?;
    if body.endpoints.is_empty() {
        return Err(ApiError::bad_request("endpoints must not be empty"));
    }
    for endpoint in &body.endpoints {
        refuse_own(&shared, "endpoint URL", &endpoint.url)?;
    }
    let now = shared.clock.now_ms();
    let limits = &shared.limits;
    let mut state = shared.lock();
    if !state.url_groups.contains_key(&name) && state.url_groups.len() >= limits.max_url_groups {
        return Err(exceeded(
            format!(
                "URL group `{name}` would be one more than the {} URL groups allowed",
                limits.max_url_groups
            ),
            "max-url-groups",
        ));
    }
    let mut endpoints = state
        .url_groups
        .get(&name)
        .map(|group| group.endpoints.clone())
        .unwrap_or_default();
    for endpoint in body.endpoints {
        endpoints.retain(|e| {
            e.url.as_deref() != Some(endpoint.url.as_str())
                && (endpoint.name.is_none() || e.name != endpoint.name)
        });
        endpoints.push(types::Endpoint {
            name: endpoint.name,
            url: Some(endpoint.url),
            ..Default::default()
        });
    }
    if endpoints.len() > limits.max_url_group_endpoints {
        return Err(exceeded(
            format!(
                "URL group `{name}` would have {} endpoints, more than {}",
                endpoints.len(),
                limits.max_url_group_endpoints
            ),
            "max-url-group-endpoints",
        ));
    }
    let group = state.url_groups.entry(name).or_insert_with(|| UrlGroup {
        created_at_ms: now,
        updated_at_ms: now,
        endpoints: Vec::new(),
    });
    group.updated_at_ms = now;
    group.endpoints = endpoints;
    Ok(())
}

/// Removes endpoints by URL or name; a group left empty is deleted.
pub(crate) async fn remove_endpoints(
    State(shared): State<Arc<Shared>>,
    Path(name): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<(), ApiError> {
    let body: types::RemoveUrlGroupEndpointsBody = parse_body(body)?;
    if body
        .endpoints
        .iter()
        .any(|e| e.url.is_none() && e.name.is_none())
    {
        return Err(ApiError::bad_request("each endpoint needs a url or a name"));
    }
    let now = shared.clock.now_ms();
    let mut state = shared.lock();
    let group = state
        .url_groups
        .get_mut(&name)
        .ok_or_else(|| ApiError::not_found(format!("URL group `{name}` not found")))?;
    group.endpoints.retain(|existing| {
        !body.endpoints.iter().any(|gone| {
            (gone.url.is_some() && gone.url == existing.url)
                || (gone.name.is_some() && gone.name == existing.name)
        })
    });
    group.updated_at_ms = now;
    if group.endpoints.is_empty() {
        state.url_groups.remove(&name);
    }
    Ok(())
}
