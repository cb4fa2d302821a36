//! The scheduler: fires due schedules, sends each due message to its
//! destination, then records the outcome, retries with backoff, moves
//! exhausted messages to the DLQ and sends callbacks.

use std::sync::Arc;
use std::time::Duration;

use axum::http::header::{CONTENT_TYPE, USER_AGENT};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::dlq_store::DlqEntry;
use super::intake::{commit, prepare};
use super::log_store::LogRecord;
use super::message::{Kind, Message, MessageInfo, Response, header_map};
use super::redact::Redact;
use super::retry_delay::default_backoff;
use super::state::{Firing, Shared, State, random_id};
use crate::receiver::Signer;
use crate::types::LogEntryState;

/// How long an attempt may take when the message sets no `Upstash-Timeout`,
/// so that a destination that never answers does not hold a message forever.
const DEFAULT_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(15 * 60);

/// Runs until the server stops (the task is aborted).
///
/// A pass fires the due schedules, then starts every due attempt (the
/// firings' messages included), then sleeps until the next thing due or
/// until something else is scheduled or the clock moves. What a pass
/// schedules itself does not wake it again: a clock running a day in
/// milliseconds cannot make it spin.
pub(crate) async fn run_scheduler(shared: Arc<Shared>) {
    let mut clock = shared.clock.subscribe();
    let mut scheduled = shared.lock().scheduled.subscribe();
    loop {
        clock.borrow_and_update();
        let now = shared.clock.now_ms();
        let firings = shared.lock().due_firings(now);
        for firing in firings {
            fire(&shared, firing);
        }
        let ready = {
            let mut state = shared.lock();
            state.prune(now);
            state.wake_flows(now);
            let ready = state.take_due(now);
            // Under the lock: whatever is scheduled from here on is news.
            scheduled.borrow_and_update();
            ready
        };
        for id in ready {
            start_attempt(&shared, &id);
        }
        let next = shared.lock().next_wake();
        let wait = next.and_then(|at| shared.clock.real_wait_until(at));
        tokio::select! {
            changed = clock.changed() => if changed.is_err() { return },
            changed = scheduled.changed() => if changed.is_err() { return },
            () = sleep_or_forever(wait) => {}
        }
    }
}

async fn sleep_or_forever(wait: Option<Duration>) {
    match wait {
        Some(wait) => tokio::time::sleep(wait).await,
        None => std::future::pending().await,
    }
}

/// Publishes one occurrence's message(s), tagged with the schedule's id.
/// An occurrence that cannot be published (its URL group deleted since, a
/// limit reached) is skipped.
fn fire(shared: &Shared, firing: Firing) {
    let Firing {
        schedule_id,
        destination,
        options,
        body,
        queue_name,
    } = firing;
    if let Ok(prepared) = prepare(shared, destination, options, body, queue_name) {
        let _ = commit(shared, prepared.fired_by(&schedule_id), None);
    }
}

/// What one attempt sends, copied out under the lock so that signing and
/// building the request happen in the attempt's own task, in parallel with
/// the scheduler starting the next.
struct Attempt {
    info: Arc<MessageInfo>,
    /// The URL as it goes on the request line.
    url: String,
    retried: u32,
    signer: Signer,
}

fn start_attempt(shared: &Arc<Shared>, id: &str) {
    let attempt = {
        let mut state = shared.lock();
        let now = shared.clock.now_ms();
        let signer = state.keys.signer.clone();
        // Gone: cancelled, or a stale schedule entry.
        let Some(message) = state.messages.get_mut(id) else {
            return;
        };
        if message.in_flight {
            return;
        }
        if let Some(key) = message.info.flow_control_key.clone() {
            if message.flow_admitted {
                message.flow_admitted = false;
            } else if !state.admit_flow(&key, id, now) {
                return;
            }
        }
        let Some(message) = state.messages.get_mut(id) else {
            return;
        };
        message.in_flight = true;
        let info = Arc::clone(&message.info);
        let attempt = Attempt {
            // What goes on the request line is the parsed URL (a space
            // becomes %20, an empty path `/`); the signature's `sub` must
            // name that same URL for the receiver to find it.
            url: url::Url::parse(&info.url).map_or_else(|_| info.url.clone(), String::from),
            retried: message.retried,
            info,
            signer,
        };
        state.log(LogRecord::new(&attempt.info, LogEntryState::Active, now));
        attempt
    };
    let shared = Arc::clone(shared);
    tokio::spawn(async move {
        let outcome = send(build_request(&shared.http, &attempt)).await;
        finish_attempt(&shared, &attempt.info.id, outcome);
    });
}

/// The delivery: the message's own headers (forwarded ones and
/// `Content-Type`), then QStash's. A forwarded header with the name of one
/// of QStash's (`Upstash-Forward-Upstash-Signature`) is replaced by the
/// server's, never sent beside it: a receiver must see one signature.
fn build_request(http: &reqwest::Client, attempt: &Attempt) -> reqwest::RequestBuilder {
    let info = &attempt.info;
    let mut headers = HeaderMap::new();
    for (name, value) in &info.headers {
        headers.append(name, value.clone());
    }
    let mut own = vec![
        (USER_AGENT, "Upstash-QStash".to_owned()),
        (
            HeaderName::from_static("upstash-signature"),
            attempt.signer.sign(&attempt.url, &info.body),
        ),
        (
            HeaderName::from_static("upstash-message-id"),
            info.id.clone(),
        ),
        (
            HeaderName::from_static("upstash-retried"),
            attempt.retried.to_string(),
        ),
    ];
    let optional = [
        ("upstash-topic-name", &info.topic_name),
        ("upstash-schedule-id", &info.schedule_id),
        ("upstash-caller-ip", &info.caller_ip),
    ];
    for (name, value) in optional {
        if let Some(value) = value {
            own.push((HeaderName::from_static(name), value.clone()));
        }
    }
    for (name, value) in own {
        match HeaderValue::from_str(&value) {
            Ok(value) => {
                headers.insert(name, value);
            }
            Err(_) => {
                headers.remove(name);
            }
        }
    }
    http.request(info.method.clone(), &attempt.url)
        .timeout(info.timeout.unwrap_or(DEFAULT_ATTEMPT_TIMEOUT))
        .headers(headers)
        .body(info.body.clone())
}

/// How much of a destination's answer is kept (for the DLQ, logs and
/// callbacks); the rest is read and dropped, so an endless body cannot
/// fill memory.
const KEPT_RESPONSE_BYTES: usize = 1 << 20;

async fn send(request: reqwest::RequestBuilder) -> Result<Arc<Response>, String> {
    let mut response = request.send().await.map_err(|e| describe(&e))?;
    let status = response.status().as_u16();
    let headers: Vec<_> = response
        .headers()
        .iter()
        .map(|(n, v)| (n.clone(), v.clone()))
        .collect();
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| describe(&e))? {
        let room = KEPT_RESPONSE_BYTES.saturating_sub(body.len());
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
    }
    body.shrink_to_fit();
    Ok(Arc::new(Response {
        status,
        headers: header_map(&headers),
        body: body.into(),
    }))
}

fn describe(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        "the destination did not answer within the timeout".to_owned()
    } else if error.is_connect() {
        "cannot connect to the destination".to_owned()
    } else {
        format!("delivery failed: {error}")
    }
}

fn finish_attempt(shared: &Shared, id: &str, outcome: Result<Arc<Response>, String>) {
    let now = shared.clock.now_ms();
    let mut state = shared.lock();
    // Taken out of the store; put back only if it is retried.
    let Some(mut message) = state.messages.remove(id) else {
        return;
    };
    message.in_flight = false;
    if let Some(key) = &message.info.flow_control_key {
        state.flow_finished(key, now);
    }
    let delivered = matches!(&outcome, Ok(r) if (200..300).contains(&r.status));
    if delivered {
        state.release(&message);
        state.log(LogRecord::new(&message.info, LogEntryState::Delivered, now));
        callback(&mut state, &message, Target::Callback, &outcome, None, now);
        return;
    }
    let mut error = LogRecord::new(&message.info, LogEntryState::Error, now);
    match &outcome {
        Ok(response) => {
            error.error = Some(format!("received {} from the destination", response.status));
            error.response = Some(Arc::clone(response));
        }
        Err(reason) => error.error = Some(reason.clone()),
    }
    if message.cancel_requested {
        state.release(&message);
        state.log(error);
        state.log(LogRecord::new(&message.info, LogEntryState::Cancelled, now));
    } else if message.retried < message.info.max_retries {
        let delay = message.info.retry_delay.as_ref().map_or_else(
            || default_backoff(message.retried),
            |e| e.delay(message.retried),
        );
        let next = now.saturating_add(u64::try_from(delay.as_millis()).unwrap_or(u64::MAX));
        error.next_delivery_ms = Some(next);
        state.log(error);
        let mut retry = LogRecord::new(&message.info, LogEntryState::Retry, now);
        retry.next_delivery_ms = Some(next);
        state.log(retry);
        // The callback reports the attempt just made, before the count moves.
        callback(&mut state, &message, Target::Callback, &outcome, None, now);
        message.retried += 1;
        state.messages.insert(id.to_owned(), message);
        state.reschedule(id, next);
    } else {
        state.release(&message);
        state.log(error);
        state.log(LogRecord::new(&message.info, LogEntryState::Failed, now));
        let dlq_seq = (message.info.kind == Kind::Message).then(|| state.next_seq());
        let dlq_id = dlq_seq.map(|seq| format!("{now}-{seq}"));
        callback(&mut state, &message, Target::Callback, &outcome, None, now);
        callback(
            &mut state,
            &message,
            Target::FailureCallback,
            &outcome,
            dlq_id.clone(),
            now,
        );
        if let (Some(seq), Some(dlq_id)) = (dlq_seq, dlq_id) {
            let entry = DlqEntry {
                dlq_id,
                message,
                response: outcome.ok(),
                added_ms: now,
            };
            state.dlq.insert(seq, entry, now);
        }
    }
}

#[derive(Clone, Copy)]
enum Target {
    Callback,
    FailureCallback,
}

/// Publishes QStash's callback body about `source`'s last attempt to
/// `target`, as a message of its own (signed, retried and logged).
fn callback(
    state: &mut State,
    source: &Message,
    target: Target,
    outcome: &Result<Arc<Response>, String>,
    dlq_id: Option<String>,
    now: u64,
) {
    let info = &*source.info;
    let target = match target {
        Target::Callback => info.callback.as_ref(),
        Target::FailureCallback => info.failure_callback.as_ref(),
    };
    let (Some(target), Kind::Message) = (target, info.kind) else {
        return;
    };
    let mut body = serde_json::json!({
        "retried": source.retried,
        "maxRetries": info.max_retries,
        "sourceMessageId": info.id,
        "url": info.url,
        "method": info.method.as_str(),
        "sourceHeader": info.header_map(),
        "sourceBody": STANDARD.encode(&info.body),
        "notBefore": source.not_before_ms,
        "createdAt": info.created_at_ms,
    });
    let fields = [
        ("topicName", info.topic_name.clone()),
        ("endpointName", info.endpoint_name.clone()),
        ("callerIP", info.caller_ip.clone()),
        ("dlqId", dlq_id),
    ];
    for (name, value) in fields {
        if let Some(value) = value {
            body[name] = value.into();
        }
    }
    match outcome {
        Ok(response) => {
            body["status"] = response.status.into();
            body["header"] = serde_json::json!(response.headers);
            body["body"] = STANDARD.encode(&response.body).into();
        }
        Err(reason) => body["error"] = reason.clone().into(),
    }
    let mut headers = target.forward.clone();
    headers.push((CONTENT_TYPE, HeaderValue::from_static("application/json")));
    let message = Message::new(
        MessageInfo {
            id: random_id("msg_"),
            kind: Kind::Callback,
            url: target.url.clone(),
            method: target.method.clone().unwrap_or(Method::POST),
            headers,
            body: body.to_string().into(),
            max_retries: target.retries.unwrap_or(info.max_retries),
            retry_delay: target
                .retry_delay
                .clone()
                .or_else(|| info.retry_delay.clone()),
            timeout: target.timeout,
            created_at_ms: now,
            callback: None,
            failure_callback: None,
            topic_name: None,
            endpoint_name: None,
            queue_name: None,
            labels: Vec::new(),
            caller_ip: None,
            flow_control_key: None,
            flow_limits: None,
            schedule_id: None,
            redact: Redact::default(),
        },
        now,
    );
    state.log(LogRecord::new(&message.info, LogEntryState::Created, now));
    state.schedule(message);
}
