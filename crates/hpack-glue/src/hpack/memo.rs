//! Remembering what a whole header block decoded to.

/// What a whole header block decoded to, kept with the block's octets and the decoder's
/// [`generation`](super::Decoder::generation). Decoding reads no state but the dynamic
/// table, so the same octets at the same generation decode to the same fields: a repeat
/// need not be decoded again (when decoding it left the table unchanged). The value may
/// be filled in later than the block (e.g. only once the block has repeated).
#[derive(Debug)]
pub struct BlockMemo<T> {
    block: Vec<u8>,
    generation: u64,
    value: Option<T>,
}

// Not derived: that would ask `T: Default`, which no value needs.
impl<T> Default for BlockMemo<T> {
    fn default() -> Self {
        BlockMemo {
            block: Vec::new(),
            generation: 0,
            value: None,
        }
    }
}

impl<T> BlockMemo<T> {
    /// Remembers `block` at `generation`, with no value yet (reusing the buffer).
    pub fn reset(&mut self, block: &[u8], generation: u64) {
        self.block.clear();
        self.block.extend_from_slice(block);
        self.generation = generation;
        self.value = None;
    }

    /// What the remembered block decoded to.
    pub fn set_value(&mut self, value: T) {
        self.value = Some(value);
    }

    /// Whether `block` at `generation` repeats the remembered block.
    pub fn is_repeat(&self, block: &[u8], generation: u64) -> bool {
        self.generation == generation && self.block == block
    }

    /// The value of the remembered block, if set.
    pub fn value(&self) -> Option<&T> {
        self.value.as_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeat_needs_the_same_octets_and_generation() {
        let mut memo = BlockMemo::default();
        memo.reset(b"\x82\x86", 3);
        assert!(memo.is_repeat(b"\x82\x86", 3));
        assert!(!memo.is_repeat(b"\x82\x86", 4));
        assert!(!memo.is_repeat(b"\x82\x87", 3));
        assert_eq!(memo.value(), None);
        memo.set_value(200);
        assert_eq!(memo.value(), Some(&200));
        memo.reset(b"\x88", 4);
        assert_eq!(memo.value(), None);
    }
}
