//! Heap memory per idle HTTP/2 connection, counted by the allocator instead of read from
//! RSS: an in-process h2ring on one core accepts N cleartext connections that finish the
//! HTTP/2 handshake (preface, SETTINGS both ways, both acknowledged) and then stay quiet.
//! Once the server has released what idle connections give back (its 250 ms idle
//! release), the octets live in the heap, divided by N, are what one idle connection
//! keeps in user space. The kernel's socket memory is not in it (nor in RSS).
//!
//! `cargo bench -p h2ring-benches --bench idle` (`IDLE_BENCH_CONNECTIONS=N`, default
//! 2000; `IDLE_BENCH_SITES=N` prints the call stacks of the first N allocations made while
//! one more connection is accepted and handshaken, i.e. where its memory comes from).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use h2ring::static_files::StaticFiles;
use h2ring::{Cores, Server};
use h2ring_benches::{allocations, live_bytes, report_sites, CountingAllocator};

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

const DEFAULT_CONNECTIONS: usize = 2000;
/// Longer than the server's idle release delay (250 ms), with room for a busy machine.
const SETTLE: Duration = Duration::from_millis(1500);

/// Opens a connection and completes the HTTP/2 handshake: the client preface and an empty
/// SETTINGS, the server's SETTINGS acknowledged, ours acknowledged by it.
fn handshake(addr: SocketAddr) -> TcpStream {
    let mut sock = TcpStream::connect(addr).expect("connect");
    sock.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let mut out = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
    out.extend_from_slice(&[0, 0, 0, 4, 0, 0, 0, 0, 0]);
    sock.write_all(&out).expect("preface");
    let (mut got_settings, mut got_ack) = (false, false);
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    while !(got_settings && got_ack) {
        let n = sock.read(&mut chunk).expect("read");
        assert!(n > 0, "server closed the connection during the handshake");
        buf.extend_from_slice(&chunk[..n]);
        while buf.len() >= 9 {
            let len = u32::from_be_bytes([0, buf[0], buf[1], buf[2]]) as usize;
            if buf.len() < 9 + len {
                break;
            }
            let (kind, flags) = (buf[3], buf[4]);
            if kind == 4 && flags & 1 == 0 {
                got_settings = true;
                sock.write_all(&[0, 0, 0, 4, 1, 0, 0, 0, 0]).expect("ack");
            } else if kind == 4 {
                got_ack = true;
            }
            buf.drain(..9 + len);
        }
    }
    sock
}

fn main() {
    let connections: usize = std::env::var("IDLE_BENCH_CONNECTIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(DEFAULT_CONNECTIONS);
    let sites: u64 = std::env::var("IDLE_BENCH_SITES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let running = Server::builder()
        .listen("127.0.0.1:0".parse().expect("address"))
        .cores(Cores::Count(1))
        .max_connections_per_core(connections + 16)
        .build()
        .expect("config")
        .start(|_core: &h2ring::CoreContext| StaticFiles::builtin().into_service())
        .expect("server starts");
    let addr = running.local_addrs()[0];
    // One connection first, so what the core allocates once (buffers, caches, the
    // listener's first accept) is not counted per connection.
    let mut held = vec![handshake(addr)];
    std::thread::sleep(SETTLE);
    let (bytes_before, allocs_before) = (live_bytes(), allocations());
    for _ in 0..connections {
        held.push(handshake(addr));
    }
    std::thread::sleep(SETTLE);
    let (bytes_after, allocs_after) = (live_bytes(), allocations());
    let per_conn = (bytes_after as f64 - bytes_before as f64) / connections as f64;
    println!(
        "idle/h2c: {per_conn:.0} heap octets per idle connection ({connections} connections; {:.1} allocations made per connection, handshake included)",
        (allocs_after - allocs_before) as f64 / connections as f64,
    );
    if sites > 0 {
        report_sites(sites);
        held.push(handshake(addr));
        std::thread::sleep(SETTLE);
        report_sites(0);
    }
    drop(held);
    running.handle().shutdown();
    let _ = running.join();
}
