//! The server allocates nothing per request in steady state on the hello-world path (the
//! built-in page), whether requests come one at a time or 32 to a round trip — counted
//! process-wide with a counting allocator, so anything the executor, the driver or the
//! service allocates per request or per wake-up shows. One test in its own binary: a
//! second test running in parallel would be counted too.
//!
//! Bounds, not exact zeros: the executor's time slice (5 ms) allocates a timer source
//! when it is re-armed after firing, which a slow (debug) build reaches more often per
//! request. Before glommio change 9 a one-at-a-time request cost 4 allocations (the timer
//! map's `split_off` three times, a new readiness-poll source once).

use h2ring::static_files::StaticFiles;
use h2ring::{CoreContext, Cores, Server};
use h2ring_benches::h2_client::Client;
use h2ring_benches::{allocations, CountingAllocator};

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

const REQUESTS: u32 = 3_200;

/// Allocations per request over `REQUESTS` requests sent `streams` at a time, after as
/// many for warm-up.
fn allocations_per_request(client: &mut Client, streams: u32) -> f64 {
    let rounds = REQUESTS / streams;
    for _ in 0..rounds {
        assert_eq!(client.round(streams), streams);
    }
    let before = allocations();
    let mut answered = 0u64;
    for _ in 0..rounds {
        answered += u64::from(client.round(streams));
    }
    (allocations() - before) as f64 / answered as f64
}

#[test]
fn builtin_page_allocates_nothing_per_request() {
    let running = Server::builder()
        .listen("127.0.0.1:0".parse().expect("address"))
        .cores(Cores::Count(1))
        .build()
        .expect("config")
        .start(|_core: &CoreContext| StaticFiles::builtin().into_service())
        .expect("server starts");
    let addr = running.local_addrs()[0];

    let mut one_at_a_time = Client::connect(addr, "/");
    let single = allocations_per_request(&mut one_at_a_time, 1);
    drop(one_at_a_time);
    let mut batched = Client::connect(addr, "/");
    let per_round_of_32 = allocations_per_request(&mut batched, 32);
    drop(batched);
    running.handle().shutdown();
    let _ = running.join();

    assert!(
        single < 0.5,
        "one request at a time: {single:.3} allocations per request"
    );
    assert!(
        per_round_of_32 < 0.1,
        "32 streams per round trip: {per_round_of_32:.3} allocations per request"
    );
}
