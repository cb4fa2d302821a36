//! What the server accepts and what it keeps: QStash's documented limits
//! and retention, with QStash-like defaults (the pay-as-you-go plan where
//! the plans differ), each settable on [`DevServerBuilder::limits`] and as
//! a `qstash-dev-server` flag.
//!
//! Sources: the QStash pricing pages
//! (<https://upstash.com/docs/qstash/overall/pricing>,
//! <https://upstash.com/pricing/qstash>) and the retry documentation
//! (<https://upstash.com/docs/qstash/features/retry>, "each delay is capped
//! at 1 day", which the server applies to every retry delay).
//!
//! [`DevServerBuilder::limits`]: super::DevServerBuilder::limits

use std::time::Duration;

use axum::http::StatusCode;

use super::error::ApiError;
use super::options::Options;
use super::parse::parse_duration;

const DAY: Duration = Duration::from_secs(86_400);

/// Limits on what the dev server accepts, and how much of its history
/// (logs, DLQ) it keeps. Anything over a limit is refused with QStash's
/// error shape, `{"error": "..."}`, naming the limit; what retention drops
/// goes oldest first.
///
/// ```
/// use std::time::Duration;
/// use qstash::dev_server::Limits;
///
/// let limits = Limits::default()
///     .max_retries(20)
///     .log_retention(1_000, Duration::from_secs(3600));
/// # let _ = limits;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    pub(crate) max_message_size: usize,
    pub(crate) max_retries: u32,
    pub(crate) max_delay: Duration,
    pub(crate) max_timeout: Duration,
    pub(crate) max_batch_size: usize,
    pub(crate) max_url_groups: usize,
    pub(crate) max_url_group_endpoints: usize,
    pub(crate) max_queues: usize,
    pub(crate) max_schedules: usize,
    pub(crate) logs: Retention,
    pub(crate) dlq: Retention,
    pub(crate) dedup_ids: usize,
}

/// How much of a history is kept: at most `count` entries, none older than
/// `age`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Retention {
    pub(crate) count: usize,
    pub(crate) age: Duration,
}

impl Retention {
    /// The oldest time kept at `now_ms`.
    pub(crate) fn oldest_kept_ms(&self, now_ms: u64) -> u64 {
        now_ms.saturating_sub(u64::try_from(self.age.as_millis()).unwrap_or(u64::MAX))
    }
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            // Pay as you go: 10 MB.
            max_message_size: 10 << 20,
            // "Max Retry Count": free 3, pay as you go 5, pro 20.
            max_retries: 5,
            // Pay as you go: 1 year.
            max_delay: 365 * DAY,
            // "Max HTTP Response Duration", pay as you go: 2 hours.
            max_timeout: Duration::from_secs(2 * 3600),
            // QStash documents no count; a batch request is bounded by the
            // message size like any request body.
            max_batch_size: 1_000,
            // Pay as you go: 100 URL groups, 100 endpoints per URL group.
            max_url_groups: 100,
            max_url_group_endpoints: 100,
            // Pay as you go: 100 queues, 1,000 active schedules.
            max_queues: 100,
            max_schedules: 1_000,
            // "Max Events Size (Number of logs to keep)": 10,000; "Max Logs
            // Retention": 3 days (free).
            logs: Retention {
                count: 10_000,
                age: 3 * DAY,
            },
            // "Max DLQ Size": 10,000 messages; "Max DLQ Retention": 7 days
            // (pay as you go).
            dlq: Retention {
                count: 10_000,
                age: 7 * DAY,
            },
            // QStash keeps a deduplication id for 10 minutes and documents
            // no count; at the dev server's own bound, a publisher would
            // need 100,000 other publishes between two tries of one
            // message to get it twice.
            dedup_ids: 100_000,
        }
    }
}

/// One limit by the name of its `qstash-dev-server` flag: how to set it
/// from text and show it.
struct Setting {
    name: &'static str,
    help: &'static str,
    set: fn(&mut Limits, &str) -> Result<(), String>,
    show: fn(&Limits) -> String,
}

fn number<T: std::str::FromStr>(value: &str) -> Result<T, String> {
    value
        .parse()
        .map_err(|_| format!("expected a non-negative integer, got `{value}`"))
}

fn duration(value: &str) -> Result<Duration, String> {
    parse_duration("the value", value).map_err(|e| e.message)
}

fn show_duration(duration: Duration) -> String {
    let secs = duration.as_secs();
    match secs {
        0 => "0s".to_owned(),
        s if s % 86_400 == 0 => format!("{}d", s / 86_400),
        s if s % 3600 == 0 => format!("{}h", s / 3600),
        s if s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

/// Every limit, once: the binary's flags and usage come from this table.
const SETTINGS: &[Setting] = &[
    Setting {
        name: "max-message-size",
        help: "bytes a message body (or a whole batch request) may have",
        set: |l, v| {
            l.max_message_size = number(v)?;
            Ok(())
        },
        show: |l| l.max_message_size.to_string(),
    },
    Setting {
        name: "max-retries",
        help: "largest Upstash-Retries (and callback retries) accepted",
        set: |l, v| {
            l.max_retries = number(v)?;
            Ok(())
        },
        show: |l| l.max_retries.to_string(),
    },
    Setting {
        name: "max-delay",
        help: "longest Upstash-Delay (or Upstash-Not-Before from now)",
        set: |l, v| {
            l.max_delay = duration(v)?;
            Ok(())
        },
        show: |l| show_duration(l.max_delay),
    },
    Setting {
        name: "max-timeout",
        help: "longest Upstash-Timeout (and callback timeout)",
        set: |l, v| {
            l.max_timeout = duration(v)?;
            Ok(())
        },
        show: |l| show_duration(l.max_timeout),
    },
    Setting {
        name: "max-batch-size",
        help: "messages one batch request may hold",
        set: |l, v| {
            l.max_batch_size = number(v)?;
            Ok(())
        },
        show: |l| l.max_batch_size.to_string(),
    },
    Setting {
        name: "max-url-groups",
        help: "URL groups that may exist",
        set: |l, v| {
            l.max_url_groups = number(v)?;
            Ok(())
        },
        show: |l| l.max_url_groups.to_string(),
    },
    Setting {
        name: "max-url-group-endpoints",
        help: "endpoints one URL group may have",
        set: |l, v| {
            l.max_url_group_endpoints = number(v)?;
            Ok(())
        },
        show: |l| l.max_url_group_endpoints.to_string(),
    },
    Setting {
        name: "max-queues",
        help: "queues that may exist",
        set: |l, v| {
            l.max_queues = number(v)?;
            Ok(())
        },
        show: |l| l.max_queues.to_string(),
    },
    Setting {
        name: "max-schedules",
        help: "schedules that may exist",
        set: |l, v| {
            l.max_schedules = number(v)?;
            Ok(())
        },
        show: |l| l.max_schedules.to_string(),
    },
    Setting {
        name: "log-retention-count",
        help: "log entries kept (the oldest go first)",
        set: |l, v| {
            l.logs.count = number(v)?;
            Ok(())
        },
        show: |l| l.logs.count.to_string(),
    },
    Setting {
        name: "log-retention-age",
        help: "how long log entries are kept",
        set: |l, v| {
            l.logs.age = duration(v)?;
            Ok(())
        },
        show: |l| show_duration(l.logs.age),
    },
    Setting {
        name: "dlq-retention-count",
        help: "DLQ messages kept (the oldest go first)",
        set: |l, v| {
            l.dlq.count = number(v)?;
            Ok(())
        },
        show: |l| l.dlq.count.to_string(),
    },
    Setting {
        name: "dedup-retention-count",
        help: "deduplication ids remembered, each for 10 minutes (the oldest go first)",
        set: |l, v| {
            l.dedup_ids = number(v)?;
            Ok(())
        },
        show: |l| l.dedup_ids.to_string(),
    },
    Setting {
        name: "dlq-retention-age",
        help: "how long DLQ messages are kept",
        set: |l, v| {
            l.dlq.age = duration(v)?;
            Ok(())
        },
        show: |l| show_duration(l.dlq.age),
    },
];

impl Limits {
    /// The largest request body (a message's body, or a whole batch) in bytes.
    pub fn max_message_size(mut self, bytes: usize) -> Limits {
        self.max_message_size = bytes;
        self
    }

    /// The largest `Upstash-Retries` (and callback retries) accepted.
    pub fn max_retries(mut self, retries: u32) -> Limits {
        self.max_retries = retries;
        self
    }

    /// The longest `Upstash-Delay`, or `Upstash-Not-Before` from now.
    pub fn max_delay(mut self, delay: Duration) -> Limits {
        self.max_delay = delay;
        self
    }

    /// The longest `Upstash-Timeout` (and callback timeout).
    pub fn max_timeout(mut self, timeout: Duration) -> Limits {
        self.max_timeout = timeout;
        self
    }

    /// How many messages one batch request may hold.
    pub fn max_batch_size(mut self, messages: usize) -> Limits {
        self.max_batch_size = messages;
        self
    }

    /// How many URL groups may exist.
    pub fn max_url_groups(mut self, groups: usize) -> Limits {
        self.max_url_groups = groups;
        self
    }

    /// How many endpoints one URL group may have.
    pub fn max_url_group_endpoints(mut self, endpoints: usize) -> Limits {
        self.max_url_group_endpoints = endpoints;
        self
    }

    /// How many queues may exist.
    pub fn max_queues(mut self, queues: usize) -> Limits {
        self.max_queues = queues;
        self
    }

    /// How many schedules may exist.
    pub fn max_schedules(mut self, schedules: usize) -> Limits {
        self.max_schedules = schedules;
        self
    }

    /// Keep at most `count` log entries, none older than `age`.
    pub fn log_retention(mut self, count: usize, age: Duration) -> Limits {
        self.logs = Retention { count, age };
        self
    }

    /// Keep at most `count` DLQ messages, none older than `age`.
    pub fn dlq_retention(mut self, count: usize, age: Duration) -> Limits {
        self.dlq = Retention { count, age };
        self
    }

    /// Remember at most `ids` deduplication ids (each for QStash's 10
    /// minutes); past that, the oldest are forgotten first.
    pub fn dedup_retention(mut self, ids: usize) -> Limits {
        self.dedup_ids = ids;
        self
    }

    /// Sets the limit named as the binary's flag (`max-retries`,
    /// `log-retention-age`, ...) from text: a number, or a duration such
    /// as `7d` or `1h30m`.
    pub fn set(&mut self, name: &str, value: &str) -> Result<(), String> {
        let setting = SETTINGS
            .iter()
            .find(|s| s.name == name)
            .ok_or_else(|| format!("unknown limit `{name}`"))?;
        (setting.set)(self, value).map_err(|e| format!("--{name}: {e}"))
    }

    /// Every limit's name (as the binary's flag), what it bounds, and its
    /// value in `self`.
    pub fn describe(&self) -> Vec<(&'static str, &'static str, String)> {
        SETTINGS
            .iter()
            .map(|s| (s.name, s.help, (s.show)(self)))
            .collect()
    }

    /// A body of `len` bytes is within the message size.
    pub(crate) fn check_body(&self, len: usize) -> Result<(), ApiError> {
        if len > self.max_message_size {
            return Err(self.too_large());
        }
        Ok(())
    }

    /// What a body over the message size is answered.
    pub(crate) fn too_large(&self) -> ApiError {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "the body is larger than the maximum message size of {} bytes (limit max-message-size)",
                self.max_message_size
            ),
        )
    }

    /// What a publish asks for is within the limits: retries, delay,
    /// timeouts, its callbacks' too.
    pub(crate) fn check_options(&self, options: &Options, now_ms: u64) -> Result<(), ApiError> {
        let retries = |header: &str, retries: Option<u32>| match retries {
            Some(n) if n > self.max_retries => Err(exceeded(
                format!("{header} is {n}, more than {} retries", self.max_retries),
                "max-retries",
            )),
            _ => Ok(()),
        };
        let timeout = |header: &str, timeout: Option<Duration>| match timeout {
            Some(t) if t > self.max_timeout => Err(exceeded(
                format!(
                    "{header} is {}, longer than {}",
                    show_duration(t),
                    show_duration(self.max_timeout)
                ),
                "max-timeout",
            )),
            _ => Ok(()),
        };
        retries("Upstash-Retries", options.retries)?;
        timeout("Upstash-Timeout", options.timeout)?;
        for callback in options.callbacks() {
            retries("a callback's retries", callback.retries)?;
            timeout("a callback's timeout", callback.timeout)?;
        }
        let max_delay_ms = u64::try_from(self.max_delay.as_millis()).unwrap_or(u64::MAX);
        if options.due_ms(now_ms).saturating_sub(now_ms) > max_delay_ms {
            return Err(exceeded(
                format!(
                    "the message would be delivered more than {} from now",
                    show_duration(self.max_delay)
                ),
                "max-delay",
            ));
        }
        Ok(())
    }
}

/// A limit was exceeded: `what`, and the limit's name, so the message says
/// how to raise it.
pub(crate) fn exceeded(what: String, limit: &str) -> ApiError {
    ApiError::bad_request(format!("{what} (limit {limit})"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_limit_is_settable_by_name_and_shown() {
        let mut limits = Limits::default();
        for (name, _, shown) in Limits::default().describe() {
            limits.set(name, &shown).unwrap();
        }
        assert_eq!(limits, Limits::default());
        limits.set("log-retention-age", "1h30m").unwrap();
        assert_eq!(limits.logs.age, Duration::from_secs(5400));
        limits.set("max-retries", "20").unwrap();
        assert_eq!(limits.max_retries, 20);
        assert!(limits.set("max-retries", "-1").is_err());
        assert!(limits.set("max-delay", "1y").is_err());
        assert!(limits.set("no-such-limit", "1").is_err());
    }
}
