//! A body read into memory that never holds more than its limit: for the
//! answers the client reads and the deliveries the receiver reads, whose
//! senders may not stop.

/// What arrived would pass the limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct OverLimit;

/// Bytes gathered chunk by chunk, at most `limit` of them.
pub(crate) struct BoundedBody {
    bytes: Vec<u8>,
    limit: usize,
}

/// The most a declared length reserves before its bytes arrive: a sender
/// may declare far more than it sends.
const TRUSTED_RESERVATION: usize = 1 << 20;

impl BoundedBody {
    /// An empty body for up to `limit` bytes; `declared` (a
    /// `Content-Length`) sizes the first allocation, up to 1 MiB.
    pub(crate) fn new(limit: usize, declared: Option<u64>) -> BoundedBody {
        let reserve = declared.map_or(0, |n| n.min(TRUSTED_RESERVATION as u64) as usize);
        BoundedBody {
            bytes: Vec::with_capacity(reserve.min(limit)),
            limit,
        }
    }

    /// Appends `chunk`, or refuses it if the body would pass the limit. The
    /// buffer doubles as it grows, but never past the limit.
    pub(crate) fn push(&mut self, chunk: &[u8]) -> Result<(), OverLimit> {
        let needed = self.bytes.len() + chunk.len();
        if needed > self.limit {
            return Err(OverLimit);
        }
        if needed > self.bytes.capacity() {
            let target = needed
                .max(self.bytes.capacity().saturating_mul(2))
                .min(self.limit);
            self.bytes.reserve_exact(target - self.bytes.len());
        }
        self.bytes.extend_from_slice(chunk);
        Ok(())
    }

    /// What was gathered.
    pub(crate) fn into_vec(self) -> Vec<u8> {
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_up_to_the_limit_and_never_reserves_past_it() {
        let mut body = BoundedBody::new(10, Some(u64::MAX));
        assert!(body.bytes.capacity() <= 10);
        body.push(b"0123").unwrap();
        body.push(b"45678").unwrap();
        assert!(body.bytes.capacity() <= 10);
        assert_eq!(body.push(b"90"), Err(OverLimit));
        body.push(b"9").unwrap();
        assert_eq!(body.push(b""), Ok(()));
        assert_eq!(body.push(b"x"), Err(OverLimit));
        assert_eq!(body.into_vec(), b"0123456789");
    }
}
