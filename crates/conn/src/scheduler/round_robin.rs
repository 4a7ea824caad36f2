//! A priority-blind round-robin write scheduler (baseline).

use super::lazy::{Fifo, Place, Slots};
use super::{Scheduler, StreamKey};
use crate::priority::Priority;

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
    use super::super::test_support::{drain, pr, schedule_all};
    use super::*;

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
}
