//! Schedules: create (or update by id), get, list, pause, resume, delete.
//! Their firing is the scheduler's ([`delivery`](super::delivery)).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use super::intake::{prepare, read_body, refuse_own_delivery};
use super::limits::exceeded;
use super::names::check_name;
use super::options::{Options, header_text};
use super::parse::destination_from;
use super::schedule::{NewSchedule, Schedule};
use super::state::{Shared, random_id};
use crate::types;

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
            .map(|(id, schedule)| schedule.view(id))
            .collect(),
    )
}

fn get(shared: &Shared, id: &str) -> Result<types::Schedule, ApiError> {
    let state = shared.lock();
    state
        .schedules
        .get(id)
        .map(|schedule| schedule.view(id))
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
    refuse_own_delivery(shared, headers)?;
    let body = read_body(shared, body)?;
    let destination = destination_from(uri, "/v2/schedules/")?;
    let cron_source = header_text(headers, "upstash-cron")?
        .ok_or_else(|| ApiError::bad_request("the Upstash-Cron header is required"))?
        .to_owned();
    let id = match header_text(headers, "upstash-schedule-id")? {
        Some(id) => {
            check_name("schedule id", id)?;
            id.to_owned()
        }
        None => random_id("scd_"),
    };
    let queue_name = header_text(headers, "upstash-queue-name")?
        .map(|queue| check_name("queue name", queue).map(|()| queue.to_owned()))
        .transpose()?;
    let mut options = Options::parse(headers)?;
    // Each firing is a new message: deduplication does not apply.
    options.dedup_id = None;
    options.content_dedup = false;
    // The destination is checked now (a URL, or a URL group that exists,
    // within the limits) and resolved again at each firing.
    prepare(
        shared,
        destination.clone(),
        options.clone(),
        body.clone(),
        queue_name.clone(),
    )?;
    let now = shared.clock.now_ms();
    let mut schedule = Schedule::new(
        NewSchedule {
            cron_source,
            destination,
            options,
            body: Bytes::copy_from_slice(&body),
            queue_name,
            caller_ip: Some(peer.ip().to_string()),
        },
        now,
    )?;
    let mut state = shared.lock();
    let max = shared.limits.max_schedules;
    match state.schedules.get(&id) {
        Some(existing) => {
            // An update keeps what identifies the schedule's history.
            schedule.created_at_ms = existing.created_at_ms;
            schedule.paused = existing.paused;
            schedule.last_ms = existing.last_ms;
            schedule.last_states.clone_from(&existing.last_states);
        }
        None if state.schedules.len() >= max => {
            return Err(exceeded(
                format!("schedule `{id}` would be one more than the {max} schedules allowed"),
                "max-schedules",
            ));
        }
        None => {}
    }
    state.schedules.insert(id.clone(), schedule);
    state.scheduled.send_modify(|generation| *generation += 1);
    Ok(types::CreateScheduleResponse {
        schedule_id: Some(id),
        ..Default::default()
    })
}
