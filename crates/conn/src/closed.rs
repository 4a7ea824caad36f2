//! A short memory of recently closed streams, to answer late frames on them precisely.
//!
//! RFC 9113 §5.1 treats frames on a closed stream differently depending on how it closed:
//! after *we* sent RST_STREAM the peer may not have seen it yet, so its frames are ignored;
//! after a normal close or the peer's own reset, a HEADERS frame is a STREAM_CLOSED error.
//! And a HEADERS frame for an id below the highest one seen that was never used is a
//! PROTOCOL_ERROR (§5.1.1). Remembering every id would cost memory per stream ever opened,
//! so only the last [`REMEMBERED`] closes are kept; older ids fall back to "closed normally".

use std::collections::VecDeque;

use h2ring_frame::StreamId;

/// How many closed streams we remember. Enough for the frames in flight across one RTT at
/// the default concurrency, small enough to cost under 1 KiB per busy connection.
pub(crate) const REMEMBERED: usize = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HowClosed {
    /// We reset it: the peer may still send frames it sent before seeing our RST_STREAM.
    ResetByUs,
    /// END_STREAM both ways, or the peer reset it.
    Finished,
}

#[derive(Default)]
pub(crate) struct ClosedStreams {
    ring: VecDeque<(StreamId, HowClosed)>,
}

impl ClosedStreams {
    pub(crate) fn record(&mut self, id: StreamId, how: HowClosed) {
        if self.ring.len() == REMEMBERED {
            self.ring.pop_front();
        }
        self.ring.push_back((id, how));
    }

    /// `None` if the id is not remembered (never used, or closed long ago).
    pub(crate) fn lookup(&self, id: StreamId) -> Option<HowClosed> {
        self.ring
            .iter()
            .rev()
            .find(|(closed, _)| *closed == id)
            .map(|(_, how)| *how)
    }

    /// Frees the ring when the connection goes idle.
    pub(crate) fn shrink(&mut self) {
        self.ring.shrink_to_fit();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_the_most_recent_closes_only() {
        let mut c = ClosedStreams::default();
        for i in 0..(REMEMBERED as u32 + 1) {
            c.record(StreamId::new(2 * i + 1), HowClosed::Finished);
        }
        assert_eq!(c.lookup(StreamId::new(1)), None);
        assert_eq!(c.lookup(StreamId::new(3)), Some(HowClosed::Finished));
        c.record(StreamId::new(3), HowClosed::ResetByUs);
        assert_eq!(c.lookup(StreamId::new(3)), Some(HowClosed::ResetByUs));
    }
}
