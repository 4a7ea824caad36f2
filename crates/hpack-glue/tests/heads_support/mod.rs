//! Shared helpers for the `heads_*` integration tests: build real HPACK blocks with the
//! `hpack` crate (an independent encoder) and run them through `HeadDecoder`.

#![allow(dead_code)]

use h2ring_hpack::{BlockKind, DecodedBlock, HeadDecoder, HeadError, HeadLimits, RequestHead};

/// SETTINGS_HEADER_TABLE_SIZE default (RFC 9113 §6.5.2).
pub const TABLE_SIZE: usize = 4096;

/// Encodes `fields` as one header block with the `hpack` crate's encoder.
pub fn encode(enc: &mut hpack::Encoder<'_>, fields: &[(&str, &str)]) -> Vec<u8> {
    enc.encode(fields.iter().map(|(n, v)| (n.as_bytes(), v.as_bytes())))
}

/// Encodes `fields` as one header block with our own HPACK encoder.
pub fn encode_ours(enc: &mut h2ring_hpack::hpack::Encoder, fields: &[(&str, &str)]) -> Vec<u8> {
    let mut dst = bytes::BytesMut::new();
    enc.begin_block(&mut dst);
    for (n, v) in fields {
        enc.encode_field(n.as_bytes(), v.as_bytes(), &mut dst);
    }
    dst.to_vec()
}

/// Decodes one complete block of `kind` in a single fragment.
pub fn decode_block(
    dec: &mut HeadDecoder,
    kind: BlockKind,
    block: &[u8],
) -> Result<DecodedBlock, HeadError> {
    dec.begin(kind);
    let decoded = dec.decode(block, true)?;
    Ok(decoded.expect("end_headers must yield a block"))
}

/// Encodes and decodes `fields` as a request on fresh codecs with `limits`.
pub fn request_with(limits: HeadLimits, fields: &[(&str, &str)]) -> Result<RequestHead, HeadError> {
    let mut enc = hpack::Encoder::new();
    let mut dec = HeadDecoder::new(limits, TABLE_SIZE);
    match decode_block(&mut dec, BlockKind::Request, &encode(&mut enc, fields))? {
        DecodedBlock::Request(head) => Ok(*head),
        DecodedBlock::Trailers(_) => panic!("request decoded as trailers"),
    }
}

/// Encodes and decodes `fields` as a request with default limits.
pub fn request(fields: &[(&str, &str)]) -> Result<RequestHead, HeadError> {
    request_with(HeadLimits::default(), fields)
}

/// A minimal valid GET followed by `extra` regular fields.
pub fn get_with<'a>(extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut fields = vec![
        (":method", "GET"),
        (":scheme", "https"),
        (":authority", "example.com"),
        (":path", "/"),
    ];
    fields.extend_from_slice(extra);
    fields
}

/// The reason of a `Malformed` error; panics on anything else.
pub fn malformed(result: Result<RequestHead, HeadError>) -> &'static str {
    match result {
        Err(HeadError::Malformed(reason)) => reason,
        other => panic!("expected Malformed, got {other:?}"),
    }
}

/// A Chrome-like GET: 15 fields, as sent for a top-level navigation.
pub const BROWSER_GET: [(&str, &str); 15] = [
    (":method", "GET"),
    (":authority", "www.example.com"),
    (":scheme", "https"),
    (":path", "/articles/index.html?page=2&sort=new"),
    ("sec-ch-ua", "\"Chromium\";v=\"124\", \"Google Chrome\";v=\"124\", \"Not-A.Brand\";v=\"99\""),
    ("sec-ch-ua-mobile", "?0"),
    ("sec-ch-ua-platform", "\"Linux\""),
    ("upgrade-insecure-requests", "1"),
    ("user-agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"),
    ("accept", "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"),
    ("sec-fetch-site", "same-origin"),
    ("sec-fetch-mode", "navigate"),
    ("accept-encoding", "gzip, deflate, br, zstd"),
    ("accept-language", "en-US,en;q=0.9"),
    ("cookie", "session=abc123; theme=dark"),
];
