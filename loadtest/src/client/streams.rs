//! Owns the table of a connection's in-flight streams, keyed by stream id.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::time::Instant;

/// One request waiting for its response.
#[derive(Clone, Debug)]
pub struct InFlight {
    /// Latency origin: the actual send (closed loop) or the intended send (open loop).
    pub start: Instant,
    /// Final `:status` once its HEADERS arrived; 0 before.
    pub status: u16,
    /// Request body octets already sent.
    pub body_sent: usize,
    /// Our send window on this stream (RFC 9113 §6.9.1); may go negative after a
    /// SETTINGS_INITIAL_WINDOW_SIZE decrease (§6.9.2).
    pub send_window: i64,
    /// Response octets received and not yet returned by WINDOW_UPDATE.
    pub recv_unacked: u32,
}

/// Stream ids are sequential odd numbers, so a multiplicative hash spreads them well
/// and costs one multiply instead of SipHash.
#[derive(Default)]
pub struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 << 8 | u64::from(*b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_u32(&mut self, n: u32) {
        self.0 = u64::from(n).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// In-flight streams by id.
pub type StreamTable = HashMap<u32, InFlight, BuildHasherDefault<IdHasher>>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_keeps_distinct_sequential_ids() {
        let mut t = StreamTable::default();
        let now = Instant::now();
        for id in (1..2000u32).step_by(2) {
            t.insert(
                id,
                InFlight {
                    start: now,
                    status: 0,
                    body_sent: id as usize,
                    send_window: 0,
                    recv_unacked: 0,
                },
            );
        }
        assert_eq!(t.len(), 1000);
        assert_eq!(t.get(&1999).map(|s| s.body_sent), Some(1999));
        assert!(!t.contains_key(&2));
    }
}
