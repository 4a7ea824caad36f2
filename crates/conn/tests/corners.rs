//! Corners an outside review found (issue 19): a zero WINDOW_UPDATE increment on an idle
//! stream, a memory of closed streams bounded by time and count, push requests filtered
//! like Go's, trailers against the peer's SETTINGS_MAX_HEADER_LIST_SIZE.

mod support;

use std::time::Duration;

use h2ring_conn::{Config, RateBudget, SendError};
use h2ring_frame::{ErrorCode, Setting};
use http::{HeaderMap, HeaderName, HeaderValue, Method, Uri};
use support::*;

/// §5.1 allows only HEADERS and PRIORITY on an idle stream (§6.4 forbids RST_STREAM
/// there): a zero-increment WINDOW_UPDATE on one ends the connection.
#[test]
fn zero_window_update_on_idle_stream_is_a_connection_error() {
    let mut c = Client::connected(Config::default());
    c.send(window_update(5, 0));
    c.expect_goaway(0, ErrorCode::ProtocolError);
}

/// On a stream in use it stays a stream error (§6.9).
#[test]
fn zero_window_update_on_open_stream_is_a_stream_error() {
    let mut c = Client::connected(Config::default());
    c.request(1, "POST", "/", false);
    c.events();
    c.send(window_update(1, 0));
    let frames = c.frames();
    assert_eq!(resets(&frames), vec![(1, ErrorCode::ProtocolError)]);
    assert!(goaway(&frames).is_none());
}

/// Opens `id` with a POST whose body is to follow, and resets it as the application would
/// (CANCEL): the stream is closed, "reset by us".
fn upload_reset_by_us(c: &mut Client, id: u32) {
    c.request(id, "POST", "/upload", false);
    let now = c.now;
    c.conn.reset(sid(id), ErrorCode::Cancel, now);
}

/// A stream we reset, then 100 more streams (more than the 64 the old memory kept): its
/// late trailers and DATA are still ignored (§5.1: the client sent them before it saw our
/// RST_STREAM) — no GOAWAY "stream id not increasing", nothing charged to the reset budget.
#[test]
fn late_frames_on_a_stream_reset_seconds_ago_are_ignored() {
    let mut config = Config::default();
    config.reset_budget = RateBudget {
        burst: 2,
        per_second: 1,
    };
    let mut c = Client::connected(config);
    upload_reset_by_us(&mut c, 1);
    for id in (3..203).step_by(2) {
        c.request(id, "GET", "/", true);
        c.respond(id, 204, true);
    }
    c.events();
    c.frames();
    c.advance(Duration::from_secs(5));
    for _ in 0..10 {
        c.data(1, b"late", false);
    }
    let trailers = c.block(&[("x-checksum", "1")]);
    c.send(headers(1, trailers, true, true));
    let frames = c.frames();
    assert!(goaway(&frames).is_none(), "{}", summary(&frames));
    assert!(resets(&frames).is_empty(), "{}", summary(&frames));
    // The connection keeps serving.
    c.request(203, "GET", "/", true);
    assert_eq!(Client::request_ids(&c.events()), vec![203]);
}

/// After `closed_stream_memory` the stream is forgotten: a HEADERS frame on it is then a
/// stream id that did not increase (§5.1.1).
#[test]
fn closed_streams_are_forgotten_after_the_memory_duration() {
    let mut c = Client::connected(Config::default());
    upload_reset_by_us(&mut c, 1);
    c.frames();
    c.advance(Duration::from_secs(11));
    let trailers = c.block(&[("x-checksum", "1")]);
    c.send(headers(1, trailers, true, true));
    c.expect_goaway(1, ErrorCode::ProtocolError);
}

/// A flood of short streams cannot grow the memory past `max_closed_streams`: the oldest
/// closes are forgotten first.
#[test]
fn closed_stream_memory_is_capped_under_a_flood() {
    let mut config = Config::default();
    config.max_closed_streams = 8;
    let mut c = Client::connected(config);
    upload_reset_by_us(&mut c, 1);
    for id in (3..=19).step_by(2) {
        c.request(id, "GET", "/", true);
        c.respond(id, 204, true);
    }
    c.events();
    c.frames();
    // Nine closes since stream 1 was reset, eight remembered: stream 1 is forgotten, and
    // its late HEADERS is a stream id that did not increase.
    let late = c.block(&[("x-late", "1")]);
    c.send(headers(1, late, true, true));
    c.expect_goaway(19, ErrorCode::ProtocolError);
}

fn push_with(c: &mut Client, name: &'static str, value: &'static str) -> Result<(), SendError> {
    let uri: Uri = "https://example.com/style.css".parse().unwrap();
    let mut fields = HeaderMap::new();
    fields.insert(
        HeaderName::from_static(name),
        HeaderValue::from_static(value),
    );
    c.conn
        .push_promise(sid(1), Method::GET, uri, fields)
        .map(|_| ())
}

/// Promised requests carry no field Go's server refuses in `Push` (and no content-type):
/// body fields, `host` (the URI is absolute), `te`, `expect`, connection-specific fields.
#[test]
fn push_requests_are_filtered_like_go() {
    let mut c = Client::connected(Config::default());
    c.request(1, "GET", "/", true);
    c.events();
    for (name, value) in [
        ("content-length", "0"),
        ("content-type", "text/css"),
        ("content-encoding", "gzip"),
        ("trailer", "x-checksum"),
        ("te", "trailers"),
        ("expect", "100-continue"),
        ("host", "example.com"),
        ("connection", "close"),
        ("keep-alive", "timeout=5"),
        ("proxy-connection", "keep-alive"),
        ("transfer-encoding", "chunked"),
        ("upgrade", "h2c"),
    ] {
        assert!(
            matches!(
                push_with(&mut c, name, value),
                Err(SendError::PushRefused(_))
            ),
            "{name} was pushed"
        );
    }
    assert!(c.frames().is_empty(), "a refused push wrote something");
    assert_eq!(push_with(&mut c, "accept-encoding", "gzip"), Ok(()));
}

/// Trailers over the peer's SETTINGS_MAX_HEADER_LIST_SIZE are refused, as a head is:
/// the stream is reset with INTERNAL_ERROR instead of sending what the peer refuses.
#[test]
fn trailers_over_the_peer_header_list_limit_are_refused() {
    let mut c = Client::connected_with(Config::default(), vec![Setting::MaxHeaderListSize(200)]);
    c.request(1, "GET", "/", true);
    c.events();
    c.respond(1, 200, false);
    let mut trailers = HeaderMap::new();
    trailers.insert("x-big", HeaderValue::from_str(&"v".repeat(300)).unwrap());
    assert_eq!(
        c.conn.send_trailers(sid(1), trailers),
        Err(SendError::HeaderListTooLarge)
    );
    let frames = c.frames();
    assert_eq!(resets(&frames), vec![(1, ErrorCode::InternalError)]);
    // Small trailers still go out on the next stream.
    c.request(3, "GET", "/", true);
    c.events();
    c.respond(3, 200, false);
    let mut small = HeaderMap::new();
    small.insert("x-ok", HeaderValue::from_static("1"));
    assert_eq!(c.conn.send_trailers(sid(3), small), Ok(()));
}
