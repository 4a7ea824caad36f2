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

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

use crate::priority::{Priority, Urgency};

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
}

/// Once a queue holds at least this many stale entries and they are more than half
/// of it, it is compacted. Bounds memory under e.g. a PRIORITY_UPDATE flood while
/// keeping compaction cost amortised O(1) per operation that created a stale entry.
pub const COMPACT_MIN_STALE: usize = 32;

/// Which container holds a key's live entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
enum Place {
    /// Not queued.
    #[default]
    Idle,
    /// The in-progress non-incremental slot of its urgency level.
    Head,
    /// Its level's non-incremental set, ordered by stream id.
    Sequential,
    /// Its level's incremental round-robin (or the round-robin scheduler's FIFO).
    Incremental,
}

/// Per-key state, indexed by [`StreamKey`].
#[derive(Clone, Copy, Debug, Default)]
struct Slot {
    /// Bumped whenever the key leaves the queued state; entries must match it.
    generation: u64,
    place: Place,
    priority: Priority,
    stream_id: u32,
}

/// A queue entry: valid only while `generation` matches the key's slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Entry {
    key: StreamKey,
    generation: u64,
}

/// The per-key table. Grows to the highest key seen, then never allocates again.
#[derive(Debug, Default)]
struct Slots(Vec<Slot>);

impl Slots {
    fn get(&self, key: StreamKey) -> Slot {
        self.0.get(key).copied().unwrap_or_default()
    }

    fn get_mut(&mut self, key: StreamKey) -> &mut Slot {
        if key >= self.0.len() {
            self.0.resize_with(key + 1, Slot::default);
        }
        &mut self.0[key]
    }

    fn is_live(&self, entry: Entry) -> bool {
        self.0
            .get(entry.key)
            .is_some_and(|s| s.place != Place::Idle && s.generation == entry.generation)
    }

    /// Marks `key` as queued at `place` and returns the entry naming it.
    fn enqueue(
        &mut self,
        key: StreamKey,
        place: Place,
        stream_id: u32,
        priority: Priority,
    ) -> Entry {
        let slot = self.get_mut(key);
        slot.place = place;
        slot.stream_id = stream_id;
        slot.priority = priority;
        Entry {
            key,
            generation: slot.generation,
        }
    }

    /// Marks `key` as no longer queued, invalidating any entry naming it. Returns
    /// where it was.
    fn dequeue(&mut self, key: StreamKey) -> Place {
        let slot = self.get_mut(key);
        let was = slot.place;
        slot.place = Place::Idle;
        slot.generation = slot.generation.wrapping_add(1);
        was
    }
}

/// A FIFO of entries with lazy deletion.
#[derive(Debug, Default)]
struct Fifo {
    entries: VecDeque<Entry>,
    stale: usize,
}

impl Fifo {
    fn push_back(&mut self, entry: Entry) {
        self.entries.push_back(entry);
    }

    /// Pops the first live entry, discarding stale ones on the way.
    fn pop_live(&mut self, slots: &Slots) -> Option<Entry> {
        while let Some(entry) = self.entries.pop_front() {
            if slots.is_live(entry) {
                return Some(entry);
            }
            self.stale = self.stale.saturating_sub(1);
        }
        None
    }

    /// One of our entries just went stale.
    fn note_stale(&mut self, slots: &Slots) {
        self.stale += 1;
        if self.stale >= COMPACT_MIN_STALE && self.stale * 2 > self.entries.len() {
            self.entries.retain(|e| slots.is_live(*e));
            self.stale = 0;
        }
    }

    fn clear(&mut self) {
        self.entries.clear();
        self.stale = 0;
    }
}

/// A min-heap of entries ordered by (stream id, key), with lazy deletion.
#[derive(Debug, Default)]
struct ByStreamId {
    heap: BinaryHeap<Reverse<(u32, Entry)>>,
    stale: usize,
}

impl ByStreamId {
    fn push(&mut self, stream_id: u32, entry: Entry) {
        self.heap.push(Reverse((stream_id, entry)));
    }

    fn pop_live(&mut self, slots: &Slots) -> Option<Entry> {
        while let Some(Reverse((_, entry))) = self.heap.pop() {
            if slots.is_live(entry) {
                return Some(entry);
            }
            self.stale = self.stale.saturating_sub(1);
        }
        None
    }

    fn note_stale(&mut self, slots: &Slots) {
        self.stale += 1;
        if self.stale >= COMPACT_MIN_STALE && self.stale * 2 > self.heap.len() {
            self.heap.retain(|Reverse((_, e))| slots.is_live(*e));
            self.stale = 0;
        }
    }

    fn clear(&mut self) {
        self.heap.clear();
        self.stale = 0;
    }
}

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
    levels: [Level; Urgency::LEVELS],
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
        self.levels[urgency.index()].note_left(place, &self.slots);
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
}

/// Plain round-robin FIFO ignoring priorities: every ready stream gets one frame
/// per turn. A baseline for benchmarks and comparisons. O(1) amortised operations.
#[derive(Debug, Default)]
pub struct RoundRobinScheduler {
    slots: Slots,
    fifo: Fifo,
    queued: usize,
}

impl RoundRobinScheduler {
    /// An empty scheduler.
    pub fn new() -> Self {
        Self::default()
    }
}

impl Scheduler for RoundRobinScheduler {
    fn schedule(&mut self, key: StreamKey, stream_id: u32, priority: Priority) {
        if self.slots.get(key).place == Place::Idle {
            let entry = self
                .slots
                .enqueue(key, Place::Incremental, stream_id, priority);
            self.fifo.push_back(entry);
            self.queued += 1;
        }
    }

    fn pop(&mut self) -> Option<StreamKey> {
        let entry = self.fifo.pop_live(&self.slots)?;
        self.slots.dequeue(entry.key);
        self.queued -= 1;
        if self.queued == 0 {
            self.fifo.clear();
        }
        Some(entry.key)
    }

    fn reschedule(&mut self, key: StreamKey, stream_id: u32, priority: Priority) {
        self.schedule(key, stream_id, priority);
    }

    fn reprioritize(&mut self, key: StreamKey, stream_id: u32, priority: Priority) {
        // Order ignores priority; just remember it.
        let slot = self.slots.get_mut(key);
        slot.priority = priority;
        slot.stream_id = stream_id;
    }

    fn remove(&mut self, key: StreamKey) {
        if self.slots.get(key).place != Place::Idle {
            self.slots.dequeue(key);
            self.queued -= 1;
            if self.queued == 0 {
                self.fifo.clear();
            } else {
                self.fifo.note_stale(&self.slots);
            }
        }
    }

    fn is_empty(&self) -> bool {
        self.queued == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn pr(u: u8, incremental: bool) -> Priority {
        Priority::new(Urgency::new(u).unwrap(), incremental)
    }

    /// Drives `s` like the connection does: pop, write one frame, reschedule while
    /// frames remain. `frames[key]` is (stream id, priority, frames left).
    fn drain(s: &mut impl Scheduler, frames: &mut [(u32, Priority, usize)]) -> Vec<StreamKey> {
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

    fn schedule_all(s: &mut impl Scheduler, frames: &[(u32, Priority, usize)]) {
        for (key, (id, priority, _)) in frames.iter().enumerate() {
            s.schedule(key, *id, *priority);
        }
    }

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
        // The old stream on key 0 is very urgent; its entry stays in level 0.
        s.schedule(0, 1, pr(0, false));
        s.schedule(1, 3, pr(3, true));
        s.remove(0);
        // The slab reuses key 0 for a new, low-urgency stream.
        s.schedule(0, 5, pr(7, true));
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

    #[test]
    fn round_robin_ignores_priority() {
        let mut s = RoundRobinScheduler::new();
        let mut frames = [
            (1, pr(7, false), 2),
            (3, pr(0, false), 3),
            (5, pr(3, true), 1),
        ];
        schedule_all(&mut s, &frames);
        s.reprioritize(2, 5, pr(0, false));
        assert_eq!(drain(&mut s, &mut frames), [0, 1, 2, 0, 1, 1]);
    }

    #[test]
    fn round_robin_remove_and_reuse() {
        let mut s = RoundRobinScheduler::new();
        s.schedule(0, 1, Priority::default());
        s.schedule(1, 3, Priority::default());
        s.schedule(0, 1, Priority::default());
        s.remove(0);
        s.schedule(2, 5, Priority::default());
        s.schedule(0, 7, Priority::default());
        assert_eq!(s.pop(), Some(1));
        assert_eq!(s.pop(), Some(2));
        assert_eq!(s.pop(), Some(0));
        assert_eq!(s.pop(), None);
        assert!(s.is_empty());
    }

    // ---- model-based property test ----

    const KEYS: usize = 6;

    #[derive(Clone, Debug)]
    enum Op {
        Schedule(StreamKey, Priority),
        /// Pop; if something came out and this is Some, reschedule it with it.
        Pop(Option<Priority>),
        Reprioritize(StreamKey, Priority),
        Remove(StreamKey),
    }

    fn priority() -> impl Strategy<Value = Priority> {
        (0u8..8, any::<bool>()).prop_map(|(u, i)| pr(u, i))
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            3 => (0..KEYS, priority()).prop_map(|(k, p)| Op::Schedule(k, p)),
            4 => proptest::option::of(priority()).prop_map(Op::Pop),
            1 => (0..KEYS, priority()).prop_map(|(k, p)| Op::Reprioritize(k, p)),
            1 => (0..KEYS).prop_map(Op::Remove),
        ]
    }

    /// A queued stream in the reference model.
    #[derive(Clone, Copy, Debug)]
    struct Item {
        key: StreamKey,
        stream_id: u32,
        priority: Priority,
        /// 0 = in-progress head, 1 = non-incremental, 2 = incremental.
        rank: u8,
        seq: u64,
    }

    /// Reference model: a plain Vec, scanned for the minimum on every pop.
    #[derive(Default)]
    struct Model {
        items: Vec<Item>,
        seq: u64,
        /// False: behave like `RoundRobinScheduler` (pure FIFO).
        prioritized: bool,
    }

    impl Model {
        fn position(&self, key: StreamKey) -> Option<usize> {
            self.items.iter().position(|i| i.key == key)
        }

        fn push(&mut self, key: StreamKey, stream_id: u32, priority: Priority, resume: bool) {
            let u = priority.urgency;
            let head_taken = self
                .items
                .iter()
                .any(|i| i.rank == 0 && i.priority.urgency == u);
            let rank = match (priority.incremental, resume && !head_taken) {
                (true, _) => 2,
                (false, true) => 0,
                (false, false) => 1,
            };
            self.seq += 1;
            let seq = self.seq;
            self.items.push(Item {
                key,
                stream_id,
                priority,
                rank,
                seq,
            });
        }

        fn schedule(&mut self, key: StreamKey, id: u32, p: Priority, resume: bool) {
            if self.position(key).is_none() {
                self.push(key, id, p, resume);
            }
        }

        fn sort_key(&self, i: &Item) -> (u8, u8, u32, StreamKey, u64) {
            if !self.prioritized {
                return (0, 0, 0, 0, i.seq);
            }
            match i.rank {
                1 => (i.priority.urgency.get(), 1, i.stream_id, i.key, 0),
                r => (i.priority.urgency.get(), r, 0, 0, i.seq),
            }
        }

        fn pop(&mut self) -> Option<Item> {
            let best = (0..self.items.len()).min_by_key(|&n| self.sort_key(&self.items[n]))?;
            Some(self.items.remove(best))
        }

        fn reprioritize(&mut self, key: StreamKey, id: u32, p: Priority) {
            if let Some(n) = self.position(key) {
                if self.prioritized && self.items[n].priority != p {
                    self.items.remove(n);
                    self.push(key, id, p, false);
                }
            }
        }

        fn remove(&mut self, key: StreamKey) {
            self.items.retain(|i| i.key != key);
        }
    }

    /// Runs `ops` on `s` and the model, checking every pop against the model and
    /// the scheduler invariants directly.
    fn check(s: &mut impl Scheduler, prioritized: bool, ops: &[Op]) -> Result<(), TestCaseError> {
        let mut model = Model {
            prioritized,
            ..Model::default()
        };
        let mut ids: [Option<u32>; KEYS] = [None; KEYS];
        let mut next_id = 1u32;
        let mut id_of = |ids: &mut [Option<u32>; KEYS], key: StreamKey| {
            *ids[key].get_or_insert_with(|| {
                next_id += 2;
                next_id
            })
        };
        for op in ops {
            match *op {
                Op::Schedule(key, p) => {
                    let id = id_of(&mut ids, key);
                    s.schedule(key, id, p);
                    model.schedule(key, id, p, false);
                }
                Op::Pop(again) => {
                    let queued: Vec<Item> = model.items.clone();
                    let expected = model.pop();
                    let got = s.pop();
                    prop_assert_eq!(got, expected.map(|i| i.key));
                    if let Some(item) = expected {
                        // Invariant: only queued keys come out, most urgent first.
                        if prioritized {
                            let min = queued.iter().map(|i| i.priority.urgency).min();
                            prop_assert_eq!(Some(item.priority.urgency), min);
                        }
                        if let Some(p) = again {
                            s.reschedule(item.key, item.stream_id, p);
                            model.schedule(item.key, item.stream_id, p, true);
                        }
                    }
                }
                Op::Reprioritize(key, p) => {
                    let id = id_of(&mut ids, key);
                    s.reprioritize(key, id, p);
                    model.reprioritize(key, id, p);
                }
                Op::Remove(key) => {
                    ids[key] = None;
                    s.remove(key);
                    model.remove(key);
                }
            }
            prop_assert_eq!(s.is_empty(), model.items.is_empty());
        }
        // Every still-queued key comes out exactly once, in model order.
        while let Some(item) = model.pop() {
            prop_assert_eq!(s.pop(), Some(item.key));
        }
        prop_assert_eq!(s.pop(), None);
        prop_assert!(s.is_empty());
        Ok(())
    }

    proptest! {
        #[test]
        fn extensible_matches_model(ops in proptest::collection::vec(op(), 0..200)) {
            check(&mut ExtensiblePriorityScheduler::new(), true, &ops)?;
        }

        #[test]
        fn round_robin_matches_model(ops in proptest::collection::vec(op(), 0..200)) {
            check(&mut RoundRobinScheduler::new(), false, &ops)?;
        }
    }
}
