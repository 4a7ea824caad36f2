//! Heap allocations per request through the whole server: an in-process h2ring on one core
//! (glommio, io_uring, the HTTP/2 driver, the handler runner and the service) answering a
//! hand-rolled HTTP/2 client over loopback. The client allocates nothing once started, so
//! the process-wide count over the measured requests is the server's.
//!
//! `cargo bench -p h2ring-benches --bench server`; `SERVER_BENCH_SITES=N` prints the call
//! stacks of the first N allocations inside the measured window.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use h2ring::static_files::StaticFiles;
use h2ring::{Body, Context, CoreContext, Cores, Request, Response, Server, Service};
use h2ring_benches::{allocations, first_and_repeated_blocks, report_sites, CountingAllocator};

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

/// Concurrent streams per round trip, as `h2load -m 32`; `SERVER_BENCH_STREAMS` changes
/// it. What the server allocates per round trip rather than per request (the executor's
/// timers and I/O sources, buffers per read) shows as a count per round that does not
/// grow with the streams in it.
const STREAMS_PER_ROUND: u32 = 32;
/// Requests measured (after as many for warm-up), whatever the round size.
const MEASURED_REQUESTS: u32 = 96_000;

const FRAME_DATA: u8 = 0;
const FRAME_HEADERS: u8 = 1;
const FRAME_RST_STREAM: u8 = 3;
const FRAME_SETTINGS: u8 = 4;
const FRAME_PING: u8 = 6;
const FRAME_GOAWAY: u8 = 7;
const FLAG_END_STREAM: u8 = 0x1;
const FLAG_ACK: u8 = 0x1;
const FLAG_END_HEADERS: u8 = 0x4;

/// A blocking HTTP/2 client that sends the same request over and over: after the first
/// header block every field is a dynamic-table index, as with h2load.
struct Client {
    sock: TcpStream,
    out: Vec<u8>,
    buf: Vec<u8>,
    have: usize,
    block: Vec<u8>,
    next_stream: u32,
    data_since_update: usize,
}

impl Client {
    fn connect(addr: SocketAddr, path: &str) -> Client {
        let sock = TcpStream::connect(addr).expect("connect");
        sock.set_nodelay(true).expect("nodelay");
        sock.set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        let authority = addr.to_string();
        let fields: [(&[u8], &[u8]); 5] = [
            (b":method", b"GET"),
            (b":scheme", b"http"),
            (b":authority", authority.as_bytes()),
            (b":path", path.as_bytes()),
            (b"user-agent", b"h2load nghttp2/1.52.0"),
        ];
        let (first, steady) = first_and_repeated_blocks(&fields);
        let mut client = Client {
            sock,
            out: Vec::with_capacity(64 * 1024),
            buf: vec![0; 1 << 20],
            have: 0,
            block: first.to_vec(),
            next_stream: 1,
            data_since_update: 0,
        };
        client
            .out
            .extend_from_slice(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
        // SETTINGS_INITIAL_WINDOW_SIZE = 2^30: no stream waits for a WINDOW_UPDATE.
        client.frame_header(6, FRAME_SETTINGS, 0, 0);
        client.out.extend_from_slice(&[0, 4, 0x40, 0, 0, 0]);
        client.window_update(1 << 30);
        assert_eq!(client.round(1), 1, "the first request must be answered");
        client.block = steady.to_vec();
        client
    }

    fn frame_header(&mut self, len: usize, kind: u8, flags: u8, stream: u32) {
        let len = u32::try_from(len).expect("frame length");
        self.out.extend_from_slice(&len.to_be_bytes()[1..]);
        self.out.extend_from_slice(&[kind, flags]);
        self.out.extend_from_slice(&stream.to_be_bytes());
    }

    fn window_update(&mut self, increment: u32) {
        self.frame_header(4, 8, 0, 0);
        self.out.extend_from_slice(&increment.to_be_bytes());
    }

    /// Sends `streams` requests at once and reads until each is answered; returns how
    /// many were.
    fn round(&mut self, streams: u32) -> u32 {
        for _ in 0..streams {
            let stream = self.next_stream;
            self.next_stream += 2;
            let block_len = self.block.len();
            self.frame_header(
                block_len,
                FRAME_HEADERS,
                FLAG_END_STREAM | FLAG_END_HEADERS,
                stream,
            );
            let (out, block) = (&mut self.out, &self.block);
            out.extend_from_slice(block);
        }
        self.flush();
        let mut answered = 0;
        while answered < streams {
            let n = self.sock.read(&mut self.buf[self.have..]).expect("read");
            assert!(n > 0, "server closed the connection");
            self.have += n;
            answered += self.parse_frames();
            self.flush();
        }
        answered
    }

    /// Consumes every whole frame read so far; returns the streams it saw end.
    fn parse_frames(&mut self) -> u32 {
        let mut ended = 0;
        let mut at = 0;
        while self.have - at >= 9 {
            let head = &self.buf[at..at + 9];
            let len = u32::from_be_bytes([0, head[0], head[1], head[2]]) as usize;
            let (kind, flags) = (head[3], head[4]);
            let stream = u32::from_be_bytes([head[5], head[6], head[7], head[8]]) & !(1 << 31);
            if self.have - at < 9 + len {
                break;
            }
            match kind {
                FRAME_DATA | FRAME_HEADERS if flags & FLAG_END_STREAM != 0 && stream != 0 => {
                    ended += 1
                }
                FRAME_SETTINGS if flags & FLAG_ACK == 0 => {
                    self.frame_header(0, FRAME_SETTINGS, FLAG_ACK, 0)
                }
                FRAME_PING if flags & FLAG_ACK == 0 => {
                    self.frame_header(8, FRAME_PING, FLAG_ACK, 0);
                    let payload: [u8; 8] = self.buf[at + 9..at + 17].try_into().expect("ping");
                    self.out.extend_from_slice(&payload);
                }
                FRAME_RST_STREAM | FRAME_GOAWAY => panic!("server sent frame type {kind}"),
                _ => {}
            }
            if kind == FRAME_DATA {
                self.data_since_update += len;
            }
            at += 9 + len;
        }
        self.buf.copy_within(at..self.have, 0);
        self.have -= at;
        if self.data_since_update > 1 << 29 {
            let increment = u32::try_from(self.data_since_update).expect("increment");
            self.window_update(increment);
            self.data_since_update = 0;
        }
        ended
    }

    fn flush(&mut self) {
        if !self.out.is_empty() {
            self.sock.write_all(&self.out).expect("write");
            self.out.clear();
        }
    }
}

/// Serves with `make` on one core, then reports allocations per request for `path`.
fn measure<S, F>(name: &str, path: &str, make: F)
where
    S: Service,
    F: Fn(&CoreContext) -> S + Send + Sync + 'static,
{
    let running = Server::builder()
        .listen("127.0.0.1:0".parse().expect("address"))
        .cores(Cores::Count(1))
        .build()
        .expect("config")
        .start(move |core: &CoreContext| h2ring::serve::connection_fn(core, make(core), None))
        .expect("server starts");
    let addr = running.local_addrs()[0];
    let streams: u32 = std::env::var("SERVER_BENCH_STREAMS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n| (1..=100).contains(&n))
        .unwrap_or(STREAMS_PER_ROUND);
    let rounds = MEASURED_REQUESTS / streams;
    let mut client = Client::connect(addr, path);
    for _ in 0..rounds {
        client.round(streams);
    }
    let sites = std::env::var("SERVER_BENCH_SITES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    report_sites(sites);
    let started = Instant::now();
    let before = allocations();
    let mut answered = 0u64;
    for _ in 0..rounds {
        answered += u64::from(client.round(streams));
    }
    let allocated = allocations() - before;
    let took = started.elapsed();
    report_sites(0);
    println!(
        "server/{name}: {:.3} heap allocations per request ({allocated} over {answered} requests; {:.2} per round trip of {streams} streams; {:.0} req/s, client and server sharing this machine)",
        allocated as f64 / answered as f64,
        allocated as f64 / f64::from(rounds),
        answered as f64 / took.as_secs_f64(),
    );
    drop(client);
    running.handle().shutdown();
    let _ = running.join();
}

fn main() {
    // `cargo bench` passes `--bench`; a filter, when given, picks the cases to run.
    let filter: Option<String> = std::env::args().skip(1).find(|a| !a.starts_with("--"));
    let runs = |name: &str| filter.as_deref().is_none_or(|f| name.contains(f));
    if runs("builtin_page") {
        // The binary's default: the built-in page, answered inside the service call.
        measure("builtin_page", "/", |_core| {
            h2ring::files_service::files_service(StaticFiles::builtin())
        });
    }
    if runs("hello_service_fn") {
        // A closure service whose future is ready on its first poll.
        measure("hello_service_fn", "/", |_core| {
            h2ring::service_fn(|_req: Request, _cx: Context| async {
                Response::new(Body::from("hello, world\n"))
            })
        });
    }
}
