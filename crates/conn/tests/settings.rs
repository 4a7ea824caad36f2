//! SETTINGS exchange (RFC 9113 §6.5) and what the peer's settings change in what we send.

mod support;

use std::time::Duration;

use bytes::Bytes;
use h2ring_conn::{Config, Phase, SendError, StreamState};
use h2ring_frame::{ErrorCode, Frame, Setting, Settings, PREFACE};
use http::{HeaderMap, HeaderValue, StatusCode};
use support::*;

#[test]
fn every_settings_frame_is_acknowledged() {
    let mut c = Client::connected(Config::default());
    c.send(settings(vec![]));
    c.send(settings(vec![Setting::MaxConcurrentStreams(10)]));
    let frames = c.frames();
    assert_eq!(
        frames,
        vec![
            Frame::Settings(Settings::ack()),
            Frame::Settings(Settings::ack())
        ]
    );
}

#[test]
fn unexpected_settings_ack_is_a_protocol_error() {
    let mut c = Client::connected(Config::default());
    c.send(Frame::Settings(Settings::ack()));
    c.expect_goaway(0, ErrorCode::ProtocolError);
}

#[test]
fn unacknowledged_settings_time_out() {
    let mut c = Client::raw(Config::default());
    c.send_bytes(PREFACE);
    c.send(settings(vec![]));
    c.frames();
    c.advance(Duration::from_millis(9_999));
    assert_eq!(c.conn.phase(), Phase::Open);
    assert!(c.frames().is_empty());
    c.advance(Duration::from_millis(1));
    c.expect_goaway(0, ErrorCode::SettingsTimeout);
}

#[test]
fn acknowledged_settings_never_time_out() {
    let mut c = Client::connected({
        let mut config = Config::default();
        config.idle_timeout = None;
        config
    });
    assert_eq!(c.conn.poll_timeout(), None);
    c.advance(Duration::from_secs(60));
    assert_eq!(c.conn.phase(), Phase::Open);
}

#[test]
fn larger_initial_window_lets_queued_data_flow() {
    let mut c = Client::connected(Config::default());
    c.send(window_update(0, 1 << 20));
    c.request(1, "GET", "/", true);
    c.respond_body(1, 100_000);
    let frames = c.frames();
    assert_eq!(data_total(&frames, 1), 65_535);
    c.send(settings(vec![Setting::InitialWindowSize(100_000)]));
    let frames = c.frames();
    assert_eq!(frames[0], Frame::Settings(Settings::ack()));
    assert_eq!(
        data_frames(&frames[1..]),
        vec![(1, 16_384, false), (1, 16_384, false), (1, 1_697, true)]
    );
}

#[test]
fn smaller_initial_window_makes_the_window_negative() {
    let mut c = Client::connected(Config::default());
    c.send(window_update(0, 1 << 20));
    c.request(1, "GET", "/", true);
    c.respond(1, 200, false);
    c.conn
        .send_data(sid(1), Bytes::from(vec![0; 70_000]), false)
        .unwrap();
    assert_eq!(data_total(&c.frames(), 1), 65_535);
    // Window: 0 - 65 535 = -65 535 (RFC 9113 §6.9.2).
    c.send(settings(vec![Setting::InitialWindowSize(0)]));
    assert_eq!(c.frames(), vec![Frame::Settings(Settings::ack())]);
    c.send(window_update(1, 65_535));
    assert!(c.frames().is_empty(), "window is back to 0 only");
    c.send(window_update(1, 100));
    assert_eq!(data_frames(&c.frames()), vec![(1, 100, false)]);
}

#[test]
fn initial_window_overflow_is_a_flow_control_error() {
    let mut c = Client::connected(Config::default());
    c.request(1, "GET", "/", true);
    c.send(window_update(1, (1 << 31) - 1 - 65_535));
    assert!(c.frames().is_empty());
    c.send(settings(vec![Setting::InitialWindowSize(65_536)]));
    c.expect_goaway(1, ErrorCode::FlowControlError);
}

#[test]
fn header_table_size_zero_is_honoured() {
    let mut c = Client::connected_with(Config::default(), vec![Setting::HeaderTableSize(0)]);
    let mut headers = HeaderMap::new();
    headers.insert("x-custom", HeaderValue::from_static("some-value"));
    for id in [1, 3] {
        c.request(id, "GET", "/", true);
        let now = c.now;
        c.conn
            .send_response(sid(id), StatusCode::OK, &headers, true, now)
            .unwrap();
    }
    let frames = c.frames();
    assert_eq!(frames.len(), 2, "{frames:?}");
    let Frame::Headers(first) = &frames[0] else {
        panic!()
    };
    // RFC 7541 §4.2/§6.3: the first block after the change starts with a size update to 0.
    assert_eq!(first.fragment[0], 0x20);
    let Frame::Headers(second) = &frames[1] else {
        panic!()
    };
    assert_ne!(second.fragment[0] & 0xe0, 0x20, "only one size update");
    for f in &frames {
        let fields = c.fields_of(f);
        assert!(fields.contains(&("x-custom".into(), "some-value".into())));
    }
    assert_eq!(c.decoder.table_size(), 0);
    assert_eq!(c.decoder.table_entries().count(), 0);
}

#[test]
fn peer_max_frame_size_is_honoured_for_data() {
    let mut c = Client::connected_with(Config::default(), vec![Setting::MaxFrameSize(32_768)]);
    c.request(1, "GET", "/", true);
    c.respond_body(1, 40_000);
    let frames = c.frames();
    assert_eq!(
        data_frames(&frames),
        vec![(1, 32_768, false), (1, 7_232, true)]
    );
}

#[test]
fn big_response_head_is_split_into_continuations_at_peer_max_frame_size() {
    let mut c = Client::connected(Config::default());
    c.decoder.set_max_string_len(1 << 20);
    c.request(1, "GET", "/", true);
    // Octets that Huffman cannot shrink much, so the block is well over one frame.
    let value: String = (0..40_000u32)
        .map(|i| char::from(b"!#$%&'*+-.^_`|~0123456789"[(i * 7 % 25) as usize]))
        .collect();
    let mut headers = HeaderMap::new();
    headers.insert("x-big", HeaderValue::from_str(&value).unwrap());
    let now = c.now;
    c.conn
        .send_response(sid(1), StatusCode::OK, &headers, true, now)
        .unwrap();
    let frames = c.frames();
    assert!(frames.len() >= 3, "{}", frames.len());
    let mut block = Vec::new();
    for (i, f) in frames.iter().enumerate() {
        let last = i == frames.len() - 1;
        match f {
            Frame::Headers(h) if i == 0 => {
                assert_eq!(h.fragment.len(), 16_384);
                assert!(h.end_stream && !h.end_headers);
                block.extend_from_slice(&h.fragment);
            }
            Frame::Continuation(k) if i > 0 => {
                assert_eq!(k.stream_id, sid(1));
                assert!(k.fragment.len() <= 16_384);
                assert_eq!(k.end_headers, last);
                if !last {
                    assert_eq!(k.fragment.len(), 16_384);
                }
                block.extend_from_slice(&k.fragment);
            }
            other => panic!("unexpected frame {i}: {other:?}"),
        }
    }
    let fields = c.decode_block(&block);
    assert_eq!(fields[0], (":status".into(), "200".into()));
    assert_eq!(fields[1], ("x-big".into(), value));
}

#[test]
fn peer_max_header_list_size_is_honoured() {
    let mut c = Client::connected_with(Config::default(), vec![Setting::MaxHeaderListSize(100)]);
    c.request(1, "GET", "/", true);
    let mut headers = HeaderMap::new();
    headers.insert("x-big", HeaderValue::from_str(&"v".repeat(200)).unwrap());
    let now = c.now;
    assert_eq!(
        c.conn
            .send_response(sid(1), StatusCode::OK, &headers, true, now),
        Err(SendError::HeaderListTooLarge)
    );
    c.expect_resets(&[(1, ErrorCode::InternalError)]);
    assert_eq!(c.conn.stream_state(sid(1)), None);
    // Prepared fields count too.
    c.request(3, "GET", "/", true);
    let prepared = h2ring_conn::PreparedFields::new(headers.clone());
    assert_eq!(
        c.conn.send_prepared_response(
            sid(3),
            StatusCode::OK,
            &prepared,
            &HeaderMap::new(),
            true,
            now
        ),
        Err(SendError::HeaderListTooLarge)
    );
    c.expect_resets(&[(3, ErrorCode::InternalError)]);
    // A head within the limit still works on another stream, HPACK intact.
    c.request(5, "GET", "/", true);
    c.respond(5, 200, true);
    let frames = c.frames();
    assert_eq!(
        c.fields_of(&frames[0]),
        vec![(":status".into(), "200".into())]
    );
    assert_eq!(c.conn.stream_state(sid(5)), None);
    let _ = StreamState::Open;
}

#[test]
fn unknown_settings_are_ignored() {
    let mut c = Client::connected(Config::default());
    // Id 0x00ff = 7 and id 0x0004 (INITIAL_WINDOW_SIZE) = 1000.
    let payload = [0x00, 0xff, 0, 0, 0, 7, 0x00, 0x04, 0, 0, 0x03, 0xe8];
    c.send_bytes(&raw_frame(0x4, 0, 0, &payload));
    assert_eq!(c.frames(), vec![Frame::Settings(Settings::ack())]);
    // The known setting in the same frame was applied.
    c.request(1, "GET", "/", true);
    c.respond_body(1, 5_000);
    assert_eq!(data_total(&c.frames(), 1), 1_000);
}

// ---- Bounds on the work one SETTINGS frame asks for (CVE-2020-11080 class) ----------------

/// A SETTINGS frame of `n` INITIAL_WINDOW_SIZE entries alternating 0 and 1 (ending on 1
/// when `n` is even), as in the flood of issue 20.
fn alternating_window_settings(n: usize) -> Frame {
    settings(
        (0..n)
            .map(|i| Setting::InitialWindowSize((i % 2) as u32))
            .collect(),
    )
}

#[test]
fn a_settings_frame_with_more_entries_than_the_cap_is_enhance_your_calm() {
    let mut c = Client::connected(Config::default());
    // The default cap, 100, is accepted ...
    c.send(alternating_window_settings(100));
    assert_eq!(c.frames(), vec![Frame::Settings(Settings::ack())]);
    // ... one more ends the connection before any entry is applied.
    c.send(alternating_window_settings(101));
    let frames = c.expect_goaway(0, ErrorCode::EnhanceYourCalm);
    assert!(
        matches!(frames.last(), Some(Frame::GoAway(g)) if &g.debug_data[..] == b"too many SETTINGS entries")
    );
}

#[test]
fn entries_of_unknown_settings_count_against_the_cap() {
    let mut c = Client::connected({
        let mut config = Config::default();
        config.max_settings_entries = 20;
        config
    });
    // 21 entries of the unknown identifier 0x00ff: ignored (§6.5.2), but still work.
    let payload: Vec<u8> = (0..21).flat_map(|_| [0x00, 0xff, 0, 0, 0, 7]).collect();
    c.send_bytes(&raw_frame(0x4, 0, 0, &payload));
    c.expect_goaway(0, ErrorCode::EnhanceYourCalm);
}

#[test]
fn the_entry_cap_is_never_below_sixteen() {
    let mut config = Config::default();
    config.max_settings_entries = 0;
    assert_eq!(config.normalized().max_settings_entries, 16);
}

#[test]
fn every_settings_entry_is_charged_to_the_idle_frame_budget() {
    let mut c = Client::connected({
        let mut config = Config::default();
        config.idle_frame_budget = h2ring_conn::RateBudget {
            burst: 100,
            per_second: 1,
        };
        config
    });
    // The client's first SETTINGS (no entries) cost 1, then 1 + 49 and 1 + 48: 100 in all.
    c.send(alternating_window_settings(49));
    c.send(alternating_window_settings(48));
    assert_eq!(
        c.frames(),
        vec![
            Frame::Settings(Settings::ack()),
            Frame::Settings(Settings::ack())
        ]
    );
    c.send(alternating_window_settings(1));
    c.expect_goaway(0, ErrorCode::EnhanceYourCalm);
}

#[test]
fn the_last_initial_window_size_of_a_frame_wins() {
    let mut c = Client::connected(Config::default());
    c.send(window_update(0, 1 << 20));
    c.request(1, "GET", "/", true);
    c.respond_body(1, 100_000);
    assert_eq!(data_total(&c.frames(), 1), 65_535);
    // 0, then 2^31-1, then 70 000: the window ends 70 000 - 65 535 above where it was.
    c.send(settings(vec![
        Setting::InitialWindowSize(0),
        Setting::InitialWindowSize((1 << 31) - 1),
        Setting::InitialWindowSize(70_000),
    ]));
    let frames = c.frames();
    assert_eq!(frames[0], Frame::Settings(Settings::ack()));
    assert_eq!(data_total(&frames, 1), 70_000 - 65_535);
}

#[test]
fn a_window_overflow_in_the_middle_of_a_frame_is_still_a_flow_control_error() {
    // §6.5.3: values are processed in order, so the window passes 2^31-1 at the second
    // entry even though the last one would bring it back.
    let mut c = Client::connected(Config::default());
    c.request(1, "GET", "/", true);
    c.send(window_update(1, (1 << 31) - 1 - 65_535));
    assert!(c.frames().is_empty());
    c.send(settings(vec![
        Setting::InitialWindowSize(0),
        Setting::InitialWindowSize(65_536),
        Setting::InitialWindowSize(65_535),
    ]));
    c.expect_goaway(1, ErrorCode::FlowControlError);
}
