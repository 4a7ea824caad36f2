//! Differential tests against the `hpack` 0.3 crate (test oracle only), and
//! tests documenting why we do not use it in production.

use bytes::BytesMut;
use h2ring_hpack::hpack::{huffman, DecodeError, Decoder, Encoder, DEFAULT_TABLE_SIZE};
use proptest::prelude::*;

type Pairs = Vec<(Vec<u8>, Vec<u8>)>;

/// Prefixed integer encoder for hand-built blocks (RFC 7541 §5.1).
fn int(value: usize, prefix_bits: u8, flags: u8) -> Vec<u8> {
    let max = (1usize << prefix_bits) - 1;
    if value < max {
        return vec![flags | value as u8];
    }
    let mut out = vec![flags | max as u8];
    let mut rest = value - max;
    while rest >= 0x80 {
        out.push(0x80 | (rest & 0x7F) as u8);
        rest >>= 7;
    }
    out.push(rest as u8);
    out
}

// ---- Evidence: the `hpack` crate's defects -------------------------------

#[test]
fn evidence_hpack_crate_panics_on_0x3f() {
    // RUSTSEC-2023-0085: one octet from the peer crashes the decoder.
    let result = std::panic::catch_unwind(|| hpack::Decoder::new().decode(&[0x3F]));
    assert!(result.is_err(), "hpack 0.3 no longer panics on 0x3f");
    // Ours reports a truncated block.
    assert_eq!(
        Decoder::new(DEFAULT_TABLE_SIZE).decode_block(&[0x3F]),
        Err(DecodeError::Truncated)
    );
}

#[test]
fn evidence_hpack_crate_lets_peer_grow_table_without_bound() {
    // Size update to 1,000,000 (we advertised the default 4096), then a
    // 10,000-octet entry with incremental indexing, then a reference to it.
    let mut first = int(1_000_000, 5, 0x20);
    first.extend([0x40, 0x01, b'x']);
    first.extend(int(10_000, 7, 0x00));
    first.extend(std::iter::repeat_n(b'v', 10_000));

    let mut theirs = hpack::Decoder::new();
    assert!(theirs.decode(&first).is_ok(), "size update was rejected");
    let again = theirs.decode(&[0xBE]).unwrap();
    // The peer made it keep 10,033 octets of table, > 4096.
    assert_eq!(again[0].1.len(), 10_000);

    assert_eq!(
        Decoder::new(DEFAULT_TABLE_SIZE).decode_block(&first),
        Err(DecodeError::TableSizeUpdateTooLarge)
    );
}

#[test]
fn evidence_hpack_crate_never_huffman_encodes() {
    let value = b"aaaaaaaaaaaaaaaaaaaaaaaa";
    let theirs = hpack::Encoder::new().encode(vec![(&b"x-key"[..], &value[..])]);
    // 0x40, raw name (H=0, len 5), raw value (H=0, len 24).
    assert_eq!(theirs[1], 0x05);
    assert_eq!(theirs[7], 24);
    assert_eq!(theirs.len(), 1 + 6 + 1 + 24);

    let mut ours = BytesMut::new();
    Encoder::new().encode_field(b"x-key", value, &mut ours);
    assert!(ours.len() < theirs.len());
    assert_eq!(
        ours[ours.len() - 16] & 0x80,
        0x80,
        "value not Huffman-coded"
    );
}

#[test]
fn evidence_hpack_crate_static_index_15_is_wrong() {
    // RFC 7541 Appendix A: index 15 is "accept-charset"; hpack 0.3 has
    // "accept-", so it mis-decodes any peer that references it.
    let theirs = hpack::Decoder::new().decode(&[0x8F]).unwrap();
    assert_eq!(theirs, vec![(b"accept-".to_vec(), Vec::new())]);
    let ours = Decoder::new(DEFAULT_TABLE_SIZE)
        .decode_block(&[0x8F])
        .unwrap();
    assert_eq!(ours, vec![(b"accept-charset".to_vec(), Vec::new())]);
}

// ---- Fixed cross-checks ---------------------------------------------------

#[test]
fn static_table_matches_oracle() {
    let mut theirs = hpack::Decoder::new();
    let mut ours = Decoder::new(DEFAULT_TABLE_SIZE);
    // Index 15 is checked in `evidence_hpack_crate_static_index_15_is_wrong`.
    for index in (1..=61u8).filter(|&i| i != 15) {
        let block = [0x80 | index];
        assert_eq!(
            ours.decode_block(&block).unwrap(),
            theirs.decode(&block).unwrap(),
            "static index {index}"
        );
    }
}

#[test]
fn every_huffman_symbol_decodes_with_oracle() {
    // Our Huffman output for each single symbol, and for all 256 in a row,
    // as a Huffman-coded value decoded by the independent implementation.
    let mut inputs: Vec<Vec<u8>> = (0..=255u8).map(|b| vec![b]).collect();
    inputs.push((0..=255u8).collect());
    inputs.push((0..=255u8).rev().collect());
    for input in inputs {
        let mut coded = BytesMut::new();
        huffman::encode(&input, &mut coded);
        let mut block = vec![0x01];
        block.extend(int(coded.len(), 7, 0x80));
        block.extend_from_slice(&coded);
        let theirs = hpack::Decoder::new().decode(&block).unwrap();
        assert_eq!(theirs[0].1, input);
        let ours = Decoder::new(DEFAULT_TABLE_SIZE)
            .decode_block(&block)
            .unwrap();
        assert_eq!(ours[0].1, input);
    }
}

// ---- Property-based differential tests -------------------------------------

/// Names that hit the static table, sensitive names, and random ones.
fn name() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::sample::select(vec![
            &b":method"[..],
            b":path",
            b":status",
            b":authority",
            b"accept-encoding",
            b"content-type",
            b"cookie",
            b"set-cookie",
            b"authorization",
            b"user-agent",
        ])
        .prop_map(|n| n.to_vec()),
        "[a-z][a-z0-9-]{0,24}".prop_map(String::into_bytes),
    ]
}

/// Values from a small pool (to hit dynamic full matches) or arbitrary.
fn value() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::sample::select(vec![
            &b"GET"[..],
            b"/",
            b"200",
            b"gzip, deflate",
            b"text/html; charset=utf-8",
            b"",
        ])
        .prop_map(|v| v.to_vec()),
        prop::collection::vec(any::<u8>(), 0..300),
    ]
}

fn header_list() -> impl Strategy<Value = Pairs> {
    prop::collection::vec((name(), value()), 0..24)
}

fn blocks() -> impl Strategy<Value = Vec<Pairs>> {
    prop::collection::vec(header_list(), 1..6)
}

/// Decodes `block` with ours as two fragments split at `cut` (clamped).
fn decode_split(dec: &mut Decoder, block: &[u8], cut: usize) -> Result<Pairs, DecodeError> {
    let cut = cut.min(block.len());
    let mut out = Vec::new();
    let mut push =
        |f: h2ring_hpack::hpack::Field<'_>| out.push((f.name.to_vec(), f.value.to_vec()));
    dec.decode_fragment(&block[..cut], false, &mut push)?;
    dec.decode_fragment(&block[cut..], true, &mut push)?;
    Ok(out)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Blocks from the oracle's encoder decode field for field with ours,
    /// over several blocks sharing dynamic-table state.
    #[test]
    fn oracle_encoder_to_our_decoder(blocks in blocks(), cut in 0usize..64) {
        let mut theirs = hpack::Encoder::new();
        let mut ours = Decoder::new(DEFAULT_TABLE_SIZE);
        for list in &blocks {
            let encoded = theirs.encode(list.iter().map(|(n, v)| (&n[..], &v[..])));
            prop_assert_eq!(&decode_split(&mut ours, &encoded, cut)?, list);
        }
    }

    /// Our encoder's blocks decode to the same lists with our decoder and
    /// the oracle's, including table size changes between blocks.
    #[test]
    fn our_encoder_round_trips(
        blocks in blocks(),
        sizes in prop::collection::vec(prop::option::of(0usize..6000), 6),
        cut in 0usize..64,
    ) {
        let mut enc = Encoder::new();
        let mut ours = Decoder::new(DEFAULT_TABLE_SIZE);
        let mut theirs = hpack::Decoder::new();
        for (list, size) in blocks.iter().zip(&sizes) {
            if let Some(size) = size {
                enc.set_max_table_size(*size);
            }
            let mut dst = BytesMut::new();
            enc.begin_block(&mut dst);
            for (n, v) in list {
                enc.encode_field(n, v, &mut dst);
            }
            prop_assert_eq!(&decode_split(&mut ours, &dst, cut)?, list);
            prop_assert!(ours.table_size() <= DEFAULT_TABLE_SIZE);
            prop_assert_eq!(&theirs.decode(&dst).unwrap(), list);
        }
    }
}
