//! Property tests: arbitrary field lists and arbitrary bytes never panic the head decoder,
//! sizes are counted exactly, memory stays under the limit, and accepted heads obey §8.2.

mod heads_support;

use h2ring_hpack::{BlockKind, DecodedBlock, HeadDecoder, HeadError, HeadLimits};
use heads_support::TABLE_SIZE;
use proptest::prelude::*;

/// Names drawn from a mix of valid, uppercase, pseudo and connection-specific ones.
fn name() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::sample::select(vec![
            ":method",
            ":scheme",
            ":path",
            ":authority",
            ":status",
            ":protocol",
            "accept",
            "cookie",
            "content-length",
            "host",
            "te",
            "connection",
            "X-Up",
            "",
        ])
        .prop_map(|s| s.as_bytes().to_vec()),
        proptest::collection::vec(any::<u8>(), 0..12),
    ]
}

fn value() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::sample::select(vec!["GET", "https", "/", "a.test", "7", "trailers", " x"])
            .prop_map(|s| s.as_bytes().to_vec()),
        proptest::collection::vec(any::<u8>(), 0..40),
    ]
}

proptest! {
    #[test]
    fn arbitrary_fields_never_panic(
        fields in proptest::collection::vec((name(), value()), 0..24),
        max in 64u32..2048,
        trailers in any::<bool>(),
    ) {
        let mut enc = hpack::Encoder::new();
        let block = enc.encode(fields.iter().map(|(n, v)| (&n[..], &v[..])));
        let limits = HeadLimits { max_header_list_size: max, extended_connect: true };
        let mut dec = HeadDecoder::new(limits, TABLE_SIZE);
        let kind = if trailers { BlockKind::Trailers } else { BlockKind::Request };
        dec.begin(kind);
        let result = dec.decode(&block, true);
        let expected: usize = fields.iter().map(|(n, v)| n.len() + v.len() + 32).sum();
        prop_assert_eq!(dec.list_size(), expected);
        prop_assert!(dec.stored_size() <= max as usize);
        let headers = match result {
            Ok(Some(DecodedBlock::Request(head))) => head.headers,
            Ok(Some(DecodedBlock::Trailers(map))) => map,
            Ok(None) => return Err(TestCaseError::fail("no block at END_HEADERS")),
            Err(HeadError::Compression(e)) => return Err(TestCaseError::fail(format!("{e}"))),
            Err(HeadError::TooLarge) => {
                prop_assert!(expected > max as usize);
                return Ok(());
            }
            Err(HeadError::Malformed(_)) => return Ok(()),
        };
        prop_assert!(expected <= max as usize);
        for (name, value) in &headers {
            let n = name.as_str();
            prop_assert!(!n.is_empty() && !n.starts_with(':') && n == n.to_ascii_lowercase());
            prop_assert!(n != "connection");
            let v = value.as_bytes();
            prop_assert!(!v.iter().any(|b| matches!(b, 0 | b'\r' | b'\n')));
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(
        chunks in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..64), 1..6),
    ) {
        let mut dec = HeadDecoder::new(HeadLimits::default(), TABLE_SIZE);
        dec.begin(BlockKind::Request);
        let last = chunks.len() - 1;
        for (i, chunk) in chunks.iter().enumerate() {
            match dec.decode(chunk, i == last) {
                Ok(out) => prop_assert_eq!(out.is_some(), i == last),
                Err(_) => break,
            }
        }
        prop_assert!(dec.stored_size() <= HeadLimits::default().max_header_list_size as usize);
    }
}
