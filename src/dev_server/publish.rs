//! publish, enqueue and batch: the HTTP side of taking messages in.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Uri};

use super::error::ApiError;
use super::intake::{Published, commit, commit_all, prepare, read_body, refuse_own_delivery};
use super::limits::exceeded;
use super::names::check_name;
use super::options::Options;
use super::parse::destination_from;
use super::state::Shared;
use crate::types;

pub(crate) async fn publish(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<types::PublishMessageResponse>, ApiError> {
    let destination = destination_from(&uri, "/v2/publish/")?;
    publish_one(&shared, peer, destination, None, &headers, body)
}

pub(crate) async fn enqueue(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<types::PublishMessageResponse>, ApiError> {
    let rest = destination_from(&uri, "/v2/enqueue/")?;
    let (queue, destination) = rest
        .split_once('/')
        .filter(|(queue, destination)| !queue.is_empty() && !destination.is_empty())
        .ok_or_else(|| ApiError::bad_request("expected /v2/enqueue/<queue>/<destination>"))?;
    check_name("queue name", queue)?;
    let queue = Some(queue.to_owned());
    publish_one(&shared, peer, destination.to_owned(), queue, &headers, body)
}

fn publish_one(
    shared: &Shared,
    peer: SocketAddr,
    destination: String,
    queue: Option<String>,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<types::PublishMessageResponse>, ApiError> {
    refuse_own_delivery(shared, headers)?;
    let body = read_body(shared, body)?;
    let options = Options::parse(headers)?;
    let prepared = prepare(shared, destination, options, body, queue)?;
    // A URL group's messages come as a bare array, as QStash sends them
    // (and the official SDKs read them).
    Ok(Json(match commit(shared, prepared, Some(peer))? {
        Published::Single(response) => types::PublishMessageResponse::PublishResponse(response),
        Published::Group(list) => types::PublishMessageResponse::UrlGroupList(list),
    }))
}

pub(crate) async fn batch(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Vec<types::BatchMessagesResponseItem>>, ApiError> {
    refuse_own_delivery(&shared, &headers)?;
    let body = read_body(&shared, body)?;
    let items: Vec<types::BatchMessagesBodyItem> = serde_json::from_slice(&body).map_err(|e| {
        ApiError::bad_request(format!(
            "the body must be a JSON array of {{destination, body?, headers?, queue?}}: {e}"
        ))
    })?;
    if items.len() > shared.limits.max_batch_size {
        return Err(exceeded(
            format!(
                "the batch has {} messages, more than {}",
                items.len(),
                shared.limits.max_batch_size
            ),
            "max-batch-size",
        ));
    }
    // Every item is checked before any is stored: a bad item fails the batch.
    let mut prepared = Vec::with_capacity(items.len());
    for (index, item) in items.into_iter().enumerate() {
        let mut headers = HeaderMap::new();
        for (name, value) in &item.headers {
            let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
                ApiError::bad_request(format!("item {index}: invalid header name `{name}`"))
            })?;
            let value = HeaderValue::from_str(value).map_err(|_| {
                ApiError::bad_request(format!("item {index}: invalid value for header {name}"))
            })?;
            headers.append(name, value);
        }
        let at = |e: ApiError| ApiError::new(e.status, format!("item {index}: {}", e.message));
        let options = Options::parse(&headers).map_err(at)?;
        if let Some(queue) = &item.queue {
            check_name("queue name", queue).map_err(at)?;
        }
        let body = Bytes::from(item.body.unwrap_or_default());
        prepared.push(prepare(&shared, item.destination, options, body, item.queue).map_err(at)?);
    }
    let answers = commit_all(&shared, prepared, Some(peer))?
        .into_iter()
        .map(|published| match published {
            Published::Single(response) => {
                types::BatchMessagesResponseItem::PublishResponse(response)
            }
            Published::Group(list) => types::BatchMessagesResponseItem::UrlGroupList(list),
        })
        .collect();
    Ok(Json(answers))
}
