//! Connection errors (RFC 9113 §5.4.1): GOAWAY with the last processed stream and the right
//! code, then lingering with input discarded until `goaway_linger`.

mod support;

use std::time::Duration;

use h2ring_conn::{Config, Event, Phase};
use h2ring_frame::{ErrorCode, Frame};
use support::*;

#[test]
fn connection_error_goaway_carries_last_stream_then_lingers() {
    let mut c = Client::connected(Config::default());
    c.request(1, "GET", "/", false);
    c.request(3, "GET", "/", false);
    c.events();
    c.data(7, b"x", false);
    c.expect_goaway(3, ErrorCode::ProtocolError);
    let events = c.events();
    let resets: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            Event::Reset {
                stream,
                code: ErrorCode::ProtocolError,
                by_peer: false,
            } => Some(stream.value()),
            _ => None,
        })
        .collect();
    assert_eq!(resets.len(), 2);
    assert!(resets.contains(&1) && resets.contains(&3));
    assert!(events.iter().any(|e| matches!(
        e,
        Event::Closing {
            code: ErrorCode::ProtocolError
        }
    )));
    assert_eq!(c.conn.open_streams(), 0);
    // Input is now discarded: no PING ACK, no new stream.
    c.send(ping([9; 8]));
    c.request(9, "GET", "/", true);
    assert_eq!(c.unconsumed_input(), 0);
    assert!(c.frames().is_empty());
    assert!(c.events().is_empty());
    assert_eq!(c.conn.poll_timeout(), Some(c.now + Duration::from_secs(1)));
    c.advance(Duration::from_millis(999));
    assert_eq!(c.conn.phase(), Phase::Lingering);
    assert!(!c.conn.is_closed());
    c.advance(Duration::from_millis(1));
    assert!(c.conn.is_closed());
    assert_eq!(c.conn.poll_timeout(), None);
    assert_eq!(c.conn.stats().goaway_sent.get(ErrorCode::ProtocolError), 1);
}

#[test]
fn oversized_frame_is_a_frame_size_error() {
    let mut c = Client::connected(Config::default());
    c.request(1, "POST", "/", false);
    c.send_bytes(&raw_frame(0x0, 0, 1, &[0; 16_385]));
    c.expect_goaway(1, ErrorCode::FrameSizeError);
}

#[test]
fn hpack_garbage_is_a_compression_error() {
    let mut c = Client::connected(Config::default());
    // 0xff 0xff ... : an indexed field with an absurd index.
    c.send_bytes(&raw_frame(0x1, 0x5, 1, &[0xff, 0xff, 0xff, 0xff, 0x0f]));
    let frames = c.expect_goaway(1, ErrorCode::CompressionError);
    assert!(resets(&frames).is_empty());
}

#[test]
fn malformed_request_is_a_stream_error_only() {
    let mut c = Client::connected(Config::default());
    // No :path.
    c.request_raw(1, &[(":method", "GET"), (":scheme", "https")], true);
    c.expect_resets(&[(1, ErrorCode::ProtocolError)]);
    c.request(3, "GET", "/", true);
    assert_eq!(Client::request_ids(&c.events()), vec![3]);
}

#[test]
fn unknown_frame_types_are_ignored() {
    let mut c = Client::connected(Config::default());
    c.send_bytes(&raw_frame(0xfa, 0xff, 1, b"whatever"));
    assert!(c.frames().is_empty());
    assert_eq!(c.conn.phase(), Phase::Open);
    c.request(1, "GET", "/", true);
    assert_eq!(Client::request_ids(&c.events()), vec![1]);
}

#[test]
fn a_second_error_after_graceful_goaway_sends_the_error_goaway() {
    let mut c = Client::connected(Config::default());
    c.request(1, "GET", "/", false);
    let now = c.now;
    c.conn.start_shutdown(now);
    let frames = c.frames();
    assert_eq!(goaway(&frames), Some(((1 << 31) - 1, ErrorCode::NoError)));
    c.advance(std::time::Duration::from_secs(1));
    assert_eq!(goaway(&c.frames()), Some((1, ErrorCode::NoError)));
    c.send(rst(11, ErrorCode::Cancel));
    let frames = c.expect_goaway(1, ErrorCode::ProtocolError);
    assert_eq!(frames.len(), 1);
    let Frame::GoAway(g) = &frames[0] else {
        panic!()
    };
    assert_eq!(&g.debug_data[..], b"RST_STREAM on idle stream");
}
