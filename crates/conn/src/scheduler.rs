//! Write scheduling: which stream's next DATA frame goes on the wire.
//!
//! The connection keeps streams in a slab and names them by [`StreamKey`]. When a
//! stream has DATA (and send window) it is [`Scheduler::schedule`]d; the connection
//! [`Scheduler::pop`]s a stream, writes ONE frame for it and, if it still has data,
//! [`Scheduler::reschedule`]s it. Control frames never go through a scheduler.
//!
//! Both schedulers use lazy deletion: a queue entry carries the generation its key
//! had when it was queued, and every time a key leaves the queued state (popped,
//! removed, moved by a reprioritisation) its generation is bumped, so older entries
//! — including ones left behind by a slab key that was freed and reused — can never
//! be served. Stale entries are dropped when reached, when their level empties, or
//! by a compaction once they outnumber live ones, so memory stays proportional to
//! the number of queued streams and every operation is O(1) amortised.

mod extensible;
mod lazy;
#[cfg(test)]
mod model_tests;
mod round_robin;

pub use extensible::ExtensiblePriorityScheduler;
pub use lazy::COMPACT_MIN_STALE;
pub use round_robin::RoundRobinScheduler;

use crate::priority::Priority;

/// A stream's index in the connection's slab.
pub type StreamKey = usize;

/// A write-scheduling policy. See the module docs for the calling protocol.
pub trait Scheduler {
    /// The stream has frames ready. If it is already queued this is a no-op (it
    /// keeps its place and its priority; use [`Scheduler::reprioritize`] to change it).
    fn schedule(&mut self, key: StreamKey, stream_id: u32, priority: Priority);
    /// Removes and returns the stream to serve next, or None.
    fn pop(&mut self) -> Option<StreamKey>;
    /// After a frame was written for `key` (just popped) and it still has data: put
    /// it back where its policy says. A no-op if `key` is already queued.
    fn reschedule(&mut self, key: StreamKey, stream_id: u32, priority: Priority);
    /// Priority changed (priority header or PRIORITY_UPDATE) — applies if queued,
    /// remembered otherwise (a later `schedule`'s own argument still wins).
    fn reprioritize(&mut self, key: StreamKey, stream_id: u32, priority: Priority);
    /// Stream closed/reset: forget it. O(1) amortised; a later reuse of `key` is a
    /// new stream.
    fn remove(&mut self, key: StreamKey);
    /// True when no stream is queued.
    fn is_empty(&self) -> bool;
    /// The connection has no streams: drop whatever memory the policy keeps for them.
    /// Called only with no stream open, so remembered priorities may go too.
    fn release_memory(&mut self) {}
}

/// Helpers shared by the scheduler tests.
#[cfg(test)]
mod test_support {
    use super::*;
    use crate::priority::Urgency;

    pub(super) fn pr(u: u8, incremental: bool) -> Priority {
        Priority::new(Urgency::new(u).unwrap(), incremental)
    }

    /// Drives `s` like the connection does: pop, write one frame, reschedule while
    /// frames remain. `frames[key]` is (stream id, priority, frames left).
    pub(super) fn drain(
        s: &mut impl Scheduler,
        frames: &mut [(u32, Priority, usize)],
    ) -> Vec<StreamKey> {
        let mut order = Vec::new();
        while let Some(key) = s.pop() {
            order.push(key);
            let (id, priority, left) = &mut frames[key];
            *left -= 1;
            if *left > 0 {
                s.reschedule(key, *id, *priority);
            }
        }
        assert!(s.is_empty());
        order
    }

    pub(super) fn schedule_all(s: &mut impl Scheduler, frames: &[(u32, Priority, usize)]) {
        for (key, (id, priority, _)) in frames.iter().enumerate() {
            s.schedule(key, *id, *priority);
        }
    }
}
