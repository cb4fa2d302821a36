//! Flow-control admission on the state: a due message with a key starts
//! only if the key has a free slot and a unit of rate; otherwise it waits
//! on the key, in order, until an attempt of the key ends, a rate period
//! begins, or the key is resumed, pinned or reset.

use std::cmp::Reverse;

use super::State;
use crate::dev_server::flow_key::{FlowKey, FlowLimits};

impl State {
    /// The key `key`, created at `now_ms` if it is new (so a key can be
    /// paused or pinned before its first message).
    pub(crate) fn flow_key(&mut self, key: &str, now_ms: u64) -> &mut FlowKey {
        self.flow_keys
            .entry(key.to_owned())
            .or_insert_with(|| FlowKey::new(now_ms))
    }

    /// A message with `key` and `limits` was published.
    pub(crate) fn configure_flow(&mut self, key: &str, limits: FlowLimits, now_ms: u64) {
        self.flow_key(key, now_ms).configure(limits);
    }

    /// Whether message `id` of `key`, due now, may start; if not it waits
    /// on the key. Messages already waiting go first.
    pub(crate) fn admit_flow(&mut self, key: &str, id: &str, now_ms: u64) -> bool {
        let flow = self.flow_key(key, now_ms);
        if flow.waiting.is_empty() && flow.admit(now_ms) {
            return true;
        }
        flow.waiting.push_back(id.to_owned());
        self.note_wake(key);
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
        self.note_wake(key);
        for id in admitted {
            if let Some(message) = self.messages.get_mut(&id) {
                message.flow_admitted = true;
            }
            self.reschedule(&id, now_ms);
        }
    }

    /// Pumps the keys whose new rate period has begun.
    pub(crate) fn wake_flows(&mut self, now_ms: u64) {
        while let Some(Reverse((at, _))) = self.flow_wakes.peek()
            && *at <= now_ms
        {
            let Some(Reverse((at, key))) = self.flow_wakes.pop() else {
                break;
            };
            let Some(flow) = self.flow_keys.get_mut(&key) else {
                continue;
            };
            if flow.wake_queued == Some(at) {
                flow.wake_queued = None;
                self.pump_flow(&key, now_ms);
            }
        }
    }

    /// When a key's next rate period lets a waiting message go (possibly
    /// earlier, for a stale entry: the scheduler then finds nothing to do).
    pub(crate) fn next_flow_wake(&self) -> Option<u64> {
        self.flow_wakes.peek().map(|Reverse((at, _))| *at)
    }

    /// How many messages wait on `flow` (ids cancelled since not counted).
    pub(crate) fn flow_waiting(&self, flow: &FlowKey) -> usize {
        flow.waiting
            .iter()
            .filter(|id| self.messages.contains_key(*id))
            .count()
    }

    /// Remembers when `key` wants to be woken, if it does; the scheduler is
    /// told so that it does not sleep past it.
    fn note_wake(&mut self, key: &str) {
        let Some(flow) = self.flow_keys.get_mut(key) else {
            return;
        };
        let Some(at) = flow.wake_ms.filter(|at| flow.wake_queued != Some(*at)) else {
            return;
        };
        flow.wake_queued = Some(at);
        self.flow_wakes.push(Reverse((at, key.to_owned())));
        self.scheduled.send_modify(|generation| *generation += 1);
    }
}
