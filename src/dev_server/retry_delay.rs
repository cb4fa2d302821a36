//! When the next attempt is due: the message's `Upstash-Retry-Delay`
//! expression (evaluated by the same code that checks it in the client), or
//! QStash's default backoff.

use std::time::Duration;

use crate::messages::retry_delay::evaluate;

/// The longest QStash waits between two attempts.
const MAX_DELAY: Duration = Duration::from_secs(86_400);

/// QStash's documented default: `min(1 day, e^(2.5 * n))` seconds before
/// retry `n` (12 s, 2 min 28 s, 30 min 8 s, ...), where `retried` counts the
/// retries already made.
pub(crate) fn default_backoff(retried: u32) -> Duration {
    let n = f64::from(retried) + 1.0;
    Duration::try_from_secs_f64((2.5 * n).exp().floor())
        .unwrap_or(MAX_DELAY)
        .min(MAX_DELAY)
}

/// A retry-delay expression that parses.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RetryDelay {
    source: String,
}

impl RetryDelay {
    /// Checks `source`; the error says what is wrong and where.
    pub(crate) fn parse(source: &str) -> Result<RetryDelay, String> {
        evaluate(source, 0)?;
        Ok(RetryDelay {
            source: source.to_owned(),
        })
    }

    /// The expression as given.
    pub(crate) fn source(&self) -> &str {
        &self.source
    }

    /// The delay before the next attempt, `retried` retries having been
    /// made. A result that is not a non-negative number of milliseconds
    /// counts as 0; it is capped at one day like QStash's backoff.
    pub(crate) fn delay(&self, retried: u32) -> Duration {
        let ms = evaluate(&self.source, retried).unwrap_or(f64::NAN);
        if ms.is_nan() || ms <= 0.0 {
            return Duration::ZERO;
        }
        Duration::try_from_secs_f64(ms / 1000.0)
            .unwrap_or(MAX_DELAY)
            .min(MAX_DELAY)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(expr: &str, retried: u32) -> u128 {
        RetryDelay::parse(expr).unwrap().delay(retried).as_millis()
    }

    #[test]
    fn expressions_give_milliseconds_per_retry() {
        assert_eq!(ms("1000 * (1 + retried)", 0), 1000);
        assert_eq!(ms("1000 * (1 + retried)", 2), 3000);
        assert_eq!(ms("pow(2, retried) * 1000", 3), 8000);
        assert!(RetryDelay::parse("pow(").is_err());
        assert!(RetryDelay::parse(&"(".repeat(100_000)).is_err());
    }

    #[test]
    fn odd_results_are_clamped() {
        assert_eq!(ms("-5", 0), 0);
        assert_eq!(ms("0 / 0", 0), 0);
        assert_eq!(ms("1 / 0", 0), 86_400_000);
        assert_eq!(ms("pow(10, 30)", 0), 86_400_000);
    }

    #[test]
    fn default_backoff_matches_the_documented_table() {
        let secs: Vec<u64> = (0..5).map(|n| default_backoff(n).as_secs()).collect();
        assert_eq!(secs, [12, 148, 1808, 22026, 86_400]);
    }
}
