//! The HPACK encoder: chooses a representation per field and keeps the
//! encoder-side dynamic table in step with the peer's decoder.

use bytes::{BufMut, BytesMut};

use super::dynamic_table::{DynamicTable, ENTRY_OVERHEAD};
use super::{huffman, integer, static_table, DEFAULT_TABLE_SIZE};

/// An entry is inserted (§6.2.1) only if it takes at most
/// 1 / `INDEXING_FRACTION` of the table, so one large value does not flush
/// many small reusable ones.
const INDEXING_FRACTION: usize = 4;

/// Field names whose values must never be indexed (RFC 7541 §7.1.3;
/// RFC 9113 §8.2.3 allows short cookies to be protected the same way).
const SENSITIVE_NAMES: [&[u8]; 4] = [
    b"authorization",
    b"proxy-authorization",
    b"cookie",
    b"set-cookie",
];

/// Index of `:status` in the static table, for the `encode_status` fallback.
const STATUS_NAME_INDEX: usize = 8;

/// `:status` values with their own static entry (Appendix A, indices 8-14).
const STATIC_STATUSES: [(u16, usize); 7] = [
    (200, 8),
    (204, 9),
    (206, 10),
    (304, 11),
    (400, 12),
    (404, 13),
    (500, 14),
];

/// Encodes header blocks for one connection direction (RFC 7541 §3).
#[derive(Debug)]
pub struct Encoder {
    table: DynamicTable,
    /// Our own cap on the table we keep, whatever the peer allows
    /// (default [`DEFAULT_TABLE_SIZE`]).
    cap: usize,
    /// Smallest size in effect since the last block started; it must be
    /// signalled first if the size later grew again (§4.2).
    pending_min: Option<usize>,
    /// Huffman-code strings when that is shorter (default on).
    huffman: bool,
    /// Bumped by every change that can alter how a field encodes: a table insertion or
    /// size change, a Huffman switch.
    generation: u64,
}

impl Default for Encoder {
    fn default() -> Self {
        Self::new()
    }
}

impl Encoder {
    /// Creates an encoder assuming the peer's default table size of 4096;
    /// we never keep more than [`DEFAULT_TABLE_SIZE`] octets of table.
    pub fn new() -> Self {
        Encoder {
            table: DynamicTable::new(DEFAULT_TABLE_SIZE),
            cap: DEFAULT_TABLE_SIZE,
            pending_min: None,
            huffman: true,
            generation: 0,
        }
    }

    /// A number that changes whenever the encoding of a field may have changed. Equal
    /// values before and after encoding some fields mean encoding them left the table
    /// alone; encoding the same fields again at that generation writes the same octets,
    /// so the octets may be replayed instead.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Turns Huffman coding of strings on (default) or off; off is meant for
    /// tests and debugging.
    pub fn set_huffman(&mut self, enabled: bool) {
        self.huffman = enabled;
        self.generation += 1;
    }

    /// Applies the peer's SETTINGS_HEADER_TABLE_SIZE: we use `min(n, cap)`
    /// and signal it at the start of the next block (§4.2, §6.3). If the
    /// size shrank and grew between blocks, the minimum is signalled first.
    pub fn set_max_table_size(&mut self, n: usize) {
        let size = n.min(self.cap);
        // Evict now; the decoder evicts when it reads the update, before
        // any field of the next block, so both stay in step.
        self.table.set_max_size(size);
        self.generation += 1;
        let min = self.pending_min.map_or(size, |m| m.min(size));
        self.pending_min = Some(min);
    }

    /// Must be called at the start of every header block: writes pending
    /// dynamic table size updates (§6.3).
    pub fn begin_block(&mut self, dst: &mut BytesMut) {
        let Some(min) = self.pending_min.take() else {
            return;
        };
        let size = self.table.max_size();
        if min < size {
            integer::encode(min, 5, 0x20, dst);
        }
        integer::encode(size, 5, 0x20, dst);
    }

    /// Encodes one field with the best representation: indexed on a full
    /// match, never-indexed for sensitive names, incremental indexing when
    /// the entry is small enough to be worth caching, else without indexing.
    pub fn encode_field(&mut self, name: &[u8], value: &[u8], dst: &mut BytesMut) {
        if SENSITIVE_NAMES.contains(&name) {
            self.encode_field_never_indexed(name, value, dst);
            return;
        }
        let (name_index, full) = self.find(name, value);
        if full {
            // §6.1: indexed header field.
            integer::encode(name_index, 7, 0x80, dst);
            return;
        }
        let entry_size = name.len() + value.len() + ENTRY_OVERHEAD;
        if entry_size <= self.table.max_size() / INDEXING_FRACTION {
            // §6.2.1: literal with incremental indexing.
            self.literal(name_index, 6, 0x40, name, value, dst);
            self.table.insert(name, value);
            self.generation += 1;
        } else {
            // §6.2.2: literal without indexing.
            self.literal(name_index, 4, 0x00, name, value, dst);
        }
    }

    /// Encodes a never-indexed literal (§6.2.3), whatever the tables hold.
    pub fn encode_field_never_indexed(&mut self, name: &[u8], value: &[u8], dst: &mut BytesMut) {
        let (name_index, _) = self.find(name, value);
        self.literal(name_index, 4, 0x10, name, value, dst);
    }

    /// `:status` fast path: static indices 8-14 for 200, 204, 206, 304, 400,
    /// 404, 500; otherwise a literal with the static `:status` name.
    pub fn encode_status(&mut self, status: u16, dst: &mut BytesMut) {
        if let Some(&(_, index)) = STATIC_STATUSES.iter().find(|(s, _)| *s == status) {
            integer::encode(index, 7, 0x80, dst);
            return;
        }
        let mut digits = [0u8; MAX_DECIMAL_DIGITS];
        let text = format_decimal(u64::from(status), &mut digits);
        if let Some(index) = self.find_dynamic(b":status", text) {
            integer::encode(index, 7, 0x80, dst);
            return;
        }
        self.literal(STATUS_NAME_INDEX, 6, 0x40, b":status", text, dst);
        self.table.insert(b":status", text);
        self.generation += 1;
    }

    /// Best table match: `(index, value_matches)`, index 0 = no match.
    /// Static beats dynamic at equal quality (smaller index).
    fn find(&self, name: &[u8], value: &[u8]) -> (usize, bool) {
        let static_hit = static_table::find(name, value);
        if let Some((index, true)) = static_hit {
            return (index, true);
        }
        if let Some(index) = self.find_dynamic(name, value) {
            return (index, true);
        }
        if let Some((index, false)) = static_hit {
            return (index, false);
        }
        let dyn_name = self
            .table
            .iter()
            .position(|(n, _)| n == name)
            .map_or(0, |i| i + static_table::STATIC_LEN + 1);
        (dyn_name, false)
    }

    /// Absolute index of a dynamic entry equal to (name, value).
    fn find_dynamic(&self, name: &[u8], value: &[u8]) -> Option<usize> {
        self.table
            .iter()
            .position(|(n, v)| n == name && v == value)
            .map(|i| i + static_table::STATIC_LEN + 1)
    }

    /// Writes a literal (§6.2) with the given first-octet pattern; a
    /// `name_index` of 0 means the name is sent as a string.
    fn literal(
        &self,
        name_index: usize,
        prefix_bits: u8,
        flags: u8,
        name: &[u8],
        value: &[u8],
        dst: &mut BytesMut,
    ) {
        integer::encode(name_index, prefix_bits, flags, dst);
        if name_index == 0 {
            self.string(name, dst);
        }
        self.string(value, dst);
    }

    /// Writes a string literal (§5.2), Huffman-coded when that is shorter.
    fn string(&self, s: &[u8], dst: &mut BytesMut) {
        let coded_len = huffman::encoded_len(s);
        if self.huffman && coded_len < s.len() {
            integer::encode(coded_len, 7, 0x80, dst);
            huffman::encode(s, dst);
        } else {
            integer::encode(s.len(), 7, 0x00, dst);
            dst.put_slice(s);
        }
    }
}

/// Decimal digits of `n` without allocating.
/// Longest decimal `u64`.
pub(crate) const MAX_DECIMAL_DIGITS: usize = 20;

/// `n` in decimal digits, written into the end of `buf`.
pub(crate) fn format_decimal(mut n: u64, buf: &mut [u8; MAX_DECIMAL_DIGITS]) -> &[u8] {
    let mut start = buf.len();
    loop {
        start -= 1;
        buf[start] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    &buf[start..]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(f: impl FnOnce(&mut BytesMut)) -> Vec<u8> {
        let mut dst = BytesMut::new();
        f(&mut dst);
        dst.to_vec()
    }

    #[test]
    fn decimal_digits() {
        let mut buf = [0; MAX_DECIMAL_DIGITS];
        assert_eq!(format_decimal(0, &mut buf), b"0");
        assert_eq!(format_decimal(302, &mut buf), b"302");
        assert_eq!(format_decimal(65535, &mut buf), b"65535");
        assert_eq!(format_decimal(u64::MAX, &mut buf), b"18446744073709551615");
    }

    #[test]
    fn status_fast_path() {
        let mut enc = Encoder::new();
        assert_eq!(bytes(|d| enc.encode_status(200, d)), [0x88]);
        assert_eq!(bytes(|d| enc.encode_status(500, d)), [0x8E]);
        // 302: literal, incremental, name index 8, Huffman "302" (C.6.1).
        assert_eq!(
            bytes(|d| enc.encode_status(302, d)),
            [0x48, 0x82, 0x64, 0x02]
        );
        // Now it's dynamic entry 62.
        assert_eq!(bytes(|d| enc.encode_status(302, d)), [0xBE]);
    }

    #[test]
    fn sensitive_names_are_never_indexed() {
        let mut enc = Encoder::new();
        enc.set_huffman(false);
        let out = bytes(|d| enc.encode_field(b"authorization", b"x", d));
        assert_eq!(out, [0x1F, 0x08, 0x01, b'x']);
        assert_eq!(enc.table.len(), 0);
    }

    #[test]
    fn large_entries_are_not_indexed() {
        let mut enc = Encoder::new();
        enc.set_huffman(false);
        let big = vec![b'v'; 1000];
        let out = bytes(|d| enc.encode_field(b"x-big", &big, d));
        // §6.2.2 literal, new name.
        assert_eq!(&out[..2], [0x00, 0x05]);
        assert_eq!(enc.table.len(), 0);
    }

    #[test]
    fn size_updates_signal_min_then_final() {
        let mut enc = Encoder::new();
        assert_eq!(bytes(|d| enc.begin_block(d)), Vec::<u8>::new());
        enc.set_max_table_size(0);
        enc.set_max_table_size(100_000);
        // 0, then min(100000, 4096) = 4096.
        assert_eq!(bytes(|d| enc.begin_block(d)), [0x20, 0x3F, 0xE1, 0x1F]);
        assert_eq!(bytes(|d| enc.begin_block(d)), Vec::<u8>::new());
        enc.set_max_table_size(256);
        assert_eq!(bytes(|d| enc.begin_block(d)), [0x3F, 0xE1, 0x01]);
    }
}
