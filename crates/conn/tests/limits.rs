//! Resource limits: control-frame floods, CONTINUATION floods, oversized header lists (431),
//! and the counters in `stats()`.

mod support;

use std::time::Duration;

use h2ring_conn::{Config, Event, Phase};
use h2ring_frame::{ErrorCode, Frame};
use support::*;

#[test]
fn unread_control_frames_past_the_limit_are_enhance_your_calm() {
    let mut c = Client::connected({
        let mut config = Config::default();
        config.max_queued_control_frames = 16;
        config
    });
    for _ in 0..16 {
        c.send(ping([1; 8]));
    }
    assert_eq!(c.conn.phase(), Phase::Open);
    c.send(ping([1; 8]));
    // The unread PING ACKs are dropped; only the GOAWAY is left to write.
    let frames = c.expect_goaway(0, ErrorCode::EnhanceYourCalm);
    assert_eq!(frames.len(), 1, "{frames:?}");
}

#[test]
fn a_flood_before_our_first_write_keeps_our_settings_first() {
    // RFC 9113 §3.4: the server's SETTINGS is its first frame, even when a control-frame
    // flood arrives with the preface and trips the queue bound before anything was written.
    let mut c = Client::raw({
        let mut config = Config::default();
        config.max_queued_control_frames = 16;
        config
    });
    let mut input = bytes::BytesMut::from(&h2ring_frame::PREFACE[..]);
    settings(vec![]).encode(&mut input);
    for _ in 0..20 {
        ping([2; 8]).encode(&mut input);
    }
    c.send_bytes(&input);
    let frames = c.frames();
    assert!(
        matches!(frames.first(), Some(Frame::Settings(s)) if !s.ack),
        "{frames:?}"
    );
    assert!(matches!(
        frames.last(),
        Some(Frame::GoAway(g)) if g.code == ErrorCode::EnhanceYourCalm
    ));
    assert!(
        !frames.iter().any(|f| matches!(f, Frame::Ping(_))),
        "{frames:?}"
    );
}

#[test]
fn control_frames_that_are_read_do_not_count() {
    let mut c = Client::connected({
        let mut config = Config::default();
        config.max_queued_control_frames = 16;
        config
    });
    for _ in 0..10 {
        for _ in 0..16 {
            c.send(ping([2; 8]));
        }
        assert_eq!(c.frames().len(), 16);
    }
    assert_eq!(c.conn.phase(), Phase::Open);
}

#[test]
fn settings_flood_is_enhance_your_calm_too() {
    let mut c = Client::connected({
        let mut config = Config::default();
        config.max_queued_control_frames = 16;
        config
    });
    let mut all = Vec::new();
    for _ in 0..17 {
        all.push(settings(vec![]));
    }
    c.send_all(all);
    c.expect_goaway(0, ErrorCode::EnhanceYourCalm);
}

#[test]
fn continuation_flood_is_cut_before_end_headers() {
    let mut c = Client::connected({
        let mut config = Config::default();
        config.max_header_block_bytes = 1_024;
        config
    });
    let value: String = (0..4_000u32)
        .map(|i| char::from(b"!#$%&'*+-.^_`|~0123456789"[(i * 7 % 25) as usize]))
        .collect();
    let block = c.block(&[
        (":method", "GET"),
        (":scheme", "https"),
        (":authority", "example.com"),
        (":path", "/"),
        ("x-filler", &value),
    ]);
    assert!(block.len() > 1_300);
    c.send(headers(1, block.slice(..400), true, false));
    c.send(continuation(1, block.slice(400..800), false));
    assert_eq!(c.conn.phase(), Phase::Open);
    c.send(continuation(1, block.slice(800..1_200), false));
    c.expect_goaway(1, ErrorCode::EnhanceYourCalm);
    assert!(c
        .events()
        .iter()
        .all(|e| !matches!(e, Event::Request { .. })));
}

#[test]
fn oversized_header_list_is_answered_431_by_the_connection() {
    let mut c = Client::connected({
        let mut config = Config::default();
        config.max_header_list_size = 300;
        config
    });
    // Each field is under the limit; the list is not (RFC 9113 §6.5.2 accounting).
    let v = "v".repeat(60);
    let fields = [
        ("x-a", v.as_str()),
        ("x-b", v.as_str()),
        ("x-c", v.as_str()),
    ];
    c.request_with(1, "GET", "/", &fields, true);
    let frames = c.frames();
    assert_eq!(frames.len(), 1, "{frames:?}");
    let Frame::Headers(h) = &frames[0] else {
        panic!()
    };
    assert!(h.end_stream && h.stream_id == sid(1));
    let response = c.fields_of(&frames[0]);
    assert_eq!(response[0], (":status".into(), "431".into()));
    assert_eq!(c.conn.stats().responses_431, 1);
    assert_eq!(c.conn.stats().requests, 0);
    // The application never hears of the stream.
    let events = c.events();
    assert!(events.is_empty(), "{events:?}");
    assert_eq!(c.conn.open_streams(), 0);
    // HPACK state in sync: a request that reuses the indexed fields decodes.
    c.request_with(3, "GET", "/", &fields[..1], true);
    let events = c.events();
    let [Event::Request { stream, head, .. }] = &events[..] else {
        panic!("{events:?}")
    };
    assert_eq!(*stream, sid(3));
    assert_eq!(head.headers["x-a"], v.as_str());
}

#[test]
fn one_field_larger_than_the_whole_limit_is_431_not_a_connection_error() {
    let mut c = Client::connected({
        let mut config = Config::default();
        config.max_header_list_size = 300;
        config
    });
    let huge = "c".repeat(1000);
    c.request_with(1, "GET", "/", &[("cookie", huge.as_str())], true);
    let frames = c.frames();
    assert!(goaway(&frames).is_none(), "{frames:?}");
    assert_eq!(c.fields_of(&frames[0])[0], (":status".into(), "431".into()));
    // The connection keeps serving.
    c.request(3, "GET", "/ok", true);
    assert!(matches!(&c.events()[..], [Event::Request { .. }]));
}

#[test]
fn oversized_header_list_with_a_body_is_answered_and_the_body_stopped() {
    let mut c = Client::connected({
        let mut config = Config::default();
        config.max_header_list_size = 300;
        config
    });
    let v = "w".repeat(60);
    let fields = [
        ("x-a", v.as_str()),
        ("x-b", v.as_str()),
        ("x-c", v.as_str()),
    ];
    c.request_with(1, "POST", "/", &fields, false);
    let frames = c.frames();
    assert_eq!(frames.len(), 1, "{frames:?}");
    assert_eq!(c.fields_of(&frames[0])[0].1, "431");
    let events = c.events();
    assert!(events.is_empty(), "{events:?}");
    // Half-closed (local): what the client sends meanwhile is dropped; a client that
    // keeps sending is stopped with RST_STREAM(NO_ERROR) once the grace is over (§8.1).
    c.data(1, b"ignored", false);
    assert!(c.frames().is_empty());
    c.advance(Duration::from_secs(2));
    assert_eq!(resets(&c.frames()), vec![(1, ErrorCode::NoError)]);
    c.data(1, b"ignored", true);
    assert!(c.frames().is_empty());
}

#[test]
fn stats_count_what_happened() {
    let mut c = Client::connected({
        let mut config = Config::default();
        config.max_concurrent_streams = 1;
        config
    });
    c.request(1, "GET", "/", false);
    c.request(3, "GET", "/", false);
    c.data(1, b"x", false);
    c.send(rst(1, ErrorCode::Cancel));
    c.request(5, "GET", "/", true);
    c.send_bytes(&raw_frame(0x8, 0, 5, &[0, 0, 0, 0]));
    c.frames();
    c.data(99, b"x", false);
    c.frames();
    let s = c.conn.stats();
    assert_eq!(s.requests, 2);
    assert_eq!(s.streams_refused, 1);
    assert_eq!(s.resets_sent.get(ErrorCode::RefusedStream), 1);
    assert_eq!(s.resets_sent.get(ErrorCode::ProtocolError), 1);
    assert_eq!(s.resets_received.get(ErrorCode::Cancel), 1);
    assert_eq!(s.goaway_sent.get(ErrorCode::ProtocolError), 1);
    assert_eq!(s.goaway_sent.get(ErrorCode::NoError), 0);
    assert!(s.frames_in >= 8);
    assert!(s.bytes_in > 24 && s.bytes_out > 0);
    let names: Vec<_> = s.resets_sent.nonzero().collect();
    assert_eq!(names, vec![("PROTOCOL_ERROR", 1), ("REFUSED_STREAM", 1)]);
}
