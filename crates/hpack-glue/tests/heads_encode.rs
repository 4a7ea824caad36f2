//! `HeadEncoder` end to end: blocks decode (with our decoder and an independent one) to
//! exactly the fields given, table size updates are signalled, list sizes are exact.

mod heads_support;

use bytes::BytesMut;
use h2ring_hpack::hpack::Decoder;
use h2ring_hpack::{BlockKind, DecodedBlock, HeadDecoder, HeadEncoder, HeadLimits};
use heads_support::TABLE_SIZE;
use http::{HeaderMap, HeaderValue, Method, StatusCode};

fn typical_response_headers() -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(
        "content-type",
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert("content-length", HeaderValue::from_static("1234"));
    h.insert(
        "date",
        HeaderValue::from_static("Tue, 25 Nov 2025 12:00:00 GMT"),
    );
    h.insert("server", HeaderValue::from_static("h2ring"));
    h.insert("cache-control", HeaderValue::from_static("max-age=3600"));
    h
}

fn owned(fields: &[(&str, &str)]) -> Vec<(Vec<u8>, Vec<u8>)> {
    fields
        .iter()
        .map(|(n, v)| (n.as_bytes().to_vec(), v.as_bytes().to_vec()))
        .collect()
}

const TYPICAL: [(&str, &str); 6] = [
    (":status", "200"),
    ("content-type", "text/html; charset=utf-8"),
    ("content-length", "1234"),
    ("date", "Tue, 25 Nov 2025 12:00:00 GMT"),
    ("server", "h2ring"),
    ("cache-control", "max-age=3600"),
];

#[test]
fn response_round_trips_through_both_decoders() {
    for use_cache in [true, false] {
        let mut enc = HeadEncoder::new();
        enc.set_literal_cache(use_cache);
        let mut ours = Decoder::new(TABLE_SIZE);
        let mut theirs = hpack::Decoder::new();
        for _ in 0..3 {
            let mut dst = BytesMut::new();
            let size = enc.encode_response(StatusCode::OK, &typical_response_headers(), &mut dst);
            let expected_size: usize = TYPICAL.iter().map(|(n, v)| n.len() + v.len() + 32).sum();
            assert_eq!(size, expected_size);
            assert_eq!(ours.decode_block(&dst).unwrap(), owned(&TYPICAL));
            assert_eq!(theirs.decode(&dst).unwrap(), owned(&TYPICAL));
        }
    }
}

#[test]
fn uncommon_status_is_a_literal() {
    let mut dst = BytesMut::new();
    let size =
        HeadEncoder::new().encode_response(StatusCode::IM_A_TEAPOT, &HeaderMap::new(), &mut dst);
    assert_eq!(size, 7 + 3 + 32);
    assert_eq!(
        Decoder::new(TABLE_SIZE).decode_block(&dst).unwrap(),
        owned(&[(":status", "418")])
    );
}

#[test]
fn peer_table_size_change_emits_size_update() {
    let mut enc = HeadEncoder::new();
    let mut dec = Decoder::new(TABLE_SIZE);
    let mut dst = BytesMut::new();
    enc.encode_response(StatusCode::OK, &HeaderMap::new(), &mut dst);
    assert_eq!(&dst[..], [0x88], "no update before any change");

    enc.set_peer_max_table_size(0);
    let mut dst = BytesMut::new();
    enc.encode_response(StatusCode::OK, &typical_response_headers(), &mut dst);
    // RFC 7541 §6.3: `001` + size 0, before the first field.
    assert_eq!(&dst[..2], [0x20, 0x88]);
    assert_eq!(dec.decode_block(&dst).unwrap(), owned(&TYPICAL));
    assert_eq!(dec.table_size(), 0);

    enc.set_peer_max_table_size(4096);
    let mut dst = BytesMut::new();
    enc.encode_trailers(&HeaderMap::new(), &mut dst);
    // 4096 with a 5-bit prefix: 31, then 4065 = 0x61 | 0x80, 31 (RFC 7541 §5.1).
    assert_eq!(&dst[..], [0x3f, 0xe1, 0x1f]);
    assert!(dec.decode_block(&dst).unwrap().is_empty());
}

#[test]
fn trailers_round_trip_through_head_decoder() {
    let mut trailers = HeaderMap::new();
    trailers.insert("grpc-status", HeaderValue::from_static("0"));
    trailers.insert("grpc-message", HeaderValue::from_static("all good"));
    trailers.insert("connection", HeaderValue::from_static("close"));
    let mut enc = HeadEncoder::new();
    let mut dst = BytesMut::new();
    let size = enc.encode_trailers(&trailers, &mut dst);
    assert_eq!(size, (11 + 1 + 32) + (12 + 8 + 32));
    let mut dec = HeadDecoder::new(HeadLimits::default(), TABLE_SIZE);
    dec.begin(BlockKind::Trailers);
    match dec.decode(&dst, true).unwrap() {
        Some(DecodedBlock::Trailers(map)) => {
            assert_eq!(map.len(), 2, "connection was stripped");
            assert_eq!(map["grpc-status"], "0");
            assert_eq!(map["grpc-message"], "all good");
        }
        other => panic!("expected trailers, got {other:?}"),
    }
}

#[test]
fn pushed_request_round_trips_through_head_decoder() {
    let mut headers = HeaderMap::new();
    headers.insert("accept", HeaderValue::from_static("text/css"));
    let mut enc = HeadEncoder::new();
    let mut dst = BytesMut::new();
    let size = enc.encode_request(
        &Method::GET,
        "https",
        "example.com",
        "/style.css",
        &headers,
        &mut dst,
    );
    assert_eq!(
        size,
        (7 + 3 + 32) + (7 + 5 + 32) + (10 + 11 + 32) + (5 + 10 + 32) + (6 + 8 + 32)
    );
    let mut dec = HeadDecoder::new(HeadLimits::default(), TABLE_SIZE);
    dec.begin(BlockKind::Request);
    match dec.decode(&dst, true).unwrap() {
        Some(DecodedBlock::Request(head)) => {
            assert_eq!(head.method, Method::GET);
            assert_eq!(head.uri(), "https://example.com/style.css");
            assert_eq!(head.headers.len(), 1);
            assert_eq!(head.headers["accept"], "text/css");
        }
        other => panic!("expected a request, got {other:?}"),
    }
}
