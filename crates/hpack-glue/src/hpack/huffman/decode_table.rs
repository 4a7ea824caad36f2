//! Nibble-at-a-time Huffman decoding automaton, built at compile time.
//!
//! States are the 256 internal nodes of the code tree (0 = root). Feeding
//! one 4-bit nibble moves to a new state and emits at most one symbol: the
//! shortest code is 5 bits, so a nibble can finish one code but never start
//! and finish another.

use super::codes::{CODES, CODE_LENGTHS, EOS};

/// The transition emitted a symbol (`sym`).
pub(super) const FLAG_EMIT: u8 = 1;
/// The string may end after this transition: the automaton is at the root
/// or at most 7 bits down the all-ones path, i.e. inside valid padding
/// (RFC 7541 §5.2).
pub(super) const FLAG_ACCEPT: u8 = 2;
/// The nibble completed EOS, which must never appear (RFC 7541 §5.2).
pub(super) const FLAG_FAIL: u8 = 4;

/// Number of internal nodes of a complete prefix code over 257 symbols.
const STATES: usize = 256;
/// Longest valid padding (RFC 7541 §5.2: more than 7 bits is an error).
const MAX_PADDING_BITS: usize = 7;
/// Marks a tree child as a leaf; the low 9 bits hold the symbol.
const LEAF: u16 = 0x8000;

/// One automaton edge.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Transition {
    pub(super) next: u8,
    pub(super) flags: u8,
    pub(super) sym: u8,
}

/// `DECODE_TABLE[state][nibble]`; indexed with a `u8` and a masked nibble, so
/// lookups can never be out of bounds.
pub(super) static DECODE_TABLE: [[Transition; 16]; STATES] = build_table();

/// Builds the binary code tree: `tree[node][bit]` is either a node index or
/// `LEAF | symbol`. Malformed lengths fail compilation (const panic).
const fn build_tree() -> [[u16; 2]; STATES] {
    let mut tree = [[0u16; 2]; STATES];
    let mut next_free: u16 = 1;
    let mut sym = 0;
    while sym < 257 {
        let len = CODE_LENGTHS[sym] as u32;
        let code = CODES[sym];
        let mut node = 0usize;
        let mut i = 0;
        while i < len {
            let bit = ((code >> (len - 1 - i)) & 1) as usize;
            if i == len - 1 {
                assert!(tree[node][bit] == 0, "code is not prefix-free");
                tree[node][bit] = LEAF | sym as u16;
            } else {
                if tree[node][bit] == 0 {
                    tree[node][bit] = next_free;
                    next_free += 1;
                }
                assert!(tree[node][bit] & LEAF == 0, "code is not prefix-free");
                node = tree[node][bit] as usize;
            }
            i += 1;
        }
        sym += 1;
    }
    assert!(next_free as usize == STATES);
    tree
}

/// States in which the string may end: root, or 1..=7 ones down from it.
const fn accepting_states(tree: &[[u16; 2]; STATES]) -> [bool; STATES] {
    let mut accept = [false; STATES];
    accept[0] = true;
    let mut node = 0usize;
    let mut depth = 0;
    while depth < MAX_PADDING_BITS {
        // The all-ones path is EOS's 30-bit prefix, so these are all nodes.
        node = tree[node][1] as usize;
        accept[node] = true;
        depth += 1;
    }
    accept
}

const fn build_table() -> [[Transition; 16]; STATES] {
    let tree = build_tree();
    let accept = accepting_states(&tree);
    let empty = Transition {
        next: 0,
        flags: 0,
        sym: 0,
    };
    let mut table = [[empty; 16]; STATES];
    let mut state = 0;
    while state < STATES {
        let mut nibble = 0;
        while nibble < 16 {
            table[state][nibble] = walk(&tree, &accept, state, nibble);
            nibble += 1;
        }
        state += 1;
    }
    table
}

/// Feeds the 4 bits of `nibble` (MSB first) to the tree from `state`.
const fn walk(
    tree: &[[u16; 2]; STATES],
    accept: &[bool; STATES],
    state: usize,
    nibble: usize,
) -> Transition {
    let mut node = state;
    let mut flags = 0;
    let mut sym = 0;
    let mut i = 0;
    while i < 4 {
        let bit = (nibble >> (3 - i)) & 1;
        let child = tree[node][bit];
        if child & LEAF != 0 {
            let s = (child & !LEAF) as usize;
            if s == EOS {
                return Transition {
                    next: 0,
                    flags: FLAG_FAIL,
                    sym: 0,
                };
            }
            flags |= FLAG_EMIT;
            sym = s as u8;
            node = 0;
        } else {
            node = child as usize;
        }
        i += 1;
    }
    if accept[node] {
        flags |= FLAG_ACCEPT;
    }
    Transition {
        next: node as u8,
        flags,
        sym,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_transitions_never_emit() {
        // No code is shorter than 5 bits, so 4 bits from the root can't end one.
        for t in &DECODE_TABLE[0] {
            assert_eq!(t.flags & FLAG_EMIT, 0);
        }
    }

    #[test]
    fn all_ones_nibble_from_root_is_accepting_padding() {
        // 4 ones: still a valid (≤ 7 bit) EOS-prefix padding.
        let t = DECODE_TABLE[0][0xF];
        assert_eq!(t.flags, FLAG_ACCEPT);
        // 8 ones: padding too long, not accepting.
        let t2 = DECODE_TABLE[t.next as usize][0xF];
        assert_eq!(t2.flags & FLAG_ACCEPT, 0);
    }

    #[test]
    fn symbol_zero_code_decodes() {
        // '0' is 00000: nibble 0000 then a nibble starting with 0.
        let t = DECODE_TABLE[0][0x0];
        let t2 = DECODE_TABLE[t.next as usize][0x7];
        // 0 | 111 = '0' then 3 ones of padding.
        assert_eq!((t2.flags, t2.sym), (FLAG_EMIT | FLAG_ACCEPT, b'0'));
    }
}
