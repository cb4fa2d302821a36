//! Deduplication ids (explicit or content hashes), remembered for QStash's
//! window of 10 minutes. Ids expire in the order they were made, so a
//! publish costs the same however many came before.

use std::collections::{HashMap, VecDeque};

/// Deduplication ids are remembered this long, as in QStash.
pub(crate) const DEDUP_WINDOW_MS: u64 = 10 * 60 * 1000;

/// The messages (id, URL) each live deduplication key made.
#[derive(Debug, Default)]
pub(crate) struct Dedup {
    keys: HashMap<String, Vec<(String, String)>>,
    /// (expiry, key), in the order the keys were made: expiries only grow,
    /// since the window is fixed and the clock only moves forward.
    expiries: VecDeque<(u64, String)>,
}

impl Dedup {
    /// The messages `key` made, if it is still within the window at `now_ms`.
    pub(crate) fn find(&mut self, key: &str, now_ms: u64) -> Option<&[(String, String)]> {
        self.expire(now_ms);
        self.keys.get(key).map(Vec::as_slice)
    }

    /// Remembers that `key` made `messages` at `now_ms`.
    pub(crate) fn insert(&mut self, key: String, messages: Vec<(String, String)>, now_ms: u64) {
        self.expire(now_ms);
        self.expiries
            .push_back((now_ms.saturating_add(DEDUP_WINDOW_MS), key.clone()));
        self.keys.insert(key, messages);
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
    fn keys_expire_in_time_order_without_a_scan() {
        let mut dedup = Dedup::default();
        for n in 0..1000u64 {
            dedup.insert(format!("k{n}"), Vec::new(), n);
        }
        assert!(dedup.find("k0", 999).is_some());
        // At 10 minutes past the 500th key, the first 501 are gone.
        assert!(dedup.find("k0", DEDUP_WINDOW_MS + 500).is_none());
        assert!(dedup.find("k500", DEDUP_WINDOW_MS + 500).is_none());
        assert!(dedup.find("k501", DEDUP_WINDOW_MS + 500).is_some());
        assert_eq!(dedup.len(), 499);
        assert_eq!(dedup.expiries.len(), 499);
    }
}
