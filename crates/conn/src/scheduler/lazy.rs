//! Lazy-deletion building blocks shared by the schedulers: the per-key table with
//! generations, a FIFO and a by-stream-id heap that skip and compact stale entries.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

use super::StreamKey;
use crate::priority::Priority;

/// Once a queue holds at least this many stale entries and they are more than half
/// of it, it is compacted. Bounds memory under e.g. a PRIORITY_UPDATE flood while
/// keeping compaction cost amortised O(1) per operation that created a stale entry.
pub const COMPACT_MIN_STALE: usize = 32;

/// Which container holds a key's live entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub(super) enum Place {
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
pub(super) struct Slot {
    /// Bumped whenever the key leaves the queued state; entries must match it.
    pub(super) generation: u64,
    pub(super) place: Place,
    pub(super) priority: Priority,
    pub(super) stream_id: u32,
}

/// A queue entry: valid only while `generation` matches the key's slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Entry {
    pub(super) key: StreamKey,
    pub(super) generation: u64,
}

/// The per-key table. Grows to the highest key seen, then never allocates again.
#[derive(Debug, Default)]
pub(super) struct Slots(pub(super) Vec<Slot>);

impl Slots {
    pub(super) fn get(&self, key: StreamKey) -> Slot {
        self.0.get(key).copied().unwrap_or_default()
    }

    pub(super) fn get_mut(&mut self, key: StreamKey) -> &mut Slot {
        if key >= self.0.len() {
            self.0.resize_with(key + 1, Slot::default);
        }
        &mut self.0[key]
    }

    pub(super) fn is_live(&self, entry: Entry) -> bool {
        self.0
            .get(entry.key)
            .is_some_and(|s| s.place != Place::Idle && s.generation == entry.generation)
    }

    /// Marks `key` as queued at `place` and returns the entry naming it.
    pub(super) fn enqueue(
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
    pub(super) fn dequeue(&mut self, key: StreamKey) -> Place {
        let slot = self.get_mut(key);
        let was = slot.place;
        slot.place = Place::Idle;
        slot.generation = slot.generation.wrapping_add(1);
        was
    }
}

/// A FIFO of entries with lazy deletion.
#[derive(Debug, Default)]
pub(super) struct Fifo {
    pub(super) entries: VecDeque<Entry>,
    pub(super) stale: usize,
}

impl Fifo {
    pub(super) fn push_back(&mut self, entry: Entry) {
        self.entries.push_back(entry);
    }

    /// Pops the first live entry, discarding stale ones on the way.
    pub(super) fn pop_live(&mut self, slots: &Slots) -> Option<Entry> {
        while let Some(entry) = self.entries.pop_front() {
            if slots.is_live(entry) {
                return Some(entry);
            }
            self.stale = self.stale.saturating_sub(1);
        }
        None
    }

    /// One of our entries just went stale.
    pub(super) fn note_stale(&mut self, slots: &Slots) {
        self.stale += 1;
        if self.stale >= COMPACT_MIN_STALE && self.stale * 2 > self.entries.len() {
            self.entries.retain(|e| slots.is_live(*e));
            self.stale = 0;
        }
    }

    pub(super) fn clear(&mut self) {
        self.entries.clear();
        self.stale = 0;
    }
}

/// A min-heap of entries ordered by (stream id, key), with lazy deletion.
#[derive(Debug, Default)]
pub(super) struct ByStreamId {
    pub(super) heap: BinaryHeap<Reverse<(u32, Entry)>>,
    pub(super) stale: usize,
}

impl ByStreamId {
    pub(super) fn push(&mut self, stream_id: u32, entry: Entry) {
        self.heap.push(Reverse((stream_id, entry)));
    }

    pub(super) fn pop_live(&mut self, slots: &Slots) -> Option<Entry> {
        while let Some(Reverse((_, entry))) = self.heap.pop() {
            if slots.is_live(entry) {
                return Some(entry);
            }
            self.stale = self.stale.saturating_sub(1);
        }
        None
    }

    pub(super) fn note_stale(&mut self, slots: &Slots) {
        self.stale += 1;
        if self.stale >= COMPACT_MIN_STALE && self.stale * 2 > self.heap.len() {
            self.heap.retain(|Reverse((_, e))| slots.is_live(*e));
            self.stale = 0;
        }
    }

    pub(super) fn clear(&mut self) {
        self.heap.clear();
        self.stale = 0;
    }
}
