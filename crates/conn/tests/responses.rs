//! Responses: heads (1xx then final), bodies split by the peer's limits, trailers, and how
//! a response ending interacts with a request body still arriving (RFC 9113 §8.1).

mod support;

use std::time::Duration;

use bytes::Bytes;
use h2ring_conn::{Config, Event, SendError, StreamState};
use h2ring_frame::{ErrorCode, Frame, Setting};
use http::{HeaderMap, HeaderValue, StatusCode};
use support::*;

fn status(c: &mut Client, f: &Frame) -> String {
    let fields = c.fields_of(f);
    assert_eq!(fields[0].0, ":status");
    fields[0].1.clone()
}

#[test]
fn early_hints_then_final_response() {
    let mut c = Client::connected(Config::default());
    c.request(1, "GET", "/", true);
    let mut hints = HeaderMap::new();
    hints.insert(
        "link",
        HeaderValue::from_static("</style.css>; rel=preload"),
    );
    let now = c.now;
    c.conn
        .send_response(sid(1), StatusCode::EARLY_HINTS, &hints, false, now)
        .unwrap();
    c.respond(1, 200, true);
    let frames = c.frames();
    assert_eq!(frames.len(), 2);
    let (Frame::Headers(a), Frame::Headers(b)) = (&frames[0], &frames[1]) else {
        panic!("{frames:?}")
    };
    assert!(!a.end_stream && b.end_stream);
    let fields = c.fields_of(&frames[0]);
    assert_eq!(
        fields,
        vec![
            (":status".into(), "103".into()),
            ("link".into(), "</style.css>; rel=preload".into())
        ]
    );
    assert_eq!(status(&mut c, &frames[1]), "200");
}

#[test]
fn status_101_and_ending_1xx_are_rejected() {
    let mut c = Client::connected(Config::default());
    c.request(1, "GET", "/", true);
    let now = c.now;
    let h = HeaderMap::new();
    assert_eq!(
        c.conn
            .send_response(sid(1), StatusCode::SWITCHING_PROTOCOLS, &h, false, now),
        Err(SendError::InvalidStatus)
    );
    assert_eq!(
        c.conn
            .send_response(sid(1), StatusCode::CONTINUE, &h, true, now),
        Err(SendError::InvalidStatus)
    );
    assert!(c.frames().is_empty());
    c.respond(1, 200, true);
    assert_eq!(c.frames().len(), 1);
}

/// A sized head is a final one: a 1xx with a content-length is refused before anything
/// is written, and the final head goes out with its length.
#[test]
fn a_sized_response_is_a_final_head() {
    let mut c = Client::connected(Config::default());
    c.request(1, "GET", "/", true);
    let now = c.now;
    let h = HeaderMap::new();
    assert_eq!(
        c.conn
            .send_sized_response(sid(1), StatusCode::EARLY_HINTS, &h, 5, false, now),
        Err(SendError::InvalidStatus)
    );
    assert!(c.frames().is_empty());
    c.conn
        .send_sized_response(sid(1), StatusCode::OK, &h, 5, false, now)
        .unwrap();
    let frames = c.frames();
    assert_eq!(
        c.fields_of(&frames[0]),
        vec![
            (":status".into(), "200".into()),
            ("content-length".into(), "5".into())
        ]
    );
}

#[test]
fn send_api_errors() {
    let mut c = Client::connected(Config::default());
    c.request(1, "GET", "/", true);
    let now = c.now;
    let h = HeaderMap::new();
    assert_eq!(
        c.conn.send_data(sid(1), Bytes::from_static(b"x"), false),
        Err(SendError::HeadNotSent)
    );
    assert_eq!(
        c.conn.send_trailers(sid(1), HeaderMap::new()),
        Err(SendError::HeadNotSent)
    );
    c.respond(1, 200, false);
    assert_eq!(
        c.conn.send_response(sid(1), StatusCode::OK, &h, false, now),
        Err(SendError::HeadAlreadySent)
    );
    // Body still queued (not yet transmitted), then its end: the stream is open and
    // ended for sending.
    c.conn
        .send_data(sid(1), Bytes::from_static(b"x"), false)
        .unwrap();
    c.conn
        .send_data(sid(1), Bytes::from_static(b"x"), true)
        .unwrap();
    assert_eq!(
        c.conn.send_data(sid(1), Bytes::from_static(b"y"), false),
        Err(SendError::AlreadyEnded)
    );
    assert_eq!(
        c.conn.send_response(sid(9), StatusCode::OK, &h, false, now),
        Err(SendError::UnknownStream)
    );
}

#[test]
fn data_is_split_at_the_peer_max_frame_size() {
    let mut c = Client::connected(Config::default());
    c.request(1, "GET", "/", true);
    c.respond_body(1, 40_000);
    let frames = c.frames();
    assert!(matches!(&frames[0], Frame::Headers(h) if !h.end_stream));
    assert_eq!(
        data_frames(&frames[1..]),
        vec![(1, 16_384, false), (1, 16_384, false), (1, 7_232, true)]
    );
    assert_eq!(frames.len(), 4);
}

#[test]
fn trailers_end_the_response() {
    let mut c = Client::connected(Config::default());
    c.request(1, "GET", "/", true);
    c.respond(1, 200, false);
    c.conn
        .send_data(sid(1), Bytes::from_static(b"ab"), false)
        .unwrap();
    let mut trailers = HeaderMap::new();
    trailers.insert("grpc-status", HeaderValue::from_static("0"));
    c.conn.send_trailers(sid(1), trailers).unwrap();
    let frames = c.frames();
    assert_eq!(frames.len(), 3, "{frames:?}");
    assert_eq!(data_frames(&frames), vec![(1, 2, false)]);
    let Frame::Headers(t) = &frames[2] else {
        panic!()
    };
    assert!(t.end_stream && t.end_headers);
    assert_eq!(
        c.fields_of(&frames[2]),
        vec![("grpc-status".into(), "0".into())]
    );
    let events = c.events();
    assert!(
        matches!(events.last(), Some(Event::StreamClosed { .. })),
        "{events:?}"
    );
}

#[test]
fn empty_end_of_body_is_a_bare_end_stream_data_frame() {
    let mut c = Client::connected(Config::default());
    c.request(1, "GET", "/", true);
    c.respond(1, 200, false);
    c.conn
        .send_data(sid(1), Bytes::from_static(b"abc"), false)
        .unwrap();
    assert_eq!(data_frames(&c.frames()), vec![(1, 3, false)]);
    c.conn.send_data(sid(1), Bytes::new(), true).unwrap();
    assert_eq!(data_frames(&c.frames()), vec![(1, 0, true)]);
}

/// A complete response to a body nobody reads leaves the stream half-closed (local)
/// (RFC 9113 §5.1): the body is dropped as it comes, and a client still sending after
/// `LATE_FRAME_GRACE` (1 s; the stream scan applies it) is stopped with
/// RST_STREAM(NO_ERROR) (§8.1), not charged as a reset.
#[test]
fn finished_response_with_discarded_body_resets_with_no_error() {
    let mut c = Client::connected(Config::default());
    c.request(1, "POST", "/upload", false);
    c.data(1, b"abc", false);
    let now = c.now;
    c.conn.discard_body(sid(1), now);
    c.respond(1, 413, true);
    let frames = c.frames();
    assert_eq!(frames.len(), 1, "{frames:?}");
    assert!(matches!(&frames[0], Frame::Headers(h) if h.end_stream));
    assert_eq!(
        c.conn.stream_state(sid(1)),
        Some(StreamState::HalfClosedLocal)
    );
    c.data(1, b"more", false);
    assert!(c.frames().is_empty());
    c.advance(Duration::from_secs(2));
    assert_eq!(resets(&c.frames()), vec![(1, ErrorCode::NoError)]);
    assert_eq!(c.conn.stream_state(sid(1)), None);
    // What the client had in flight is ignored.
    c.data(1, b"more", false);
    assert!(c.frames().is_empty());
}

/// The same stream is stopped at once when the client has used up its window.
#[test]
fn discarded_body_is_stopped_when_the_window_runs_out() {
    let mut c = Client::connected(Config::default());
    c.request(1, "POST", "/upload", false);
    let now = c.now;
    c.conn.discard_body(sid(1), now);
    c.respond(1, 413, true);
    c.frames();
    // The default stream window is 1 MiB; 64 frames of 16 KiB use it up.
    for _ in 0..63 {
        c.body(1, 16 * 1024, false);
    }
    assert!(resets(&c.frames()).is_empty());
    c.body(1, 16 * 1024, false);
    assert_eq!(resets(&c.frames()), vec![(1, ErrorCode::NoError)]);
}

/// A discarded body whose declared rest fits the window the client already has is let
/// in and dropped instead of reset: no RST_STREAM, the stream ends with the client's
/// END_STREAM (curl 7.88 reports an early RST_STREAM(NO_ERROR) as a failure).
#[test]
fn short_declared_body_is_drained_instead_of_reset() {
    let mut c = Client::connected(Config::default());
    c.request_with(1, "POST", "/form", &[("content-length", "10")], false);
    c.events();
    let now = c.now;
    c.conn.discard_body(sid(1), now);
    c.respond(1, 405, true);
    let frames = c.frames();
    assert!(resets(&frames).is_empty(), "{frames:?}");
    assert_eq!(
        c.conn.stream_state(sid(1)),
        Some(StreamState::HalfClosedLocal)
    );
    c.data(1, b"0123456789", true);
    assert!(c.frames().is_empty());
    assert_eq!(c.conn.stream_state(sid(1)), None);
    assert!(c
        .events()
        .iter()
        .any(|e| matches!(e, Event::StreamClosed { stream } if *stream == sid(1))));
}

/// The drained rest must come: a client that declares a short body and never sends it
/// loses the stream after `stream_recv_timeout`.
#[test]
fn short_declared_body_that_never_comes_times_out() {
    let mut c = Client::connected(Config::default());
    c.request_with(1, "POST", "/form", &[("content-length", "10")], false);
    let now = c.now;
    c.conn.discard_body(sid(1), now);
    c.respond(1, 405, true);
    c.frames();
    c.advance(Duration::from_secs(61));
    assert_eq!(resets(&c.frames()), vec![(1, ErrorCode::Cancel)]);
    assert_eq!(c.conn.stream_state(sid(1)), None);
}

/// A declared rest larger than the stream window would need WINDOW_UPDATEs for data
/// nobody reads: reset with NO_ERROR (RFC 9113 §8.1) after the grace, as without a
/// declared length.
#[test]
fn long_declared_body_is_still_reset_with_no_error() {
    let mut c = Client::connected(Config::default());
    // The default stream window is 1 MiB.
    c.request_with(
        1,
        "POST",
        "/upload",
        &[("content-length", "2097152")],
        false,
    );
    let now = c.now;
    c.conn.discard_body(sid(1), now);
    c.respond(1, 413, true);
    assert!(resets(&c.frames()).is_empty());
    c.advance(Duration::from_secs(2));
    assert_eq!(resets(&c.frames()), vec![(1, ErrorCode::NoError)]);
}

#[test]
fn full_duplex_keeps_receiving_after_the_response_ended() {
    let mut c = Client::connected(Config::default());
    c.request(1, "POST", "/echo", false);
    c.respond_body(1, 10);
    let frames = c.frames();
    assert_eq!(data_frames(&frames), vec![(1, 10, true)]);
    assert_eq!(
        c.conn.stream_state(sid(1)),
        Some(StreamState::HalfClosedLocal)
    );
    c.events();
    c.data(1, b"more", false);
    assert!(c.frames().is_empty(), "no RST_STREAM");
    c.data(1, b"end", true);
    let events = c.events();
    assert!(matches!(&events[0], Event::Data { data, .. } if &data[..] == b"more"));
    assert!(matches!(
        &events[1],
        Event::Data {
            end_stream: true,
            ..
        }
    ));
    assert!(matches!(&events[2], Event::StreamClosed { stream } if *stream == sid(1)));
    assert_eq!(c.conn.stream_state(sid(1)), None);
}

#[test]
fn app_reset_mid_response_leaves_other_streams_working() {
    let mut c = Client::connected(Config::default());
    c.request(1, "GET", "/", true);
    c.request(3, "GET", "/", true);
    c.respond(1, 200, false);
    c.conn
        .send_data(sid(1), Bytes::from_static(b"partial"), false)
        .unwrap();
    c.frames();
    let now = c.now;
    c.conn.reset(sid(1), ErrorCode::InternalError, now);
    c.expect_resets(&[(1, ErrorCode::InternalError)]);
    assert_eq!(
        c.conn.send_data(sid(1), Bytes::from_static(b"x"), false),
        Err(SendError::UnknownStream)
    );
    c.respond_body(3, 5);
    let frames = c.frames();
    assert_eq!(data_frames(&frames), vec![(3, 5, true)]);
    assert_eq!(c.conn.stats().resets_sent.get(ErrorCode::InternalError), 1);
}

#[test]
fn queued_data_is_dropped_when_the_app_resets() {
    let mut c = Client::connected(Config::default());
    c.request(1, "GET", "/", true);
    c.respond_body(1, 100_000);
    let now = c.now;
    c.conn.reset(sid(1), ErrorCode::Cancel, now);
    let frames = c.frames();
    assert!(data_frames(&frames).is_empty(), "{frames:?}");
    assert_eq!(resets(&frames), vec![(1, ErrorCode::Cancel)]);
}

/// A prepared head is encoded once and then replayed from the connection's memo; the
/// client's decoder (which mirrors our HPACK table) must read every response right, also
/// after other heads changed the table and after the client shrank the table.
#[test]
fn prepared_heads_decode_right_while_the_table_changes() {
    let mut c = Client::connected(Config::default());
    let mut fields = HeaderMap::new();
    fields.insert("etag", HeaderValue::from_static("\"v1\""));
    fields.insert("content-type", HeaderValue::from_static("text/html"));
    fields.insert("content-length", HeaderValue::from_static("0"));
    let prepared = h2ring_conn::PreparedFields::new(fields);
    let mut extra = HeaderMap::new();
    extra.insert("x-extra", HeaderValue::from_static("yes"));
    let expected = |with_extra: bool| {
        let mut v: Vec<(String, String)> = vec![
            (":status".into(), "200".into()),
            ("etag".into(), "\"v1\"".into()),
            ("content-type".into(), "text/html".into()),
            ("content-length".into(), "0".into()),
        ];
        if with_extra {
            v.push(("x-extra".into(), "yes".into()));
        }
        v
    };
    let none = HeaderMap::new();
    let mut blocks = Vec::new();
    for id in (1..=19).step_by(2) {
        if id == 9 {
            // Another head enters the table between two replays.
            c.request(id, "GET", "/other", true);
            let mut other = HeaderMap::new();
            other.insert("etag", HeaderValue::from_static("\"other\""));
            let now = c.now;
            c.conn
                .send_response(sid(id), StatusCode::OK, &other, true, now)
                .unwrap();
            let frames = c.frames();
            assert_eq!(c.fields_of(&frames[0])[1].1, "\"other\"");
            continue;
        }
        if id == 15 {
            // The client shrinks its table: our next block starts with a size update.
            c.send(settings(vec![h2ring_frame::Setting::HeaderTableSize(0)]));
            c.frames();
        }
        c.request(id, "GET", "/", true);
        let with_extra = id == 13;
        let now = c.now;
        c.conn
            .send_prepared_response(
                sid(id),
                StatusCode::OK,
                &prepared,
                if with_extra { &extra } else { &none },
                true,
                now,
            )
            .unwrap();
        let frames = c.frames();
        let Frame::Headers(h) = &frames[0] else {
            panic!("{frames:?}")
        };
        assert!(h.end_stream);
        blocks.push(h.fragment.clone());
        assert_eq!(c.fields_of(&frames[0]), expected(with_extra), "stream {id}");
        assert_eq!(c.conn.stream_state(sid(id)), None);
    }
    // Streams 3, 5 and 7 came after the fields were in the table: the same octets.
    assert_eq!(blocks[1], blocks[2]);
    assert_eq!(blocks[2], blocks[3]);
    assert!(blocks[1].len() < blocks[0].len(), "indexed after the first");
}

/// A small body that ends its response and fits every window is written at once behind
/// its head when nothing else waits for the scheduler: the stream is complete before
/// `poll_transmit`, and the frames are the same as the scheduler would have written.
#[test]
fn a_small_whole_body_goes_out_behind_its_head() {
    let mut c = Client::connected(Config::default());
    c.request(1, "GET", "/", true);
    c.request(3, "GET", "/", true);
    c.events();
    c.respond_body(1, 100);
    c.respond_body(3, 100);
    assert_eq!(c.conn.stream_state(sid(1)), None, "stream 1 is complete");
    assert_eq!(c.conn.stream_state(sid(3)), None, "stream 3 is complete");
    let frames = c.frames();
    assert_eq!(
        summary(&frames),
        "HEADERS(1, 1 octets, es=false, eh=true); DATA(1, 100 octets, END_STREAM); \
         HEADERS(3, 1 octets, es=false, eh=true); DATA(3, 100 octets, END_STREAM)",
    );
    let closed: Vec<_> = c
        .events()
        .into_iter()
        .filter(|e| matches!(e, Event::StreamClosed { .. }))
        .collect();
    assert_eq!(closed.len(), 2);
}

/// Anything else keeps the scheduler's order and flow control: a body beyond the stream's
/// window, a body not yet ended, or one behind a stream already queued.
#[test]
fn bodies_that_do_not_fit_wait_for_the_scheduler() {
    // The client's stream window is 10 octets.
    let mut c = Client::connected_with(Config::default(), vec![Setting::InitialWindowSize(10)]);
    c.request(1, "GET", "/", true);
    c.request(3, "GET", "/", true);
    c.events();
    c.respond_body(1, 100);
    assert!(c.conn.stream_state(sid(1)).is_some(), "waits for window");
    // Stream 3's small body now queues behind stream 1 (same urgency, lower id first).
    c.respond(3, 200, false);
    c.conn
        .send_data(sid(3), Bytes::from_static(b"tiny"), true)
        .unwrap();
    assert!(c.conn.stream_state(sid(3)).is_some(), "queued, not skipped");
    assert_eq!(data_frames(&c.frames()), vec![(1, 10, false), (3, 4, true)]);
}
