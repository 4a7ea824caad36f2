//! Model-based property tests: both schedulers against a plain-Vec reference.

use proptest::prelude::*;

use super::test_support::pr;
use super::*;

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
