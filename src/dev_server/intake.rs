//! Taking messages in, for publish, enqueue, batch, schedules and their
//! firings: the destination checked (a URL, or the URL group it names, and
//! never this server itself) and resolved to the URLs to deliver to, the
//! limits applied, deduplication, and the message(s) stored for the
//! scheduler.

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, Method, StatusCode};
use ring::digest;

use super::dedup::{DedupKey, Made};
use super::error::ApiError;
use super::limits::exceeded;
use super::log_store::LogRecord;
use super::message::{DEFAULT_RETRIES, Kind, Message, MessageInfo};
use super::options::Options;
use super::parse::parse_url;
use super::state::{Shared, State, random_id};
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

/// Refuses `url` if it is this server: delivering there would publish
/// again, and a URL group naming itself would loop without end.
pub(crate) fn refuse_own(shared: &Shared, what: &str, url: &str) -> Result<(), ApiError> {
    let parsed = parse_url(what, url)?;
    if shared.is_own(&parsed) {
        return Err(ApiError::bad_request(format!(
            "{what} `{url}` is this dev server itself; delivering to it would publish again \
             (a message cannot be sent to the server that delivers it)"
        )));
    }
    Ok(())
}

/// The request body, or why it could not be read (over the size limit, as
/// QStash's error naming the limit).
pub(crate) fn read_body(
    shared: &Shared,
    body: Result<Bytes, BytesRejection>,
) -> Result<Bytes, ApiError> {
    body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            shared.limits.too_large()
        } else {
            ApiError::new(e.status(), e.body_text())
        }
    })
}

/// Refuses callbacks to this server.
pub(crate) fn check_callbacks(shared: &Shared, options: &Options) -> Result<(), ApiError> {
    let callbacks = [
        ("Upstash-Callback", &options.callback),
        ("Upstash-Failure-Callback", &options.failure_callback),
    ];
    for (what, callback) in callbacks {
        if let Some(callback) = callback {
            refuse_own(shared, what, &callback.url)?;
        }
    }
    Ok(())
}

/// Refuses a request that is one of this server's own deliveries coming
/// back (it names a message whose attempt is on the wire): the last guard
/// against a destination that reaches the server under a name
/// [`Shared::is_own`] cannot know, such as a host alias.
pub(crate) fn refuse_own_delivery(shared: &Shared, headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(id) = headers
        .get("upstash-message-id")
        .and_then(|v| v.to_str().ok())
    else {
        return Ok(());
    };
    if shared
        .lock()
        .messages
        .get(id)
        .is_some_and(|message| message.in_flight)
    {
        return Err(ApiError::bad_request(format!(
            "this request is the dev server's own delivery of message {id}: its destination \
             reaches the server itself, which would deliver again without end"
        )));
    }
    Ok(())
}

/// Checks the request against the limits and its destination (a URL, or
/// the name of an existing URL group), and resolves it to the URLs to
/// deliver to.
pub(crate) fn prepare(
    shared: &Shared,
    destination: String,
    options: Options,
    body: Bytes,
    queue: Option<String>,
) -> Result<Prepared, ApiError> {
    shared.limits.check_body(body.len())?;
    shared
        .limits
        .check_options(&options, shared.clock.now_ms())?;
    check_callbacks(shared, &options)?;
    let is_url = destination.starts_with("http://") || destination.starts_with("https://");
    let targets = if is_url {
        refuse_own(shared, "destination", &destination)?;
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
        let endpoints: Vec<_> = {
            let state = shared.lock();
            let group = state.url_groups.get(&destination).ok_or_else(|| {
                ApiError::bad_request(format!("URL group `{destination}` does not exist"))
            })?;
            group.endpoints.clone()
        };
        let mut targets = Vec::with_capacity(endpoints.len());
        for endpoint in endpoints {
            let Some(url) = endpoint.url else { continue };
            refuse_own(
                shared,
                &format!("URL group `{destination}`'s endpoint"),
                &url,
            )?;
            targets.push(Target {
                url,
                topic_name: Some(destination.clone()),
                endpoint_name: endpoint.name,
            });
        }
        targets
    };
    Ok(Prepared {
        destination,
        group: !is_url,
        targets,
        options,
        // An exact copy: the request's buffer is not kept alive with it,
        // and every message, log entry and DLQ entry made from it shares it.
        body: Bytes::copy_from_slice(&body),
        queue,
        schedule_id: None,
    })
}

/// Stores the messages (or finds the ones a deduplication id already made)
/// and wakes the scheduler.
pub(crate) fn commit(
    shared: &Shared,
    prepared: Prepared,
    caller: Option<SocketAddr>,
) -> Result<Published, ApiError> {
    commit_all(shared, vec![prepared], caller).map(|mut all| all.remove(0))
}

/// Stores several requests at once (a batch): all of them, or, if one
/// would go over a limit, none.
pub(crate) fn commit_all(
    shared: &Shared,
    prepared: Vec<Prepared>,
    caller: Option<SocketAddr>,
) -> Result<Vec<Published>, ApiError> {
    let mut state = shared.lock();
    let mut new_queues: Vec<&str> = prepared
        .iter()
        .filter_map(|p| p.queue.as_deref())
        .filter(|queue| !state.queues.contains_key(*queue))
        .collect();
    new_queues.sort_unstable();
    new_queues.dedup();
    let max = shared.limits.max_queues;
    if let Some(queue) = new_queues.get(max.saturating_sub(state.queues.len())) {
        return Err(exceeded(
            format!("queue `{queue}` would be one more than the {max} queues allowed"),
            "max-queues",
        ));
    }
    let now = shared.clock.now_ms();
    Ok(prepared
        .into_iter()
        .map(|p| store(&mut state, p, caller, now))
        .collect())
}

fn store(state: &mut State, prepared: Prepared, caller: Option<SocketAddr>, now: u64) -> Published {
    let dedup_key = dedup_key(&prepared);
    if let Some(existing) = dedup_key.and_then(|key| state.dedup.find(key, now)) {
        return answer(prepared.group, existing.messages().into_iter(), true);
    }
    let options = &prepared.options;
    let due = options.due_ms(now);
    let mut headers = options.forward.clone();
    if let Some(content_type) = &options.content_type {
        headers.push((CONTENT_TYPE, content_type.clone()));
    }
    if let (Some(key), Some(limits)) = (&options.flow_control_key, options.flow_control) {
        state.configure_flow(key, limits, now);
    }
    let mut ids = Vec::with_capacity(prepared.targets.len());
    for target in prepared.targets {
        let info = MessageInfo {
            id: random_id("msg_"),
            kind: Kind::Message,
            url: target.url,
            method: options.method.clone().unwrap_or(Method::POST),
            headers: headers.clone(),
            body: prepared.body.clone(),
            max_retries: options.retries.unwrap_or(DEFAULT_RETRIES),
            retry_delay: options.retry_delay.clone(),
            timeout: options.timeout,
            created_at_ms: now,
            callback: options.callback.clone(),
            failure_callback: options.failure_callback.clone(),
            topic_name: target.topic_name,
            endpoint_name: target.endpoint_name,
            queue_name: prepared.queue.clone(),
            labels: options.labels.clone().unwrap_or_default(),
            caller_ip: caller.map(|peer| peer.ip().to_string()),
            flow_control_key: options.flow_control_key.clone(),
            flow_limits: options.flow_control,
            schedule_id: prepared.schedule_id.clone(),
            redact: options.redact.clone().unwrap_or_default(),
        };
        let message = Message::new(info, due);
        ids.push((message.info.id.clone(), message.info.url.clone()));
        state.log(LogRecord::new(&message.info, LogEntryState::Created, now));
        state.schedule(message);
    }
    if let Some(schedule) = prepared
        .schedule_id
        .as_ref()
        .and_then(|id| state.schedules.get_mut(id))
    {
        schedule.last_states = ids
            .iter()
            .map(|(id, _)| (id.clone(), LogEntryState::Created))
            .collect();
    }
    if let Some(key) = dedup_key {
        let made = match (prepared.group, ids.as_slice()) {
            (false, [(id, _)]) => Made::One(id.as_str().into()),
            _ => Made::Group(
                ids.iter()
                    .map(|(id, url)| (id.as_str().into(), url.as_str().into()))
                    .collect(),
            ),
        };
        state.dedup.insert(key, made, now);
    }
    let made = ids.iter().map(|(id, url)| (id.as_str(), url.as_str()));
    answer(prepared.group, made, false)
}

/// The answer naming the messages made, as (id, URL).
fn answer<'a>(
    group: bool,
    mut made: impl Iterator<Item = (&'a str, &'a str)>,
    deduplicated: bool,
) -> Published {
    let deduplicated = deduplicated.then_some(true);
    if group {
        Published::Group(
            made.map(|(id, url)| types::PublishToUrlGroupResponse {
                deduplicated,
                message_id: Some(id.to_owned()),
                url: Some(url.to_owned()),
                ..Default::default()
            })
            .collect(),
        )
    } else {
        let made = made.next();
        Published::Single(types::PublishResponse {
            deduplicated,
            message_id: made.map(|(id, _)| id.to_owned()),
            url: made.map(|(_, url)| url.to_owned()),
            ..Default::default()
        })
    }
}

/// The explicit deduplication id, or with content-based deduplication what
/// makes two messages the same (destination, headers, body), hashed.
fn dedup_key(prepared: &Prepared) -> Option<DedupKey> {
    let options = &prepared.options;
    let mut hash = digest::Context::new(&digest::SHA256);
    if let Some(id) = &options.dedup_id {
        hash.update(b"id\0");
        hash.update(prepared.destination.as_bytes());
        hash.update(&[0]);
        hash.update(id.as_bytes());
        return key_of(hash);
    }
    if !options.content_dedup {
        return None;
    }
    hash.update(b"content\0");
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
    key_of(hash)
}

fn key_of(hash: digest::Context) -> Option<DedupKey> {
    let digest = hash.finish();
    let first: [u8; 16] = digest.as_ref().get(..16)?.try_into().ok()?;
    Some(DedupKey::from_be_bytes(first))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::dev_server::clock::DevClock;
    use crate::dev_server::limits::Limits;
    use crate::dev_server::state::{SigningKeys, UrlGroup};
    use crate::dev_server::{DEFAULT_CURRENT_SIGNING_KEY, DEFAULT_NEXT_SIGNING_KEY, DEFAULT_TOKEN};

    fn shared() -> Shared {
        Shared::new(
            SigningKeys::new(DEFAULT_CURRENT_SIGNING_KEY, DEFAULT_NEXT_SIGNING_KEY).unwrap(),
            DevClock::manual(),
            DEFAULT_TOKEN.to_owned(),
            crate::tls::backend(reqwest::Client::builder())
                .unwrap()
                .build()
                .unwrap(),
            Limits::default(),
            SocketAddr::from(([127, 0, 0, 1], 1)),
        )
    }

    /// A 1 MiB publish to a URL group of 100 endpoints holds one copy of
    /// the body: every message and every log entry share it.
    #[test]
    fn a_body_is_stored_once_however_many_messages_and_entries_hold_it() {
        let shared = shared();
        let endpoints = (0..100)
            .map(|n| types::Endpoint {
                url: Some(format!("http://127.0.0.1:9/{n}")),
                ..Default::default()
            })
            .collect();
        shared.lock().url_groups.insert(
            "wide".to_owned(),
            UrlGroup {
                created_at_ms: 0,
                updated_at_ms: 0,
                endpoints,
            },
        );
        let request = Bytes::from(vec![b'x'; 1 << 20]);
        let prepared = prepare(
            &shared,
            "wide".to_owned(),
            Options::default(),
            request.clone(),
            None,
        )
        .unwrap();
        let Published::Group(list) = commit(&shared, prepared, None).unwrap() else {
            panic!("one message per endpoint");
        };
        assert_eq!(list.len(), 100);
        let state = shared.lock();
        let bodies: Vec<*const u8> = state
            .messages
            .values()
            .map(|m| m.info.body.as_ptr())
            .collect();
        assert_eq!(bodies.len(), 100);
        assert!(bodies.iter().all(|b| *b == bodies[0]), "one copy");
        assert_ne!(bodies[0], request.as_ptr(), "not the request's buffer");
        for record in state.logs.iter() {
            let message = &state.messages[&record.message.id];
            assert!(Arc::ptr_eq(&record.message, &message.info));
        }
    }
}
