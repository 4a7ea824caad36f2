//! The HPACK dynamic table (RFC 7541 §2.3.2, §4): a FIFO of entries with
//! RFC octet accounting and eviction.

use std::collections::VecDeque;

/// Per-entry overhead added to name + value length (RFC 7541 §4.1).
pub(crate) const ENTRY_OVERHEAD: usize = 32;

/// How many evicted entry buffers are kept for reuse, so steady-state
/// insertion does not allocate.
const SPARE_BUFFERS: usize = 16;
/// Evicted buffers with more capacity than this are freed, not kept, so the
/// spare pool stays small whatever the table size.
const SPARE_BUFFER_MAX_CAPACITY: usize = 256;

/// One entry: name and value stored back to back in one buffer.
#[derive(Debug)]
struct Entry {
    bytes: Vec<u8>,
    name_len: usize,
}

impl Entry {
    fn name(&self) -> &[u8] {
        self.bytes.get(..self.name_len).unwrap_or_default()
    }

    fn value(&self) -> &[u8] {
        self.bytes.get(self.name_len..).unwrap_or_default()
    }

    fn size(&self) -> usize {
        self.bytes.len() + ENTRY_OVERHEAD
    }
}

/// A dynamic table; index 0 is the most recently inserted entry.
#[derive(Debug)]
pub(crate) struct DynamicTable {
    entries: VecDeque<Entry>,
    /// Sum of entry sizes (§4.1).
    size: usize,
    /// Current maximum size (§4.2); `size <= max_size` always holds.
    max_size: usize,
    spare: Vec<Vec<u8>>,
}

impl DynamicTable {
    pub(crate) fn new(max_size: usize) -> Self {
        DynamicTable {
            entries: VecDeque::new(),
            size: 0,
            max_size,
            spare: Vec::new(),
        }
    }

    /// Current size in RFC octets (§4.1).
    pub(crate) fn size(&self) -> usize {
        self.size
    }

    pub(crate) fn max_size(&self) -> usize {
        self.max_size
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Entry at 0-based dynamic index (0 = newest).
    pub(crate) fn get(&self, index: usize) -> Option<(&[u8], &[u8])> {
        self.entries.get(index).map(|e| (e.name(), e.value()))
    }

    /// Entries newest first.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        self.entries.iter().map(|e| (e.name(), e.value()))
    }

    /// Changes the maximum size, evicting as needed (§4.3).
    pub(crate) fn set_max_size(&mut self, max_size: usize) {
        self.max_size = max_size;
        self.evict_to(max_size);
    }

    /// Inserts a new entry at index 0 (§4.4). An entry larger than the
    /// maximum size empties the table and is not stored; returns whether it
    /// was stored.
    pub(crate) fn insert(&mut self, name: &[u8], value: &[u8]) -> bool {
        let entry_size = name.len() + value.len() + ENTRY_OVERHEAD;
        if entry_size > self.max_size {
            self.evict_to(0);
            return false;
        }
        self.evict_to(self.max_size - entry_size);
        let mut bytes = self.spare.pop().unwrap_or_default();
        bytes.clear();
        bytes.extend_from_slice(name);
        bytes.extend_from_slice(value);
        self.entries.push_front(Entry {
            bytes,
            name_len: name.len(),
        });
        self.size += entry_size;
        true
    }

    /// Evicts oldest entries until `size <= target`.
    fn evict_to(&mut self, target: usize) {
        while self.size > target {
            let Some(entry) = self.entries.pop_back() else {
                break;
            };
            self.size -= entry.size();
            if self.spare.len() < SPARE_BUFFERS
                && entry.bytes.capacity() <= SPARE_BUFFER_MAX_CAPACITY
            {
                self.spare.push(entry.bytes);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_accounts_and_orders_newest_first() {
        let mut t = DynamicTable::new(4096);
        assert!(t.insert(b"a", b"1"));
        assert!(t.insert(b"bb", b"22"));
        assert_eq!(t.size(), 34 + 36);
        assert_eq!(t.get(0), Some((&b"bb"[..], &b"22"[..])));
        assert_eq!(t.get(1), Some((&b"a"[..], &b"1"[..])));
        assert_eq!(t.get(2), None);
    }

    #[test]
    fn evicts_oldest_to_fit() {
        // Room for exactly two 34-octet entries.
        let mut t = DynamicTable::new(68);
        t.insert(b"a", b"1");
        t.insert(b"b", b"2");
        t.insert(b"c", b"3");
        assert_eq!(t.len(), 2);
        assert_eq!(t.size(), 68);
        assert_eq!(t.get(1), Some((&b"b"[..], &b"2"[..])));
    }

    #[test]
    fn oversized_entry_empties_table() {
        let mut t = DynamicTable::new(40);
        t.insert(b"a", b"1");
        assert!(!t.insert(b"name", b"toolong"));
        assert_eq!((t.len(), t.size()), (0, 0));
    }

    #[test]
    fn shrinking_evicts_and_zero_clears() {
        let mut t = DynamicTable::new(4096);
        t.insert(b"a", b"1");
        t.insert(b"b", b"2");
        t.set_max_size(34);
        assert_eq!(t.len(), 1);
        assert_eq!(t.get(0), Some((&b"b"[..], &b"2"[..])));
        t.set_max_size(0);
        assert_eq!((t.len(), t.size()), (0, 0));
    }

    #[test]
    fn entry_exactly_max_size_fits() {
        let mut t = DynamicTable::new(34);
        assert!(t.insert(b"a", b"1"));
        assert_eq!(t.size(), 34);
    }
}
