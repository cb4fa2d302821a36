//! Retrying requests that failed on the way or were turned away for a moment,
//! without ever sending a message twice.
//!
//! Every request of a [`Client`](crate::Client) goes through one loop (the
//! `exec` hook, `src/hooks.rs`): requests are buffered bytes, so an attempt
//! is a clone of the one before. What is retried:
//!
//! | outcome | retried for |
//! |---|---|
//! | connection could not be opened | every operation (nothing was sent) |
//! | 429 Too Many Requests | every operation (QStash refused it before acting), after the wait it names if that fits the budget |
//! | timeout, connection lost after sending, truncated answer | operations safe to repeat |
//! | 5xx other than 501 and 505 | operations safe to repeat |
//! | any other 4xx, a readable 2xx | never |
//!
//! Safe to repeat are reads, calls that set state (pause, resume, pin, upsert,
//! delete, cancel, DLQ retry), `create_schedule` with an
//! `Upstash-Schedule-Id`, and publish, enqueue and batch, which carry an
//! `Upstash-Deduplication-Id` that is the same on every attempt (see
//! [`RetryPolicy`]). Not safe: `create_schedule` without a schedule id (each
//! request makes a new schedule), `rotate_signing_keys` (rotating twice
//! throws away the key deliveries are still signed with), and operations
//! this crate does not know, unless they are `GET`.
//!
//! A repeated delete or cancel whose first answer was lost may answer 404:
//! the first attempt did the work.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{Entry, HeaderMap, HeaderName, HeaderValue};
use ring::rand::{SecureRandom, SystemRandom};

use crate::clock::{Clock, SystemClock};
use crate::error::{Refusal, causes};
use crate::operations::{Operation, Retry};

/// Default for [`RetryPolicy::max_attempts`].
pub const DEFAULT_MAX_ATTEMPTS: u32 = 4;
/// Default for [`RetryPolicy::initial_delay`].
pub const DEFAULT_INITIAL_DELAY: Duration = Duration::from_millis(250);
/// Default for [`RetryPolicy::max_delay`].
pub const DEFAULT_MAX_DELAY: Duration = Duration::from_secs(8);
/// Default for [`RetryPolicy::max_elapsed`].
pub const DEFAULT_MAX_ELAPSED: Duration = Duration::from_secs(60);

/// When and how often a [`Client`](crate::Client) tries a request again; on
/// by default ([`RetryPolicy::default`]), off with
/// [`ClientBuilder::no_retries`](crate::ClientBuilder::no_retries).
///
/// Retry `n` (1, 2, …) waits `initial_delay · 2ⁿ⁻¹`, at most `max_delay`,
/// with jitter: a random point in the upper half of that, so that many
/// clients failing together do not come back together. A 429 waits until
/// its `Retry-After` or reset time instead; if that is beyond the budget,
/// the [`RateLimited`](crate::Error::RateLimited) error comes back at once.
///
/// While retries are on, each publish, enqueue and batch entry without
/// an `Upstash-Deduplication-Id` (and without
/// `Upstash-Content-Based-Deduplication: true`) gets a unique one (64
/// random bits drawn when the client is built, then a counter), the same
/// on every attempt of the call, so QStash keeps one message if an attempt
/// reached it but its answer was lost. With retries off nothing is added.
///
/// ```
/// use std::time::Duration;
/// use qstash::RetryPolicy;
///
/// let policy = RetryPolicy::default()
///     .max_attempts(6)
///     .initial_delay(Duration::from_millis(100))
///     .max_elapsed(Duration::from_secs(20));
/// let client = qstash::Client::builder().token("my-token").retry(policy).build()?;
/// # Ok::<(), qstash::ConfigError>(())
/// ```
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    max_attempts: u32,
    initial_delay: Duration,
    max_delay: Duration,
    max_elapsed: Duration,
    jitter: bool,
    clock: Arc<dyn Clock>,
}

impl Default for RetryPolicy {
    /// [`DEFAULT_MAX_ATTEMPTS`] attempts, [`DEFAULT_INITIAL_DELAY`] doubling
    /// up to [`DEFAULT_MAX_DELAY`], all within [`DEFAULT_MAX_ELAPSED`], with
    /// jitter, on the [`SystemClock`].
    fn default() -> Self {
        RetryPolicy {
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            initial_delay: DEFAULT_INITIAL_DELAY,
            max_delay: DEFAULT_MAX_DELAY,
            max_elapsed: DEFAULT_MAX_ELAPSED,
            jitter: true,
            clock: Arc::new(SystemClock),
        }
    }
}

impl RetryPolicy {
    /// One attempt per call: nothing is retried and no deduplication id is added.
    pub fn none() -> Self {
        RetryPolicy::default().max_attempts(1)
    }

    /// Attempts per call, the first included; at least 1.
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// The wait before the first retry; it doubles for each further one.
    pub fn initial_delay(mut self, delay: Duration) -> Self {
        self.initial_delay = delay;
        self
    }

    /// The longest wait between two attempts (a 429's wait excepted, which
    /// only [`max_elapsed`](Self::max_elapsed) bounds).
    pub fn max_delay(mut self, delay: Duration) -> Self {
        self.max_delay = delay;
        self
    }

    /// The time a call may take, all attempts and waits together. No retry
    /// is made whose wait would use up what is left of it, and a retry's
    /// timeout is cut to what remains; the first attempt always has the
    /// client's full timeout.
    pub fn max_elapsed(mut self, budget: Duration) -> Self {
        self.max_elapsed = budget;
        self
    }

    /// Whether waits are randomized (the default) or exact.
    pub fn jitter(mut self, jitter: bool) -> Self {
        self.jitter = jitter;
        self
    }

    /// The clock that times waits and the budget; [`SystemClock`] by default
    /// (see [`Clock`] for a test clock whose waits take no time).
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Whether a call may be tried more than once.
    pub fn retries(&self) -> bool {
        self.max_attempts > 1
    }

    /// Attempts per call, the first included.
    pub fn attempts(&self) -> u32 {
        self.max_attempts
    }

    pub(crate) fn clock_ref(&self) -> &dyn Clock {
        &*self.clock
    }

    pub(crate) fn budget(&self) -> Duration {
        self.max_elapsed
    }

    /// The backoff before retry number `retry` (1 for the first retry).
    pub(crate) fn backoff(&self, retry: u32) -> Duration {
        let exponent = retry.saturating_sub(1).min(31);
        let full = self
            .initial_delay
            .saturating_mul(1u32 << exponent)
            .min(self.max_delay);
        if self.jitter {
            // Upper half: a floor keeps a retry from hammering at once.
            full / 2 + full.mul_f64(random_fraction() / 2.0)
        } else {
            full
        }
    }
}

/// Uniform in [0, 1).
fn random_fraction() -> f64 {
    let mut bytes = [0u8; 8];
    if SystemRandom::new().fill(&mut bytes).is_err() {
        // No entropy: no jitter, which is still a correct wait.
        return 0.5;
    }
    (u64::from_le_bytes(bytes) >> 11) as f64 / (1u64 << 53) as f64
}

/// Where a client's deduplication ids come from: 64 random bits drawn when
/// the client is built, and a counter that starts at 64 more random bits.
///
/// An id is unique for as long as QStash remembers it (10 minutes) without
/// asking the operating system for randomness on every call, which costs
/// a system call (about a microsecond here, a good part of a publish):
/// within a client the counter never repeats, and two clients (in one
/// process or many) share ids only if their random prefixes are equal.
/// The source belongs to one client and its clones rather than to the
/// process, so a process forked from another draws its own as soon as it
/// builds a client.
#[derive(Debug)]
pub(crate) struct DeduplicationIds {
    prefix: u64,
    next: AtomicU64,
}

impl DeduplicationIds {
    /// A new source; `None` if the system has no randomness to give, in
    /// which case no id is added (and publishing is not repeated).
    pub(crate) fn new() -> Option<DeduplicationIds> {
        let mut bytes = [0u8; 16];
        SystemRandom::new().fill(&mut bytes).ok()?;
        let (prefix, start) = bytes.split_at(8);
        Some(DeduplicationIds {
            prefix: u64::from_le_bytes(prefix.try_into().ok()?),
            next: AtomicU64::new(u64::from_le_bytes(start.try_into().ok()?)),
        })
    }

    /// A fresh id: 32 lower-case hex digits.
    fn next(&self) -> [u8; 32] {
        let count = self.next.fetch_add(1, Ordering::Relaxed);
        let mut id = [0u8; 32];
        id[..16].copy_from_slice(&hex_digits(self.prefix));
        id[16..].copy_from_slice(&hex_digits(count));
        id
    }

    /// A fresh id as a header value, in shared memory: the request is
    /// copied for each attempt, and a value made from a `Vec` would
    /// allocate again when first copied.
    pub(crate) fn header(&self) -> HeaderValue {
        HeaderValue::from_maybe_shared(bytes::Bytes::from_owner(self.next()))
            .expect("hex digits are a valid header value")
    }

    /// A fresh id as a string.
    pub(crate) fn string(&self) -> String {
        self.next().iter().map(|&digit| digit as char).collect()
    }
}

/// The 16 lower-case hex digits of `value`, most significant first,
/// worked out in one 128-bit word rather than by a loop over a table of
/// digits, which the compiler unrolls into ten cache lines of code that
/// every publish runs (`benches/publish_cost.rs`).
fn hex_digits(value: u64) -> [u8; 16] {
    const BYTES: u128 = 0x0101_0101_0101_0101_0101_0101_0101_0101;
    // Spread the 16 nibbles over the 16 bytes, nibble k in byte k.
    let mut spread = u128::from(value);
    spread = (spread | spread << 32) & 0x0000_0000_ffff_ffff_0000_0000_ffff_ffff;
    spread = (spread | spread << 16) & 0x0000_ffff_0000_ffff_0000_ffff_0000_ffff;
    spread = (spread | spread << 8) & 0x00ff_00ff_00ff_00ff_00ff_00ff_00ff_00ff;
    spread = (spread | spread << 4) & 0x0f0f_0f0f_0f0f_0f0f_0f0f_0f0f_0f0f_0f0f;
    // `0`-`9` from 0-9, and `a`-`f` from 10-15 (which carry into bit 4
    // when 6 is added): no byte overflows into the next.
    let letters = ((spread + 6 * BYTES) >> 4) & BYTES;
    (spread + b'0' as u128 * BYTES + letters * u128::from(b'a' - b'0' - 10)).to_be_bytes()
}

/// How safe it is to send a request again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Safety {
    /// Repeating it changes nothing (reads, setting state, deleting).
    Repeatable,
    /// Repeating it is not safe: it is sent again only when it surely never
    /// arrived or was refused before QStash acted on it.
    Once,
}

// Names, not strings: looking up or inserting by string parses it first.
static DEDUPLICATION_ID: HeaderName = HeaderName::from_static("upstash-deduplication-id");
static CONTENT_BASED: HeaderName = HeaderName::from_static("upstash-content-based-deduplication");

/// Whether `headers` ask QStash for content-based deduplication.
fn content_based(headers: &HeaderMap) -> bool {
    headers
        .get(&CONTENT_BASED)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
}

/// Gives a publish or enqueue request a deduplication id from `ids` unless
/// it has one (or asks for content-based deduplication).
pub(crate) fn deduplicate_headers(headers: &mut HeaderMap, ids: &DeduplicationIds) {
    // The id's name is looked up once, for both the test and the insert:
    // this runs on every publish.
    if content_based(headers) {
        return;
    }
    if let Entry::Vacant(vacant) = headers.entry(DEDUPLICATION_ID.clone()) {
        vacant.insert(ids.header());
    }
}

/// The same for every entry of a batch body (a JSON array of objects, each
/// with a `headers` object); `None` if the body is not that shape, in which
/// case it is left as it was and is not repeated.
pub(crate) fn deduplicate_batch(body: &[u8], ids: &DeduplicationIds) -> Option<Option<Vec<u8>>> {
    let mut entries: Vec<serde_json::Map<String, serde_json::Value>> =
        serde_json::from_slice(body).ok()?;
    let mut changed = false;
    for entry in &mut entries {
        let headers = entry
            .entry("headers")
            .or_insert_with(|| serde_json::Value::Object(Default::default()));
        let headers = headers.as_object_mut()?;
        let has = |name: &str| {
            headers
                .iter()
                .find(|(key, _)| key.eq_ignore_ascii_case(name))
                .map(|(_, value)| value)
        };
        let deduplicated = has(DEDUPLICATION_ID.as_str()).is_some()
            || has(CONTENT_BASED.as_str())
                .and_then(|v| v.as_str())
                .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
        if !deduplicated {
            headers.insert(
                "Upstash-Deduplication-Id".into(),
                serde_json::Value::String(ids.string()),
            );
            changed = true;
        }
    }
    if changed {
        Some(Some(serde_json::to_vec(&entries).ok()?))
    } else {
        Some(None)
    }
}

/// How safe `request` of `operation` is to repeat, deduplication aside.
pub(crate) fn safety(operation: Option<&Operation>, request: &reqwest::Request) -> Safety {
    match operation.map(|operation| operation.retry) {
        Some(Retry::Repeatable) => Safety::Repeatable,
        Some(Retry::Once {
            unless: Some(header),
        }) if request.headers().contains_key(header) => Safety::Repeatable,
        Some(Retry::Once { .. } | Retry::Deduplicated) => Safety::Once,
        // Not an operation of the spec: trust HTTP's read methods only.
        None if request.method() == reqwest::Method::GET => Safety::Repeatable,
        None => Safety::Once,
    }
}

/// Whether an HTTP/2 server said it did not process the request: it
/// reset the stream with `REFUSED_STREAM`, or is shutting the connection
/// down gracefully (`GOAWAY` with `NO_ERROR`) before this stream
/// (RFC 9113, section 8.7), while the request was being sent, before any
/// answer. Either is safe to send again, whatever the request: the same
/// errors reqwest's own retry layer repeats (it sees only sending's
/// errors), which the builder's client turns off while this crate's
/// retries are on (see `ClientBuilder::build`), so that requests are not
/// copied for two retry layers. Once an answer has begun (an error reading
/// its body), the server acted, whatever it resets the stream with.
fn refused_unprocessed(error: &reqwest::Error) -> bool {
    if error.is_body() || error.is_decode() {
        return false;
    }
    causes::<h2::Error>(error).any(|error| {
        error.is_remote()
            && ((error.is_reset() && error.reason() == Some(h2::Reason::REFUSED_STREAM))
                || (error.is_go_away() && error.reason() == Some(h2::Reason::NO_ERROR)))
    })
}

/// Why an attempt is worth repeating.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Failure {
    /// The request was not processed: the connection could not be opened,
    /// or an HTTP/2 server refused the stream before acting on it.
    NotSent,
    /// QStash said 429.
    RateLimited,
    /// The request may have arrived (timeout, lost connection, 5xx).
    MaybeArrived,
    /// Nothing to retry.
    Final,
}

impl Failure {
    pub(crate) fn of_status(status: StatusCode) -> Failure {
        match status.as_u16() {
            429 => Failure::RateLimited,
            // Not Implemented and HTTP Version Not Supported do not change.
            501 | 505 => Failure::Final,
            500..=599 => Failure::MaybeArrived,
            _ => Failure::Final,
        }
    }

    pub(crate) fn of_error(error: &reqwest::Error) -> Failure {
        if error.is_connect() || refused_unprocessed(error) {
            Failure::NotSent
        } else if error.is_builder()
            || error.is_redirect()
            || error.is_status()
            || Refusal::of(error).is_some()
        {
            Failure::Final
        } else {
            Failure::MaybeArrived
        }
    }

    /// Whether to try again, given how safe the request is to repeat.
    pub(crate) fn retryable(self, safety: Safety) -> bool {
        match self {
            Failure::NotSent | Failure::RateLimited => true,
            Failure::MaybeArrived => safety == Safety::Repeatable,
            Failure::Final => false,
        }
    }

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Failure::NotSent => "not_processed",
            Failure::RateLimited => "rate_limited",
            Failure::MaybeArrived => "lost_or_server_error",
            Failure::Final => "final",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap_and_jitter_stays_in_the_upper_half() {
        let policy = RetryPolicy::default()
            .initial_delay(Duration::from_millis(100))
            .max_delay(Duration::from_millis(500))
            .jitter(false);
        let waits: Vec<_> = (1..=5).map(|n| policy.backoff(n).as_millis()).collect();
        assert_eq!(waits, [100, 200, 400, 500, 500]);
        let policy = policy.jitter(true);
        for n in 1..=5 {
            for _ in 0..50 {
                let wait = policy.backoff(n);
                let full = Duration::from_millis([100, 200, 400, 500, 500][n as usize - 1]);
                assert!(wait >= full / 2 && wait <= full, "{wait:?} for {full:?}");
            }
        }
    }

    #[test]
    fn batch_entries_get_ids_only_where_they_have_none() {
        let body = br#"[{"destination":"a","headers":{"upstash-deduplication-id":"mine"}},
            {"destination":"b","headers":{"Upstash-Content-Based-Deduplication":"true"}},
            {"destination":"c","headers":{}},{"destination":"d"}]"#;
        let ids = DeduplicationIds::new().unwrap();
        let changed = deduplicate_batch(body, &ids)
            .expect("a batch")
            .expect("changed");
        let entries: Vec<serde_json::Value> = serde_json::from_slice(&changed).unwrap();
        assert_eq!(entries[0]["headers"]["upstash-deduplication-id"], "mine");
        assert!(
            entries[1]["headers"]
                .get("Upstash-Deduplication-Id")
                .is_none()
        );
        let c = entries[2]["headers"]["Upstash-Deduplication-Id"]
            .as_str()
            .unwrap();
        let d = entries[3]["headers"]["Upstash-Deduplication-Id"]
            .as_str()
            .unwrap();
        assert_eq!((c.len(), d.len()), (32, 32));
        assert_ne!(c, d);
        assert_eq!(deduplicate_batch(br#"{"not":"a batch"}"#, &ids), None);
        assert_eq!(
            deduplicate_batch(br#"[{"headers":{"Upstash-Deduplication-Id":"x"}}]"#, &ids),
            Some(None)
        );
    }

    #[test]
    fn hex_digits_are_what_formatting_writes() {
        let mut value = 0x9e37_79b9_7f4a_7c15_u64;
        for edge in [0, 1, 9, 10, 15, 16, 0xf0, u64::MAX, u64::MAX - 1, 1 << 63] {
            assert_eq!(
                hex_digits(edge),
                *format!("{edge:016x}").as_bytes(),
                "{edge:x}"
            );
        }
        for _ in 0..10_000 {
            value = value
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            assert_eq!(hex_digits(value), *format!("{value:016x}").as_bytes());
        }
    }

    #[test]
    fn ids_are_hex_unique_in_a_source_and_differ_between_sources() {
        let ids = DeduplicationIds::new().unwrap();
        let first = ids.string();
        assert_eq!(first.len(), 32);
        assert!(
            first
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        );
        let mut seen: std::collections::HashSet<String> = (0..1000).map(|_| ids.string()).collect();
        assert!(seen.insert(first));
        assert_eq!(seen.len(), 1001);
        assert_eq!(ids.header().to_str().unwrap().len(), 32);
        // The counter's digits follow the prefix's, and wrap.
        let ids = DeduplicationIds {
            prefix: 0x0123_4567_89ab_cdef,
            next: AtomicU64::new(u64::MAX),
        };
        assert_eq!(ids.string(), "0123456789abcdefffffffffffffffff");
        assert_eq!(ids.string(), "0123456789abcdef0000000000000000");
        let other = DeduplicationIds::new().unwrap();
        assert_ne!(other.string()[..16], ids.string()[..16]);
    }

    #[test]
    fn statuses_and_safety() {
        assert_eq!(
            Failure::of_status(StatusCode::TOO_MANY_REQUESTS),
            Failure::RateLimited
        );
        assert_eq!(
            Failure::of_status(StatusCode::BAD_GATEWAY),
            Failure::MaybeArrived
        );
        assert_eq!(
            Failure::of_status(StatusCode::NOT_IMPLEMENTED),
            Failure::Final
        );
        assert_eq!(Failure::of_status(StatusCode::CONFLICT), Failure::Final);
        assert!(!Failure::MaybeArrived.retryable(Safety::Once));
        assert!(Failure::NotSent.retryable(Safety::Once));
        assert!(Failure::RateLimited.retryable(Safety::Once));
    }
}
