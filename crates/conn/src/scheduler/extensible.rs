//! The RFC 9218 §10 extensible-priority write scheduler.

use super::lazy::{ByStreamId, Entry, Fifo, Place, Slots};
use super::{Scheduler, StreamKey};
use crate::priority::{Priority, Urgency};

/// One urgency level of [`ExtensiblePriorityScheduler`].
#[derive(Debug, Default)]
struct Level {
    /// The non-incremental stream being sent, which keeps the front until done.
    head: Option<Entry>,
    sequential: ByStreamId,
    incremental: Fifo,
    /// Live entries in this level.
    live: usize,
}

impl Level {
    /// Serving order within a level: the in-progress head, then non-incremental
    /// streams by stream id, then incremental streams round-robin.
    fn pop_live(&mut self, slots: &Slots) -> Option<Entry> {
        if let Some(entry) = self.head.take().filter(|e| slots.is_live(*e)) {
            return Some(entry);
        }
        self.sequential
            .pop_live(slots)
            .or_else(|| self.incremental.pop_live(slots))
    }

    /// Drops every entry; only called when none is live.
    fn clear(&mut self) {
        self.head = None;
        self.sequential.clear();
        self.incremental.clear();
    }

    /// A live entry left this level without being popped.
    fn note_left(&mut self, place: Place, slots: &Slots) {
        self.live = self.live.saturating_sub(1);
        if self.live == 0 {
            // Everything left is stale: drop it all at once.
            self.clear();
            return;
        }
        match place {
            // A stale head is dropped when `pop_live` reaches it.
            Place::Head | Place::Idle => {}
            Place::Sequential => self.sequential.note_stale(slots),
            Place::Incremental => self.incremental.note_stale(slots),
        }
    }
}

/// Default policy, RFC 9218 §10: lower urgency first. Within an urgency,
/// non-incremental streams go BEFORE incremental ones and are served one at a time
/// in stream-id order (a popped non-incremental stream that is rescheduled keeps
/// the front of its level until it finishes, even if a lower id becomes ready);
/// incremental streams then share the link round-robin, frame by frame.
///
/// Cost: O(1) amortised per operation, except O(log n) for the n non-incremental
/// streams of one urgency (a binary heap by stream id). No allocation once the
/// per-key table and the queues have reached their peak size.
#[derive(Debug, Default)]
pub struct ExtensiblePriorityScheduler {
    slots: Slots,
    /// One per urgency, allocated on first use and dropped by `release_memory`: an idle
    /// connection does not carry eight empty levels (~0.8 KiB).
    levels: Box<[Level]>,
    /// Live queued streams over all levels.
    queued: usize,
}

impl ExtensiblePriorityScheduler {
    /// An empty scheduler.
    pub fn new() -> Self {
        Self::default()
    }

    /// Queues `key` (known idle) in its level: `Head` for a rescheduled
    /// non-incremental stream whose level has no live head.
    fn enqueue(&mut self, key: StreamKey, stream_id: u32, priority: Priority, resume: bool) {
        if self.levels.is_empty() {
            self.levels = (0..Urgency::LEVELS).map(|_| Level::default()).collect();
        }
        // In bounds: `Urgency::index` is always below `Urgency::LEVELS`.
        let level = &mut self.levels[priority.urgency.index()];
        let place = if priority.incremental {
            Place::Incremental
        } else if resume && !level.head.is_some_and(|e| self.slots.is_live(e)) {
            Place::Head
        } else {
            Place::Sequential
        };
        let entry = self.slots.enqueue(key, place, stream_id, priority);
        match place {
            Place::Head => level.head = Some(entry),
            Place::Sequential => level.sequential.push(stream_id, entry),
            Place::Incremental | Place::Idle => level.incremental.push_back(entry),
        }
        level.live += 1;
        self.queued += 1;
    }

    /// Takes a queued `key` out of its level (lazily).
    fn unqueue(&mut self, key: StreamKey) {
        let urgency = self.slots.get(key).priority.urgency;
        let place = self.slots.dequeue(key);
        if let Some(level) = self.levels.get_mut(urgency.index()) {
            level.note_left(place, &self.slots);
        }
        self.queued = self.queued.saturating_sub(1);
    }

    fn is_queued(&self, key: StreamKey) -> bool {
        self.slots.get(key).place != Place::Idle
    }
}

impl Scheduler for ExtensiblePriorityScheduler {
    fn schedule(&mut self, key: StreamKey, stream_id: u32, priority: Priority) {
        if !self.is_queued(key) {
            self.enqueue(key, stream_id, priority, false);
        }
    }

    fn pop(&mut self) -> Option<StreamKey> {
        if self.queued == 0 {
            return None;
        }
        for level in self.levels.iter_mut().filter(|l| l.live > 0) {
            if let Some(entry) = level.pop_live(&self.slots) {
                level.live -= 1;
                if level.live == 0 {
                    level.clear();
                }
                self.queued -= 1;
                self.slots.dequeue(entry.key);
                return Some(entry.key);
            }
        }
        None
    }

    fn reschedule(&mut self, key: StreamKey, stream_id: u32, priority: Priority) {
        if !self.is_queued(key) {
            self.enqueue(key, stream_id, priority, true);
        }
    }

    fn reprioritize(&mut self, key: StreamKey, stream_id: u32, priority: Priority) {
        let slot = self.slots.get(key);
        if slot.place == Place::Idle {
            let slot = self.slots.get_mut(key);
            slot.priority = priority;
            slot.stream_id = stream_id;
            return;
        }
        if slot.priority == priority {
            return;
        }
        // A change of urgency or of incremental-ness moves the stream to the back
        // of its new class; it does not keep an in-progress head position.
        self.unqueue(key);
        self.enqueue(key, stream_id, priority, false);
    }

    fn remove(&mut self, key: StreamKey) {
        if self.is_queued(key) {
            self.unqueue(key);
        } else if let Some(slot) = self.slots.0.get_mut(key) {
            // Not queued: still forget the remembered priority.
            slot.priority = Priority::default();
            slot.stream_id = 0;
        }
    }

    fn is_empty(&self) -> bool {
        self.queued == 0
    }

    fn release_memory(&mut self) {
        if self.queued == 0 {
            self.levels = Box::default();
            self.slots = Slots::default();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::lazy::COMPACT_MIN_STALE;
    use super::super::test_support::{drain, pr, schedule_all};
    use super::*;

    #[test]
    fn lower_urgency_first() {
        let mut s = ExtensiblePriorityScheduler::new();
        s.schedule(0, 1, pr(5, false));
        s.schedule(1, 3, pr(1, true));
        s.schedule(2, 5, pr(3, false));
        s.schedule(3, 7, pr(7, true));
        s.schedule(4, 9, pr(0, false));
        let order: Vec<_> = std::iter::from_fn(|| s.pop()).collect();
        assert_eq!(order, [4, 1, 2, 0, 3]);
        assert!(s.is_empty());
        assert_eq!(s.pop(), None);
    }

    #[test]
    fn incremental_streams_interleave_frame_by_frame() {
        let mut s = ExtensiblePriorityScheduler::new();
        let mut frames = [
            (1, pr(3, true), 3),
            (3, pr(3, true), 3),
            (5, pr(3, true), 3),
        ];
        schedule_all(&mut s, &frames);
        assert_eq!(drain(&mut s, &mut frames), [0, 1, 2, 0, 1, 2, 0, 1, 2]);
    }

    #[test]
    fn non_incremental_streams_complete_in_stream_id_order() {
        let mut s = ExtensiblePriorityScheduler::new();
        let mut frames = [
            (7, pr(3, false), 2),
            (3, pr(3, false), 3),
            (5, pr(3, false), 2),
        ];
        schedule_all(&mut s, &frames);
        assert_eq!(drain(&mut s, &mut frames), [1, 1, 1, 2, 2, 0, 0]);
    }

    #[test]
    fn non_incremental_before_incremental_of_same_urgency() {
        let mut s = ExtensiblePriorityScheduler::new();
        let mut frames = [
            (1, pr(3, true), 2),
            (3, pr(3, false), 2),
            (5, pr(4, false), 1),
        ];
        schedule_all(&mut s, &frames);
        assert_eq!(drain(&mut s, &mut frames), [1, 1, 0, 0, 2]);
    }

    #[test]
    fn rescheduled_non_incremental_keeps_the_front() {
        let mut s = ExtensiblePriorityScheduler::new();
        s.schedule(0, 5, pr(3, false));
        assert_eq!(s.pop(), Some(0));
        // Stream 3 becomes ready while stream 5 is half sent: 5 finishes first.
        s.schedule(1, 3, pr(3, false));
        s.reschedule(0, 5, pr(3, false));
        assert_eq!(s.pop(), Some(0));
        s.reschedule(0, 5, pr(3, false));
        assert_eq!(s.pop(), Some(0));
        // 5 is done (not rescheduled): 3 is next.
        assert_eq!(s.pop(), Some(1));
        assert_eq!(s.pop(), None);
    }

    #[test]
    fn reprioritize_moves_a_queued_stream() {
        let mut s = ExtensiblePriorityScheduler::new();
        s.schedule(0, 1, pr(5, false));
        s.schedule(1, 3, pr(3, false));
        s.schedule(2, 5, pr(3, true));
        s.reprioritize(0, 1, pr(1, true));
        s.reprioritize(2, 5, pr(6, false));
        let order: Vec<_> = std::iter::from_fn(|| s.pop()).collect();
        assert_eq!(order, [0, 1, 2]);
    }

    #[test]
    fn reprioritize_to_same_priority_keeps_place() {
        let mut s = ExtensiblePriorityScheduler::new();
        for key in 0..3 {
            s.schedule(key, key as u32 * 2 + 1, pr(3, true));
        }
        s.reprioritize(0, 1, pr(3, true));
        let order: Vec<_> = std::iter::from_fn(|| s.pop()).collect();
        assert_eq!(order, [0, 1, 2]);
    }

    #[test]
    fn reprioritize_within_urgency_changes_class() {
        let mut s = ExtensiblePriorityScheduler::new();
        s.schedule(0, 1, pr(3, true));
        s.schedule(1, 3, pr(3, true));
        // Becoming non-incremental puts stream 3 ahead of incremental stream 1.
        s.reprioritize(1, 3, pr(3, false));
        assert_eq!(s.pop(), Some(1));
        assert_eq!(s.pop(), Some(0));
        assert_eq!(s.pop(), None);
    }

    #[test]
    fn removed_key_is_never_served_even_when_reused() {
        let mut s = ExtensiblePriorityScheduler::new();
        // The old stream on key 0 is very urgent and has the lowest id; its stale
        // entry stays in level 0 (kept alive by key 2, so the level is not cleared).
        s.schedule(0, 1, pr(0, false));
        s.schedule(2, 9, pr(0, false));
        s.schedule(1, 3, pr(3, true));
        s.remove(0);
        // The slab reuses key 0 for a new, low-urgency stream.
        s.schedule(0, 11, pr(7, true));
        assert_eq!(s.pop(), Some(2));
        assert_eq!(s.pop(), Some(1));
        assert_eq!(s.pop(), Some(0));
        assert_eq!(s.pop(), None);
        assert!(s.is_empty());
    }

    #[test]
    fn removed_key_without_reuse_is_skipped() {
        let mut s = ExtensiblePriorityScheduler::new();
        s.schedule(0, 1, pr(3, true));
        s.schedule(1, 3, pr(3, true));
        s.schedule(2, 5, pr(3, false));
        s.remove(1);
        s.remove(2);
        s.remove(9); // never seen: harmless
        assert_eq!(s.pop(), Some(0));
        assert_eq!(s.pop(), None);
    }

    #[test]
    fn remove_of_popped_head_then_reuse() {
        let mut s = ExtensiblePriorityScheduler::new();
        s.schedule(0, 1, pr(3, false));
        s.schedule(1, 3, pr(3, false));
        assert_eq!(s.pop(), Some(0));
        s.reschedule(0, 1, pr(3, false));
        s.remove(0); // reset mid-response: the head entry goes stale
        s.schedule(0, 7, pr(3, false));
        assert_eq!(s.pop(), Some(1));
        assert_eq!(s.pop(), Some(0));
        assert_eq!(s.pop(), None);
    }

    #[test]
    fn schedule_twice_is_idempotent() {
        let mut s = ExtensiblePriorityScheduler::new();
        s.schedule(0, 1, pr(3, true));
        s.schedule(1, 3, pr(3, true));
        s.schedule(0, 1, pr(3, true));
        // A second schedule does not change the priority either.
        s.schedule(1, 3, pr(0, false));
        assert_eq!(s.pop(), Some(0));
        assert_eq!(s.pop(), Some(1));
        assert_eq!(s.pop(), None);
        // reschedule of a queued key is a no-op too.
        s.schedule(2, 5, pr(3, true));
        s.reschedule(2, 5, pr(3, true));
        assert_eq!(s.pop(), Some(2));
        assert_eq!(s.pop(), None);
    }

    #[test]
    fn released_memory_comes_back_on_the_next_schedule() {
        let mut s = ExtensiblePriorityScheduler::new();
        assert!(s.levels.is_empty());
        s.schedule(0, 1, pr(3, false));
        assert_eq!(s.levels.len(), Urgency::LEVELS);
        assert_eq!(s.pop(), Some(0));
        s.release_memory();
        assert!(s.levels.is_empty() && s.slots.0.is_empty());
        s.schedule(1, 3, pr(1, true));
        s.schedule(0, 5, pr(0, false));
        assert_eq!(std::iter::from_fn(|| s.pop()).collect::<Vec<_>>(), [0, 1]);
    }

    #[test]
    fn release_keeps_queued_streams() {
        let mut s = ExtensiblePriorityScheduler::new();
        s.schedule(0, 1, pr(3, false));
        s.release_memory();
        assert_eq!(s.pop(), Some(0));
    }

    #[test]
    fn reprioritize_flood_does_not_grow_queues() {
        let mut s = ExtensiblePriorityScheduler::new();
        s.schedule(0, 1, pr(1, true));
        s.schedule(1, 3, pr(2, true));
        s.schedule(2, 5, pr(1, false));
        s.schedule(3, 7, pr(2, false));
        for n in 0..10_000 {
            let u = 1 + (n % 2) as u8;
            s.reprioritize(0, 1, pr(u, true));
            s.reprioritize(2, 5, pr(u, false));
        }
        for level in &s.levels {
            assert!(level.incremental.entries.len() <= 2 * COMPACT_MIN_STALE + 2);
            assert!(level.sequential.heap.len() <= 2 * COMPACT_MIN_STALE + 2);
        }
        let mut order: Vec<_> = std::iter::from_fn(|| s.pop()).collect();
        order.sort_unstable();
        assert_eq!(order, [0, 1, 2, 3]);
    }

    #[test]
    fn remembered_priority_is_overridden_by_schedule_argument() {
        let mut s = ExtensiblePriorityScheduler::new();
        s.reprioritize(0, 1, pr(0, false));
        s.schedule(1, 3, pr(2, false));
        s.schedule(0, 1, pr(5, false));
        assert_eq!(s.pop(), Some(1));
        assert_eq!(s.pop(), Some(0));
    }
}
