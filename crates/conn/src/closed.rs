//! A memory of recently closed streams, to answer late frames on them precisely.
//!
//! RFC 9113 §5.1 treats frames on a closed stream differently depending on how it closed:
//! after *we* sent RST_STREAM the peer may not have seen it yet, so its frames are ignored;
//! after a normal close or the peer's own reset, a HEADERS frame is a STREAM_CLOSED error.
//! And a HEADERS frame for an id below the highest one seen that was never used is a
//! PROTOCOL_ERROR (§5.1.1). Remembering every id would cost memory per stream ever opened,
//! so a close is remembered for `Config::closed_stream_memory` (frames in flight arrive
//! within a round trip or two; hyper's `reset_stream_duration` is the same idea), and at
//! most `Config::max_closed_streams` of them (a flood of short streams cannot grow it).
//! Forgotten ids fall back to "closed normally".

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use h2ring_frame::StreamId;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HowClosed {
    /// We reset it: the peer may still send frames it sent before seeing our RST_STREAM.
    ResetByUs,
    /// END_STREAM both ways, or the peer reset it.
    Finished,
}

pub(crate) struct ClosedStreams {
    /// Oldest close first.
    ring: VecDeque<(StreamId, HowClosed, Instant)>,
    memory: Duration,
    cap: usize,
}

impl ClosedStreams {
    pub(crate) fn new(memory: Duration, cap: usize) -> Self {
        ClosedStreams {
            ring: VecDeque::new(),
            memory,
            cap,
        }
    }

    pub(crate) fn record(&mut self, id: StreamId, how: HowClosed, now: Instant) {
        self.expire(now);
        if self.cap == 0 {
            return;
        }
        if self.ring.len() >= self.cap {
            self.ring.pop_front();
        }
        self.ring.push_back((id, how, now));
    }

    fn expire(&mut self, now: Instant) {
        while let Some((_, _, at)) = self.ring.front() {
            if now.saturating_duration_since(*at) < self.memory {
                break;
            }
            self.ring.pop_front();
        }
    }

    /// `None` if the id is not remembered (never used, or closed too long ago).
    pub(crate) fn lookup(&self, id: StreamId, now: Instant) -> Option<HowClosed> {
        self.ring
            .iter()
            .rev()
            .take_while(|(_, _, at)| now.saturating_duration_since(*at) < self.memory)
            .find(|(closed, _, _)| *closed == id)
            .map(|(_, how, _)| *how)
    }

    /// How many closes are remembered now.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.ring.len()
    }

    /// Frees the ring when the connection goes idle (the driver calls this once per idle
    /// spell, so what is kept may be kept for long): only the streams we reset stay, whose
    /// late frames must be ignored; a forgotten normal close is judged the same way for
    /// DATA (STREAM_CLOSED) and differs only in the GOAWAY code for HEADERS.
    pub(crate) fn shrink(&mut self, now: Instant) {
        self.expire(now);
        self.ring.retain(|(_, how, _)| *how == HowClosed::ResetByUs);
        self.ring.shrink_to_fit();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_the_most_recent_closes_up_to_the_cap() {
        let now = Instant::now();
        let mut c = ClosedStreams::new(Duration::from_secs(10), 64);
        for i in 0..65 {
            c.record(StreamId::new(2 * i + 1), HowClosed::Finished, now);
        }
        assert_eq!(c.len(), 64);
        assert_eq!(c.lookup(StreamId::new(1), now), None);
        assert_eq!(c.lookup(StreamId::new(3), now), Some(HowClosed::Finished));
        c.record(StreamId::new(3), HowClosed::ResetByUs, now);
        assert_eq!(c.lookup(StreamId::new(3), now), Some(HowClosed::ResetByUs));
    }

    #[test]
    fn forgets_after_the_memory_duration() {
        let t0 = Instant::now();
        let mut c = ClosedStreams::new(Duration::from_secs(10), 1000);
        c.record(StreamId::new(1), HowClosed::ResetByUs, t0);
        c.record(
            StreamId::new(3),
            HowClosed::ResetByUs,
            t0 + Duration::from_secs(5),
        );
        let t = t0 + Duration::from_secs(9);
        assert_eq!(c.lookup(StreamId::new(1), t), Some(HowClosed::ResetByUs));
        let t = t0 + Duration::from_secs(10);
        assert_eq!(c.lookup(StreamId::new(1), t), None);
        assert_eq!(c.lookup(StreamId::new(3), t), Some(HowClosed::ResetByUs));
        c.shrink(t);
        assert_eq!(c.len(), 1);
    }

    #[test]
    fn an_idle_shrink_keeps_only_our_resets() {
        let now = Instant::now();
        let mut c = ClosedStreams::new(Duration::from_secs(10), 1000);
        for i in 0..100 {
            c.record(StreamId::new(2 * i + 1), HowClosed::Finished, now);
        }
        c.record(StreamId::new(201), HowClosed::ResetByUs, now);
        c.shrink(now);
        assert_eq!(c.len(), 1);
        assert_eq!(
            c.lookup(StreamId::new(201), now),
            Some(HowClosed::ResetByUs)
        );
        assert_eq!(c.lookup(StreamId::new(1), now), None);
    }
}
