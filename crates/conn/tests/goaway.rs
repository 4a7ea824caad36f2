//! GOAWAY both ways (RFC 9113 §6.8): graceful shutdown, the drain deadline, and the peer's.

mod support;

use std::time::Duration;

use h2ring_conn::{Config, Event, Phase};
use h2ring_frame::{ErrorCode, Frame, GoAway, Ping, StreamId};
use http::{HeaderMap, Method, Uri};
use support::*;

/// The PING our graceful shutdown sends, if `frames` has it.
fn shutdown_ping(frames: &[Frame]) -> Option<[u8; 8]> {
    frames.iter().find_map(|f| match f {
        Frame::Ping(p) if !p.ack => Some(p.payload),
        _ => None,
    })
}

#[test]
fn graceful_shutdown_is_two_goaways_a_round_trip_apart() {
    let mut c = Client::connected(Config::default());
    c.request(1, "GET", "/", true);
    c.events();
    let now = c.now;
    c.conn.start_shutdown(now);
    assert_eq!(c.conn.phase(), Phase::Draining);
    let frames = c.frames();
    // RFC 9113 §6.8: first the largest id, and a PING to time the round trip.
    assert_eq!(
        goaway(&frames),
        Some((StreamId::MAX.value(), ErrorCode::NoError))
    );
    let payload = shutdown_ping(&frames).expect("a PING follows the first GOAWAY");
    assert!(matches!(
        c.events()[..],
        [Event::Closing {
            code: ErrorCode::NoError
        }]
    ));
    // A request that was already on the wire is still served.
    c.request(3, "GET", "/late", true);
    assert_eq!(Client::request_ids(&c.events()), vec![3]);
    // The PING comes back: now the binding GOAWAY with the real last stream.
    c.send(Frame::Ping(Ping { ack: true, payload }));
    assert_eq!(goaway(&c.frames()), Some((3, ErrorCode::NoError)));
    // Anything newer is not processed: no event, no frame.
    c.request(5, "GET", "/", true);
    assert!(c.events().is_empty());
    assert!(c.frames().is_empty());
    c.respond(1, 200, true);
    c.respond(3, 200, true);
    c.frames();
    assert_eq!(c.conn.phase(), Phase::Lingering);
    c.advance(Duration::from_secs(1));
    assert!(c.conn.is_closed());
}

#[test]
fn graceful_shutdown_finishes_open_streams_and_ignores_new_ones() {
    let mut c = Client::connected(Config::default());
    c.request(1, "GET", "/", true);
    c.request(3, "POST", "/", false);
    c.events();
    let now = c.now;
    c.conn.start_shutdown(now);
    assert_eq!(c.conn.phase(), Phase::Draining);
    c.frames();
    assert!(matches!(c.events()[..], [Event::Closing { .. }]));
    // No PING answer: the binding GOAWAY goes out after `goaway_linger` anyway.
    c.advance(Duration::from_secs(1));
    let frames = c.frames();
    assert_eq!(frames.len(), 1, "{frames:?}");
    assert_eq!(goaway(&frames), Some((3, ErrorCode::NoError)));
    // A stream above the last id is not processed: no event, no frame.
    c.request(5, "GET", "/", true);
    let ev = c.events();
    assert!(ev.is_empty(), "{ev:?}");
    assert!(c.frames().is_empty());
    // Open streams finish normally.
    c.respond_body(1, 3);
    assert_eq!(data_frames(&c.frames()), vec![(1, 3, true)]);
    assert_eq!(c.conn.phase(), Phase::Draining);
    c.data(3, b"body", true);
    c.respond(3, 200, true);
    c.frames();
    assert_eq!(c.conn.phase(), Phase::Lingering);
    c.advance(Duration::from_secs(1));
    assert!(c.conn.is_closed());
}

#[test]
fn shutdown_with_no_streams_lingers_after_the_round_trip() {
    let mut c = Client::connected(Config::default());
    let now = c.now;
    c.conn.start_shutdown(now);
    let frames = c.frames();
    assert_eq!(
        goaway(&frames),
        Some((StreamId::MAX.value(), ErrorCode::NoError))
    );
    let payload = shutdown_ping(&frames).unwrap();
    c.send(Frame::Ping(Ping { ack: true, payload }));
    assert_eq!(goaway(&c.frames()), Some((0, ErrorCode::NoError)));
    assert_eq!(c.conn.phase(), Phase::Lingering);
    c.advance(Duration::from_secs(1));
    assert!(c.conn.is_closed());
}

#[test]
fn shutdown_before_the_preface_closes_at_once() {
    let mut c = Client::raw(Config::default());
    let now = c.now;
    c.conn.start_shutdown(now);
    assert!(c.conn.is_closed());
}

#[test]
fn drain_deadline_cuts_open_streams() {
    let mut c = Client::connected(Config::default());
    c.request(1, "GET", "/", true);
    let now = c.now;
    c.conn.start_shutdown(now);
    c.frames();
    c.advance(Duration::from_secs(1));
    assert_eq!(goaway(&c.frames()), Some((1, ErrorCode::NoError)));
    c.advance(Duration::from_millis(28_999));
    assert_eq!(c.conn.phase(), Phase::Draining);
    assert!(c.frames().is_empty());
    c.advance(Duration::from_millis(1));
    let frames = c.frames();
    assert_eq!(resets(&frames), vec![(1, ErrorCode::Cancel)]);
    assert_eq!(c.conn.phase(), Phase::Lingering);
    c.advance(Duration::from_secs(1));
    assert!(c.conn.is_closed());
}

#[test]
fn goaway_from_the_peer_stops_push() {
    let mut c = Client::connected(Config::default());
    c.request(1, "GET", "/", true);
    c.events();
    assert!(c.conn.can_push());
    c.send(Frame::GoAway(GoAway::new(sid(0), ErrorCode::NoError)));
    let events = c.events();
    assert!(matches!(
        events[0],
        Event::GoAwayReceived {
            code: ErrorCode::NoError,
            ..
        }
    ));
    assert!(!c.conn.can_push());
    assert!(c
        .conn
        .push_promise(
            sid(1),
            Method::GET,
            Uri::from_static("https://example.com/x"),
            HeaderMap::new()
        )
        .is_err());
    // The open stream still gets its response.
    c.respond_body(1, 2);
    let frames = c.frames();
    assert_eq!(data_frames(&frames), vec![(1, 2, true)]);
}
