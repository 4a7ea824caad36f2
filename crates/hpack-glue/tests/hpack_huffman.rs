//! Huffman codec properties (RFC 7541 §5.2, Appendix B).

use bytes::BytesMut;
use h2ring_hpack::hpack::{huffman, DecodeError};
use proptest::prelude::*;

fn encode(src: &[u8]) -> Vec<u8> {
    let mut dst = BytesMut::new();
    huffman::encode(src, &mut dst);
    dst.to_vec()
}

#[test]
fn all_256_symbols_round_trip() {
    for b in 0..=255u8 {
        let coded = encode(&[b]);
        let mut out = Vec::new();
        huffman::decode(&coded, &mut out).unwrap();
        assert_eq!(out, [b]);
    }
}

#[test]
fn decode_appends_to_existing_output() {
    let mut out = b"x".to_vec();
    huffman::decode(&encode(b"abc"), &mut out).unwrap();
    assert_eq!(out, b"xabc");
}

proptest! {
    #[test]
    fn round_trip(src in prop::collection::vec(any::<u8>(), 0..512)) {
        let coded = encode(&src);
        prop_assert_eq!(coded.len(), huffman::encoded_len(&src));
        let mut out = Vec::new();
        huffman::decode(&coded, &mut out).unwrap();
        prop_assert_eq!(out, src);
    }

    /// Any input decodes or fails cleanly, and what decodes re-encodes to
    /// the same octets (the code plus all-ones padding is canonical).
    #[test]
    fn arbitrary_input_never_panics(src in prop::collection::vec(any::<u8>(), 0..64)) {
        let mut out = Vec::new();
        match huffman::decode(&src, &mut out) {
            Ok(()) => prop_assert_eq!(encode(&out), src),
            Err(e) => prop_assert_eq!(e, DecodeError::InvalidHuffman),
        }
    }

    /// Appending one more all-ones octet to a valid encoding always makes
    /// the padding too long or starts an unfinished code.
    #[test]
    fn extra_ones_octet_is_rejected(src in prop::collection::vec(any::<u8>(), 0..64)) {
        let mut coded = encode(&src);
        coded.push(0xFF);
        let mut out = Vec::new();
        prop_assert_eq!(huffman::decode(&coded, &mut out), Err(DecodeError::InvalidHuffman));
    }
}
