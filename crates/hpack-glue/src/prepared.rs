//! Response fields built once and sent many times (a static file's 200 head), and the
//! per-encoder memo that replays their encoded octets instead of encoding them again.

use std::sync::atomic::{AtomicU64, Ordering};

use http::HeaderMap;

use crate::field::field_size;
use crate::stamp::Present;

/// Source of [`PreparedFields`] keys: unique in the process, so a key never names two
/// different field sets (a per-thread counter could, once values move between threads).
static NEXT_KEY: AtomicU64 = AtomicU64::new(1);

/// Fields that will be sent unchanged with many responses. Building one gives it a
/// process-unique key; an encoder that has encoded the fields once remembers the octets
/// under that key and replays them while its dynamic table is unchanged.
#[derive(Debug, Clone)]
pub struct PreparedFields {
    key: u64,
    headers: HeaderMap,
    /// RFC 9113 §6.5.2 size of the fields as sent (stripped fields not counted).
    list_size: usize,
    /// Which of the encoder's stamped fields (`date`, `server`) these carry.
    present: Present,
}

impl PreparedFields {
    /// Prepares `headers`. Connection-specific fields are dropped when encoded, as for any
    /// response (RFC 9113 §8.2.2).
    pub fn new(headers: HeaderMap) -> Self {
        let list_size = headers
            .iter()
            .filter_map(|(name, value)| {
                let name = name.as_str().as_bytes();
                crate::encoder::sent_value(name, value).map(|sent| field_size(name, sent))
            })
            .sum();
        let present = Present::of(&headers);
        PreparedFields {
            key: NEXT_KEY.fetch_add(1, Ordering::Relaxed),
            headers,
            list_size,
            present,
        }
    }

    /// The fields.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// Their header list size (RFC 9113 §6.5.2), as the encoder will count it.
    pub fn list_size(&self) -> usize {
        self.list_size
    }

    pub(crate) fn present(&self) -> Present {
        self.present
    }

    pub(crate) fn key(&self) -> u64 {
        self.key
    }
}

/// Blocks remembered per encoder. A handful: a connection usually serves a few hot heads
/// (a page and its assets); more would only lengthen the search.
const MEMO_SLOTS: usize = 4;

/// Longest block remembered; a longer one is rare and cheap to encode relative to its size.
const MEMO_MAX_BLOCK: usize = 256;

#[derive(Debug, Default)]
struct Slot {
    key: u64,
    status: u16,
    generation: u64,
    block: Vec<u8>,
}

/// The octets `:status` + prepared fields encoded to, by (key, status), each valid at the
/// encoder generation it was recorded at.
#[derive(Debug, Default)]
pub(crate) struct PreparedMemo {
    slots: Vec<Slot>,
    next_victim: usize,
}

impl PreparedMemo {
    /// The remembered block for (key, status) if the encoder is still at its generation.
    pub(crate) fn get(&self, key: u64, status: u16, generation: u64) -> Option<&[u8]> {
        self.slots
            .iter()
            .find(|s| s.key == key && s.status == status && s.generation == generation)
            .map(|s| s.block.as_slice())
    }

    /// Remembers `block` for (key, status) at `generation`; the caller has checked that
    /// encoding it left the generation unchanged.
    pub(crate) fn put(&mut self, key: u64, status: u16, generation: u64, block: &[u8]) {
        if block.len() > MEMO_MAX_BLOCK {
            return;
        }
        let index = match self
            .slots
            .iter()
            .position(|s| s.key == key && s.status == status)
        {
            Some(i) => i,
            None if self.slots.len() < MEMO_SLOTS => {
                self.slots.push(Slot::default());
                self.slots.len() - 1
            }
            None => {
                let i = self.next_victim;
                self.next_victim = (i + 1) % MEMO_SLOTS;
                i
            }
        };
        let slot = &mut self.slots[index];
        slot.key = key;
        slot.status = status;
        slot.generation = generation;
        slot.block.clear();
        slot.block.extend_from_slice(block);
    }

    /// Frees the remembered blocks (an idle connection).
    pub(crate) fn clear(&mut self) {
        self.slots = Vec::new();
        self.next_victim = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_unique_and_clones_share_them() {
        let a = PreparedFields::new(HeaderMap::new());
        let b = PreparedFields::new(HeaderMap::new());
        assert_ne!(a.key(), b.key());
        assert_eq!(a.clone().key(), a.key());
    }

    #[test]
    fn list_size_skips_fields_that_are_never_sent() {
        let mut headers = HeaderMap::new();
        headers.insert("content-type", "text/plain".parse().unwrap());
        headers.insert("connection", "close".parse().unwrap());
        assert_eq!(PreparedFields::new(headers).list_size(), 12 + 10 + 32);
    }

    #[test]
    fn a_block_is_replayed_only_at_its_key_status_and_generation() {
        let mut memo = PreparedMemo::default();
        memo.put(7, 200, 3, b"\x88\xbe");
        assert_eq!(memo.get(7, 200, 3), Some(&b"\x88\xbe"[..]));
        assert_eq!(memo.get(7, 200, 4), None);
        assert_eq!(memo.get(7, 404, 3), None);
        assert_eq!(memo.get(8, 200, 3), None);
        memo.put(7, 200, 4, b"\x88\xbf");
        assert_eq!(memo.get(7, 200, 3), None, "re-recorded in place");
        assert_eq!(memo.get(7, 200, 4), Some(&b"\x88\xbf"[..]));
    }

    #[test]
    fn the_oldest_slot_makes_room_and_long_blocks_are_not_kept() {
        let mut memo = PreparedMemo::default();
        for key in 1..=(MEMO_SLOTS as u64 + 1) {
            memo.put(key, 200, 0, &[key as u8]);
        }
        assert_eq!(memo.get(1, 200, 0), None);
        assert_eq!(
            memo.get(MEMO_SLOTS as u64 + 1, 200, 0),
            Some(&[MEMO_SLOTS as u8 + 1][..])
        );
        memo.put(99, 200, 0, &[0; MEMO_MAX_BLOCK + 1]);
        assert_eq!(memo.get(99, 200, 0), None);
        memo.clear();
        assert_eq!(memo.get(2, 200, 0), None);
    }
}
