//! Heap allocations per request through the whole server: an in-process h2ring on one core
//! (glommio, io_uring, the HTTP/2 driver, the handler runner and the service) answering a
//! hand-rolled HTTP/2 client over loopback. The client allocates nothing once started, so
//! the process-wide count over the measured requests is the server's.
//!
//! `cargo bench -p h2ring-benches --bench server`; `SERVER_BENCH_SITES=N` prints the call
//! stacks of the first N allocations inside the measured window (printing them slows the
//! server, so the count printed alongside is not the steady state's: run without it for
//! the figure). `tests/allocations.rs` holds the same server to a bound in the test suite.

use std::time::Instant;

use h2ring::static_files::StaticFiles;
use h2ring::{Body, Context, CoreContext, Cores, Request, Response, Server, Service};
use h2ring_benches::h2_client::Client;
use h2ring_benches::{allocations, report_sites, CountingAllocator};

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

/// Concurrent streams per round trip, as `h2load -m 32`; `SERVER_BENCH_STREAMS` changes
/// it. What the server allocates per round trip rather than per request (the executor's
/// timers and I/O sources, buffers per read) shows as a count per round that does not
/// grow with the streams in it.
const STREAMS_PER_ROUND: u32 = 32;
/// Requests measured (after as many for warm-up), whatever the round size.
const MEASURED_REQUESTS: u32 = 96_000;

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
        .start(make)
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
            StaticFiles::builtin().into_service()
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
