//! The repeat memo of `HeadDecoder`: a request block repeated byte for byte at the same
//! HPACK table state is answered without decoding, and only then.

mod heads_support;

use h2ring_hpack::{BlockKind, DecodedBlock, HeadDecoder, HeadError, HeadLimits, RequestHead};
use heads_support::*;

fn head(dec: &mut HeadDecoder, block: &[u8]) -> Result<RequestHead, HeadError> {
    match decode_block(dec, BlockKind::Request, block) {
        Ok(DecodedBlock::Request(head)) => Ok(*head),
        Ok(other) => panic!("expected a request head, got {other:?}"),
        Err(e) => Err(e),
    }
}

fn x_a(head: &RequestHead) -> Vec<&str> {
    head.headers
        .get_all("x-a")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect()
}

// GET, http, "/", `:authority: a` as a literal without indexing, then `x-a: <v>` as a
// literal with incremental indexing (RFC 7541 §6.2.1): it becomes dynamic index 62.
const INSERT_1: &[u8] = &[
    0x82, 0x86, 0x84, 0x01, 0x01, b'a', 0x40, 0x03, b'x', b'-', b'a', 0x01, b'1',
];
const INSERT_2: &[u8] = &[
    0x82, 0x86, 0x84, 0x01, 0x01, b'a', 0x40, 0x03, b'x', b'-', b'a', 0x01, b'2',
];
// The same head with `x-a` as indexed field 62: leaves the table alone.
const INDEXED: &[u8] = &[0x82, 0x86, 0x84, 0x01, 0x01, b'a', 0xbe];

#[test]
fn a_repeated_block_is_reused_and_equal_to_a_decoded_one() {
    let mut dec = HeadDecoder::new(HeadLimits::default(), TABLE_SIZE);
    let first = head(&mut dec, INSERT_1).unwrap();
    assert_eq!(x_a(&first), ["1"]);
    let decoded = head(&mut dec, INDEXED).unwrap();
    assert_eq!(dec.repeats_reused(), 0);
    // First repeat: decoded again and remembered; later repeats come from the memo.
    for _ in 0..3 {
        let again = head(&mut dec, INDEXED).unwrap();
        assert_eq!(again.uri(), decoded.uri());
        assert_eq!(again.headers, decoded.headers);
        assert_eq!(again.method, decoded.method);
    }
    assert_eq!(dec.repeats_reused(), 2);
}

#[test]
fn a_table_change_makes_the_same_octets_mean_something_else() {
    let mut dec = HeadDecoder::new(HeadLimits::default(), TABLE_SIZE);
    head(&mut dec, INSERT_1).unwrap();
    for _ in 0..3 {
        assert_eq!(x_a(&head(&mut dec, INDEXED).unwrap()), ["1"]);
    }
    // Index 62 is now `x-a: 2`.
    head(&mut dec, INSERT_2).unwrap();
    assert_eq!(x_a(&head(&mut dec, INDEXED).unwrap()), ["2"]);
    assert_eq!(dec.repeats_reused(), 1);
}

#[test]
fn new_limits_apply_to_a_repeated_block() {
    let mut dec = HeadDecoder::new(HeadLimits::default(), TABLE_SIZE);
    head(&mut dec, INSERT_1).unwrap();
    for _ in 0..3 {
        head(&mut dec, INDEXED).unwrap();
    }
    dec.set_limits(HeadLimits {
        max_header_list_size: 64,
        ..HeadLimits::default()
    });
    assert_eq!(head(&mut dec, INDEXED).unwrap_err(), HeadError::TooLarge);
}

#[test]
fn a_block_split_over_fragments_is_never_reused() {
    let mut dec = HeadDecoder::new(HeadLimits::default(), TABLE_SIZE);
    head(&mut dec, INSERT_1).unwrap();
    for _ in 0..4 {
        dec.begin(BlockKind::Request);
        assert!(dec.decode(&INDEXED[..3], false).unwrap().is_none());
        match dec.decode(&INDEXED[3..], true).unwrap() {
            Some(DecodedBlock::Request(h)) => assert_eq!(x_a(&h), ["1"]),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(dec.repeats_reused(), 0);
}

/// A recycled box still holding another request's head (and, the second time, the memo's
/// own buffers) yields exactly the head a fresh decode gives.
#[test]
fn a_recycled_head_is_refilled_to_the_repeated_request() {
    let mut dec = HeadDecoder::new(HeadLimits::default(), TABLE_SIZE);
    head(&mut dec, INSERT_1).unwrap();
    let decoded = head(&mut dec, INDEXED).unwrap();
    head(&mut dec, INDEXED).unwrap();
    let mut stale = Box::new(decoded.clone());
    stale.method = http::Method::POST;
    stale.path = Some("/elsewhere?q".parse().unwrap());
    stale.authority = None;
    stale
        .headers
        .append("x-stale", http::HeaderValue::from_static("yes"));
    stale.content_length = Some(9);
    dec.recycle_request_head(stale);
    for round in 0..3 {
        let again = match decode_block(&mut dec, BlockKind::Request, INDEXED) {
            Ok(DecodedBlock::Request(head)) => head,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            format!("{again:?}"),
            format!("{decoded:?}"),
            "round {round}"
        );
        // Handed back as the application does once it answered.
        dec.recycle_request_head(again);
    }
    assert_eq!(dec.repeats_reused(), 3);
}
