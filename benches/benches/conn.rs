//! A full in-memory request/response through the sans-IO connection: a GET's HEADERS in,
//! the request event out, a 200 with a small static body back, the bytes written. Also
//! prints how many heap allocations one request costs in steady state.

use std::time::Instant;

use bytes::{Bytes, BytesMut};
use criterion::{criterion_group, criterion_main, Criterion};
use h2ring_benches::{allocations, first_and_repeated_blocks, CountingAllocator};
use h2ring_conn::{Config, Connection, Event};
use h2ring_frame::{encode_header_block, Frame, Settings, StreamId, WindowUpdate, PREFACE};
use http::{HeaderMap, StatusCode};

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

const BODY: &[u8] = b"hello, world\n";

struct Bench {
    conn: Connection,
    now: Instant,
    block: Bytes,
    next_id: u32,
    input: BytesMut,
    output: BytesMut,
    headers: HeaderMap,
}

/// An h2load-like request; after the first one every field is a dynamic-table index.
const H2LOAD_FIELDS: &[(&[u8], &[u8])] = &[
    (b":method", b"GET"),
    (b":scheme", b"http"),
    (b":authority", b"127.0.0.1:8080"),
    (b":path", b"/"),
    (b"user-agent", b"h2load nghttp2/1.52.0"),
];

/// The same without regular fields: what is left once the application's own `HeaderMap`
/// (two blocks as soon as it holds one field) is taken out.
const PSEUDO_ONLY_FIELDS: &[(&[u8], &[u8])] = &[
    (b":method", b"GET"),
    (b":scheme", b"http"),
    (b":authority", b"127.0.0.1:8080"),
    (b":path", b"/"),
];

impl Bench {
    fn new(fields: &[(&[u8], &[u8])]) -> Self {
        let now = Instant::now();
        let mut conn = Connection::new(Config::default(), now);
        let mut input = BytesMut::new();
        input.extend_from_slice(PREFACE);
        Frame::Settings(Settings::new(vec![])).encode(&mut input);
        Frame::Settings(Settings::ack()).encode(&mut input);
        // Open the connection window all the way, as a downloading client does.
        Frame::WindowUpdate(WindowUpdate {
            stream_id: StreamId::ZERO,
            increment: h2ring_frame::MAX_WINDOW_SIZE - 65_535,
        })
        .encode(&mut input);
        conn.recv(&mut input, now);
        let mut output = BytesMut::with_capacity(64 * 1024);
        conn.poll_transmit(&mut output, now);
        output.clear();
        let (first, steady) = first_and_repeated_blocks(fields);
        let mut bench = Bench {
            conn,
            now,
            block: first.freeze(),
            next_id: 1,
            input,
            output,
            headers: HeaderMap::new(),
        };
        assert!(bench.one_request(), "the first request must be served");
        bench.block = steady.freeze();
        assert!(bench.one_request(), "the second request must be served");
        bench
    }

    /// One request and its response; true if the response went out.
    fn one_request(&mut self) -> bool {
        let mut served = false;
        let id = StreamId::new(self.next_id);
        self.next_id += 2;
        encode_header_block(id, &self.block, true, None, 16_384, &mut self.input);
        self.conn.recv(&mut self.input, self.now);
        while let Some(event) = self.conn.poll_event() {
            if let Event::Request { stream, head, .. } = event {
                self.conn.recycle_request_head(head);
                self.conn
                    .send_response(stream, StatusCode::OK, &self.headers, false, self.now)
                    .expect("open stream");
                self.conn
                    .send_data(stream, Bytes::from_static(BODY), true)
                    .expect("open stream");
                served = true;
            }
        }
        self.conn.poll_transmit(&mut self.output, self.now);
        served &= !self.output.is_empty();
        self.output.clear();
        while self.conn.poll_event().is_some() {}
        served
    }
}

/// Heap allocations per request once every buffer, table and slab is warm.
fn allocations_per_request(bench: &mut Bench) -> f64 {
    for i in 0..10_000 {
        assert!(
            bench.one_request(),
            "request {i} not served; phase {:?}",
            bench.conn.phase()
        );
    }
    let n: u64 = std::env::var("CONN_BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let before = allocations();
    for _ in 0..n {
        bench.one_request();
    }
    (allocations() - before) as f64 / n as f64
}

fn request_response(c: &mut Criterion) {
    let mut pseudo_only = Bench::new(PSEUDO_ONLY_FIELDS);
    let per_request = allocations_per_request(&mut pseudo_only);
    println!("conn: {per_request:.2} heap allocations per request (pseudo-header fields only)");
    let mut bench = Bench::new(H2LOAD_FIELDS);
    let per_request = allocations_per_request(&mut bench);
    println!("conn: {per_request:.2} heap allocations per request in steady state");
    c.bench_function("conn/request_response_small_body", |b| {
        b.iter(|| bench.one_request())
    });
}

criterion_group!(benches, request_response);
criterion_main!(benches);
