//! A flow-control key: the limits messages sharing it are delivered within
//! (parallelism, and a rate per period), and its live counts.

use std::collections::VecDeque;

use super::error::ApiError;
use super::parse::parse_duration;
use crate::types;

/// The rate period when a message names a rate and no period, as in QStash.
pub(crate) const DEFAULT_PERIOD_MS: u64 = 1000;

/// The limits an `Upstash-Flow-Control-Value` header (or a pin) sets.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct FlowLimits {
    pub(crate) parallelism: Option<usize>,
    pub(crate) rate: Option<u64>,
    pub(crate) period_ms: Option<u64>,
}

impl FlowLimits {
    /// `parallelism=3, rate=10, period=1m` (a period in seconds or with a
    /// unit, as `Upstash-Delay` takes it).
    pub(crate) fn parse(value: &str) -> Result<FlowLimits, ApiError> {
        let bad = |why: &str| {
            ApiError::bad_request(format!(
                "invalid Upstash-Flow-Control-Value `{value}`: {why}; expected e.g. \
                 `parallelism=3, rate=10, period=1m`"
            ))
        };
        let mut limits = FlowLimits::default();
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

    /// The period in seconds as the API reports it: the one given, else
    /// QStash's default when a rate is set.
    pub(crate) fn period_secs(&self) -> Option<u64> {
        match (self.period_ms, self.rate) {
            (Some(ms), _) => Some(ms / 1000),
            (None, Some(_)) => Some(DEFAULT_PERIOD_MS / 1000),
            (None, None) => None,
        }
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
    pub(crate) in_flight: usize,
    rate_count: u64,
    period_start_ms: u64,
    /// Messages due but held back, oldest first (may hold ids cancelled
    /// since).
    pub(crate) waiting: VecDeque<String>,
    /// When a held message may go because a new rate period begins.
    pub(crate) wake_ms: Option<u64>,
    /// The wake time the state's timeline holds for this key, if any.
    pub(crate) wake_queued: Option<u64>,
}

impl FlowKey {
    pub(crate) fn new(now_ms: u64) -> FlowKey {
        FlowKey {
            period_ms: DEFAULT_PERIOD_MS,
            period_start_ms: now_ms,
            ..FlowKey::default()
        }
    }

    /// A message with these limits was published: the key's settings
    /// follow it, except those pinned.
    pub(crate) fn configure(&mut self, limits: FlowLimits) {
        if !self.pinned_parallelism {
            self.parallelism = limits.parallelism;
        }
        if !self.pinned_rate {
            self.rate = limits.rate;
            self.period_ms = limits.period_ms.unwrap_or(DEFAULT_PERIOD_MS);
        }
    }

    pub(crate) fn set_paused(&mut self, paused: bool) {
        self.paused = paused;
    }

    /// Fixes the settings given until unpinned; the rate period restarts.
    pub(crate) fn pin(&mut self, limits: FlowLimits, now_ms: u64) {
        if let Some(parallelism) = limits.parallelism {
            self.parallelism = Some(parallelism);
            self.pinned_parallelism = true;
        }
        if let Some(rate) = limits.rate {
            self.rate = Some(rate);
            self.period_ms = limits.period_ms.unwrap_or(DEFAULT_PERIOD_MS);
            self.pinned_rate = true;
        }
        self.reset_rate(now_ms);
    }

    /// Removes the pins named; the settings stay until a new message brings
    /// others.
    pub(crate) fn unpin(&mut self, parallelism: bool, rate: bool) {
        if parallelism {
            self.pinned_parallelism = false;
        }
        if rate {
            self.pinned_rate = false;
        }
    }

    /// Ends the current rate period now: the count starts again from 0.
    pub(crate) fn reset_rate(&mut self, now_ms: u64) {
        self.rate_count = 0;
        self.period_start_ms = now_ms;
    }

    /// Takes a slot and a unit of rate if both are free.
    pub(crate) fn admit(&mut self, now_ms: u64) -> bool {
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

    /// The key as the API shows it, `waiting` messages held on it.
    pub(crate) fn view(&self, key: &str, waiting: usize) -> types::FlowControlKey {
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
