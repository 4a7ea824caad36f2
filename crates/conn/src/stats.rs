//! Counters for everything a connection did, so the application can export them.

use h2ring_frame::ErrorCode;

/// Error codes RFC 9113 §7 defines, plus one slot for unknown codes.
const CODE_SLOTS: usize = 15;

/// Counts per error code.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ErrorCounts([u64; CODE_SLOTS]);

impl ErrorCounts {
    fn slot(code: ErrorCode) -> usize {
        match code {
            ErrorCode::Unknown(_) => CODE_SLOTS - 1,
            known => (known.to_u32() as usize).min(CODE_SLOTS - 1),
        }
    }

    pub(crate) fn add(&mut self, code: ErrorCode) {
        self.0[Self::slot(code)] += 1;
    }

    /// How many times `code` was counted.
    pub fn get(&self, code: ErrorCode) -> u64 {
        self.0[Self::slot(code)]
    }

    /// Every non-zero count as (code name, count); unknown codes are grouped as "UNKNOWN".
    pub fn nonzero(&self) -> impl Iterator<Item = (&'static str, u64)> + '_ {
        self.0
            .iter()
            .enumerate()
            .filter(|(_, n)| **n > 0)
            .map(|(i, n)| {
                let name = if i == CODE_SLOTS - 1 {
                    "UNKNOWN"
                } else {
                    ErrorCode::from_u32(i as u32).name()
                };
                (name, *n)
            })
    }

    /// Each counted code's number, once per count (for feeding counters elsewhere).
    pub fn codes(&self) -> impl Iterator<Item = u32> + '_ {
        self.0.iter().enumerate().flat_map(|(i, n)| {
            let code = if i == CODE_SLOTS - 1 { 0xff } else { i as u32 };
            std::iter::repeat_n(code, *n as usize)
        })
    }

    /// Adds another set of counts (for merging connections or cores).
    pub fn merge(&mut self, other: &ErrorCounts) {
        for (a, b) in self.0.iter_mut().zip(other.0.iter()) {
            *a += b;
        }
    }
}

/// Per-connection statistics.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Octets fed to the connection.
    pub bytes_in: u64,
    /// Octets the connection produced.
    pub bytes_out: u64,
    /// Frames decoded.
    pub frames_in: u64,
    /// Requests delivered to the application (pushed ones included).
    pub requests: u64,
    /// Streams refused because MAX_CONCURRENT_STREAMS was reached (or by the application).
    pub streams_refused: u64,
    /// RST_STREAM frames we sent, by code.
    pub resets_sent: ErrorCounts,
    /// RST_STREAM frames the peer sent, by code.
    pub resets_received: ErrorCounts,
    /// GOAWAY we sent, by code (at most one per connection, but mergeable).
    pub goaway_sent: ErrorCounts,
    /// Requests answered by the connection itself with 431 (header list too large).
    pub responses_431: u64,
    /// Streams visited by passes over all of them that a frame caused (test builds only:
    /// the work the flood budgets must bound).
    #[cfg(test)]
    pub(crate) stream_visits: u64,
    /// Idle-frame budget units the peer was charged and had (test builds only).
    #[cfg(test)]
    pub(crate) charged: u64,
}

impl Stats {
    /// Adds another connection's statistics.
    pub fn merge(&mut self, other: &Stats) {
        self.bytes_in += other.bytes_in;
        self.bytes_out += other.bytes_out;
        self.frames_in += other.frames_in;
        self.requests += other.requests;
        self.streams_refused += other.streams_refused;
        self.resets_sent.merge(&other.resets_sent);
        self.resets_received.merge(&other.resets_received);
        self.goaway_sent.merge(&other.goaway_sent);
        self.responses_431 += other.responses_431;
    }
}
