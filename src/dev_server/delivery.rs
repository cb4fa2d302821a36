//! The scheduler: sends each due message to its destination, then records
//! the outcome, retries with backoff, moves exhausted messages to the DLQ
//! and sends callbacks.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderName, HeaderValue, Method};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::message::{Kind, Message, header_map, ms_i64};
use super::redact::Redact;
use super::retry_delay::default_backoff;
use super::schedules;
use super::state::{DlqEntry, Response, Shared, State, random_id};
use crate::receiver::Signer;
use crate::types::LogEntryState;

/// How long an attempt may take when the message sets no `Upstash-Timeout`,
/// so that a destination that never answers does not hold a message forever.
const DEFAULT_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(15 * 60);

/// Runs until the server stops (the task is aborted).
pub(crate) async fn run_scheduler(shared: Arc<Shared>) {
    let mut clock = shared.clock.subscribe();
    let mut scheduled = shared.lock().scheduled.subscribe();
    loop {
        clock.borrow_and_update();
        scheduled.borrow_and_update();
        let now = shared.clock.now_ms();
        let (firings, ready, next) = {
            let mut state = shared.lock();
            let firings = state.due_firings(now);
            state.wake_flows(now);
            let (ready, next) = state.take_due(now);
            let next = [next, state.next_firing(), state.next_flow_wake()]
                .into_iter()
                .flatten()
                .min();
            (firings, ready, next)
        };
        for id in ready {
            start_attempt(&shared, &id);
        }
        for firing in firings {
            schedules::fire(&shared, firing);
        }
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

/// What one attempt sends, copied out under the lock so that signing and
/// building the request happen in the attempt's own task, in parallel with
/// the scheduler starting the next.
struct Attempt {
    id: String,
    url: String,
    method: Method,
    headers: Vec<(HeaderName, HeaderValue)>,
    body: Bytes,
    retried: u32,
    topic_name: Option<String>,
    schedule_id: Option<String>,
    caller_ip: Option<String>,
    timeout: Option<Duration>,
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
        if let Some(key) = message.flow_control_key.clone() {
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
        let entry = message.log(LogEntryState::Active, now);
        let attempt = Attempt {
            id: id.to_owned(),
            // What goes on the request line is the parsed URL (a space
            // becomes %20, an empty path `/`); the signature's `sub` must
            // name that same URL for the receiver to find it.
            url: url::Url::parse(&message.url).map_or_else(|_| message.url.clone(), String::from),
            method: message.method.clone(),
            headers: message.headers.clone(),
            body: message.body.clone(),
            retried: message.retried,
            topic_name: message.topic_name.clone(),
            schedule_id: message.schedule_id.clone(),
            caller_ip: message.caller_ip.clone(),
            timeout: message.timeout,
            signer,
        };
        state.log(entry);
        attempt
    };
    let shared = Arc::clone(shared);
    tokio::spawn(async move {
        let outcome = send(build_request(&shared.http, &attempt)).await;
        finish_attempt(&shared, &attempt.id, outcome);
    });
}

fn build_request(http: &reqwest::Client, attempt: &Attempt) -> reqwest::RequestBuilder {
    let mut request = http
        .request(attempt.method.clone(), &attempt.url)
        .timeout(attempt.timeout.unwrap_or(DEFAULT_ATTEMPT_TIMEOUT));
    for (name, value) in &attempt.headers {
        request = request.header(name, value);
    }
    let mut upstash = vec![
        ("user-agent", "Upstash-QStash".to_owned()),
        (
            "upstash-signature",
            attempt.signer.sign(&attempt.url, &attempt.body),
        ),
        ("upstash-message-id", attempt.id.clone()),
        ("upstash-retried", attempt.retried.to_string()),
    ];
    if let Some(topic) = &attempt.topic_name {
        upstash.push(("upstash-topic-name", topic.clone()));
    }
    if let Some(schedule) = &attempt.schedule_id {
        upstash.push(("upstash-schedule-id", schedule.clone()));
    }
    if let Some(ip) = &attempt.caller_ip {
        upstash.push(("upstash-caller-ip", ip.clone()));
    }
    for (name, value) in upstash {
        if let Ok(value) = HeaderValue::from_str(&value) {
            request = request.header(HeaderName::from_static(name), value);
        }
    }
    request.body(attempt.body.clone())
}

/// How much of a destination's answer is kept (for the DLQ, logs and
/// callbacks); the rest is read and dropped, so an endless body cannot
/// fill memory.
const KEPT_RESPONSE_BYTES: usize = 1 << 20;

async fn send(request: reqwest::RequestBuilder) -> Result<Response, String> {
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
    Ok(Response {
        status,
        headers: header_map(&headers),
        body,
    })
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

fn finish_attempt(shared: &Shared, id: &str, outcome: Result<Response, String>) {
    let now = shared.clock.now_ms();
    let mut state = shared.lock();
    // Taken out of the store; put back only if it is retried.
    let Some(mut message) = state.messages.remove(id) else {
        return;
    };
    message.in_flight = false;
    if let Some(key) = &message.flow_control_key {
        state.flow_finished(key, now);
    }
    let delivered = matches!(&outcome, Ok(r) if (200..300).contains(&r.status));
    if delivered {
        state.release(&message);
        state.log(message.log(LogEntryState::Delivered, now));
        callback(&mut state, &message, Target::Callback, &outcome, None, now);
        return;
    }
    let mut error = message.log(LogEntryState::Error, now);
    match &outcome {
        Ok(response) => {
            error.error = Some(format!("received {} from the destination", response.status));
            error.response_status = Some(i64::from(response.status));
            error.response_headers = response.headers.clone();
            error.response_body = Some(STANDARD.encode(&response.body));
        }
        Err(reason) => error.error = Some(reason.clone()),
    }
    if message.cancel_requested {
        state.release(&message);
        state.log(error);
        state.log(message.log(LogEntryState::Cancelled, now));
    } else if message.retried < message.max_retries {
        let delay = message.retry_delay.as_ref().map_or_else(
            || default_backoff(message.retried),
            |e| e.delay(message.retried),
        );
        let next = now.saturating_add(u64::try_from(delay.as_millis()).unwrap_or(u64::MAX));
        error.next_delivery_time = Some(ms_i64(next));
        state.log(error);
        let mut retry = message.log(LogEntryState::Retry, now);
        retry.next_delivery_time = Some(ms_i64(next));
        state.log(retry);
        // The callback reports the attempt just made, before the count moves.
        callback(&mut state, &message, Target::Callback, &outcome, None, now);
        message.retried += 1;
        state.messages.insert(id.to_owned(), message);
        state.reschedule(id, next);
    } else {
        state.release(&message);
        state.log(error);
        state.log(message.log(LogEntryState::Failed, now));
        let dlq_seq = (message.kind == Kind::Message).then(|| state.next_seq());
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
            let response = outcome.ok();
            state.dlq.insert(
                seq,
                DlqEntry {
                    dlq_id,
                    message,
                    response,
                },
            );
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
    outcome: &Result<Response, String>,
    dlq_id: Option<String>,
    now: u64,
) {
    let target = match target {
        Target::Callback => source.callback.as_ref(),
        Target::FailureCallback => source.failure_callback.as_ref(),
    };
    let (Some(target), Kind::Message) = (target, source.kind) else {
        return;
    };
    let mut body = serde_json::json!({
        "retried": source.retried,
        "maxRetries": source.max_retries,
        "sourceMessageId": source.id,
        "url": source.url,
        "method": source.method.as_str(),
        "sourceHeader": source.header_map(),
        "sourceBody": STANDARD.encode(&source.body),
        "notBefore": source.not_before_ms,
        "createdAt": source.created_at_ms,
    });
    let fields = [
        ("topicName", source.topic_name.clone()),
        ("endpointName", source.endpoint_name.clone()),
        ("callerIP", source.caller_ip.clone()),
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
    headers.push((
        axum::http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    ));
    let message = Message {
        id: random_id("msg_"),
        kind: Kind::Callback,
        url: target.url.clone(),
        method: target.method.clone().unwrap_or(Method::POST),
        headers,
        body: body.to_string().into(),
        max_retries: target.retries.unwrap_or(source.max_retries),
        retried: 0,
        retry_delay: target
            .retry_delay
            .clone()
            .or_else(|| source.retry_delay.clone()),
        timeout: target.timeout,
        not_before_ms: now,
        created_at_ms: now,
        callback: None,
        failure_callback: None,
        topic_name: None,
        endpoint_name: None,
        queue_name: None,
        labels: Vec::new(),
        caller_ip: None,
        flow_control_key: None,
        schedule_id: None,
        redact: Redact::default(),
        flow_admitted: false,
        in_flight: false,
        cancel_requested: false,
    };
    state.log(message.log(LogEntryState::Created, now));
    state.schedule(message, now);
}
