//! `HeadDecoder` end to end: real browser blocks, fragmentation, HPACK state kept in sync
//! across rejected blocks, and the header-list limit under an "HPACK bomb".

mod heads_support;

use h2ring_hpack::hpack::DecodeError;
use h2ring_hpack::{
    reason, BlockKind, DecodedBlock, HeadDecoder, HeadError, HeadLimits, RequestHead,
};
use heads_support::*;

fn expect_request(block: Result<DecodedBlock, HeadError>) -> RequestHead {
    match block {
        Ok(DecodedBlock::Request(head)) => *head,
        other => panic!("expected a request head, got {other:?}"),
    }
}

fn assert_browser_head(head: &RequestHead) {
    assert_eq!(head.method, http::Method::GET);
    assert_eq!(
        head.uri(),
        "https://www.example.com/articles/index.html?page=2&sort=new"
    );
    assert_eq!(head.authority.as_ref().unwrap().as_str(), "www.example.com");
    assert_eq!(head.headers.len(), 11);
    for (name, value) in &BROWSER_GET[4..] {
        assert_eq!(head.headers.get(*name).unwrap(), *value, "{name}");
    }
    assert_eq!(head.content_length, None);
    assert!(!head.expect_continue);
}

#[test]
fn browser_get_decodes() {
    let mut enc = hpack::Encoder::new();
    let mut dec = HeadDecoder::new(HeadLimits::default(), TABLE_SIZE);
    let block = encode(&mut enc, &BROWSER_GET);
    let head = expect_request(decode_block(&mut dec, BlockKind::Request, &block));
    assert_browser_head(&head);
    let expected_size: usize = BROWSER_GET
        .iter()
        .map(|(n, v)| n.len() + v.len() + 32)
        .sum();
    assert_eq!(dec.list_size(), expected_size);
    // The `hpack` crate indexes only new names, so the second block shrinks a little.
    let again = encode(&mut enc, &BROWSER_GET);
    assert!(
        again.len() < block.len(),
        "{} vs {}",
        again.len(),
        block.len()
    );
    let head2 = expect_request(decode_block(&mut dec, BlockKind::Request, &again));
    assert_browser_head(&head2);
    assert_eq!(head2.headers, head.headers);
}

#[test]
fn steady_state_with_a_warm_dynamic_table() {
    let mut enc = h2ring_hpack::hpack::Encoder::new();
    let mut dec = HeadDecoder::new(HeadLimits::default(), TABLE_SIZE);
    let first = encode_ours(&mut enc, &BROWSER_GET);
    let head = expect_request(decode_block(&mut dec, BlockKind::Request, &first));
    assert_browser_head(&head);
    // Everything but the never-indexed cookie is now a one-octet table reference.
    let warm = encode_ours(&mut enc, &BROWSER_GET);
    assert!(
        warm.len() < first.len() / 4,
        "{} vs {}",
        warm.len(),
        first.len()
    );
    let head2 = expect_request(decode_block(&mut dec, BlockKind::Request, &warm));
    assert_browser_head(&head2);
    assert_eq!(head2.headers, head.headers);
}

#[test]
fn one_byte_fragments_give_the_same_head() {
    let mut enc = hpack::Encoder::new();
    let block = encode(&mut enc, &BROWSER_GET);
    let whole = request(&BROWSER_GET).unwrap();
    let mut dec = HeadDecoder::new(HeadLimits::default(), TABLE_SIZE);
    dec.begin(BlockKind::Request);
    let mut result = None;
    for (i, byte) in block.iter().enumerate() {
        let last = i + 1 == block.len();
        let out = dec.decode(std::slice::from_ref(byte), last).unwrap();
        assert_eq!(out.is_some(), last, "a head only at END_HEADERS");
        result = out;
    }
    let head = expect_request(result.ok_or(HeadError::TooLarge));
    assert_browser_head(&head);
    assert_eq!(head.headers, whole.headers);
    assert_eq!(head.uri(), whole.uri());
}

#[test]
fn list_size_grows_across_continuation_fragments() {
    let mut enc = hpack::Encoder::new();
    let block = encode(&mut enc, &BROWSER_GET);
    let mut dec = HeadDecoder::new(HeadLimits::default(), TABLE_SIZE);
    dec.begin(BlockKind::Request);
    assert!(matches!(
        dec.decode(&block[..block.len() / 2], false),
        Ok(None)
    ));
    let partial = dec.list_size();
    assert!(partial > 0);
    dec.decode(&block[block.len() / 2..], true)
        .unwrap()
        .unwrap();
    assert!(dec.list_size() > partial);
    // begin() resets the count for the next block.
    dec.begin(BlockKind::Trailers);
    assert_eq!(dec.list_size(), 0);
}

#[test]
fn rejected_block_still_updates_the_table() {
    let mut enc = hpack::Encoder::new();
    let mut dec = HeadDecoder::new(HeadLimits::default(), TABLE_SIZE);
    // `x-custom` is new to both tables, so the encoder inserts it (literal with indexing).
    let bad = encode(&mut enc, &get_with(&[("x-custom", "hello"), ("Bad", "1")]));
    assert_eq!(
        decode_block(&mut dec, BlockKind::Request, &bad).unwrap_err(),
        HeadError::Malformed(reason::UPPERCASE_NAME)
    );
    let good = encode(&mut enc, &get_with(&[("x-custom", "hello")]));
    assert!(
        !good.windows(5).any(|w| w == b"hello"),
        "second block must reference the dynamic entry"
    );
    let head = expect_request(decode_block(&mut dec, BlockKind::Request, &good));
    assert_eq!(head.headers["x-custom"], "hello");
}

#[test]
fn too_large_block_then_valid_block() {
    let limits = HeadLimits {
        max_header_list_size: 300,
        ..HeadLimits::default()
    };
    let mut enc = hpack::Encoder::new();
    let mut dec = HeadDecoder::new(limits, TABLE_SIZE);
    let big = "v".repeat(200);
    let block = encode(&mut enc, &get_with(&[("x-big", &big)]));
    assert_eq!(
        decode_block(&mut dec, BlockKind::Request, &block).unwrap_err(),
        HeadError::TooLarge
    );
    // x-big entered the table; the next block references it without issue.
    let block = encode(&mut enc, &get_with(&[("x-small", "1")]));
    let head = expect_request(decode_block(&mut dec, BlockKind::Request, &block));
    assert_eq!(head.headers["x-small"], "1");
}

/// Appends an RFC 7541 §5.1 integer with a 7-bit prefix (H bit clear).
fn push_len(out: &mut Vec<u8>, mut n: usize) {
    if n < 127 {
        out.push(n as u8);
        return;
    }
    out.push(127);
    n -= 127;
    while n >= 128 {
        out.push((n % 128) as u8 | 0x80);
        n /= 128;
    }
    out.push(n as u8);
}

#[test]
fn hpack_bomb_is_too_large_without_storing_it() {
    const COPIES: usize = 4000;
    const VALUE_LEN: usize = 1000;
    // :method GET, :scheme https, :path / from the static table (RFC 7541 Appendix A).
    let mut block = vec![0x82, 0x87, 0x84];
    // One literal with incremental indexing, new name: x-bomb = 1000 × 'a' (entry 62).
    block.push(0x40);
    push_len(&mut block, 6);
    block.extend_from_slice(b"x-bomb");
    push_len(&mut block, VALUE_LEN);
    block.extend(std::iter::repeat_n(b'a', VALUE_LEN));
    // Then the same entry 4000 more times, one octet each (§6.1 indexed field 62).
    block.extend(std::iter::repeat_n(0xbe, COPIES));
    assert!(block.len() < 6 * 1024, "a ~5 KiB block");

    let limits = HeadLimits::default();
    let mut dec = HeadDecoder::new(limits, TABLE_SIZE);
    dec.begin(BlockKind::Request);
    let mut result = Ok(None);
    for (i, chunk) in block.chunks(512).enumerate() {
        let last = (i + 1) * 512 >= block.len();
        result = dec.decode(chunk, last);
        // Never more than the limit held in memory, whatever has been counted.
        assert!(dec.stored_size() <= limits.max_header_list_size as usize);
    }
    assert_eq!(result.unwrap_err(), HeadError::TooLarge);
    let entry = 6 + VALUE_LEN + 32;
    assert_eq!(dec.list_size(), (42 + 44 + 38) + entry * (COPIES + 1));
    assert!(dec.list_size() > 4_000_000, "4 MB of decoded header list");

    // The decoder is still in sync: entry 62 is the bomb value.
    let mut next = vec![0x82, 0x87, 0x84];
    let limits = HeadLimits {
        max_header_list_size: 4096,
        ..limits
    };
    dec.set_limits(limits);
    next.push(0xbe);
    let head = expect_request(decode_block(&mut dec, BlockKind::Request, &next));
    assert_eq!(head.headers["x-bomb"].len(), VALUE_LEN);
}

#[test]
fn compression_errors_are_returned_at_once() {
    let mut dec = HeadDecoder::new(HeadLimits::default(), TABLE_SIZE);
    dec.begin(BlockKind::Request);
    // Index 0 is never valid (RFC 7541 §6.1); not the last fragment, still reported now.
    let err = dec.decode(&[0x82, 0x80], false).unwrap_err();
    assert_eq!(err, HeadError::Compression(DecodeError::InvalidIndex));
    assert!(err.is_connection_error());
}

#[test]
fn literal_longer_than_the_list_limit_is_too_large_not_a_connection_error() {
    let limits = HeadLimits {
        max_header_list_size: 200,
        ..HeadLimits::default()
    };
    let mut dec = HeadDecoder::new(limits, TABLE_SIZE);
    let mut block = vec![0x82, 0x87, 0x84, 0x00];
    push_len(&mut block, 1);
    block.push(b'x');
    push_len(&mut block, 201);
    block.extend(std::iter::repeat_n(b'a', 201));
    // One field over the whole list limit: a 431 for this request, the connection lives.
    assert_eq!(
        decode_block(&mut dec, BlockKind::Request, &block).unwrap_err(),
        HeadError::TooLarge
    );
    // The decoder is still in step: a normal request decodes next.
    let next = [0x82, 0x87, 0x84];
    let r = decode_block(&mut dec, BlockKind::Request, &next);
    assert!(r.is_ok(), "{r:?}");
}

#[test]
fn literal_beyond_the_literal_bound_is_a_compression_error() {
    let limits = HeadLimits {
        max_header_list_size: 100,
        ..HeadLimits::default()
    };
    let bound = h2ring_hpack::max_literal_len(limits);
    let mut dec = HeadDecoder::new(limits, TABLE_SIZE);
    let mut block = vec![0x82, 0x87, 0x84, 0x00];
    push_len(&mut block, 1);
    block.push(b'x');
    push_len(&mut block, bound + 1);
    block.extend(std::iter::repeat_n(b'a', bound + 1));
    assert_eq!(
        decode_block(&mut dec, BlockKind::Request, &block).unwrap_err(),
        HeadError::Compression(DecodeError::StringTooLong)
    );
}

#[test]
fn trailers_decode_after_a_request_on_the_same_decoder() {
    let mut enc = hpack::Encoder::new();
    let mut dec = HeadDecoder::new(HeadLimits::default(), TABLE_SIZE);
    let block = encode(&mut enc, &get_with(&[("content-length", "5")]));
    let head = expect_request(decode_block(&mut dec, BlockKind::Request, &block));
    assert_eq!(head.content_length, Some(5));
    let block = encode(&mut enc, &[("x-checksum", "abc"), ("x-checksum", "def")]);
    match decode_block(&mut dec, BlockKind::Trailers, &block).unwrap() {
        DecodedBlock::Trailers(map) => {
            let values: Vec<_> = map.get_all("x-checksum").iter().collect();
            assert_eq!(values, ["abc", "def"]);
        }
        DecodedBlock::Request(_) => panic!("trailers decoded as a request"),
    }
}
