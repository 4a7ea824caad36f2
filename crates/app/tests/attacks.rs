//! Every known HTTP/2 attack against a live `h2ring` binary (one core, loopback), each
//! while a well-behaved `h2` client on another connection keeps requesting a page.
//! Each test asserts: the attacker gets the right GOAWAY / RST_STREAM code or is
//! disconnected within a bound; every one of the good client's requests succeeds; the
//! server's RSS growth (peak `VmRSS` during the attack) stays under a stated bound; the
//! server never crashes. The matrix in `docs/SECURITY.md` points at these tests.

mod attack_support;
mod support;

use std::time::{Duration, Instant};

use bytes::Bytes;
use h2ring_frame::{
    Data, ErrorCode, Frame, GoAway, Ping, Priority, PrioritySpec, RstStream, Setting, Settings,
    StreamId, WindowUpdate,
};

use attack_support::{
    assert_rss_growth_below, continuation, headers, hpack_int, request, request_block, Attacker,
    Ending, GoodClient, LiveServer, RssSampler, STEP,
};

/// Waits for the attacker's GOAWAY(`code`), asserts it came within `window` of `since`,
/// and that the server then closes the connection. Returns the GOAWAY.
fn expect_goaway_in(
    attacker: &mut Attacker,
    code: ErrorCode,
    since: Instant,
    window: std::ops::Range<Duration>,
    tag: &str,
) -> GoAway {
    let (goaway, _) = attacker.expect_goaway(code, STEP);
    let elapsed = since.elapsed();
    eprintln!("[{tag}] GOAWAY({code:?}) after {elapsed:?}");
    assert!(
        window.contains(&elapsed),
        "[{tag}] {elapsed:?}, expected {window:?}"
    );
    attacker.expect_closed(STEP);
    goaway
}

/// RSS growth allowed while a flood runs (KiB): the floods must not make the server keep
/// per-frame state.
const FLOOD_RSS_BOUND_KIB: u64 = 8 * 1024;
/// Frames sent by each flood: three times the default idle-frame burst (10 000).
const FLOOD_FRAMES: usize = 30_000;
/// Frames written per `write` during a flood, between reads of the server's answers.
const FLOOD_BATCH: usize = 500;

/// Runs one flood of `frames` (after the opening `prelude`) against a fresh server and
/// checks the verdict: GOAWAY(`ENHANCE_YOUR_CALM`) with `reason` as debug data, the good
/// client fully served, RSS bounded.
fn flood_case(tag: &str, prelude: Vec<Frame>, frames: Vec<Frame>, reason: &str) {
    let mut server = LiveServer::start(tag, &[]);
    let good = GoodClient::start(server.addr);
    let rss = RssSampler::start(&server);
    let mut attacker = Attacker::open(server.addr);
    for f in prelude {
        attacker.send(f).unwrap();
    }
    let start = Instant::now();
    let written = attacker.flood(frames, FLOOD_BATCH);
    let (goaway, _) = attacker.expect_goaway(ErrorCode::EnhanceYourCalm, STEP);
    eprintln!(
        "[{tag}] GOAWAY({:?}, {:?}) after {written} frames, {:?}",
        goaway.code,
        String::from_utf8_lossy(&goaway.debug_data),
        start.elapsed()
    );
    assert_eq!(&goaway.debug_data[..], reason.as_bytes());
    // The connection is then closed (after the linger that lets us read the GOAWAY).
    attacker.expect_closed(STEP);
    assert_rss_growth_below(tag, rss.finish(tag), FLOOD_RSS_BOUND_KIB);
    good.assert_all_served(5);
    assert!(server.is_running());
}

/// CVE-2023-44487: HEADERS + RST_STREAM pairs as fast as the socket takes them. The
/// reset budget (burst 200, then 100/s) runs out and the connection is closed.
#[test]
fn rapid_reset_gets_enhance_your_calm() {
    let frames = (0..5_000u32)
        .flat_map(|i| {
            let id = 1 + 2 * i;
            [
                headers(id, request_block("GET", "/index.html"), true, true),
                Frame::RstStream(RstStream {
                    stream_id: StreamId::new(id),
                    code: ErrorCode::Cancel,
                }),
            ]
        })
        .collect();
    flood_case("rapid-reset", vec![], frames, "too many reset streams");
}

/// CVE-2019-9512: PING flood from a client that reads the answers. Charged to the
/// idle-frame budget (burst 10 000, then 5 000/s).
#[test]
fn ping_flood_gets_enhance_your_calm() {
    let frames = (0..FLOOD_FRAMES as u64)
        .map(|i| Frame::Ping(Ping::new(i.to_be_bytes())))
        .collect();
    flood_case("ping", vec![], frames, "too many idle frames");
}

/// CVE-2019-9515: SETTINGS flood (each would need a SETTINGS ACK).
#[test]
fn settings_flood_gets_enhance_your_calm() {
    let frames = (0..FLOOD_FRAMES)
        .map(|_| Frame::Settings(Settings::new(vec![Setting::EnablePush(false)])))
        .collect();
    flood_case("settings", vec![], frames, "too many idle frames");
}

/// CVE-2019-9518: empty DATA frames (no END_STREAM) on an open request stream.
#[test]
fn empty_data_flood_gets_enhance_your_calm() {
    let open = headers(1, request_block("GET", "/index.html"), false, true);
    let frames = (0..FLOOD_FRAMES)
        .map(|_| Frame::Data(Data::new(StreamId::new(1), Bytes::new(), false)))
        .collect();
    flood_case("empty-data", vec![open], frames, "too many idle frames");
}

/// CVE-2019-9518: an empty HEADERS (no END_HEADERS) followed by empty CONTINUATIONs.
#[test]
fn empty_header_fragment_flood_gets_enhance_your_calm() {
    let open = headers(1, Bytes::new(), true, false);
    let frames = (0..FLOOD_FRAMES)
        .map(|_| continuation(1, Bytes::new(), false))
        .collect();
    flood_case("empty-headers", vec![open], frames, "too many idle frames");
}

/// WINDOW_UPDATE churn: increments that unblock nothing (nothing waits for window).
#[test]
fn window_update_churn_gets_enhance_your_calm() {
    let frames = (0..FLOOD_FRAMES)
        .map(|_| {
            Frame::WindowUpdate(WindowUpdate {
                stream_id: StreamId::ZERO,
                increment: 1,
            })
        })
        .collect();
    flood_case("window-update", vec![], frames, "too many idle frames");
}

/// CVE-2019-9513 (resource loop): PRIORITY frames re-parenting idle streams.
#[test]
fn priority_churn_gets_enhance_your_calm() {
    let frames = (0..FLOOD_FRAMES as u32)
        .map(|i| {
            Frame::Priority(Priority {
                stream_id: StreamId::new(1 + 2 * (i % 1000)),
                spec: PrioritySpec {
                    dependency: StreamId::new(1 + 2 * ((i + 1) % 1000)),
                    exclusive: i % 2 == 0,
                    weight: (i % 256) as u8,
                },
            })
        })
        .collect();
    flood_case("priority", vec![], frames, "too many idle frames");
}

/// CVE-2024-27316 class: HEADERS without END_HEADERS, then CONTINUATION frames full of
/// valid fields forever. Cut once the raw block passes `max_header_block_bytes`
/// (default 4 × 16 KiB + 16 KiB = 80 KiB), without waiting for END_HEADERS.
#[test]
fn continuation_flood_is_cut_at_max_header_block_bytes() {
    let mut fragment = Vec::new();
    while fragment.len() < 15_000 {
        literal_new_name(b"x-flood", &[b'f'; 100], &mut fragment);
    }
    let fragment = Bytes::from(fragment);
    let open = headers(1, request_block("GET", "/index.html"), true, false);
    // 200 × 15 KB = 3 MB offered; the server must stop reading it into memory at 80 KiB.
    let frames = (0..200)
        .map(|_| continuation(1, fragment.clone(), false))
        .collect();
    flood_case("continuation", vec![open], frames, "header block too large");
}

/// CVE-2019-9512/9515 against a client that never reads: the answers (PING ACKs) pile up
/// in the connection once the socket is full, and `max_queued_control_frames` (here 100;
/// default 10 000) cuts it off. Fewer PINGs than the idle-frame burst, so only the
/// queue bound can fire.
#[test]
fn control_frames_unread_by_the_client_are_bounded() {
    let mut server = LiveServer::start("unread-control", &["--max-queued-control-frames", "100"]);
    let good = GoodClient::start(server.addr);
    let rss = RssSampler::start(&server);
    let mut attacker = Attacker::open(server.addr);
    // Take the server's opening frames, then stop reading for good.
    assert!(attacker
        .wait_for(STEP, |f| matches!(f, Frame::Settings(s) if s.ack))
        .is_some());
    attacker.small_receive_buffer();
    let mut sent = 0u64;
    'flood: for _ in 0..180 {
        let mut batch = bytes::BytesMut::new();
        for _ in 0..50 {
            Frame::Ping(Ping::new(sent.to_be_bytes())).encode(&mut batch);
            sent += 1;
        }
        if attacker.write(&batch).is_err() {
            break 'flood;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    // Only now does the attacker read: the GOAWAY comes after the ACKs that fitted.
    let (goaway, _) = attacker.expect_goaway(ErrorCode::EnhanceYourCalm, STEP);
    assert_eq!(&goaway.debug_data[..], b"control frame flood");
    let acks = attacker
        .seen
        .iter()
        .filter(|f| matches!(f, Frame::Ping(p) if p.ack))
        .count();
    eprintln!("[unread-control] {sent} PINGs sent, {acks} ACKs delivered before GOAWAY");
    assert!((acks as u64) < sent, "every PING was answered: {acks}");
    attacker.expect_closed(STEP);
    assert_rss_growth_below(
        "unread-control",
        rss.finish("unread-control"),
        FLOOD_RSS_BOUND_KIB,
    );
    good.assert_all_served(5);
    assert!(server.is_running());
}

/// HPACK bomb: one 4 000-octet field inserted into the dynamic table, then referenced
/// 2 000 times by a one-octet index — a 6 KB block that decodes to an 8 MB header list.
/// Then a plain 60 KB header list over HEADERS + CONTINUATION, and one 20 KB literal.
/// Each gets a 431 and the connection keeps serving.
#[test]
fn hpack_bomb_and_huge_header_lists_get_431() {
    let mut server = LiveServer::start("hpack-bomb", &[]);
    let good = GoodClient::start(server.addr);
    let rss = RssSampler::start(&server);
    let mut attacker = Attacker::open(server.addr);

    let mut bomb = request_block("GET", "/index.html").to_vec();
    literal_indexing_new_name(b"x-bomb", &[b'b'; 4000], &mut bomb);
    // RFC 7541 §2.3.3: index 62 is the newest dynamic-table entry.
    bomb.extend(std::iter::repeat_n(0xbe, 2000));
    let mut out = bytes::BytesMut::new();
    encode_block(1, &bomb, &mut out);

    let mut huge = request_block("GET", "/index.html").to_vec();
    for _ in 0..60 {
        literal_new_name(b"x-huge", &[b'h'; 1000], &mut huge);
    }
    encode_block(3, &huge, &mut out);

    let mut long = request_block("GET", "/index.html").to_vec();
    literal_new_name(b"x-long", &[b'l'; 20_000], &mut long);
    encode_block(5, &long, &mut out);

    encode_block(7, &request_block("GET", "/index.html"), &mut out);
    attacker.write(&out).unwrap();
    let answered = |a: &Attacker| (1..=7).step_by(2).all(|id| a.status(id).is_some());
    let end = Instant::now() + STEP;
    while !answered(&attacker) && Instant::now() < end && !attacker.eof {
        attacker.pump(Duration::from_millis(50));
    }
    assert_eq!(attacker.status(1), Some(431), "bomb");
    assert_eq!(attacker.status(3), Some(431), "60 KB header list");
    assert_eq!(attacker.status(5), Some(431), "20 KB literal");
    assert_eq!(attacker.status(7), Some(200), "the connection still serves");
    assert!(attacker.goaway().is_none());
    assert_rss_growth_below("hpack-bomb", rss.finish("hpack-bomb"), FLOOD_RSS_BOUND_KIB);
    good.assert_all_served(1);
    assert!(server.is_running());
}

/// An HPACK block that cannot be decoded (an index past both tables) leaves the HPACK
/// state unknown: GOAWAY(COMPRESSION_ERROR) (RFC 9113 §4.3).
#[test]
fn undecodable_header_block_gets_compression_error() {
    let server = LiveServer::start("hpack-invalid", &[]);
    let good = GoodClient::start(server.addr);
    let mut attacker = Attacker::open(server.addr);
    // Indexed field 63 with an empty dynamic table.
    attacker
        .send(headers(1, Bytes::from_static(&[0x82, 0xbf]), true, true))
        .unwrap();
    let (goaway, _) = attacker.expect_goaway(ErrorCode::CompressionError, STEP);
    assert_eq!(goaway.last_stream_id, StreamId::new(1));
    assert_eq!(&goaway.debug_data[..], b"HPACK decoding failed");
    attacker.expect_closed(STEP);
    good.assert_all_served(1);
}

/// HEADERS (+ CONTINUATION as needed) for a whole block on `id`, END_STREAM set.
fn encode_block(id: u32, block: &[u8], out: &mut bytes::BytesMut) {
    h2ring_frame::encode_header_block(StreamId::new(id), block, true, None, 16_384, out);
}

/// A literal with a new name, without indexing (RFC 7541 §6.2.2), raw strings.
fn literal_new_name(name: &[u8], value: &[u8], dst: &mut Vec<u8>) {
    dst.push(0x00);
    hpack_int(name.len(), 7, 0, dst);
    dst.extend_from_slice(name);
    hpack_int(value.len(), 7, 0, dst);
    dst.extend_from_slice(value);
}

/// A literal with a new name and incremental indexing (RFC 7541 §6.2.1), raw strings.
fn literal_indexing_new_name(name: &[u8], value: &[u8], dst: &mut Vec<u8>) {
    dst.push(0x40);
    hpack_int(name.len(), 7, 0, dst);
    dst.extend_from_slice(name);
    hpack_int(value.len(), 7, 0, dst);
    dst.extend_from_slice(value);
}

/// CVE-2019-9517, zero window: the client requests a 16 MiB file on 100 streams and
/// never grants any window. Each stream holds at most its send buffer; after
/// `--stream-timeout` (1 s here, default 60 s) every stream is reset with CANCEL. A
/// 101st stream is refused (MAX_CONCURRENT_STREAMS).
#[test]
fn zero_window_streams_are_cancelled_after_the_stream_timeout() {
    let mut server = LiveServer::start(
        "zero-window",
        &["--stream-timeout", "1", "--max-concurrent-streams", "100"],
    );
    server.add_big_file();
    let good = GoodClient::start(server.addr);
    let rss = RssSampler::start(&server);
    let mut attacker = Attacker::open_with(server.addr, vec![Setting::InitialWindowSize(0)]);
    // Let the server apply our SETTINGS before the requests.
    attacker.pump(Duration::from_millis(100));
    let start = Instant::now();
    let mut out = bytes::BytesMut::new();
    for i in 0..101 {
        request(1 + 2 * i, "GET", "/big.bin", true).encode(&mut out);
    }
    attacker.write(&out).unwrap();
    let resets = |a: &Attacker, code: ErrorCode| {
        a.seen
            .iter()
            .filter(|f| matches!(f, Frame::RstStream(r) if r.code == code))
            .count()
    };
    let end = start + STEP;
    while resets(&attacker, ErrorCode::Cancel) < 100 && Instant::now() < end && !attacker.eof {
        attacker.pump(Duration::from_millis(50));
    }
    let elapsed = start.elapsed();
    eprintln!("[zero-window] 100 streams cancelled after {elapsed:?}");
    assert_eq!(resets(&attacker, ErrorCode::Cancel), 100);
    assert_eq!(resets(&attacker, ErrorCode::RefusedStream), 1);
    // The 1 s timeout plus at most two 1 s scans.
    assert!(elapsed < Duration::from_secs(4), "{elapsed:?}");
    // No DATA was sent into a zero window.
    assert!(!attacker.seen.iter().any(|f| matches!(f, Frame::Data(_))));
    assert!(attacker.goaway().is_none());
    assert_rss_growth_below("zero-window", rss.finish("zero-window"), 64 * 1024);
    good.assert_all_served(5);
    assert!(server.is_running());
}

/// CVE-2019-9517, slow read: the client opens every window to the maximum, requests the
/// 16 MiB file on 10 streams, and stops reading its socket. Once the socket has refused
/// our bytes for `--write-timeout` (1 s here, default 30 s) the server closes the
/// connection: its end leaves ESTABLISHED (seen in `/proc/net/tcp`) while the client
/// still is not reading, and what ever reaches the client is what sat in the kernel's
/// socket buffers.
#[test]
fn slow_reader_is_disconnected_after_the_write_timeout() {
    let mut server = LiveServer::start("slow-read", &["--write-timeout", "1"]);
    server.add_big_file();
    let good = GoodClient::start(server.addr);
    let rss = RssSampler::start(&server);
    let max = h2ring_frame::MAX_WINDOW_SIZE;
    let mut attacker = Attacker::open_with(server.addr, vec![Setting::InitialWindowSize(max)]);
    attacker
        .send(Frame::WindowUpdate(WindowUpdate {
            stream_id: StreamId::ZERO,
            increment: max - 65_535,
        }))
        .unwrap();
    let mut out = bytes::BytesMut::new();
    for i in 0..10 {
        request(1 + 2 * i, "GET", "/big.bin", true).encode(&mut out);
    }
    let start = Instant::now();
    attacker.write(&out).unwrap();
    let ports = (server.addr.port(), attacker.local_port());
    let closed = attack_support::wait_until(Duration::from_secs(6), || {
        attack_support::tcp_state(ports.0, ports.1) != Some(attack_support::TCP_ESTABLISHED)
    });
    let elapsed = start.elapsed();
    assert!(
        closed,
        "the server kept the connection of a client that does not read"
    );
    eprintln!("[slow-read] server closed its end {elapsed:?} after the requests");
    // The 1 s timeout, plus filling the socket buffers and at most one 1 s timer turn.
    assert!(
        elapsed >= Duration::from_secs(1) && elapsed < Duration::from_secs(4),
        "{elapsed:?}"
    );
    // Reading resumes: the kernel buffers drain, then EOF.
    attacker.expect_closed(STEP);
    eprintln!(
        "[slow-read] {} octets of 160 MiB delivered in all",
        attacker.received
    );
    assert!(attacker.received < 32 << 20, "{}", attacker.received);
    assert_rss_growth_below("slow-read", rss.finish("slow-read"), 32 * 1024);
    good.assert_all_served(5);
    assert!(server.is_running());
}

/// Writes `bytes` one octet every `gap` until done or the server ends the connection;
/// returns how many octets went out.
fn trickle(attacker: &mut Attacker, bytes: &[u8], gap: Duration) -> usize {
    for (i, b) in bytes.iter().enumerate() {
        if attacker.write(&[*b]).is_err() {
            return i;
        }
        attacker.pump(gap);
        if attacker.eof || attacker.goaway().is_some() {
            return i + 1;
        }
    }
    bytes.len()
}

/// Slowloris on the preface: one octet every 500 ms. Cleartext connections must show
/// the preface within `--preface-timeout` (default 10 s; 3 s here, which the protocol
/// sniffer applies too); then the connection is closed without a word (it never proved
/// to be HTTP/2).
#[test]
fn slowloris_preface_is_closed_at_the_first_bytes_timeout() {
    let server = LiveServer::start("slow-preface", &["--preface-timeout", "3"]);
    let good = GoodClient::start(server.addr);
    let mut attacker = Attacker::connect(server.addr);
    let start = Instant::now();
    let sent = trickle(
        &mut attacker,
        h2ring_frame::PREFACE,
        Duration::from_millis(500),
    );
    let ending = attacker.ending(STEP);
    let elapsed = start.elapsed();
    eprintln!("[slow-preface] {sent} of 24 octets, {ending:?} after {elapsed:?}");
    assert_eq!(ending, Some(Ending::Closed));
    let bound = Duration::from_secs(3);
    assert!(
        elapsed >= bound && elapsed < bound + Duration::from_secs(2),
        "{elapsed:?}"
    );
    good.assert_all_served(5);
}

/// Slowloris on the client's SETTINGS: the preface at once, then its SETTINGS frame one
/// octet every 300 ms. `first_settings_timeout` (2 s) answers GOAWAY(SETTINGS_TIMEOUT).
#[test]
fn slowloris_settings_gets_settings_timeout() {
    let server = LiveServer::start("slow-settings", &[]);
    let good = GoodClient::start(server.addr);
    let mut attacker = Attacker::connect(server.addr);
    attacker.write(h2ring_frame::PREFACE).unwrap();
    let start = Instant::now();
    let mut settings = bytes::BytesMut::new();
    Frame::Settings(Settings::new(vec![Setting::EnablePush(false)])).encode(&mut settings);
    trickle(&mut attacker, &settings, Duration::from_millis(300));
    expect_goaway_in(
        &mut attacker,
        ErrorCode::SettingsTimeout,
        start,
        Duration::from_secs(2)..Duration::from_secs(4),
        "slow-settings",
    );
    good.assert_all_served(5);
}

/// Slowloris on a request head: HEADERS without END_HEADERS, then one-octet
/// CONTINUATIONs every 200 ms. Nothing may interleave a header block, so it ends the
/// connection at `--header-block-timeout` (1 s here, default 10 s): GOAWAY(ENHANCE_YOUR_CALM).
#[test]
fn slowloris_request_head_gets_the_header_block_timeout() {
    let server = LiveServer::start("slow-head", &["--header-block-timeout", "1"]);
    let good = GoodClient::start(server.addr);
    let mut attacker = Attacker::open(server.addr);
    let block = request_block("GET", "/index.html");
    let start = Instant::now();
    attacker
        .send(headers(1, block.slice(..1), true, false))
        .unwrap();
    for i in 1..block.len() {
        let end = i + 1 == block.len();
        if attacker
            .send(continuation(1, block.slice(i..i + 1), end))
            .is_err()
        {
            break;
        }
        attacker.pump(Duration::from_millis(200));
        if attacker.goaway().is_some() {
            break;
        }
    }
    let goaway = expect_goaway_in(
        &mut attacker,
        ErrorCode::EnhanceYourCalm,
        start,
        Duration::from_secs(1)..Duration::from_secs(3),
        "slow-head",
    );
    assert_eq!(
        &goaway.debug_data[..],
        b"header block not completed in time"
    );
    good.assert_all_served(5);
}

/// Slowloris below the frame layer: the octets of one HEADERS frame trickled, so no
/// frame (and no header block) ever starts. No stream is open, so the connection idle
/// timeout (`--idle-timeout`, 2 s here, default 60 s) ends it with GOAWAY(NO_ERROR).
#[test]
fn slowloris_partial_frame_is_closed_at_the_idle_timeout() {
    let server = LiveServer::start("slow-frame", &["--idle-timeout", "2"]);
    let good = GoodClient::start(server.addr);
    let mut attacker = Attacker::open(server.addr);
    let start = Instant::now();
    let mut frame = bytes::BytesMut::new();
    request(1, "GET", "/index.html", true).encode(&mut frame);
    let sent = trickle(
        &mut attacker,
        &frame[..frame.len() - 1],
        Duration::from_millis(200),
    );
    eprintln!("[slow-frame] {sent} octets sent");
    let goaway = expect_goaway_in(
        &mut attacker,
        ErrorCode::NoError,
        start,
        Duration::from_secs(2)..Duration::from_secs(4),
        "slow-frame",
    );
    // RFC 9113 §6.8: a graceful GOAWAY first names the largest id, then the last processed.
    assert_eq!(goaway.last_stream_id, StreamId::MAX);
    good.assert_all_served(5);
}

/// Slowloris on a request body the application does not read: the static-file service
/// answers at once and drops the body; the stream stays half-closed (local) for the
/// late-frame grace (1 s, applied by the once-a-second stream scan) and is then ended with
/// RST_STREAM(NO_ERROR) (RFC 9113 §8.1) — the trickle is not waited for.
#[test]
fn unread_request_body_is_ended_after_the_response() {
    let server = LiveServer::start("slow-body", &[]);
    let good = GoodClient::start(server.addr);
    let mut attacker = Attacker::open(server.addr);
    let start = Instant::now();
    attacker
        .send(attacker_request(1, "POST", "/index.html"))
        .unwrap();
    attacker
        .send(Frame::Data(Data::new(
            StreamId::new(1),
            Bytes::from_static(b"x"),
            false,
        )))
        .unwrap();
    let rst = attacker.wait_for(STEP, |f| matches!(f, Frame::RstStream(_)));
    eprintln!("[slow-body] {rst:?} after {:?}", start.elapsed());
    assert_eq!(
        rst,
        Some(Frame::RstStream(RstStream {
            stream_id: StreamId::new(1),
            code: ErrorCode::NoError,
        }))
    );
    assert_eq!(attacker.status(1), Some(405));
    assert!(start.elapsed() < Duration::from_secs(3));
    good.assert_all_served(1);
}

/// HEADERS without END_STREAM for `path` (a request with a body to follow).
fn attacker_request(id: u32, method: &str, path: &str) -> Frame {
    headers(id, request_block(method, path), false, true)
}

/// Connection exhaustion: `--max-connections-per-core 3`. The good client holds one
/// slot, the attacker takes the other two and sits on them. A further connection is
/// not served (accepting pauses; the kernel backlog holds it) while the good client
/// keeps being served; once the attacker leaves, the waiting connection is served.
#[test]
fn connection_cap_makes_extra_connections_wait_until_the_attacker_leaves() {
    let mut server = LiveServer::start("conn-cap", &["--max-connections-per-core", "3"]);
    let good = GoodClient::start(server.addr);
    let rss = RssSampler::start(&server);
    let mut hogs: Vec<Attacker> = (0..2).map(|_| Attacker::open(server.addr)).collect();
    for hog in &mut hogs {
        assert!(hog
            .wait_for(STEP, |f| matches!(f, Frame::Settings(_)))
            .is_some());
    }
    let mut waiting = Attacker::open(server.addr);
    waiting
        .send(request(1, "GET", "/index.html", true))
        .unwrap();
    let early = waiting.wait_for(Duration::from_secs(1), |f| matches!(f, Frame::Settings(_)));
    assert_eq!(early, None, "a connection beyond the cap was served");
    let start = Instant::now();
    drop(hogs);
    let served = waiting.wait_for(STEP, |f| matches!(f, Frame::Data(d) if d.end_stream));
    eprintln!(
        "[conn-cap] waiting connection served {:?} after the attacker left",
        start.elapsed()
    );
    assert!(served.is_some());
    assert_eq!(waiting.status(1), Some(200));
    assert_rss_growth_below("conn-cap", rss.finish("conn-cap"), FLOOD_RSS_BOUND_KIB);
    good.assert_all_served(5);
    assert!(server.is_running());
}

/// Stream-id exhaustion: a request on stream 2^31-1, the last one a client can open, is
/// served, and the server says GOAWAY(NO_ERROR) with that last stream id (RFC 9113
/// §5.1.1: stream ids cannot be reused), then closes once it is done.
#[test]
fn last_stream_id_gets_a_graceful_goaway() {
    let server = LiveServer::start("last-stream", &[]);
    let good = GoodClient::start(server.addr);
    let mut attacker = Attacker::open(server.addr);
    let last = StreamId::MAX.value();
    attacker
        .send(request(last, "GET", "/index.html", true))
        .unwrap();
    let (goaway, _) = attacker.expect_goaway(ErrorCode::NoError, STEP);
    assert_eq!(goaway.last_stream_id, StreamId::MAX);
    attacker.expect_closed(STEP);
    assert_eq!(attacker.status(last), Some(200));
    assert!(attacker
        .seen
        .iter()
        .any(|f| matches!(f, Frame::Data(d) if d.stream_id == StreamId::MAX && d.end_stream)));
    good.assert_all_served(1);
}

/// Slowloris on a request body the handler does read (in-process server: the binary's
/// file service never reads bodies): one octet, then silence. After
/// `stream_recv_timeout` (1 s here, default 60 s) the stream is reset with CANCEL and
/// the handler sees its body fail; the connection and the good client carry on.
#[test]
fn slowloris_body_gets_cancel_after_the_stream_receive_timeout() {
    let conn = {
        let mut config = h2ring::Http2Config::default();
        config.stream_recv_timeout = Some(Duration::from_secs(1));
        config
    };
    let running = h2ring::Server::builder()
        .listen("127.0.0.1:0".parse().unwrap())
        .cores(h2ring::Cores::Count(1))
        .http2(conn)
        .build()
        .unwrap()
        .start(|_core: &h2ring::CoreContext| body_reader())
        .unwrap();
    let addr = running.local_addrs()[0];
    let good = GoodClient::start(addr);
    let mut attacker = Attacker::open(addr);
    let start = Instant::now();
    attacker
        .send(attacker_request(1, "POST", "/upload"))
        .unwrap();
    attacker
        .send(Frame::Data(Data::new(
            StreamId::new(1),
            Bytes::from_static(b"x"),
            false,
        )))
        .unwrap();
    let rst = attacker.wait_for(STEP, |f| matches!(f, Frame::RstStream(_)));
    let elapsed = start.elapsed();
    eprintln!("[slow-body-read] {rst:?} after {elapsed:?}");
    assert_eq!(
        rst,
        Some(Frame::RstStream(RstStream {
            stream_id: StreamId::new(1),
            code: ErrorCode::Cancel,
        }))
    );
    // The 1 s timeout plus at most one 1 s scan.
    assert!(
        elapsed >= Duration::from_secs(1) && elapsed < Duration::from_secs(3),
        "{elapsed:?}"
    );
    assert!(attacker.goaway().is_none());
    good.assert_all_served(5);
    running.handle().shutdown();
    let _ = running.join();
}

/// `/index.html` is the page; anything else reads the whole request body, then answers.
fn body_reader() -> impl h2ring::Service {
    h2ring::service_fn(|req: h2ring::Request, _cx: h2ring::Context| async move {
        if req.uri().path() == "/index.html" {
            return http::Response::new(h2ring::Body::from(Bytes::from_static(
                attack_support::PAGE,
            )));
        }
        let mut body = req.into_body();
        let mut len = 0;
        while let Some(Ok(chunk)) = body.data().await {
            len += chunk.len();
        }
        http::Response::new(h2ring::Body::from(Bytes::from(len.to_string())))
    })
}

/// Regression (found by this file): a client that sends the preface, SETTINGS and a
/// whole request in its first packet and then waits must be answered. The octets the
/// cleartext sniffer read ahead used to wait for a next read that never came, until the
/// preface timeout closed the connection in silence.
#[test]
fn request_in_the_first_packet_is_answered() {
    let server = LiveServer::start("first-packet", &[]);
    let mut attacker = Attacker::connect(server.addr);
    let mut out = bytes::BytesMut::from(&h2ring_frame::PREFACE[..]);
    Frame::Settings(Settings::new(vec![])).encode(&mut out);
    request(1, "GET", "/index.html", true).encode(&mut out);
    attacker.write(&out).unwrap();
    let done = attacker.wait_for(
        Duration::from_secs(2),
        |f| matches!(f, Frame::Data(d) if d.stream_id == StreamId::new(1) && d.end_stream),
    );
    assert!(done.is_some(), "no answer: {:?}", attacker.seen);
    assert_eq!(attacker.status(1), Some(200));
}
