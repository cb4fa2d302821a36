//! Everything the server holds, behind one lock, and the operations on it
//! that keep the timeline, the queues and the logs consistent.

mod firing;
mod flow;

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap, HashSet, VecDeque};
use std::fmt::Write as _;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Mutex, MutexGuard, PoisonError};

use ring::rand::{SecureRandom as _, SystemRandom};
use tokio::sync::watch;

pub(crate) use self::firing::Firing;
use super::clock::DevClock;
use super::dedup::Dedup;
use super::dlq_store::DlqStore;
use super::flow_key::FlowKey;
use super::limits::Limits;
use super::log_store::{LogRecord, LogStore};
use super::message::Message;
use super::schedule::Schedule;
use crate::receiver::Signer;
use crate::types;

pub(crate) struct Shared {
    state: Mutex<State>,
    pub(crate) clock: DevClock,
    pub(crate) token: String,
    pub(crate) http: reqwest::Client,
    pub(crate) limits: Limits,
    /// Where the server listens: a destination there would be the server
    /// delivering to itself.
    pub(crate) address: SocketAddr,
}

impl Shared {
    pub(crate) fn new(
        keys: SigningKeys,
        clock: DevClock,
        token: String,
        http: reqwest::Client,
        limits: Limits,
        address: SocketAddr,
    ) -> Shared {
        Shared {
            state: Mutex::new(State {
                keys,
                messages: HashMap::new(),
                due: BinaryHeap::new(),
                dedup: Dedup::new(limits.dedup_ids),
                dlq: DlqStore::new(limits.dlq),
                logs: LogStore::new(limits.logs),
                url_groups: BTreeMap::new(),
                queues: BTreeMap::new(),
                schedules: BTreeMap::new(),
                flow_keys: BTreeMap::new(),
                flow_wakes: BinaryHeap::new(),
                seq: 0,
                logged: watch::channel(0).0,
                scheduled: watch::channel(0).0,
            }),
            clock,
            token,
            http,
            limits,
            address,
        }
    }

    /// The state. A handler that panicked mid-update cannot have left it
    /// torn in a way that matters more than refusing every later request.
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether `url` names this server: its port, on a loopback or
    /// unspecified address, `localhost`, or the address it listens on.
    pub(crate) fn is_own(&self, url: &url::Url) -> bool {
        if url.port_or_known_default() != Some(self.address.port()) {
            return false;
        }
        let ip = match url.host() {
            Some(url::Host::Domain(name)) => {
                let name = name.trim_end_matches('.').to_ascii_lowercase();
                return name == "localhost" || name.ends_with(".localhost");
            }
            Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip),
            Some(url::Host::Ipv6(ip)) => ip.to_ipv4_mapped().map_or(IpAddr::V6(ip), IpAddr::V4),
            None => return false,
        };
        ip.is_loopback() || ip.is_unspecified() || ip == self.address.ip()
    }
}

/// The signing keys and a signer for the current one.
#[derive(Clone)]
pub(crate) struct SigningKeys {
    pub(crate) current: String,
    pub(crate) next: String,
    pub(crate) signer: Signer,
}

impl SigningKeys {
    pub(crate) fn new(current: &str, next: &str) -> Result<SigningKeys, crate::ConfigError> {
        Signer::new(next)?;
        Ok(SigningKeys {
            signer: Signer::new(current)?,
            current: current.to_owned(),
            next: next.to_owned(),
        })
    }
}

pub(crate) struct UrlGroup {
    pub(crate) created_at_ms: u64,
    pub(crate) updated_at_ms: u64,
    pub(crate) endpoints: Vec<types::Endpoint>,
}

/// A queue: messages enqueued to it wait in order for one of its
/// `parallelism` slots. A message holds its slot from its first attempt
/// until it is delivered, failed or cancelled (retries included), so a
/// queue with parallelism 1 delivers strictly in order.
pub(crate) struct Queue {
    pub(crate) created_at_ms: u64,
    pub(crate) updated_at_ms: u64,
    pub(crate) parallelism: usize,
    pub(crate) paused: bool,
    /// Not started yet, oldest first (may hold ids cancelled since).
    pub(crate) waiting: VecDeque<String>,
    /// Holding a slot.
    pub(crate) active: HashSet<String>,
}

impl Queue {
    pub(crate) fn new(now_ms: u64, parallelism: usize) -> Queue {
        Queue {
            created_at_ms: now_ms,
            updated_at_ms: now_ms,
            parallelism,
            paused: false,
            waiting: VecDeque::new(),
            active: HashSet::new(),
        }
    }
}

pub(crate) struct State {
    pub(crate) keys: SigningKeys,
    /// Messages not yet delivered, failed or cancelled.
    pub(crate) messages: HashMap<String, Message>,
    /// (due time, sequence, message id): earliest first, then publish order.
    due: BinaryHeap<Reverse<(u64, u64, String)>>,
    pub(crate) dedup: Dedup,
    pub(crate) dlq: DlqStore,
    pub(crate) logs: LogStore,
    pub(crate) url_groups: BTreeMap<String, UrlGroup>,
    pub(crate) queues: BTreeMap<String, Queue>,
    pub(crate) schedules: BTreeMap<String, Schedule>,
    pub(crate) flow_keys: BTreeMap<String, FlowKey>,
    /// (time, key): when a key's new rate period lets a held message go,
    /// earliest first. An entry whose key has since changed its wake time
    /// is stale and skipped.
    flow_wakes: BinaryHeap<Reverse<(u64, String)>>,
    seq: u64,
    /// The seq the next log record will get, for those waiting on one.
    pub(crate) logged: watch::Sender<u64>,
    /// Bumped whenever something is scheduled, to wake the scheduler; only
    /// then, so that finishing an attempt costs the scheduler nothing.
    pub(crate) scheduled: watch::Sender<u64>,
}

impl State {
    pub(crate) fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    /// Stores `message` and schedules its next attempt at its
    /// `not_before_ms`; a message for a queue waits for a slot of it
    /// instead (the queue is created, with parallelism 1, if there is none).
    pub(crate) fn schedule(&mut self, message: Message) {
        let id = message.info.id.clone();
        if let Some(name) = message.info.queue_name.clone() {
            let queue = self
                .queues
                .entry(name.clone())
                .or_insert_with(|| Queue::new(message.info.created_at_ms, 1));
            queue.waiting.push_back(id.clone());
            self.messages.insert(id, message);
            self.pump_queue(&name);
            return;
        }
        let due = message.not_before_ms;
        self.messages.insert(id.clone(), message);
        self.reschedule(&id, due);
    }

    /// Schedules another attempt of a message already stored.
    pub(crate) fn reschedule(&mut self, id: &str, due_ms: u64) {
        let seq = self.next_seq();
        self.due.push(Reverse((due_ms, seq, id.to_owned())));
        self.scheduled.send_modify(|generation| *generation += 1);
    }

    /// Gives free slots of queue `name` to its oldest waiting messages,
    /// unless it is paused.
    pub(crate) fn pump_queue(&mut self, name: &str) {
        let Some(queue) = self.queues.get_mut(name) else {
            return;
        };
        let mut started = Vec::new();
        while !queue.paused && queue.active.len() < queue.parallelism {
            let Some(id) = queue.waiting.pop_front() else {
                break;
            };
            // A message cancelled while waiting is gone from the store.
            if let Some(message) = self.messages.get(&id) {
                queue.active.insert(id.clone());
                started.push((id, message.not_before_ms));
            }
        }
        for (id, due) in started {
            self.reschedule(&id, due);
        }
    }

    /// `message` is done (delivered, failed or cancelled): its queue slot,
    /// if it had one, goes to the next message.
    pub(crate) fn release(&mut self, message: &Message) {
        let Some(name) = &message.info.queue_name else {
            return;
        };
        if let Some(queue) = self.queues.get_mut(name)
            && queue.active.remove(&message.info.id)
        {
            self.pump_queue(name);
        }
    }

    /// Ids of messages due at `now_ms`, in order.
    pub(crate) fn take_due(&mut self, now_ms: u64) -> Vec<String> {
        let mut ready = Vec::new();
        while let Some(Reverse((due, _, _))) = self.due.peek() {
            if *due > now_ms {
                break;
            }
            if let Some(Reverse((_, _, id))) = self.due.pop() {
                ready.push(id);
            }
        }
        ready
    }

    /// When the scheduler next has something to do: an attempt due, a
    /// schedule firing, a rate period letting a held message go.
    pub(crate) fn next_wake(&self) -> Option<u64> {
        let attempt = self.due.peek().map(|Reverse((due, _, _))| *due);
        [attempt, self.next_firing(), self.next_flow_wake()]
            .into_iter()
            .flatten()
            .min()
    }

    /// Records a state change; the messages of a schedule's last firing
    /// keep the schedule's `lastScheduleStates` current.
    pub(crate) fn log(&mut self, record: LogRecord) {
        if let Some(schedule) = record
            .message
            .schedule_id
            .as_ref()
            .and_then(|id| self.schedules.get_mut(id))
            && let Some((_, state)) = schedule
                .last_states
                .iter_mut()
                .find(|(id, _)| *id == record.message.id)
        {
            *state = record.state.clone();
        }
        let now = record.time_ms;
        self.logs.push(record, now);
        self.logged.send_replace(self.logs.next_seq());
    }

    /// Drops the logs and DLQ entries retention no longer keeps at `now_ms`.
    pub(crate) fn prune(&mut self, now_ms: u64) {
        self.logs.prune(now_ms);
        self.dlq.prune(now_ms);
    }
}

/// `prefix` and 32 random characters from QStash's id alphabet.
pub(crate) fn random_id(prefix: &str) -> String {
    const ALPHABET: &[u8] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    let mut bytes = [0u8; 32];
    if SystemRandom::new().fill(&mut bytes).is_err() {
        // Only uniqueness matters here; the time and a counter provide it.
        static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut id = prefix.to_owned();
        let _ = write!(id, "{}{n}", super::clock::system_now_ms());
        return id;
    }
    let mut id = String::with_capacity(prefix.len() + bytes.len());
    id.push_str(prefix);
    id.extend(
        bytes
            .iter()
            .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char),
    );
    id
}
