//! The server's notion of time: the system clock, a sped-up clock, or one
//! that only moves when told to, so tests of delays and retries take
//! milliseconds.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokio::sync::watch;

/// The clock every delay, retry, log time and `createdAt` of a
/// [`DevServer`](super::DevServer) is read from. Cheap to clone; clones share
/// the same time.
///
/// Signatures are always issued with the system time, because the receiver
/// checks them against its own clock.
///
/// ```
/// use std::time::Duration;
/// use qstash::dev_server::DevClock;
///
/// let clock = DevClock::manual();
/// let start = clock.now_ms();
/// clock.advance(Duration::from_secs(3600));
/// assert_eq!(clock.now_ms(), start + 3_600_000);
/// ```
#[derive(Clone)]
pub struct DevClock {
    inner: Arc<Inner>,
}

struct Inner {
    /// Virtual milliseconds per real millisecond; `None` for a manual clock.
    scale: Option<f64>,
    state: Mutex<State>,
    /// Bumped on every `advance`, so waiters re-read the time.
    changed: watch::Sender<u64>,
}

struct State {
    /// Virtual time at `origin_real`.
    origin_ms: u64,
    origin_real: Instant,
}

impl DevClock {
    /// The system clock.
    pub fn system() -> DevClock {
        DevClock::new(Some(1.0))
    }

    /// A clock that starts at the system time and runs `factor` times faster
    /// (`scaled(1000.0)`: a 10 s delay takes 10 ms). A factor that is not
    /// finite and positive is taken as 1.
    pub fn scaled(factor: f64) -> DevClock {
        let factor = if factor.is_finite() && factor > 0.0 {
            factor
        } else {
            1.0
        };
        DevClock::new(Some(factor))
    }

    /// A clock that starts at the system time and stands still until
    /// [`advance`](DevClock::advance)d: nothing delayed becomes due on its own.
    pub fn manual() -> DevClock {
        DevClock::new(None)
    }

    fn new(scale: Option<f64>) -> DevClock {
        DevClock {
            inner: Arc::new(Inner {
                scale,
                state: Mutex::new(State {
                    origin_ms: system_now_ms(),
                    origin_real: Instant::now(),
                }),
                changed: watch::channel(0).0,
            }),
        }
    }

    /// The current time in unix milliseconds.
    pub fn now_ms(&self) -> u64 {
        let state = self
            .inner
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        match self.inner.scale {
            None => state.origin_ms,
            Some(scale) => {
                let real = state.origin_real.elapsed().as_secs_f64() * 1000.0;
                state.origin_ms.saturating_add((real * scale) as u64)
            }
        }
    }

    /// Moves the clock forward by `by`; whatever becomes due is delivered.
    pub fn advance(&self, by: Duration) {
        {
            let mut state = self
                .inner
                .state
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            let by_ms = u64::try_from(by.as_millis()).unwrap_or(u64::MAX);
            state.origin_ms = state.origin_ms.saturating_add(by_ms);
        }
        self.inner
            .changed
            .send_modify(|generation| *generation += 1);
    }

    /// How long to wait in real time until the clock reads `at_ms`; `None`
    /// when only [`advance`](DevClock::advance) can get it there.
    pub(crate) fn real_wait_until(&self, at_ms: u64) -> Option<Duration> {
        let scale = self.inner.scale?;
        let virtual_ms = at_ms.saturating_sub(self.now_ms()) as f64;
        // A wait too long to represent is as good as a year: the loop
        // re-reads the clock whenever anything changes.
        Some(
            Duration::try_from_secs_f64(virtual_ms / scale / 1000.0)
                .unwrap_or(Duration::from_secs(365 * 86_400)),
        )
    }

    /// Notified on every [`advance`](DevClock::advance).
    pub(crate) fn subscribe(&self) -> watch::Receiver<u64> {
        self.inner.changed.subscribe()
    }
}

impl Default for DevClock {
    fn default() -> DevClock {
        DevClock::system()
    }
}

impl std::fmt::Debug for DevClock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DevClock")
            .field("scale", &self.inner.scale)
            .field("now_ms", &self.now_ms())
            .finish()
    }
}

pub(crate) fn system_now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| {
            u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
        })
}
