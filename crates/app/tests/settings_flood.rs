//! The SETTINGS-entry flood of issue 20 (the CVE-2020-11080 class) against a live `h2ring`
//! binary: an attacker holds 99 streams blocked on flow control, then sends SETTINGS frames
//! of 2 700 INITIAL_WINDOW_SIZE entries alternating 0 and 1, while a well-behaved `h2`
//! client on another connection of the same core measures its request latency. Every such
//! entry used to walk every stream; now a frame may carry at most `max_settings_entries`
//! (100) and the first such frame ends the connection. The figures are in
//! `docs/SECURITY.md`.

mod attack_support;
mod support;

use std::time::{Duration, Instant};

use bytes::BytesMut;
use h2ring_frame::{ErrorCode, Frame, Setting, Settings};

use attack_support::{quantile, request, Attacker, GoodClient, LiveServer, STEP};

/// Streams the attacker keeps blocked (the binary's MAX_CONCURRENT_STREAMS is 100).
const BLOCKED_STREAMS: u32 = 99;
/// Entries per SETTINGS frame: 16 200 octets, just under the 16 384 default frame size.
const ENTRIES: usize = 2_700;

/// One SETTINGS frame of [`ENTRIES`] INITIAL_WINDOW_SIZE entries alternating 0 and 1.
fn huge_settings() -> BytesMut {
    let entries = (0..ENTRIES)
        .map(|i| Setting::InitialWindowSize((i % 2) as u32))
        .collect();
    let mut out = BytesMut::new();
    Frame::Settings(Settings::new(entries)).encode(&mut out);
    out
}

/// An attacker with [`BLOCKED_STREAMS`] responses waiting for stream window (its
/// INITIAL_WINDOW_SIZE is 0), each response head received.
fn attacker_with_blocked_streams(server: &LiveServer) -> Attacker {
    // The server applies our SETTINGS before it reads the requests behind them.
    let mut attacker = Attacker::open_with(server.addr, vec![Setting::InitialWindowSize(0)]);
    let mut out = BytesMut::new();
    for i in 0..BLOCKED_STREAMS {
        request(1 + 2 * i, "GET", "/index.html", true).encode(&mut out);
    }
    attacker.write(&out).unwrap();
    let end = Instant::now() + STEP;
    while attacker.statuses.len() < BLOCKED_STREAMS as usize && Instant::now() < end {
        attacker.pump(Duration::from_millis(20));
    }
    assert_eq!(attacker.statuses.len(), BLOCKED_STREAMS as usize);
    assert!(
        !attacker.seen.iter().any(|f| matches!(f, Frame::Data(_))),
        "no DATA may pass a zero window"
    );
    attacker
}

/// Latency figures of one window, for the log.
fn describe(latencies: &[Duration]) -> String {
    format!(
        "{} requests, p50 {:?}, p99 {:?}, max {:?}",
        latencies.len(),
        quantile(latencies, 0.5),
        quantile(latencies, 0.99),
        latencies.last().copied().unwrap_or_default()
    )
}

#[test]
fn settings_entry_flood_is_cut_at_its_first_frame() {
    let mut server = LiveServer::start("settings-entries", &[]);
    let good = GoodClient::start_every(server.addr, Duration::from_millis(2));
    let mut attacker = attacker_with_blocked_streams(&server);
    let frame = huge_settings();
    let start = Instant::now();
    let mut sent = 0;
    let is_goaway = |f: &Frame| matches!(f, Frame::GoAway(_));
    while attacker.goaway().is_none() && !attacker.eof && sent < 500 {
        if attacker.write(&frame).is_err() {
            break;
        }
        sent += 1;
        // Returns as soon as the GOAWAY is read (`pump` would wait out its time).
        attacker.wait_for(Duration::from_millis(1), is_goaway);
    }
    attacker.wait_for(STEP, is_goaway);
    let cut = start.elapsed();
    let (goaway, _) = attacker.expect_goaway(ErrorCode::EnhanceYourCalm, STEP);
    assert_eq!(&goaway.debug_data[..], b"too many SETTINGS entries");
    attacker.expect_closed(STEP);
    // Measured at about 1 ms (see docs/SECURITY.md); loose for a shared CI machine.
    eprintln!("[settings-entries] GOAWAY after {sent} frame(s), {cut:?}");
    assert!(cut < Duration::from_millis(500), "{cut:?}");
    // The good client's latency from the first hostile frame until well after the cut.
    std::thread::sleep(Duration::from_millis(300));
    let latencies = good.latencies(start, Instant::now());
    eprintln!("[settings-entries] good client: {}", describe(&latencies));
    assert!(latencies.len() >= 10, "{latencies:?}");
    assert!(quantile(&latencies, 0.99) < Duration::from_millis(250));
    good.assert_all_served(10);
    assert!(server.is_running());
}

/// What the flood costs the server: SETTINGS frames processed per second (counted by
/// their ACKs) and the good client's latency before and during two seconds of flood. An
/// attacker that is cut off reconnects, sets up its blocked streams again and goes on, as
/// a real one would. A measurement, not a check: run it by hand against a release build,
/// with the server pinned away from the clients, e.g.
/// `H2RING_ATTACK_SERVER_CPU=0 taskset -c 1 cargo test --release -p h2ring --test
/// settings_flood -- --ignored --nocapture`, and `H2RING_ATTACK_BIN=<older h2ring>` to
/// measure another build the same way.
#[test]
#[ignore = "a measurement, run by hand (see the doc comment)"]
fn settings_entry_flood_cost() {
    const FLOOD: Duration = Duration::from_secs(2);
    let server = LiveServer::start("settings-entries-cost", &[]);
    let good = GoodClient::start_every(server.addr, Duration::from_millis(1));
    let base_from = Instant::now();
    std::thread::sleep(FLOOD);
    let baseline = good.latencies(base_from, Instant::now());
    let frame = huge_settings();
    let mut batch = BytesMut::new();
    for _ in 0..8 {
        batch.extend_from_slice(&frame);
    }
    let (mut sent, mut acked, mut connections) = (0, 0, 0);
    let start = Instant::now();
    while start.elapsed() < FLOOD {
        let mut attacker = attacker_with_blocked_streams(&server);
        connections += 1;
        let acks_before = count_acks(&attacker);
        while start.elapsed() < FLOOD && attacker.goaway().is_none() && !attacker.eof {
            if attacker.write(&batch).is_err() {
                break;
            }
            sent += 8;
            attacker.pump(Duration::from_millis(1));
        }
        acked += count_acks(&attacker) - acks_before;
    }
    let flood = start.elapsed();
    let during = good.latencies(start, start + flood);
    eprintln!("[settings-entries-cost] baseline: {}", describe(&baseline));
    eprintln!("[settings-entries-cost] flood:    {}", describe(&during));
    eprintln!(
        "[settings-entries-cost] {connections} attacker connection(s), {sent} frames written \
         in {flood:?}, {acked} acknowledged ({:.0}/s)",
        acked as f64 / flood.as_secs_f64(),
    );
}

fn count_acks(attacker: &Attacker) -> usize {
    attacker
        .seen
        .iter()
        .filter(|f| matches!(f, Frame::Settings(s) if s.ack))
        .count()
}
