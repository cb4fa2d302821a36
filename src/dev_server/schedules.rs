//! Schedules: create (or update by id), get, list, pause, resume, delete;
//! and firing them on their cron expression, on the server's clock.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use croner::Cron;

use super::error::ApiError;
use super::message::{DEFAULT_RETRIES, body_fields, header_map, ms_i64};
use super::options::Options;
use super::publish::{Published, commit, destination_from, prepare};
use super::state::{Shared, State as Store, random_id};
use crate::types;

/// When the clock jumps past many occurrences at once, at most this many
/// are fired (a day of minutes); the rest are skipped, as a server that was
/// down would skip them.
const MAX_CATCH_UP: usize = 1440;

/// A schedule as the server keeps it.
pub(crate) struct Schedule {
    cron_source: String,
    cron: Cron,
    zone: Tz,
    destination: String,
    options: Options,
    body: Bytes,
    created_at_ms: u64,
    caller_ip: Option<String>,
    paused: bool,
    last_ms: Option<u64>,
    next_ms: Option<u64>,
    /// The messages of the last firing.
    last_ids: Vec<String>,
}

impl Schedule {
    /// The first occurrence strictly after `after_ms`, in unix milliseconds.
    fn next_after(&self, after_ms: u64) -> Option<u64> {
        let utc = DateTime::<Utc>::from_timestamp_millis(i64::try_from(after_ms).ok()?)?;
        let next = self
            .cron
            .find_next_occurrence(&utc.with_timezone(&self.zone), false)
            .ok()?;
        u64::try_from(next.timestamp_millis()).ok()
    }
}

/// `CRON_TZ=<zone> <five fields>` or the five fields alone (UTC), read by
/// the parser the client checks with.
fn parse_cron(expression: &str) -> Result<(Cron, Tz), ApiError> {
    let invalid =
        |why: String| ApiError::bad_request(format!("invalid Upstash-Cron `{expression}`: {why}"));
    let parsed = crate::schedules::parse_cron(expression).map_err(invalid)?;
    let zone = match parsed.zone {
        None => Tz::UTC,
        Some(name) => name
            .parse()
            .map_err(|_| invalid(format!("unknown time zone `{name}`")))?,
    };
    Ok((parsed.cron, zone))
}

fn check_id(id: &str) -> Result<(), ApiError> {
    let valid = !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if valid {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!(
            "invalid schedule id `{id}`: use letters, digits, `-`, `_` and `.`"
        )))
    }
}

fn view(state: &Store, id: &str, schedule: &Schedule) -> types::Schedule {
    let options = &schedule.options;
    let mut headers = options.forward.clone();
    if let Some(content_type) = &options.content_type {
        headers.push((CONTENT_TYPE, content_type.clone()));
    }
    let labels = options.labels.clone().unwrap_or_default();
    let (body, body_base64) = body_fields(&schedule.body);
    let limits = options.flow_control;
    types::Schedule {
        body,
        body_base64,
        callback: options.callback.as_ref().map(|c| c.url.clone()),
        caller_ip: schedule.caller_ip.clone(),
        created_at: ms_i64(schedule.created_at_ms),
        cron: schedule.cron_source.clone(),
        delay: options
            .delay
            .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX)),
        destination: schedule.destination.clone(),
        failure_callback: options.failure_callback.as_ref().map(|c| c.url.clone()),
        flow_control_key: options.flow_control_key.clone(),
        header: header_map(&headers),
        is_paused: schedule.paused,
        label: labels.first().cloned(),
        labels,
        last_schedule_states: last_states(state, &schedule.last_ids),
        last_schedule_time: schedule.last_ms.map(ms_i64),
        method: options
            .method
            .clone()
            .unwrap_or(Method::POST)
            .as_str()
            .to_owned(),
        next_schedule_time: schedule.next_ms.map(ms_i64),
        parallelism: limits
            .and_then(|l| l.parallelism)
            .map(|p| i64::try_from(p).unwrap_or(i64::MAX)),
        period: limits
            .and_then(|l| l.period_ms)
            .map(|ms| i64::try_from(ms / 1000).unwrap_or(i64::MAX)),
        queue_name: None,
        rate: limits
            .and_then(|l| l.rate)
            .map(|r| i64::try_from(r).unwrap_or(i64::MAX)),
        retries: Some(i64::from(options.retries.unwrap_or(DEFAULT_RETRIES))),
        retry_delay_expression: options.retry_delay.as_ref().map(|r| r.source().to_owned()),
        schedule_id: id.to_owned(),
    }
}

/// The latest state of each message of the last firing.
fn last_states(state: &Store, ids: &[String]) -> HashMap<String, String> {
    let mut states = HashMap::new();
    if ids.is_empty() {
        return states;
    }
    for entry in state.logs.iter().rev() {
        let (Some(id), Some(log_state)) = (&entry.message_id, &entry.state) else {
            continue;
        };
        if ids.contains(id) && !states.contains_key(id) {
            states.insert(id.clone(), log_state.to_string());
            if states.len() == ids.len() {
                break;
            }
        }
    }
    states
}

/// Everything under `/v2/schedules/`: a destination URL has slashes, so
/// one route serves create, get, delete, pause and resume.
pub(crate) async fn route(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let rest = uri.path().trim_start_matches("/v2/schedules/");
    let action = rest.rsplit_once('/');
    let answer = match (&method, action) {
        // The official SDKs send PATCH where the spec says POST.
        (&Method::POST | &Method::PATCH, Some((id, "pause"))) if !rest.contains("://") => {
            set_paused(&shared, id, true)
        }
        (&Method::POST | &Method::PATCH, Some((id, "resume"))) if !rest.contains("://") => {
            set_paused(&shared, id, false)
        }
        (&Method::POST, _) => {
            return match create(&shared, peer, &uri, &headers, body) {
                Ok(answer) => Json(answer).into_response(),
                Err(error) => error.into_response(),
            };
        }
        (&Method::GET, _) => {
            return match get(&shared, rest) {
                Ok(answer) => Json(answer).into_response(),
                Err(error) => error.into_response(),
            };
        }
        (&Method::DELETE, _) => {
            shared.lock().schedules.remove(rest);
            Ok(())
        }
        _ => Err(ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method not allowed on this route",
        )),
    };
    match answer {
        Ok(()) => StatusCode::OK.into_response(),
        Err(error) => error.into_response(),
    }
}

pub(crate) async fn list(State(shared): State<Arc<Shared>>) -> Json<Vec<types::Schedule>> {
    let state = shared.lock();
    Json(
        state
            .schedules
            .iter()
            .map(|(id, schedule)| view(&state, id, schedule))
            .collect(),
    )
}

fn get(shared: &Shared, id: &str) -> Result<types::Schedule, ApiError> {
    let state = shared.lock();
    state
        .schedules
        .get(id)
        .map(|schedule| view(&state, id, schedule))
        .ok_or_else(|| ApiError::not_found(format!("schedule {id} not found")))
}

fn set_paused(shared: &Shared, id: &str, paused: bool) -> Result<(), ApiError> {
    let now = shared.clock.now_ms();
    let mut state = shared.lock();
    let schedule = state
        .schedules
        .get_mut(id)
        .ok_or_else(|| ApiError::not_found(format!("schedule {id} not found")))?;
    if schedule.paused && !paused {
        // Ticks that passed while paused were ignored, not owed.
        schedule.next_ms = schedule.next_after(now);
    }
    schedule.paused = paused;
    state.scheduled.send_modify(|generation| *generation += 1);
    Ok(())
}

fn create(
    shared: &Shared,
    peer: SocketAddr,
    uri: &Uri,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<types::CreateScheduleResponse, ApiError> {
    let body = body.map_err(|e| ApiError::new(e.status(), e.body_text()))?;
    let destination = destination_from(uri, "/v2/schedules/")?;
    let cron_source = headers
        .get("upstash-cron")
        .ok_or_else(|| ApiError::bad_request("the Upstash-Cron header is required"))?
        .to_str()
        .map_err(|_| ApiError::bad_request("Upstash-Cron is not visible ASCII"))?
        .trim()
        .to_owned();
    let (cron, zone) = parse_cron(&cron_source)?;
    let id = match headers.get("upstash-schedule-id") {
        Some(value) => {
            let id = value
                .to_str()
                .map_err(|_| ApiError::bad_request("Upstash-Schedule-Id is not visible ASCII"))?
                .trim()
                .to_owned();
            check_id(&id)?;
            id
        }
        None => random_id("scd_"),
    };
    let mut options = Options::parse(headers)?;
    // Each firing is a new message: deduplication does not apply.
    options.dedup_id = None;
    options.content_dedup = false;
    // The destination is checked now (a URL, or a URL group that exists)
    // and resolved again at each firing.
    prepare(
        shared,
        destination.clone(),
        options.clone(),
        body.clone(),
        None,
    )?;
    let now = shared.clock.now_ms();
    let mut schedule = Schedule {
        cron_source,
        cron,
        zone,
        destination,
        options,
        body,
        created_at_ms: now,
        caller_ip: Some(peer.ip().to_string()),
        paused: false,
        last_ms: None,
        next_ms: None,
        last_ids: Vec::new(),
    };
    schedule.next_ms = schedule.next_after(now);
    let mut state = shared.lock();
    if let Some(existing) = state.schedules.get(&id) {
        // An update keeps what identifies the schedule's history.
        schedule.created_at_ms = existing.created_at_ms;
        schedule.paused = existing.paused;
        schedule.last_ms = existing.last_ms;
        schedule.last_ids = existing.last_ids.clone();
    }
    state.schedules.insert(id.clone(), schedule);
    state.scheduled.send_modify(|generation| *generation += 1);
    Ok(types::CreateScheduleResponse {
        schedule_id: Some(id),
        ..Default::default()
    })
}

/// One occurrence of a schedule to turn into messages.
pub(crate) struct Firing {
    id: String,
    destination: String,
    options: Options,
    body: Bytes,
}

impl Store {
    /// The occurrences due at `now_ms` (paused schedules skip theirs), each
    /// schedule moved on to its next occurrence after `now_ms`.
    pub(crate) fn due_firings(&mut self, now_ms: u64) -> Vec<Firing> {
        let mut firings = Vec::new();
        for (id, schedule) in &mut self.schedules {
            let mut fired = 0;
            while let Some(at) = schedule.next_ms.filter(|at| *at <= now_ms) {
                if !schedule.paused && fired < MAX_CATCH_UP {
                    fired += 1;
                    schedule.last_ms = Some(at);
                    firings.push(Firing {
                        id: id.clone(),
                        destination: schedule.destination.clone(),
                        options: schedule.options.clone(),
                        body: schedule.body.clone(),
                    });
                    schedule.next_ms = schedule.next_after(at);
                } else {
                    schedule.next_ms = schedule.next_after(now_ms);
                }
            }
        }
        firings
    }

    /// When the next schedule fires.
    pub(crate) fn next_firing(&self) -> Option<u64> {
        self.schedules.values().filter_map(|s| s.next_ms).min()
    }
}

/// Publishes one occurrence's message(s), tagged with the schedule's id.
pub(crate) fn fire(shared: &Shared, firing: Firing) {
    let Firing {
        id,
        destination,
        options,
        body,
    } = firing;
    // A URL group deleted since has no endpoints to deliver to.
    let Ok(prepared) = prepare(shared, destination, options, body, None) else {
        return;
    };
    let ids = match commit(shared, prepared.fired_by(&id), None) {
        Published::Single(response) => response.message_id.into_iter().collect(),
        Published::Group(list) => list.into_iter().filter_map(|m| m.message_id).collect(),
    };
    if let Some(schedule) = shared.lock().schedules.get_mut(&id) {
        schedule.last_ids = ids;
    }
}
