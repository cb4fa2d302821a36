//! Flow control: deliveries of messages sharing a key stay within its
//! parallelism and its rate per period; the keys can be listed, paused,
//! resumed, pinned, unpinned and have their rate reset.

use std::collections::VecDeque;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::Uri;

use super::error::ApiError;
use super::options::parse_duration;
use super::query::Query;
use super::state::{Shared, State as Store};
use crate::types;

/// The rate period when a message names a rate and no period, as in QStash.
const DEFAULT_PERIOD_MS: u64 = 1000;

/// The limits an `Upstash-Flow-Control-Value` header (or a pin) sets.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Limits {
    pub(crate) parallelism: Option<usize>,
    pub(crate) rate: Option<u64>,
    pub(crate) period_ms: Option<u64>,
}

impl Limits {
    /// `parallelism=3, rate=10, period=1m` (a period in seconds or with a
    /// unit, as `Upstash-Delay` takes it).
    pub(crate) fn parse(value: &str) -> Result<Limits, ApiError> {
        let bad = |why: &str| {
            ApiError::bad_request(format!(
                "invalid Upstash-Flow-Control-Value `{value}`: {why}; expected e.g. \
                 `parallelism=3, rate=10, period=1m`"
            ))
        };
        let mut limits = Limits::default();
        for part in value.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, number) = part.split_once('=').ok_or_else(|| bad("no `=`"))?;
            let number = number.trim();
            let positive = || {
                number
                    .parse::<u64>()
                    .ok()
                    .filter(|n| *n >= 1)
                    .ok_or_else(|| bad(&format!("{} must be at least 1", name.trim())))
            };
            match name.trim() {
                "parallelism" => {
                    limits.parallelism = Some(usize::try_from(positive()?).unwrap_or(usize::MAX));
                }
                "rate" => limits.rate = Some(positive()?),
                "period" => {
                    let ms = match number.parse::<u64>() {
                        Ok(seconds) => seconds.saturating_mul(1000),
                        Err(_) => parse_duration("Upstash-Flow-Control-Value period", number)
                            .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))?,
                    };
                    if ms == 0 {
                        return Err(bad("period must be positive"));
                    }
                    limits.period_ms = Some(ms);
                }
                other => return Err(bad(&format!("unknown setting `{other}`"))),
            }
        }
        if limits.parallelism.is_none() && limits.rate.is_none() {
            return Err(bad("set parallelism or rate"));
        }
        Ok(limits)
    }
}

/// One key's settings and live state.
#[derive(Debug, Default)]
pub(crate) struct FlowKey {
    parallelism: Option<usize>,
    rate: Option<u64>,
    period_ms: u64,
    pinned_parallelism: bool,
    pinned_rate: bool,
    paused: bool,
    /// Attempts started (or admitted to start) and not finished.
    in_flight: usize,
    rate_count: u64,
    period_start_ms: u64,
    /// Messages due but held back, oldest first (may hold ids cancelled
    /// since).
    waiting: VecDeque<String>,
    /// When a held message may go because a new rate period begins.
    wake_ms: Option<u64>,
}

impl FlowKey {
    fn new(now_ms: u64) -> FlowKey {
        FlowKey {
            period_ms: DEFAULT_PERIOD_MS,
            period_start_ms: now_ms,
            ..FlowKey::default()
        }
    }

    /// Takes a slot and a unit of rate if both are free.
    fn admit(&mut self, now_ms: u64) -> bool {
        if self.paused {
            return false;
        }
        if self.parallelism.is_some_and(|p| self.in_flight >= p) {
            return false;
        }
        if let Some(rate) = self.rate {
            if now_ms >= self.period_start_ms.saturating_add(self.period_ms) {
                self.period_start_ms = now_ms;
                self.rate_count = 0;
            }
            if self.rate_count >= rate {
                self.wake_ms = Some(self.period_start_ms.saturating_add(self.period_ms));
                return false;
            }
        }
        self.in_flight += 1;
        self.rate_count += 1;
        true
    }

    fn view(&self, key: &str, waiting: usize) -> types::FlowControlKey {
        let int = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        types::FlowControlKey {
            flow_control_key: Some(key.to_owned()),
            is_paused: Some(self.paused),
            is_pinned_parallelism: Some(self.pinned_parallelism),
            is_pinned_rate: Some(self.pinned_rate),
            parallelism_count: Some(int(self.in_flight as u64)),
            parallelism_max: self.parallelism.map(|p| int(p as u64)),
            rate_count: Some(int(self.rate_count)),
            rate_max: self.rate.map(int),
            rate_period: Some(int(self.period_ms / 1000)),
            rate_period_start: Some(int(self.period_start_ms / 1000)),
            wait_list_size: Some(int(waiting as u64)),
            ..Default::default()
        }
    }
}

impl Store {
    /// A message with `key` and `limits` was published: the key's settings
    /// follow it, except those pinned.
    pub(crate) fn configure_flow(&mut self, key: &str, limits: Limits, now_ms: u64) {
        let flow = self
            .flow_keys
            .entry(key.to_owned())
            .or_insert_with(|| FlowKey::new(now_ms));
        if !flow.pinned_parallelism {
            flow.parallelism = limits.parallelism;
        }
        if !flow.pinned_rate {
            flow.rate = limits.rate;
            flow.period_ms = limits.period_ms.unwrap_or(DEFAULT_PERIOD_MS);
        }
    }

    /// Whether message `id` of `key`, due now, may start; if not it waits
    /// on the key. Messages already waiting go first.
    pub(crate) fn admit_flow(&mut self, key: &str, id: &str, now_ms: u64) -> bool {
        let flow = self
            .flow_keys
            .entry(key.to_owned())
            .or_insert_with(|| FlowKey::new(now_ms));
        if flow.waiting.is_empty() && flow.admit(now_ms) {
            return true;
        }
        flow.waiting.push_back(id.to_owned());
        self.scheduled.send_modify(|generation| *generation += 1);
        false
    }

    /// An attempt of a message of `key` ended (or an admitted message was
    /// cancelled before it started): its slot goes to the next waiting one.
    pub(crate) fn flow_finished(&mut self, key: &str, now_ms: u64) {
        if let Some(flow) = self.flow_keys.get_mut(key) {
            flow.in_flight = flow.in_flight.saturating_sub(1);
            self.pump_flow(key, now_ms);
        }
    }

    /// Starts the waiting messages of `key` that its limits now allow.
    pub(crate) fn pump_flow(&mut self, key: &str, now_ms: u64) {
        let Some(flow) = self.flow_keys.get_mut(key) else {
            return;
        };
        flow.wake_ms = None;
        let mut admitted = Vec::new();
        while let Some(id) = flow.waiting.front() {
            if !self.messages.contains_key(id) {
                flow.waiting.pop_front();
                continue;
            }
            if !flow.admit(now_ms) {
                break;
            }
            if let Some(id) = flow.waiting.pop_front() {
                admitted.push(id);
            }
        }
        for id in admitted {
            if let Some(message) = self.messages.get_mut(&id) {
                message.flow_admitted = true;
            }
            self.reschedule(&id, now_ms);
        }
    }

    /// Pumps the keys whose new rate period has begun.
    pub(crate) fn wake_flows(&mut self, now_ms: u64) {
        let woken: Vec<String> = self
            .flow_keys
            .iter()
            .filter(|(_, flow)| flow.wake_ms.is_some_and(|at| at <= now_ms))
            .map(|(key, _)| key.clone())
            .collect();
        for key in woken {
            self.pump_flow(&key, now_ms);
        }
    }

    /// When a key's next rate period lets a waiting message go.
    pub(crate) fn next_flow_wake(&self) -> Option<u64> {
        self.flow_keys.values().filter_map(|f| f.wake_ms).min()
    }

    fn flow_view(&self, key: &str, flow: &FlowKey) -> types::FlowControlKey {
        let waiting = flow
            .waiting
            .iter()
            .filter(|id| self.messages.contains_key(*id))
            .count();
        flow.view(key, waiting)
    }
}

fn not_found(key: &str) -> ApiError {
    ApiError::not_found(format!("flow-control key `{key}` not found"))
}

pub(crate) async fn list(State(shared): State<Arc<Shared>>) -> Json<Vec<types::FlowControlKey>> {
    let state = shared.lock();
    Json(
        state
            .flow_keys
            .iter()
            .map(|(key, flow)| state.flow_view(key, flow))
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
        .map(|flow| Json(state.flow_view(&key, flow)))
        .ok_or_else(|| not_found(&key))
}

/// Runs `change` on the key (created if it is new, so a key can be paused
/// or pinned before its first message), then lets waiting messages go.
fn update(shared: &Shared, key: &str, change: impl FnOnce(&mut FlowKey, u64)) {
    let now = shared.clock.now_ms();
    let mut state = shared.lock();
    let flow = state
        .flow_keys
        .entry(key.to_owned())
        .or_insert_with(|| FlowKey::new(now));
    change(flow, now);
    state.pump_flow(key, now);
}

/// New messages and waiting ones are held; those on the wire finish.
pub(crate) async fn pause(State(shared): State<Arc<Shared>>, Path(key): Path<String>) {
    update(&shared, &key, |flow, _| flow.paused = true);
}

pub(crate) async fn resume(State(shared): State<Arc<Shared>>, Path(key): Path<String>) {
    update(&shared, &key, |flow, _| flow.paused = false);
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
    update(&shared, &key, |flow, now| {
        if let Some(parallelism) = parallelism {
            flow.parallelism = Some(usize::try_from(parallelism).unwrap_or(usize::MAX));
            flow.pinned_parallelism = true;
        }
        if let Some(rate) = rate {
            flow.rate = Some(rate);
            flow.period_ms = period.map_or(DEFAULT_PERIOD_MS, |s| s.saturating_mul(1000));
            flow.pinned_rate = true;
        }
        flow.rate_count = 0;
        flow.period_start_ms = now;
    });
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
    let flag = |name: &str| match query.one(name) {
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
        if parallelism {
            flow.pinned_parallelism = false;
        }
        if rate {
            flow.pinned_rate = false;
        }
    }
    Ok(())
}

/// Ends the current rate period now: the count starts again from 0.
pub(crate) async fn reset_rate(State(shared): State<Arc<Shared>>, Path(key): Path<String>) {
    update(&shared, &key, |flow, now| {
        flow.rate_count = 0;
        flow.period_start_ms = now;
    });
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
