//! publish, enqueue and batch: checking the request, deduplication, URL-group
//! fan-out, and storing the message(s) for the scheduler.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, Uri};
use ring::digest;

use super::error::ApiError;
use super::message::{DEFAULT_RETRIES, Kind, Message};
use super::options::{Options, parse_url};
use super::state::{DEDUP_WINDOW_MS, Dedup, Shared, random_id};
use crate::types::{self, LogEntryState};

/// Where one message goes: a URL, with its URL group and endpoint name when
/// it came from one.
struct Target {
    url: String,
    topic_name: Option<String>,
    endpoint_name: Option<String>,
}

/// A checked request, ready to store.
pub(crate) struct Prepared {
    destination: String,
    group: bool,
    targets: Vec<Target>,
    options: Options,
    body: Bytes,
    queue: Option<String>,
    schedule_id: Option<String>,
}

impl Prepared {
    /// The message(s) of a schedule firing: they carry its id.
    pub(crate) fn fired_by(mut self, schedule_id: &str) -> Prepared {
        self.schedule_id = Some(schedule_id.to_owned());
        self
    }
}

/// What a publish answers: one message, or one per URL-group endpoint.
pub(crate) enum Published {
    Single(types::PublishResponse),
    Group(Vec<types::PublishToUrlGroupResponse>),
}

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
    super::queues::check_name(queue)?;
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
    let body = body.map_err(|e| ApiError::new(e.status(), e.body_text()))?;
    let options = Options::parse(headers)?;
    let prepared = prepare(shared, destination, options, body, queue)?;
    Ok(Json(match commit(shared, prepared, Some(peer)) {
        Published::Single(response) => types::PublishMessageResponse::PublishResponse(response),
        Published::Group(messages) => types::PublishMessageResponse::UrlGroupMessages { messages },
    }))
}

pub(crate) async fn batch(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Vec<types::BatchMessagesResponseItem>>, ApiError> {
    let body = body.map_err(|e| ApiError::new(e.status(), e.body_text()))?;
    let items: Vec<types::BatchMessagesBodyItem> = serde_json::from_slice(&body).map_err(|e| {
        ApiError::bad_request(format!(
            "the body must be a JSON array of {{destination, body?, headers?, queue?}}: {e}"
        ))
    })?;
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
            super::queues::check_name(queue).map_err(at)?;
        }
        let body = Bytes::from(item.body.unwrap_or_default());
        prepared.push(prepare(&shared, item.destination, options, body, item.queue).map_err(at)?);
    }
    let answers = prepared
        .into_iter()
        .map(|p| match commit(&shared, p, Some(peer)) {
            Published::Single(response) => {
                types::BatchMessagesResponseItem::PublishResponse(response)
            }
            Published::Group(list) => types::BatchMessagesResponseItem::UrlGroupList(list),
        })
        .collect();
    Ok(Json(answers))
}

/// The destination from the request line, kept as the official SDKs send it
/// (unencoded, its own `?query` becoming the request's); a percent-encoded
/// one is decoded.
pub(crate) fn destination_from(uri: &Uri, prefix: &str) -> Result<String, ApiError> {
    let raw = uri.path().strip_prefix(prefix).unwrap_or_default();
    let mut destination = if raw.contains("://") {
        raw.to_owned()
    } else {
        percent_decode(raw)?
    };
    let query: Vec<&str> = uri
        .query()
        .unwrap_or_default()
        .split('&')
        .filter(|pair| !pair.is_empty() && !pair.starts_with("qstash_token="))
        .collect();
    if !query.is_empty() {
        destination.push('?');
        destination.push_str(&query.join("&"));
    }
    if destination.is_empty() {
        return Err(ApiError::bad_request("no destination given"));
    }
    Ok(destination)
}

fn percent_decode(raw: &str) -> Result<String, ApiError> {
    percent_encoding::percent_decode_str(raw)
        .decode_utf8()
        .map(|decoded| decoded.into_owned())
        .map_err(|_| ApiError::bad_request("the destination is not UTF-8 once decoded"))
}

/// Checks the destination (a URL, or the name of an existing URL group)
/// and resolves it to the URLs to deliver to.
pub(crate) fn prepare(
    shared: &Shared,
    destination: String,
    options: Options,
    body: Bytes,
    queue: Option<String>,
) -> Result<Prepared, ApiError> {
    let is_url = destination.starts_with("http://") || destination.starts_with("https://");
    let targets = if is_url {
        parse_url("destination", &destination)?;
        vec![Target {
            url: destination.clone(),
            topic_name: None,
            endpoint_name: None,
        }]
    } else if destination.contains(['/', ':', '?']) {
        return Err(ApiError::bad_request(format!(
            "invalid destination `{destination}`: not an http(s) URL nor a URL group name"
        )));
    } else {
        let state = shared.lock();
        let group = state.url_groups.get(&destination).ok_or_else(|| {
            ApiError::bad_request(format!("URL group `{destination}` does not exist"))
        })?;
        group
            .endpoints
            .iter()
            .filter_map(|endpoint| {
                Some(Target {
                    url: endpoint.url.clone()?,
                    topic_name: Some(destination.clone()),
                    endpoint_name: endpoint.name.clone(),
                })
            })
            .collect()
    };
    Ok(Prepared {
        destination,
        group: !is_url,
        targets,
        options,
        body,
        queue,
        schedule_id: None,
    })
}

/// Stores the messages (or finds the ones a deduplication id already made)
/// and wakes the scheduler.
pub(crate) fn commit(shared: &Shared, prepared: Prepared, caller: Option<SocketAddr>) -> Published {
    let now = shared.clock.now_ms();
    let dedup_key = dedup_key(&prepared);
    let mut state = shared.lock();
    state.expire_dedup(now);
    if let Some(existing) = dedup_key.as_ref().and_then(|key| state.dedup.get(key)) {
        return answer(prepared.group, &existing.message_ids, true);
    }
    let options = &prepared.options;
    let due = match (options.not_before, options.delay) {
        (Some(secs), _) => secs.saturating_mul(1000),
        (None, Some(delay)) => {
            now.saturating_add(u64::try_from(delay.as_millis()).unwrap_or(u64::MAX))
        }
        (None, None) => now,
    };
    let mut headers = options.forward.clone();
    if let Some(content_type) = &options.content_type {
        headers.push((CONTENT_TYPE, content_type.clone()));
    }
    if let (Some(key), Some(limits)) = (&options.flow_control_key, options.flow_control) {
        state.configure_flow(key, limits, now);
    }
    let mut ids = Vec::with_capacity(prepared.targets.len());
    for target in prepared.targets {
        let message = Message {
            id: random_id("msg_"),
            kind: Kind::Message,
            url: target.url,
            method: options.method.clone().unwrap_or(Method::POST),
            headers: headers.clone(),
            body: prepared.body.clone(),
            max_retries: options.retries.unwrap_or(DEFAULT_RETRIES),
            retried: 0,
            retry_delay: options.retry_delay.clone(),
            timeout: options.timeout,
            not_before_ms: due,
            created_at_ms: now,
            callback: options.callback.clone(),
            failure_callback: options.failure_callback.clone(),
            topic_name: target.topic_name,
            endpoint_name: target.endpoint_name,
            queue_name: prepared.queue.clone(),
            labels: options.labels.clone().unwrap_or_default(),
            caller_ip: caller.map(|peer| peer.ip().to_string()),
            flow_control_key: options.flow_control_key.clone(),
            schedule_id: prepared.schedule_id.clone(),
            redact: options.redact.clone().unwrap_or_default(),
            flow_admitted: false,
            in_flight: false,
            cancel_requested: false,
        };
        ids.push((message.id.clone(), message.url.clone()));
        state.log(message.log(LogEntryState::Created, now));
        state.schedule(message, due);
    }
    if let Some(key) = dedup_key {
        let entry = Dedup {
            expires_ms: now.saturating_add(DEDUP_WINDOW_MS),
            message_ids: ids.clone(),
        };
        state.dedup.insert(key, entry);
    }
    answer(prepared.group, &ids, false)
}

fn answer(group: bool, ids: &[(String, String)], deduplicated: bool) -> Published {
    let deduplicated = deduplicated.then_some(true);
    if group {
        Published::Group(
            ids.iter()
                .map(|(id, url)| types::PublishToUrlGroupResponse {
                    deduplicated,
                    message_id: Some(id.clone()),
                    url: Some(url.clone()),
                    ..Default::default()
                })
                .collect(),
        )
    } else {
        let (id, url) = ids.first().cloned().unzip();
        Published::Single(types::PublishResponse {
            deduplicated,
            message_id: id,
            url,
            ..Default::default()
        })
    }
}

/// The explicit deduplication id, or with content-based deduplication a
/// hash of what makes two messages the same: destination, headers, body.
fn dedup_key(prepared: &Prepared) -> Option<String> {
    let options = &prepared.options;
    if let Some(id) = &options.dedup_id {
        return Some(format!("id:{}:{id}", prepared.destination));
    }
    if !options.content_dedup {
        return None;
    }
    let mut hash = digest::Context::new(&digest::SHA256);
    hash.update(prepared.destination.as_bytes());
    hash.update(&[0]);
    let mut headers: Vec<_> = options.forward.iter().collect();
    headers.sort_by(|a, b| (a.0.as_str(), a.1.as_bytes()).cmp(&(b.0.as_str(), b.1.as_bytes())));
    for (name, value) in headers {
        hash.update(name.as_str().as_bytes());
        hash.update(b":");
        hash.update(value.as_bytes());
        hash.update(&[0]);
    }
    if let Some(content_type) = &options.content_type {
        hash.update(content_type.as_bytes());
    }
    hash.update(&[0]);
    hash.update(&prepared.body);
    let digest = hash.finish();
    Some(format!(
        "content:{}",
        digest
            .as_ref()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    ))
}
