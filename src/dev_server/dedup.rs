//! Deduplication ids (explicit or content hashes), remembered for QStash's
//! window of 10 minutes, and at most a configured number of them. Ids
//! expire in the order they were made, so a publish costs the same however
//! many came before, and memory is bounded by the count, not the rate.

use std::collections::{HashMap, VecDeque};

/// Deduplication ids are remembered this long, as in QStash.
pub(crate) const DEDUP_WINDOW_MS: u64 = 10 * 60 * 1000;

/// A deduplication key: the first 128 bits of the SHA-256 of what makes two
/// publishes the same, so that every key takes 16 bytes however long the
/// id, and keys stay dense in memory.
pub(crate) type DedupKey = u128;

/// What a publish made: one message, or a URL group's messages (whose
/// answer names their URLs too).
#[derive(Debug)]
pub(crate) enum Made {
    One(Box<str>),
    Group(Box<[(Box<str>, Box<str>)]>),
}

impl Made {
    /// The messages as (id, URL); the URL is empty for one message.
    pub(crate) fn messages(&self) -> Vec<(&str, &str)> {
        match self {
            Made::One(id) => vec![(&**id, "")],
            Made::Group(list) => list.iter().map(|(id, url)| (&**id, &**url)).collect(),
        }
    }
}

/// The messages each live deduplication key made.
#[derive(Debug)]
pub(crate) struct Dedup {
    keys: HashMap<DedupKey, Made>,
    /// (expiry, key), in the order the keys were made: expiries only grow,
    /// since the window is fixed and the clock only moves forward.
    expiries: VecDeque<(u64, DedupKey)>,
    /// How many keys are kept at most.
    limit: usize,
}

impl Dedup {
    pub(crate) fn new(limit: usize) -> Dedup {
        Dedup {
            keys: HashMap::new(),
            expiries: VecDeque::new(),
            limit,
        }
    }

    /// The messages `key` made, if it is still within the window at `now_ms`.
    pub(crate) fn find(&mut self, key: DedupKey, now_ms: u64) -> Option<&Made> {
        self.expire(now_ms);
        self.keys.get(&key)
    }

    /// Remembers that `key` made `messages` at `now_ms`.
    pub(crate) fn insert(&mut self, key: DedupKey, made: Made, now_ms: u64) {
        self.expire(now_ms);
        self.expiries
            .push_back((now_ms.saturating_add(DEDUP_WINDOW_MS), key));
        self.keys.insert(key, made);
        while self.expiries.len() > self.limit {
            if let Some((_, key)) = self.expiries.pop_front() {
                self.keys.remove(&key);
            }
        }
    }

    fn expire(&mut self, now_ms: u64) {
        while let Some((expiry, _)) = self.expiries.front()
            && *expiry <= now_ms
        {
            if let Some((_, key)) = self.expiries.pop_front() {
                self.keys.remove(&key);
            }
        }
    }

    /// How many keys are remembered.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.keys.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_expire_in_time_order_and_past_the_count() {
        let mut dedup = Dedup::new(600);
        for n in 0..1000u64 {
            dedup.insert(u128::from(n), Made::One(format!("msg_{n}").into()), n);
        }
        // Past the count, the oldest went first.
        assert!(dedup.find(399, 999).is_none());
        assert!(
            dedup
                .find(400, 999)
                .is_some_and(|m| m.messages() == [("msg_400", "")])
        );
        // At 10 minutes past the 500th key, the first 501 are gone.
        assert!(dedup.find(500, DEDUP_WINDOW_MS + 500).is_none());
        assert!(dedup.find(501, DEDUP_WINDOW_MS + 500).is_some());
        assert_eq!(dedup.len(), 499);
        assert_eq!(dedup.expiries.len(), 499);
    }
}
