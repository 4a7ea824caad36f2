//! Request bodies: content-length (RFC 9113 §8.1.1) and `expect: 100-continue`.

mod support;

use h2ring_conn::{Config, Event, StreamState};
use h2ring_frame::{ErrorCode, Frame};
use support::*;

#[test]
fn body_longer_than_content_length_resets() {
    let mut c = Client::connected(Config::default());
    c.request_with(1, "POST", "/", &[("content-length", "5")], false);
    c.data(1, b"abc", false);
    assert!(c.frames().is_empty());
    c.data(1, b"def", false);
    c.expect_resets(&[(1, ErrorCode::ProtocolError)]);
    let events = c.events();
    assert!(matches!(
        events.last(),
        Some(Event::Reset {
            code: ErrorCode::ProtocolError,
            by_peer: false,
            ..
        })
    ));
}

#[test]
fn body_shorter_than_content_length_at_end_stream_resets() {
    let mut c = Client::connected(Config::default());
    c.request_with(1, "POST", "/", &[("content-length", "5")], false);
    c.data(1, b"abc", true);
    c.expect_resets(&[(1, ErrorCode::ProtocolError)]);
}

#[test]
fn body_shorter_than_content_length_at_trailers_resets() {
    let mut c = Client::connected(Config::default());
    c.request_with(1, "POST", "/", &[("content-length", "5")], false);
    c.data(1, b"abc", false);
    let block = c.block(&[("x-t", "1")]);
    c.send(headers(1, block, true, true));
    c.expect_resets(&[(1, ErrorCode::ProtocolError)]);
}

#[test]
fn exact_content_length_is_accepted() {
    let mut c = Client::connected(Config::default());
    c.request_with(1, "POST", "/", &[("content-length", "5")], false);
    c.data(1, b"abc", false);
    c.data(1, b"de", true);
    assert!(c.frames().is_empty());
    assert_eq!(
        c.conn.stream_state(sid(1)),
        Some(StreamState::HalfClosedRemote)
    );
}

#[test]
fn non_zero_content_length_with_end_stream_on_headers_resets() {
    let mut c = Client::connected(Config::default());
    c.request_with(1, "POST", "/", &[("content-length", "5")], true);
    c.expect_resets(&[(1, ErrorCode::ProtocolError)]);
    assert!(c
        .events()
        .iter()
        .all(|e| !matches!(e, Event::Request { .. })));
    // The id is used up: a late DATA is ignored, not a protocol error.
    c.data(1, b"x", false);
    assert!(c.frames().is_empty());
}

#[test]
fn get_with_a_body_is_delivered() {
    let mut c = Client::connected(Config::default());
    c.request(1, "GET", "/", false);
    c.data(1, b"payload", true);
    let events = c.events();
    assert!(matches!(
        &events[0],
        Event::Request {
            end_stream: false,
            ..
        }
    ));
    assert!(
        matches!(&events[1], Event::Data { data, end_stream: true, .. } if &data[..] == b"payload")
    );
    assert!(c.frames().is_empty());
}

#[test]
fn expect_continue_sends_100_only_when_the_body_is_wanted() {
    let mut c = Client::connected(Config::default());
    c.request_with(1, "POST", "/", &[("expect", "100-continue")], false);
    assert!(c.frames().is_empty());
    let now = c.now;
    c.conn.body_wanted(sid(1), now);
    let frames = c.frames();
    assert_eq!(frames.len(), 1, "{frames:?}");
    let Frame::Headers(h) = &frames[0] else {
        panic!()
    };
    assert!(!h.end_stream && h.end_headers);
    assert_eq!(
        c.fields_of(&frames[0]),
        vec![(":status".into(), "100".into())]
    );
    // Only once.
    c.conn.body_wanted(sid(1), now);
    assert!(c.frames().is_empty());
    // The final response still follows.
    c.respond(1, 200, true);
    let frames = c.frames();
    assert_eq!(
        c.fields_of(&frames[0]),
        vec![(":status".into(), "200".into())]
    );
}

#[test]
fn no_100_after_the_final_response() {
    let mut c = Client::connected(Config::default());
    c.request_with(1, "POST", "/", &[("expect", "100-continue")], false);
    c.respond(1, 413, true);
    let frames = c.frames();
    assert_eq!(
        c.fields_of(&frames[0]),
        vec![(":status".into(), "413".into())]
    );
    let now = c.now;
    c.conn.body_wanted(sid(1), now);
    assert!(c.frames().is_empty());
}

#[test]
fn no_100_when_the_request_has_no_body() {
    let mut c = Client::connected(Config::default());
    c.request_with(1, "POST", "/", &[("expect", "100-continue")], true);
    let now = c.now;
    c.conn.body_wanted(sid(1), now);
    assert!(c.frames().is_empty());
}
