//! Hostile and malformed HPACK input: each case must return the exact
//! `DecodeError` (a COMPRESSION_ERROR) and never panic.

use h2ring_hpack::hpack::{
    DecodeError, Decoder, OwnedFields, DEFAULT_MAX_STRING_LEN, DEFAULT_TABLE_SIZE,
};

fn decode(block: &[u8]) -> Result<OwnedFields, DecodeError> {
    Decoder::new(DEFAULT_TABLE_SIZE).decode_block(block)
}

#[test]
fn lone_0x3f_is_truncated_not_a_panic() {
    // RUSTSEC-2023-0085: a size update whose integer never finishes.
    assert_eq!(decode(&[0x3F]), Err(DecodeError::Truncated));
    // Mid-block it is simply waiting for more input.
    let mut dec = Decoder::new(DEFAULT_TABLE_SIZE);
    assert_eq!(dec.decode_fragment(&[0x3F], false, |_| {}), Ok(()));
    // Finishing it: 31 + 0x61 + (0x1F << 7) = 4096.
    assert_eq!(dec.decode_fragment(&[0xE1, 0x1F], true, |_| {}), Ok(()));
}

#[test]
fn ff_runs_overflow() {
    assert_eq!(decode(&[0xFF; 16]), Err(DecodeError::IntegerOverflow));
    // Same run split across 1-octet fragments fails as soon as it must.
    let mut dec = Decoder::new(DEFAULT_TABLE_SIZE);
    let mut results = Vec::new();
    for _ in 0..16 {
        results.push(dec.decode_fragment(&[0xFF], false, |_| {}));
    }
    assert_eq!(results[..5], [Ok(()); 5]);
    assert_eq!(results[5], Err(DecodeError::IntegerOverflow));
    // Once failed, the decoder stays failed.
    assert_eq!(results[15], Err(DecodeError::IntegerOverflow));
    // A zero-valued continuation run that never ends is also cut off.
    let mut zeros = vec![0x3F];
    zeros.extend([0x80; 10]);
    assert_eq!(decode(&zeros), Err(DecodeError::IntegerOverflow));
}

#[test]
fn huge_string_lengths_rejected_before_data() {
    // New-name literal whose name claims ~33 MB.
    assert_eq!(
        decode(&[0x40, 0x7F, 0xFF, 0xFF, 0xFF, 0x0F]),
        Err(DecodeError::StringTooLong)
    );
    // Indexed name, value length DEFAULT_MAX_STRING_LEN + 1.
    let mut block = vec![0x41, 0x7F];
    let mut rest = DEFAULT_MAX_STRING_LEN + 1 - 127;
    while rest >= 0x80 {
        block.push(0x80 | (rest & 0x7F) as u8);
        rest >>= 7;
    }
    block.push(rest as u8);
    // No value octets at all: the length alone is enough to reject.
    let mut dec = Decoder::new(DEFAULT_TABLE_SIZE);
    assert_eq!(
        dec.decode_fragment(&block, false, |_| {}),
        Err(DecodeError::StringTooLong)
    );
    // Exactly the limit is fine.
    let mut ok = vec![0x41, 0x7F];
    let mut rest = DEFAULT_MAX_STRING_LEN - 127;
    while rest >= 0x80 {
        ok.push(0x80 | (rest & 0x7F) as u8);
        rest >>= 7;
    }
    ok.push(rest as u8);
    ok.extend(std::iter::repeat_n(b'x', DEFAULT_MAX_STRING_LEN));
    let fields = decode(&ok).unwrap();
    assert_eq!(fields[0].1.len(), DEFAULT_MAX_STRING_LEN);
}

#[test]
fn huffman_output_is_bounded_too() {
    let mut dec = Decoder::new(DEFAULT_TABLE_SIZE);
    dec.set_max_string_len(10);
    // 16 × '0' (5 bits each) = 10 Huffman octets, decoding to 16 > 10.
    let mut block = vec![0x01, 0x8A];
    block.extend([0x00; 10]);
    assert_eq!(dec.decode_block(&block), Err(DecodeError::StringTooLong));
}

#[test]
fn size_update_above_advertised_limit() {
    // 4097 = 31 + 0x62 + (0x1F << 7).
    assert_eq!(
        decode(&[0x3F, 0xE2, 0x1F]),
        Err(DecodeError::TableSizeUpdateTooLarge)
    );
    assert_eq!(decode(&[0x3F, 0xE1, 0x1F]), Ok(vec![]));
    let mut dec = Decoder::new(100);
    assert_eq!(
        dec.decode_block(&[0x3F, 0x46]),
        Err(DecodeError::TableSizeUpdateTooLarge)
    );
    // Lowering our advertised limit lowers what the peer may send.
    let mut dec = Decoder::new(DEFAULT_TABLE_SIZE);
    dec.set_max_table_size(0);
    assert_eq!(
        dec.decode_block(&[0x21]),
        Err(DecodeError::TableSizeUpdateTooLarge)
    );
}

#[test]
fn size_update_after_a_field() {
    assert_eq!(
        decode(&[0x82, 0x20]),
        Err(DecodeError::TableSizeUpdateNotAtStart)
    );
    // Also when the update arrives in a later fragment of the same block.
    let mut dec = Decoder::new(DEFAULT_TABLE_SIZE);
    dec.decode_fragment(&[0x82], false, |_| {}).unwrap();
    assert_eq!(
        dec.decode_fragment(&[0x20], true, |_| {}),
        Err(DecodeError::TableSizeUpdateNotAtStart)
    );
    // Two updates at the start of the next block are fine (§4.2).
    let mut dec = Decoder::new(DEFAULT_TABLE_SIZE);
    dec.decode_block(&[0x82]).unwrap();
    assert_eq!(
        dec.decode_block(&[0x20, 0x3F, 0xE1, 0x1F, 0x82]).unwrap(),
        vec![(b":method".to_vec(), b"GET".to_vec())]
    );
}

#[test]
fn index_zero_and_past_the_table() {
    assert_eq!(decode(&[0x80]), Err(DecodeError::InvalidIndex));
    // 62 with an empty dynamic table.
    assert_eq!(decode(&[0xBE]), Err(DecodeError::InvalidIndex));
    // Literal with indexed name 63 (6-bit prefix full + 0).
    assert_eq!(
        decode(&[0x7F, 0x00, 0x01, b'v']),
        Err(DecodeError::InvalidIndex)
    );
    // Without-indexing literal naming index 62 (4-bit prefix 15 + 47).
    assert_eq!(
        decode(&[0x0F, 0x2F, 0x01, b'v']),
        Err(DecodeError::InvalidIndex)
    );
    // Index u32::MAX.
    assert_eq!(
        decode(&[0xFF, 0x80, 0xFF, 0xFF, 0xFF, 0x0F]),
        Err(DecodeError::InvalidIndex)
    );
}

#[test]
fn index_one_past_a_filled_table() {
    let mut dec = Decoder::new(DEFAULT_TABLE_SIZE);
    // Insert one entry (:authority = "a"), making 62 valid and 63 not.
    dec.decode_block(&[0x41, 0x01, b'a']).unwrap();
    assert_eq!(
        dec.decode_block(&[0xBE]).unwrap(),
        vec![(b":authority".to_vec(), b"a".to_vec())]
    );
    assert_eq!(dec.decode_block(&[0xBF]), Err(DecodeError::InvalidIndex));
}

#[test]
fn invalid_huffman_strings() {
    // 'a' (00011) padded with zeros.
    assert_eq!(
        decode(&[0x41, 0x81, 0x18]),
        Err(DecodeError::InvalidHuffman)
    );
    // 'a' + 11 bits of ones: padding longer than 7 bits.
    assert_eq!(
        decode(&[0x41, 0x82, 0x1F, 0xFF]),
        Err(DecodeError::InvalidHuffman)
    );
    // EOS (30 ones) inside the string.
    assert_eq!(
        decode(&[0x41, 0x84, 0xFF, 0xFF, 0xFF, 0xFF]),
        Err(DecodeError::InvalidHuffman)
    );
    // Huffman-coded name with bad padding.
    assert_eq!(
        decode(&[0x40, 0x81, 0x18, 0x00]),
        Err(DecodeError::InvalidHuffman)
    );
}

#[test]
fn truncated_at_every_point_of_a_literal() {
    let block = [0x40, 0x03, b'a', b'b', b'c', 0x02, b'd', b'e'];
    for cut in 1..block.len() {
        assert_eq!(
            decode(&block[..cut]),
            Err(DecodeError::Truncated),
            "cut {cut}"
        );
    }
    assert_eq!(decode(&block), Ok(vec![(b"abc".to_vec(), b"de".to_vec())]));
}

#[test]
fn failed_decoder_stays_failed() {
    let mut dec = Decoder::new(DEFAULT_TABLE_SIZE);
    assert_eq!(dec.decode_block(&[0x80]), Err(DecodeError::InvalidIndex));
    assert_eq!(dec.decode_block(&[0x82]), Err(DecodeError::InvalidIndex));
}

#[test]
fn state_survives_a_rejected_stream() {
    // The caller ignores every field of a block it rejects at stream level,
    // but the decoder still applies the block to its table.
    let mut dec = Decoder::new(DEFAULT_TABLE_SIZE);
    dec.decode_fragment(&[0x40, 0x01, b'x', 0x01, b'y'], true, |_| {})
        .unwrap();
    assert_eq!(
        dec.decode_block(&[0xBE]).unwrap(),
        vec![(b"x".to_vec(), b"y".to_vec())]
    );
}

#[test]
fn never_indexed_flag_is_reported() {
    let mut dec = Decoder::new(DEFAULT_TABLE_SIZE);
    let mut flags = Vec::new();
    // never-indexed (0x10) with indexed name 32 (cookie), then without
    // indexing (0x00) with the same name.
    let block = [0x1F, 0x11, 0x01, b'a', 0x0F, 0x11, 0x01, b'b'];
    dec.decode_fragment(&block, true, |f| flags.push((f.value[0], f.never_indexed)))
        .unwrap();
    assert_eq!(flags, [(b'a', true), (b'b', false)]);
    assert_eq!(dec.table_size(), 0);
}
