//! Flow control: limits shared by every message that names the same key.

use std::time::Duration;

use super::duration::{Units, render_positive};
use crate::error::InvalidInput;

/// A flow-control key and its limits: QStash keeps deliveries of all
/// messages with this key within them, whichever queue or schedule they
/// come from. At least one limit is required.
///
/// ```
/// use std::time::Duration;
/// use qstash::messages::FlowControl;
///
/// // At most 3 deliveries at once, and 10 per minute.
/// let limits = FlowControl::new("tenant-42")
///     .parallelism(3)
///     .rate(10)
///     .period(Duration::from_secs(60));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowControl {
    key: String,
    parallelism: Option<u32>,
    rate: Option<u32>,
    period: Option<Duration>,
}

impl FlowControl {
    /// Limits for the messages sharing `key`.
    pub fn new(key: impl Into<String>) -> FlowControl {
        FlowControl {
            key: key.into(),
            parallelism: None,
            rate: None,
            period: None,
        }
    }

    /// At most this many deliveries in flight at once.
    pub fn parallelism(mut self, parallelism: u32) -> FlowControl {
        self.parallelism = Some(parallelism);
        self
    }

    /// At most this many deliveries started per [`period`](Self::period).
    pub fn rate(mut self, rate: u32) -> FlowControl {
        self.rate = Some(rate);
        self
    }

    /// The window of [`rate`](Self::rate) (whole seconds; QStash's default
    /// is one second).
    pub fn period(mut self, period: Duration) -> FlowControl {
        self.period = Some(period);
        self
    }

    /// `(Upstash-Flow-Control-Key, Upstash-Flow-Control-Value)`.
    pub(crate) fn render(&self) -> Result<(String, String), InvalidInput> {
        if self.key.is_empty() {
            return Err(InvalidInput::new("flow_control", "the key is empty"));
        }
        let mut parts = Vec::new();
        for (name, value) in [("parallelism", self.parallelism), ("rate", self.rate)] {
            match value {
                Some(0) => {
                    return Err(InvalidInput::new(
                        "flow_control",
                        format!("{name} must be at least 1"),
                    ));
                }
                Some(value) => parts.push(format!("{name}={value}")),
                None => {}
            }
        }
        if parts.is_empty() {
            return Err(InvalidInput::new(
                "flow_control",
                format!("key `{}` has no limit: set parallelism or rate", self.key),
            ));
        }
        if let Some(period) = self.period {
            if self.rate.is_none() {
                return Err(InvalidInput::new(
                    "flow_control",
                    "a period only makes sense with a rate",
                ));
            }
            let period = render_positive("flow_control period", period, Units::WithDays)?;
            parts.push(format!("period={period}"));
        }
        Ok((self.key.clone(), parts.join(", ")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_like_the_official_sdk() {
        let limits = FlowControl::new("fc-key")
            .parallelism(3)
            .rate(10)
            .period(Duration::from_secs(60));
        assert_eq!(
            limits.render().unwrap(),
            ("fc-key".into(), "parallelism=3, rate=10, period=1m".into())
        );
        let only_rate = FlowControl::new("k").rate(5).render().unwrap();
        assert_eq!(only_rate.1, "rate=5");
    }

    #[test]
    fn a_key_without_limits_is_refused() {
        for (limits, expected) in [
            (FlowControl::new("k"), "no limit"),
            (FlowControl::new(""), "empty"),
            (FlowControl::new("k").parallelism(0), "parallelism must be"),
            (
                FlowControl::new("k")
                    .parallelism(1)
                    .period(Duration::from_secs(1)),
                "only makes sense with a rate",
            ),
            (
                FlowControl::new("k").rate(1).period(Duration::ZERO),
                "longer than zero",
            ),
        ] {
            let error = limits.render().unwrap_err();
            assert!(error.reason().contains(expected), "{error}");
        }
    }
}
