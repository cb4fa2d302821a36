//! Callbacks: where QStash reports the outcome of a delivery, and how it
//! delivers that report.

use std::fmt;
use std::time::Duration;

use http::Method;

/// A callback URL and how QStash calls it. QStash posts a JSON report
/// (status, headers and base64 body of your endpoint's answer, the message
/// id, the attempt) to it, signed like any delivery.
///
/// ```
/// use std::time::Duration;
/// use qstash::messages::Callback;
///
/// let callback = Callback::new("https://example.com/api/delivered")
///     .method(http::Method::PUT)
///     .timeout(Duration::from_secs(10))
///     .retries(2)
///     .retry_delay("1000 * (1 + retried)")
///     .header("Authorization", "Bearer callback-secret");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Callback {
    pub(crate) url: String,
    pub(crate) method: Option<Method>,
    pub(crate) timeout: Option<Duration>,
    pub(crate) retries: Option<u32>,
    pub(crate) retry_delay: Option<String>,
    pub(crate) headers: Vec<(String, String)>,
}

/// Header values are left out, as in [`Message`](super::Message)'s `Debug`.
impl fmt::Debug for Callback {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Callback")
            .field("url", &self.url)
            .field("method", &self.method)
            .field("timeout", &self.timeout)
            .field("retries", &self.retries)
            .field("retry_delay", &self.retry_delay)
            .field("header_names", &header_names(&self.headers))
            .finish()
    }
}

impl Callback {
    /// QStash calls `url` (absolute `http(s)`), with its defaults otherwise.
    pub fn new(url: impl Into<String>) -> Callback {
        Callback {
            url: url.into(),
            method: None,
            timeout: None,
            retries: None,
            retry_delay: None,
            headers: Vec::new(),
        }
    }

    /// The method QStash calls the callback with (default POST).
    pub fn method(mut self, method: Method) -> Callback {
        self.method = Some(method);
        self
    }

    /// How long QStash waits for the callback to answer (whole seconds).
    pub fn timeout(mut self, timeout: Duration) -> Callback {
        self.timeout = Some(timeout);
        self
    }

    /// How often QStash retries a failed callback (default: the message's
    /// retries).
    pub fn retries(mut self, retries: u32) -> Callback {
        self.retries = Some(retries);
        self
    }

    /// The wait before each callback retry, as an expression like the
    /// message's [`retry_delay`](super::Message::retry_delay).
    pub fn retry_delay(mut self, expression: impl Into<String>) -> Callback {
        self.retry_delay = Some(expression.into());
        self
    }

    /// A header QStash sends with the callback request; call again for more.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Callback {
        self.headers.push((name.into(), value.into()));
        self
    }
}

/// The names of `(name, value)` headers, for `Debug`.
pub(crate) fn header_names(headers: &[(String, String)]) -> Vec<&str> {
    headers.iter().map(|(name, _)| name.as_str()).collect()
}
