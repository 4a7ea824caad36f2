//! What a cheap frame costs the sans-IO connection when 100 streams are blocked on their
//! own flow-control windows with response data queued (the state issue 20's floods set
//! up): a SETTINGS frame of 100 (the cap) INITIAL_WINDOW_SIZE entries, a connection
//! WINDOW_UPDATE, a PING, a PRIORITY. Budgets are unlimited so nothing is cut; each
//! iteration feeds one frame and takes the output. Also prints the heap allocations per
//! frame once warm (the goal is none).

use std::time::Instant;

use bytes::{Bytes, BytesMut};
use criterion::{criterion_group, criterion_main, Criterion};
use h2ring_benches::{allocations, first_and_repeated_blocks, CountingAllocator};
use h2ring_conn::{Config, Connection, Event, RateBudget};
use h2ring_frame::{
    encode_header_block, Frame, Ping, Priority, PrioritySpec, Setting, Settings, StreamId,
    WindowUpdate, PREFACE,
};
use http::{HeaderMap, StatusCode};

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

/// Streams held blocked (the default MAX_CONCURRENT_STREAMS).
const STREAMS: u32 = 100;

struct Bench {
    conn: Connection,
    now: Instant,
    input: BytesMut,
    output: BytesMut,
}

impl Bench {
    fn new() -> Bench {
        let now = Instant::now();
        let mut config = Config::default();
        config.idle_frame_budget = RateBudget::UNLIMITED;
        config.max_queued_control_frames = usize::MAX;
        let mut conn = Connection::new(config, now);
        let mut input = BytesMut::new();
        input.extend_from_slice(PREFACE);
        let zero_window = vec![Setting::InitialWindowSize(0)];
        Frame::Settings(Settings::new(zero_window)).encode(&mut input);
        Frame::Settings(Settings::ack()).encode(&mut input);
        let (first, steady) = first_and_repeated_blocks(&[
            (b":method", b"GET"),
            (b":scheme", b"http"),
            (b":authority", b"127.0.0.1"),
            (b":path", b"/"),
        ]);
        for i in 0..STREAMS {
            let block = if i == 0 { &first } else { &steady };
            encode_header_block(
                StreamId::new(1 + 2 * i),
                block,
                true,
                None,
                16_384,
                &mut input,
            );
        }
        conn.recv(&mut input, now);
        let body = Bytes::from(vec![b'x'; 1 << 20]);
        while let Some(event) = conn.poll_event() {
            if let Event::Request { stream, .. } = event {
                conn.send_response(stream, StatusCode::OK, &HeaderMap::new(), false, now)
                    .unwrap();
                conn.send_data(stream, body.clone(), true).unwrap();
            }
        }
        assert_eq!(conn.open_streams(), STREAMS as usize);
        let mut bench = Bench {
            conn,
            now,
            input,
            output: BytesMut::with_capacity(256 * 1024),
        };
        bench.take_output();
        bench
    }

    fn take_output(&mut self) {
        self.conn.poll_transmit(&mut self.output, self.now);
        self.output.clear();
    }

    /// Feeds one encoded frame and takes whatever the connection writes.
    fn feed(&mut self, frame: &[u8]) {
        self.input.extend_from_slice(frame);
        self.conn.recv(&mut self.input, self.now);
        self.take_output();
    }
}

fn encoded(frame: Frame) -> Vec<u8> {
    let mut out = BytesMut::new();
    frame.encode(&mut out);
    out.to_vec()
}

/// 100 INITIAL_WINDOW_SIZE entries alternating 0 and 1, ending on `last`.
fn settings_ending_on(last: u32) -> Vec<u8> {
    let entries = (0..100u32)
        .map(|i| Setting::InitialWindowSize((i + last + 1) % 2))
        .collect();
    encoded(Frame::Settings(Settings::new(entries)))
}

/// Heap allocations per call of `step`, once warm.
fn allocations_per(bench: &mut Bench, mut step: impl FnMut(&mut Bench, u64)) -> f64 {
    for i in 0..1_000 {
        step(bench, i);
    }
    let n = 10_000;
    let before = allocations();
    for i in 0..n {
        step(bench, i);
    }
    (allocations() - before) as f64 / n as f64
}

fn cheap_frames(c: &mut Criterion) {
    let settings = [settings_ending_on(0), settings_ending_on(1)];
    let conn_window = encoded(Frame::WindowUpdate(WindowUpdate {
        stream_id: StreamId::ZERO,
        increment: 1,
    }));
    let ping = encoded(Frame::Ping(Ping::new([7; 8])));
    let priority = encoded(Frame::Priority(Priority {
        stream_id: StreamId::new(1001),
        spec: PrioritySpec {
            dependency: StreamId::new(3),
            exclusive: false,
            weight: 15,
        },
    }));
    // Alternating frames that end on 0 and on 1: every one changes every stream's window
    // (one pass), and those ending on 1 let each stream send one octet.
    let mut bench = Bench::new();
    let per = allocations_per(&mut bench, |b, i| b.feed(&settings[(i % 2) as usize]));
    println!("cheap_frames: {per:.2} heap allocations per 100-entry SETTINGS frame");
    let mut i = 0u64;
    c.bench_function(
        "cheap_frames/settings_100_window_entries_100_blocked_streams",
        |b| {
            b.iter(|| {
                i += 1;
                bench.feed(&settings[(i % 2) as usize]);
            })
        },
    );
    for (name, frame) in [
        ("connection_window_update", &conn_window),
        ("ping", &ping),
        ("priority", &priority),
    ] {
        let mut bench = Bench::new();
        let per = allocations_per(&mut bench, |b, _| b.feed(frame));
        println!("cheap_frames: {per:.2} heap allocations per {name} frame");
        c.bench_function(&format!("cheap_frames/{name}_100_blocked_streams"), |b| {
            b.iter(|| bench.feed(frame))
        });
    }
}

criterion_group!(benches, cheap_frames);
criterion_main!(benches);
