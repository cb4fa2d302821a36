//! The server's notion of time: the system clock, a sped-up clock, or one
//! that only moves when told to, so tests of delays and retries take
//! milliseconds. It is a [`Clock`], so a client's retries and a receiver
//! can follow it too.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokio::sync::watch;

use crate::clock::{Clock, Sleep};

/// The clock every delay, retry, log time and `createdAt` of a
/// [`DevServer`](super::DevServer) is read from. Cheap to clone; clones share
/// the same time.
///
/// Signatures are always issued with the system time, because the receiver
/// checks them against its own clock.
///
/// As a [`Clock`] it reads the same time (`now` is [`now_ms`](Self::now_ms),
/// `instant` moves with it) and its `sleep` ends when the clock has moved
/// that far: a retry policy or a receiver given a manual clock waits for
/// [`advance`](Self::advance).
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
    /// When the clock was made, in real monotonic time and in its own
    /// time: where [`Clock::instant`] counts from.
    created: (Instant, u64),
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
        let (origin_ms, origin_real) = (system_now_ms(), Instant::now());
        DevClock {
            inner: Arc::new(Inner {
                scale,
                created: (origin_real, origin_ms),
                state: Mutex::new(State {
                    origin_ms,
                    origin_real,
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

impl Clock for DevClock {
    fn now(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(self.now_ms())
    }

    fn instant(&self) -> Instant {
        // The clock never goes back, so neither does this.
        let (real, ms) = self.inner.created;
        real + Duration::from_millis(self.now_ms().saturating_sub(ms))
    }

    fn sleep(&self, duration: Duration) -> Sleep {
        let clock = self.clone();
        // Whole milliseconds, rounded up: a sleep never ends early.
        let ms = u64::try_from(duration.as_nanos().div_ceil(1_000_000)).unwrap_or(u64::MAX);
        let until = self.now_ms().saturating_add(ms);
        Box::pin(async move {
            let mut changed = clock.subscribe();
            loop {
                changed.borrow_and_update();
                if clock.now_ms() >= until {
                    return;
                }
                match clock.real_wait_until(until) {
                    Some(wait) => tokio::select! {
                        () = tokio::time::sleep(wait) => {}
                        _ = changed.changed() => {}
                    },
                    // A manual clock: only `advance` moves it. The sender
                    // lives as long as `clock`, so this never fails.
                    None => {
                        let _ = changed.changed().await;
                    }
                }
            }
        })
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

#[cfg(test)]
mod tests {
    use std::task::{Context, Waker};

    use super::*;

    /// Whether `future` is done after one poll.
    fn ready(future: &mut Sleep) -> bool {
        future
            .as_mut()
            .poll(&mut Context::from_waker(Waker::noop()))
            .is_ready()
    }

    #[tokio::test]
    async fn a_manual_clock_reads_and_sleeps_in_its_own_time() {
        let clock = DevClock::manual();
        let (start, instant) = (clock.now_ms(), Clock::instant(&clock));
        assert_eq!(
            Clock::now(&clock),
            UNIX_EPOCH + Duration::from_millis(start)
        );

        let mut sleep = Clock::sleep(&clock, Duration::from_secs(60));
        assert!(!ready(&mut sleep), "the clock has not moved");
        clock.advance(Duration::from_secs(59));
        assert!(!ready(&mut sleep), "59 s of 60");
        clock.advance(Duration::from_secs(1));
        assert!(ready(&mut sleep), "60 s of 60");

        assert_eq!(Clock::instant(&clock) - instant, Duration::from_secs(60));
        assert_eq!(
            Clock::now(&clock),
            UNIX_EPOCH + Duration::from_millis(start + 60_000)
        );
        assert!(ready(&mut Clock::sleep(&clock, Duration::ZERO)));
    }

    #[tokio::test]
    async fn a_sleep_is_never_shorter_than_asked() {
        let clock = DevClock::manual();
        let mut sleep = Clock::sleep(&clock, Duration::from_micros(1500));
        clock.advance(Duration::from_millis(1));
        assert!(!ready(&mut sleep), "1 ms of 1.5");
        clock.advance(Duration::from_millis(1));
        assert!(ready(&mut sleep));
    }

    /// A day at a billion times the speed: 86 µs of real time.
    #[tokio::test]
    async fn a_scaled_clock_sleeps_its_own_time() {
        let clock = DevClock::scaled(1e9);
        let start = clock.now_ms();
        Clock::sleep(&clock, Duration::from_secs(86_400)).await;
        assert!(clock.now_ms() >= start + 86_400_000);
    }
}
