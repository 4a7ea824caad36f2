//! Codec micro-benchmarks for request/response heads: decoding a Chrome-like request block
//! into a validated `RequestHead` (cold and warm dynamic table) and encoding a typical
//! response (with and without the stateless literal cache).

use std::hint::black_box;

use bytes::BytesMut;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use h2ring_hpack::hpack::Encoder;
use h2ring_hpack::{BlockKind, DecodedBlock, HeadDecoder, HeadEncoder, HeadLimits, PreparedFields};
use http::{HeaderMap, HeaderValue, StatusCode};

/// SETTINGS_HEADER_TABLE_SIZE default (RFC 9113 §6.5.2).
const TABLE_SIZE: usize = 4096;

/// A Chrome-like top-level navigation: 15 fields.
const BROWSER_GET: [(&str, &str); 15] = [
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

/// Encodes BROWSER_GET with our HPACK encoder, as a client would.
fn request_block(enc: &mut Encoder) -> Vec<u8> {
    let mut dst = BytesMut::new();
    enc.begin_block(&mut dst);
    for (n, v) in BROWSER_GET {
        enc.encode_field(n.as_bytes(), v.as_bytes(), &mut dst);
    }
    dst.to_vec()
}

fn decode_request(dec: &mut HeadDecoder, block: &[u8]) -> DecodedBlock {
    dec.begin(BlockKind::Request);
    match dec.decode(block, true) {
        Ok(Some(head)) => head,
        other => panic!("bench block must decode: {other:?}"),
    }
}

fn bench_decode(c: &mut Criterion) {
    let mut client = Encoder::new();
    let first = request_block(&mut client);
    let warm = request_block(&mut client);
    println!(
        "request block: first {} octets, warm {} octets",
        first.len(),
        warm.len()
    );

    let mut group = c.benchmark_group("hpack_decode_request");
    group.bench_function("first_block", |b| {
        b.iter_batched(
            || HeadDecoder::new(HeadLimits::default(), TABLE_SIZE),
            |mut dec| decode_request(&mut dec, black_box(&first)),
            BatchSize::SmallInput,
        )
    });
    // The warm block only references the table, so decoding it again leaves the table as is.
    let mut dec = HeadDecoder::new(HeadLimits::default(), TABLE_SIZE);
    decode_request(&mut dec, &first);
    group.bench_function("steady_state", |b| {
        b.iter(|| decode_request(&mut dec, black_box(&warm)))
    });
    group.finish();
}

fn typical_response() -> HeaderMap {
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

fn bench_encode(c: &mut Criterion) {
    let headers = typical_response();
    let mut group = c.benchmark_group("hpack_encode_response");
    for (label, use_cache) in [("literal_cache", true), ("table_only", false)] {
        let mut enc = HeadEncoder::new();
        enc.set_literal_cache(use_cache);
        let mut dst = BytesMut::with_capacity(256);
        enc.encode_response(StatusCode::OK, &headers, &mut dst);
        let first = dst.len();
        dst.clear();
        enc.encode_response(StatusCode::OK, &headers, &mut dst);
        println!(
            "response block ({label}): first {first} octets, steady {} octets",
            dst.len()
        );
        group.bench_function(label, |b| {
            b.iter(|| {
                dst.clear();
                enc.encode_response(StatusCode::OK, black_box(&headers), &mut dst)
            })
        });
    }
    // The same fields as a static file's prepared head: after the first two blocks the
    // encoder replays the octets it remembered (table unchanged).
    let prepared = PreparedFields::new(headers.clone());
    let none = HeaderMap::new();
    let mut enc = HeadEncoder::new();
    let mut dst = BytesMut::with_capacity(256);
    for _ in 0..2 {
        dst.clear();
        enc.encode_prepared_response(StatusCode::OK, &prepared, &none, &mut dst);
    }
    println!("response block (prepared): steady {} octets", dst.len());
    group.bench_function("prepared", |b| {
        b.iter(|| {
            dst.clear();
            enc.encode_prepared_response(StatusCode::OK, black_box(&prepared), &none, &mut dst)
        })
    });
    group.finish();
}

criterion_group!(benches, bench_decode, bench_encode);
criterion_main!(benches);
