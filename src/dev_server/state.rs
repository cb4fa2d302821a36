//! Everything the server holds, behind one lock, and the operations on it
//! that keep the schedule and the logs consistent.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap, HashSet, VecDeque};
use std::fmt::Write as _;
use std::sync::{Mutex, MutexGuard, PoisonError};

use ring::rand::{SecureRandom as _, SystemRandom};
use tokio::sync::watch;

use super::clock::DevClock;
use super::message::Message;
use crate::receiver::Signer;
use crate::types;

/// Deduplication ids are remembered this long, as in QStash.
pub(crate) const DEDUP_WINDOW_MS: u64 = 10 * 60 * 1000;

pub(crate) struct Shared {
    state: Mutex<State>,
    pub(crate) clock: DevClock,
    pub(crate) token: String,
    pub(crate) http: reqwest::Client,
}

impl Shared {
    pub(crate) fn new(
        keys: SigningKeys,
        clock: DevClock,
        token: String,
        http: reqwest::Client,
    ) -> Shared {
        Shared {
            state: Mutex::new(State {
                keys,
                messages: HashMap::new(),
                due: BinaryHeap::new(),
                dedup: HashMap::new(),
                dlq: BTreeMap::new(),
                logs: Vec::new(),
                url_groups: BTreeMap::new(),
                queues: BTreeMap::new(),
                schedules: BTreeMap::new(),
                flow_keys: BTreeMap::new(),
                seq: 0,
                logged: watch::channel(0).0,
                scheduled: watch::channel(0).0,
            }),
            clock,
            token,
            http,
        }
    }

    /// The state. A handler that panicked mid-update cannot have left it
    /// torn in a way that matters more than refusing every later request.
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
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

pub(crate) struct DlqEntry {
    pub(crate) dlq_id: String,
    pub(crate) message: Message,
    pub(crate) response: Option<Response>,
}

/// What the destination answered on the last attempt.
#[derive(Debug, Clone)]
pub(crate) struct Response {
    pub(crate) status: u16,
    pub(crate) headers: HashMap<String, Vec<String>>,
    pub(crate) body: Vec<u8>,
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

pub(crate) struct Dedup {
    pub(crate) expires_ms: u64,
    pub(crate) message_ids: Vec<(String, String)>,
}

pub(crate) struct State {
    pub(crate) keys: SigningKeys,
    /// Messages not yet delivered, failed or cancelled.
    pub(crate) messages: HashMap<String, Message>,
    /// (due time, sequence, message id): earliest first, then publish order.
    due: BinaryHeap<Reverse<(u64, u64, String)>>,
    pub(crate) dedup: HashMap<String, Dedup>,
    /// By insertion sequence; the DLQ id ends with it.
    pub(crate) dlq: BTreeMap<u64, DlqEntry>,
    /// Oldest first; an entry's index is its cursor.
    pub(crate) logs: Vec<types::LogEntry>,
    pub(crate) url_groups: BTreeMap<String, UrlGroup>,
    pub(crate) queues: BTreeMap<String, Queue>,
    pub(crate) schedules: BTreeMap<String, super::schedules::Schedule>,
    pub(crate) flow_keys: BTreeMap<String, super::flow_control::FlowKey>,
    seq: u64,
    /// The number of log entries, for those waiting on one.
    pub(crate) logged: watch::Sender<usize>,
    /// Bumped whenever something is scheduled, to wake the scheduler; only
    /// then, so that finishing an attempt costs the scheduler nothing.
    pub(crate) scheduled: watch::Sender<u64>,
}

impl State {
    pub(crate) fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    /// Stores `message` and schedules its next attempt at `due_ms`; a
    /// message for a queue waits for a slot of it instead (the queue is
    /// created, with parallelism 1, if there is none).
    pub(crate) fn schedule(&mut self, message: Message, due_ms: u64) {
        if let Some(name) = message.queue_name.clone() {
            let queue = self
                .queues
                .entry(name.clone())
                .or_insert_with(|| Queue::new(message.created_at_ms, 1));
            queue.waiting.push_back(message.id.clone());
            self.messages.insert(message.id.clone(), message);
            self.pump_queue(&name);
            return;
        }
        let seq = self.next_seq();
        self.due.push(Reverse((due_ms, seq, message.id.clone())));
        self.messages.insert(message.id.clone(), message);
        self.scheduled.send_modify(|generation| *generation += 1);
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
        let Some(name) = &message.queue_name else {
            return;
        };
        if let Some(queue) = self.queues.get_mut(name)
            && queue.active.remove(&message.id)
        {
            self.pump_queue(name);
        }
    }

    /// Ids of messages due at `now_ms`, in order; and when the next one is.
    pub(crate) fn take_due(&mut self, now_ms: u64) -> (Vec<String>, Option<u64>) {
        let mut ready = Vec::new();
        while let Some(Reverse((due, _, _))) = self.due.peek() {
            if *due > now_ms {
                break;
            }
            if let Some(Reverse((_, _, id))) = self.due.pop() {
                ready.push(id);
            }
        }
        (ready, self.due.peek().map(|Reverse((due, _, _))| *due))
    }

    pub(crate) fn log(&mut self, entry: types::LogEntry) {
        self.logs.push(entry);
        self.logged.send_replace(self.logs.len());
    }

    /// Drops deduplication ids older than the window.
    pub(crate) fn expire_dedup(&mut self, now_ms: u64) {
        self.dedup.retain(|_, entry| entry.expires_ms > now_ms);
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
