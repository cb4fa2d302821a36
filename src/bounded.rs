//! A body read into memory that never holds more than its limit: for the
//! answers the client reads and the deliveries the receiver reads, whose
//! senders may not stop.

use bytes::Bytes;

/// What arrived would pass the limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct OverLimit;

/// Bytes gathered chunk by chunk, at most `limit` of them.
pub(crate) struct BoundedBody {
    /// The first chunk, kept as it came while it is the only one: most
    /// answers arrive in one, and need no copy then.
    first: Bytes,
    /// Everything, once a second chunk arrived.
    bytes: Vec<u8>,
    /// The first allocation, from a declared length.
    reserve: usize,
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
            first: Bytes::new(),
            bytes: Vec::new(),
            reserve: reserve.min(limit),
            limit,
        }
    }

    fn len(&self) -> usize {
        self.first.len() + self.bytes.len()
    }

    /// Appends `chunk`, or refuses it if the body would pass the limit. The
    /// buffer doubles as it grows, but never past the limit.
    pub(crate) fn push(&mut self, chunk: &Bytes) -> Result<(), OverLimit> {
        let needed = self.len() + chunk.len();
        if needed > self.limit {
            return Err(OverLimit);
        }
        if chunk.is_empty() {
            return Ok(());
        }
        if self.len() == 0 {
            self.first = chunk.clone();
            return Ok(());
        }
        if needed > self.bytes.capacity() {
            let target = needed
                .max(self.reserve)
                .max(self.bytes.capacity().saturating_mul(2))
                .min(self.limit);
            self.bytes.reserve_exact(target - self.bytes.len());
        }
        if !self.first.is_empty() {
            self.bytes
                .extend_from_slice(&std::mem::take(&mut self.first));
        }
        self.bytes.extend_from_slice(chunk);
        Ok(())
    }

    /// What was gathered.
    pub(crate) fn into_bytes(self) -> Bytes {
        if self.bytes.is_empty() {
            self.first
        } else {
            Bytes::from(self.bytes)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn push(body: &mut BoundedBody, chunk: &'static [u8]) -> Result<(), OverLimit> {
        body.push(&Bytes::from_static(chunk))
    }

    #[test]
    fn holds_up_to_the_limit_and_never_reserves_past_it() {
        let mut body = BoundedBody::new(10, Some(u64::MAX));
        assert!(body.reserve <= 10);
        push(&mut body, b"0123").unwrap();
        push(&mut body, b"45678").unwrap();
        assert!(body.bytes.capacity() <= 10);
        assert_eq!(push(&mut body, b"90"), Err(OverLimit));
        push(&mut body, b"9").unwrap();
        assert_eq!(push(&mut body, b""), Ok(()));
        assert_eq!(push(&mut body, b"x"), Err(OverLimit));
        assert_eq!(body.into_bytes(), &b"0123456789"[..]);
    }

    #[test]
    fn a_body_in_one_chunk_is_not_copied() {
        let chunk = Bytes::from_static(b"{\"messageId\":\"msg_1\"}");
        let mut body = BoundedBody::new(100, Some(chunk.len() as u64));
        body.push(&chunk).unwrap();
        body.push(&Bytes::new()).unwrap();
        let bytes = body.into_bytes();
        assert_eq!(bytes.as_ptr(), chunk.as_ptr());
        assert!(BoundedBody::new(100, None).into_bytes().is_empty());
        let mut body = BoundedBody::new(4, None);
        assert_eq!(push(&mut body, b"12345"), Err(OverLimit));
    }
}
