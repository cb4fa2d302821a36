//! Time as this crate reads it, in one trait: the retry loop asks what
//! time it is and waits, the receiver checks a token's lifetime against
//! it, and the dev server's `DevClock`
//! (feature `dev-server`) is one, so a test can hand the same clock to all
//! three.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant, SystemTime};

/// A future that completes after a [`Clock::sleep`].
pub type Sleep = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// A source of time: the wall clock, a monotonic clock, and waiting.
///
/// [`SystemClock`] is the real one and the default everywhere. Where the
/// crate reads each:
///
/// - `RetryPolicy::clock` (feature `client`): `now` against a 429's reset
///   time, `instant` for a call's time budget, `sleep` for the backoff;
/// - [`Receiver::clock`](crate::receiver::Receiver::clock): `now`, against
///   a token's `exp` and `nbf`;
/// - `DevClock` (feature `dev-server`) is a clock that tests move by hand
///   or speed up.
///
/// Tests put in a clock whose `sleep` returns at once and moves its time
/// forward, so backoff is checked without waiting, and a receiver checks
/// tokens as of the instant the test chose:
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use std::time::{Duration, Instant, SystemTime};
/// use qstash::clock::{Clock, Sleep};
///
/// /// Starts at `start`; waits take no time, and move it forward.
/// #[derive(Debug, Clone)]
/// struct Instantaneous {
///     start: SystemTime,
///     origin: Instant,
///     moved: Arc<Mutex<Duration>>,
/// }
///
/// impl Clock for Instantaneous {
///     fn now(&self) -> SystemTime {
///         self.start + *self.moved.lock().unwrap()
///     }
///     fn instant(&self) -> Instant {
///         self.origin + *self.moved.lock().unwrap()
///     }
///     fn sleep(&self, duration: Duration) -> Sleep {
///         *self.moved.lock().unwrap() += duration;
///         Box::pin(std::future::ready(()))
///     }
/// }
///
/// let clock = Instantaneous {
///     start: SystemTime::UNIX_EPOCH + Duration::from_secs(1_767_225_660),
///     origin: Instant::now(),
///     moved: Arc::default(),
/// };
/// # #[cfg(feature = "client")]
/// let policy = qstash::RetryPolicy::default().clock(clock.clone());
/// let receiver = qstash::receiver::Receiver::new("sig_a", "sig_b")?.clock(clock);
/// # Ok::<(), qstash::ConfigError>(())
/// ```
pub trait Clock: fmt::Debug + Send + Sync + 'static {
    /// Wall-clock time: a 429's reset time, a token's lifetime.
    fn now(&self) -> SystemTime;
    /// Monotonic time, for the total-time budget of a call.
    fn instant(&self) -> Instant;
    /// Waits `duration` of this clock's time.
    fn sleep(&self, duration: Duration) -> Sleep;
}

/// The real clock: system time and tokio's timer (so [`Clock::sleep`] is
/// awaited inside a tokio runtime).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }

    fn instant(&self) -> Instant {
        Instant::now()
    }

    fn sleep(&self, duration: Duration) -> Sleep {
        Box::pin(tokio::time::sleep(duration))
    }
}

/// `clock`'s time in unix seconds, as tokens carry it. A clock set before
/// 1970 reads as 0, which fails a token's `nbf` check rather than
/// panicking.
pub(crate) fn unix_secs(clock: &dyn Clock) -> u64 {
    clock
        .now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |since| since.as_secs())
}
