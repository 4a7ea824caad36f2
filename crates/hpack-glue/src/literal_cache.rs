//! Per-encoder cache of pre-encoded stateless literals for common response fields: literal
//! without indexing (RFC 7541 §6.2.2) with a static-table name index, so the bytes do not
//! depend on the dynamic table and can be replayed verbatim in any later block.

use bytes::{BufMut, BytesMut};

use crate::hpack::huffman;

/// Most (name, value) pairs kept; beyond that the oldest slot is overwritten.
pub const MAX_CACHE_ENTRIES: usize = 16;

/// Longest value worth caching; longer values are rarely repeated verbatim.
pub const MAX_CACHED_VALUE_LEN: usize = 128;

/// Response fields whose values usually repeat from response to response, with their
/// static-table index (RFC 7541 Appendix A). Fields that change per response
/// (`content-length`, `date`, `etag`) are left to the HPACK encoder.
const CACHEABLE_NAMES: [(&[u8], u8); 8] = [
    (b"accept-ranges", 18),
    (b"access-control-allow-origin", 20),
    (b"cache-control", 24),
    (b"content-encoding", 26),
    (b"content-type", 31),
    (b"server", 54),
    (b"strict-transport-security", 56),
    (b"vary", 59),
];

/// 4-bit prefix of a literal without indexing (RFC 7541 §6.2.2: pattern `0000`).
const WITHOUT_INDEXING_PREFIX_BITS: u8 = 4;
/// 7-bit prefix of a string length (RFC 7541 §5.2).
const STRING_PREFIX_BITS: u8 = 7;
/// The H bit of a string literal (RFC 7541 §5.2).
const HUFFMAN_FLAG: u8 = 0x80;

#[derive(Debug)]
struct Entry {
    name_index: u8,
    value: Box<[u8]>,
    encoded: Box<[u8]>,
}

/// The cache; one per `HeadEncoder`.
#[derive(Debug, Default)]
pub struct LiteralCache {
    entries: Vec<Entry>,
    next_victim: usize,
}

impl LiteralCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// Writes (name, value) as a stateless literal if `name` is cacheable, from the cache
    /// when possible. Returns `false` (writing nothing) if the field is not handled here.
    pub fn encode(&mut self, name: &[u8], value: &[u8], dst: &mut BytesMut) -> bool {
        let Some(name_index) = static_name_index(name) else {
            return false;
        };
        if value.len() > MAX_CACHED_VALUE_LEN {
            return false;
        }
        let hit = self
            .entries
            .iter()
            .find(|e| e.name_index == name_index && *e.value == *value);
        if let Some(entry) = hit {
            dst.extend_from_slice(&entry.encoded);
            return true;
        }
        let mut encoded = BytesMut::with_capacity(value.len() + 4);
        encode_literal(name_index, value, &mut encoded);
        dst.extend_from_slice(&encoded);
        self.insert(Entry {
            name_index,
            value: value.into(),
            encoded: encoded.as_ref().into(),
        });
        true
    }

    fn insert(&mut self, entry: Entry) {
        if self.entries.len() < MAX_CACHE_ENTRIES {
            self.entries.push(entry);
            return;
        }
        if let Some(slot) = self.entries.get_mut(self.next_victim) {
            *slot = entry;
        }
        self.next_victim = (self.next_victim + 1) % MAX_CACHE_ENTRIES;
    }
}

fn static_name_index(name: &[u8]) -> Option<u8> {
    CACHEABLE_NAMES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|&(_, index)| index)
}

/// RFC 7541 §6.2.2 literal without indexing, indexed name; value Huffman-coded if shorter.
fn encode_literal(name_index: u8, value: &[u8], dst: &mut BytesMut) {
    encode_integer(
        usize::from(name_index),
        WITHOUT_INDEXING_PREFIX_BITS,
        0,
        dst,
    );
    let coded_len = huffman::encoded_len(value);
    if coded_len < value.len() {
        encode_integer(coded_len, STRING_PREFIX_BITS, HUFFMAN_FLAG, dst);
        huffman::encode(value, dst);
    } else {
        encode_integer(value.len(), STRING_PREFIX_BITS, 0, dst);
        dst.extend_from_slice(value);
    }
}

/// RFC 7541 §5.1 prefixed integer with `flags` in the bits above the prefix.
fn encode_integer(mut value: usize, prefix_bits: u8, flags: u8, dst: &mut BytesMut) {
    let max_prefix = (1usize << prefix_bits) - 1;
    if value < max_prefix {
        // Fits in the prefix: value < 2^prefix_bits <= 128, so the cast is lossless.
        dst.put_u8(flags | value as u8);
        return;
    }
    dst.put_u8(flags | max_prefix as u8);
    value -= max_prefix;
    while value >= 0x80 {
        dst.put_u8((value & 0x7f) as u8 | 0x80);
        value >>= 7;
    }
    dst.put_u8(value as u8);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hpack::Decoder;

    fn encode(cache: &mut LiteralCache, name: &str, value: &str) -> Option<Vec<u8>> {
        let mut dst = BytesMut::new();
        cache
            .encode(name.as_bytes(), value.as_bytes(), &mut dst)
            .then(|| dst.to_vec())
    }

    #[test]
    fn integers() {
        let enc = |v, bits, flags| {
            let mut d = BytesMut::new();
            encode_integer(v, bits, flags, &mut d);
            d.to_vec()
        };
        // RFC 7541 C.1.1-C.1.3.
        assert_eq!(enc(10, 5, 0), [10]);
        assert_eq!(enc(1337, 5, 0), [31, 154, 10]);
        assert_eq!(enc(42, 8, 0), [42]);
        assert_eq!(enc(24, 4, 0), [0x0f, 0x09]);
        assert_eq!(enc(14, 4, 0), [0x0e]);
        assert_eq!(enc(15, 4, 0), [0x0f, 0x00]);
    }

    #[test]
    fn exact_bytes_huffman_value() {
        let mut cache = LiteralCache::new();
        // Name index 24 (cache-control) in 4 bits, then RFC 7541 C.4.2's "no-cache".
        let expected = [0x0f, 0x09, 0x86, 0xa8, 0xeb, 0x10, 0x64, 0x9c, 0xbf];
        assert_eq!(
            encode(&mut cache, "cache-control", "no-cache").unwrap(),
            expected
        );
        // Second time from the cache, byte for byte.
        assert_eq!(
            encode(&mut cache, "cache-control", "no-cache").unwrap(),
            expected
        );
        assert_eq!(cache.entries.len(), 1);
    }

    #[test]
    fn raw_value_when_huffman_is_longer() {
        let mut cache = LiteralCache::new();
        // '{' has a 15-bit code, so 4 of them need 8 octets: sent raw.
        assert_eq!(
            encode(&mut cache, "vary", "{{{{").unwrap(),
            [0x0f, 59 - 15, 0x04, b'{', b'{', b'{', b'{']
        );
    }

    #[test]
    fn uncacheable_fields_are_declined() {
        let mut cache = LiteralCache::new();
        assert_eq!(encode(&mut cache, "content-length", "12"), None);
        assert_eq!(encode(&mut cache, "x-custom", "a"), None);
        let long = "a".repeat(MAX_CACHED_VALUE_LEN + 1);
        assert_eq!(encode(&mut cache, "content-type", &long), None);
        assert!(cache.entries.is_empty());
    }

    #[test]
    fn bounded_and_round_robin() {
        let mut cache = LiteralCache::new();
        for i in 0..MAX_CACHE_ENTRIES + 5 {
            encode(&mut cache, "server", &format!("s{i}")).unwrap();
        }
        assert_eq!(cache.entries.len(), MAX_CACHE_ENTRIES);
        // The newest values survive.
        let newest = format!("s{}", MAX_CACHE_ENTRIES + 4);
        assert!(cache.entries.iter().any(|e| *e.value == *newest.as_bytes()));
        assert!(!cache.entries.iter().any(|e| &*e.value == b"s0"));
    }

    #[test]
    fn decodes_as_stateless_literal() {
        let mut cache = LiteralCache::new();
        let mut block = BytesMut::new();
        for _ in 0..2 {
            cache.encode(b"content-type", b"text/html; charset=utf-8", &mut block);
            cache.encode(b"server", b"h2ring", &mut block);
        }
        let mut dec = Decoder::new(4096);
        let fields = dec.decode_block(&block).unwrap();
        let expected: Vec<(Vec<u8>, Vec<u8>)> = [
            ("content-type", "text/html; charset=utf-8"),
            ("server", "h2ring"),
        ]
        .repeat(2)
        .into_iter()
        .map(|(n, v)| (n.as_bytes().to_vec(), v.as_bytes().to_vec()))
        .collect();
        assert_eq!(fields, expected);
        // Without indexing: nothing entered the decoder's dynamic table.
        assert_eq!(dec.table_size(), 0);
    }
}
