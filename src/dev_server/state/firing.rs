//! Which schedules fire when. A schedule that the clock carried past
//! several occurrences at once fires once, for the latest; the others are
//! skipped rather than owed, as cron does after a pause (and as a paused
//! schedule's ticks are). So a clock that jumps, or runs a day in
//! milliseconds, makes at most one firing per schedule per pass of the
//! scheduler.

use axum::body::Bytes;

use super::State;
use crate::dev_server::options::Options;

/// One occurrence of a schedule to turn into messages.
pub(crate) struct Firing {
    pub(crate) schedule_id: String,
    pub(crate) destination: String,
    pub(crate) options: Options,
    pub(crate) body: Bytes,
    pub(crate) queue_name: Option<String>,
}

impl State {
    /// The schedules due at `now_ms` (paused ones skip their turn), each
    /// moved on to its next occurrence after `now_ms`.
    pub(crate) fn due_firings(&mut self, now_ms: u64) -> Vec<Firing> {
        let mut firings = Vec::new();
        for (id, schedule) in &mut self.schedules {
            if schedule.next_ms.is_none_or(|at| at > now_ms) {
                continue;
            }
            if !schedule.paused {
                schedule.last_ms = schedule.latest_at_or_before(now_ms).or(schedule.next_ms);
                firings.push(Firing {
                    schedule_id: id.clone(),
                    destination: schedule.destination.clone(),
                    options: schedule.options.clone(),
                    body: schedule.body.clone(),
                    queue_name: schedule.queue_name.clone(),
                });
            }
            schedule.next_ms = schedule.next_after(now_ms);
        }
        firings
    }

    /// When the next schedule fires.
    pub(crate) fn next_firing(&self) -> Option<u64> {
        self.schedules.values().filter_map(|s| s.next_ms).min()
    }
}
