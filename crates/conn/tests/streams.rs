//! Stream lifecycle (RFC 9113 §5.1), header-block sequencing (§4.3, §6.10), trailers and
//! concurrency limits.

mod support;

use bytes::Bytes;
use h2ring_conn::{Config, Event, Phase, StreamState};
use h2ring_frame::{ErrorCode, Frame, Headers, PrioritySpec, PushPromise};
use http::{HeaderMap, Method, Uri};
use support::*;

fn get_block(c: &mut Client, path: &str) -> Bytes {
    c.block(&[
        (":method", "GET"),
        (":scheme", "https"),
        (":authority", "example.com"),
        (":path", path),
    ])
}

#[test]
fn even_stream_id_is_a_protocol_error() {
    let mut c = Client::connected(Config::default());
    c.request(2, "GET", "/", true);
    c.expect_goaway(0, ErrorCode::ProtocolError);
    assert!(c
        .events()
        .iter()
        .all(|e| !matches!(e, Event::Request { .. })));
}

#[test]
fn decreasing_stream_id_is_a_protocol_error() {
    let mut c = Client::connected(Config::default());
    c.request(5, "GET", "/", false);
    c.request(3, "GET", "/", true);
    c.expect_goaway(5, ErrorCode::ProtocolError);
}

#[test]
fn skipped_ids_are_implicitly_closed() {
    let mut c = Client::connected(Config::default());
    c.request(1, "GET", "/", false);
    c.request(5, "GET", "/", false);
    assert_eq!(Client::request_ids(&c.events()), vec![1, 5]);
    // RFC 9113 §5.1.1: opening 5 closed the idle stream 3.
    c.request(3, "GET", "/", true);
    c.expect_goaway(5, ErrorCode::ProtocolError);
}

#[test]
fn headers_on_a_finished_stream_is_stream_closed() {
    let mut c = Client::connected(Config::default());
    c.request(1, "GET", "/", true);
    c.respond(1, 204, true);
    c.frames();
    assert_eq!(c.conn.stream_state(sid(1)), None);
    c.request(1, "GET", "/", true);
    c.expect_goaway(1, ErrorCode::StreamClosed);
}

#[test]
fn data_on_idle_stream_is_a_protocol_error() {
    let mut c = Client::connected(Config::default());
    c.data(1, b"x", false);
    c.expect_goaway(0, ErrorCode::ProtocolError);
}

#[test]
fn data_after_end_stream_is_stream_closed() {
    let mut c = Client::connected(Config::default());
    c.request(1, "POST", "/", true);
    c.events();
    c.data(1, b"late", false);
    c.expect_resets(&[(1, ErrorCode::StreamClosed)]);
    assert!(matches!(
        c.events()[..],
        [Event::Reset {
            code: ErrorCode::StreamClosed,
            by_peer: false,
            ..
        }]
    ));
}

#[test]
fn data_on_a_stream_we_reset_is_ignored_and_refunded() {
    let mut c = Client::connected(small_windows());
    c.request(1, "POST", "/", false);
    c.events();
    let now = c.now;
    c.conn.reset(sid(1), ErrorCode::Cancel, now);
    c.expect_resets(&[(1, ErrorCode::Cancel)]);
    for _ in 0..3 {
        c.data(1, &[0; 16_384], false);
    }
    // No STREAM_CLOSED for frames in flight; the connection window is credited back
    // (announced once half of it is owed).
    let frames = c.frames();
    assert_eq!(frames, vec![window_update(0, 32_768)]);
    assert!(c.events().is_empty());
}

#[test]
fn rst_stream_on_idle_stream_is_a_protocol_error() {
    let mut c = Client::connected(Config::default());
    c.send(rst(1, ErrorCode::Cancel));
    c.expect_goaway(0, ErrorCode::ProtocolError);
}

#[test]
fn window_update_on_idle_stream_is_a_protocol_error() {
    let mut c = Client::connected(Config::default());
    c.send(window_update(1, 10));
    c.expect_goaway(0, ErrorCode::ProtocolError);
}

fn open_header_block(c: &mut Client) -> Bytes {
    let block = get_block(c, "/split");
    let first = block.slice(..3);
    c.send(headers(1, first, true, false));
    block.slice(3..)
}

#[test]
fn data_inside_a_header_block_is_a_protocol_error() {
    let mut c = Client::connected(Config::default());
    open_header_block(&mut c);
    c.data(1, b"x", false);
    c.expect_goaway(1, ErrorCode::ProtocolError);
}

#[test]
fn ping_inside_a_header_block_is_a_protocol_error() {
    let mut c = Client::connected(Config::default());
    open_header_block(&mut c);
    c.send(ping([0; 8]));
    c.expect_goaway(1, ErrorCode::ProtocolError);
    assert!(c
        .events()
        .iter()
        .all(|e| !matches!(e, Event::Request { .. })));
}

#[test]
fn headers_on_another_stream_inside_a_header_block_is_a_protocol_error() {
    let mut c = Client::connected(Config::default());
    open_header_block(&mut c);
    let other = get_block(&mut c, "/other");
    c.send(headers(3, other, true, true));
    c.expect_goaway(1, ErrorCode::ProtocolError);
}

#[test]
fn continuation_without_headers_is_a_protocol_error() {
    let mut c = Client::connected(Config::default());
    let block = get_block(&mut c, "/");
    c.send(continuation(1, block, true));
    c.expect_goaway(0, ErrorCode::ProtocolError);
}

#[test]
fn continuation_after_a_complete_block_is_a_protocol_error() {
    let mut c = Client::connected(Config::default());
    c.request(1, "GET", "/", false);
    c.send(continuation(1, Bytes::from_static(b"\x82"), true));
    c.expect_goaway(1, ErrorCode::ProtocolError);
}

#[test]
fn continuation_on_another_stream_is_a_protocol_error() {
    let mut c = Client::connected(Config::default());
    let rest = open_header_block(&mut c);
    c.send(continuation(3, rest, true));
    c.expect_goaway(1, ErrorCode::ProtocolError);
}

#[test]
fn headers_and_three_continuations_make_one_request() {
    let mut c = Client::connected(Config::default());
    let block = c.block(&[
        (":method", "GET"),
        (":scheme", "https"),
        (":authority", "example.com"),
        (":path", "/a/long/path/to/split/into/pieces"),
        ("user-agent", "h2ring-test"),
    ]);
    let n = block.len();
    let cuts = [0, n / 4, n / 2, 3 * n / 4, n];
    c.send(headers(1, block.slice(cuts[0]..cuts[1]), true, false));
    c.send(continuation(1, block.slice(cuts[1]..cuts[2]), false));
    c.send(continuation(1, block.slice(cuts[2]..cuts[3]), false));
    assert!(c.events().is_empty());
    c.send(continuation(1, block.slice(cuts[3]..cuts[4]), true));
    let events = c.events();
    let [Event::Request {
        stream,
        head,
        end_stream: true,
        pushed: false,
    }] = &events[..]
    else {
        panic!("{events:?}")
    };
    assert_eq!(*stream, sid(1));
    assert_eq!(
        head.path.as_ref().map(|p| p.as_str()),
        Some("/a/long/path/to/split/into/pieces")
    );
    assert_eq!(head.headers["user-agent"], "h2ring-test");
    assert!(c.frames().is_empty());
}

#[test]
fn trailers_end_the_request() {
    let mut c = Client::connected(Config::default());
    c.request(1, "POST", "/", false);
    c.data(1, b"abc", false);
    let block = c.block(&[("x-checksum", "42")]);
    c.send(headers(1, block, true, true));
    let events = c.events();
    assert!(
        matches!(&events[1], Event::Data { data, end_stream: false, .. } if &data[..] == b"abc")
    );
    let Event::Trailers { stream, trailers } = &events[2] else {
        panic!("{events:?}")
    };
    assert_eq!(*stream, sid(1));
    assert_eq!(trailers["x-checksum"], "42");
    assert_eq!(
        c.conn.stream_state(sid(1)),
        Some(StreamState::HalfClosedRemote)
    );
    assert!(c.frames().is_empty());
}

#[test]
fn trailers_without_end_stream_reset_the_stream() {
    let mut c = Client::connected(Config::default());
    c.request(1, "POST", "/", false);
    let block = c.block(&[("x-checksum", "42")]);
    c.send(headers(1, block, false, true));
    c.expect_resets(&[(1, ErrorCode::ProtocolError)]);
    // HPACK stays in sync: the next request reuses the dynamic table.
    c.request(3, "POST", "/", true);
    assert_eq!(Client::request_ids(&c.events()), vec![1, 3]);
}

#[test]
fn pseudo_header_in_trailers_resets_the_stream() {
    let mut c = Client::connected(Config::default());
    c.request(1, "POST", "/", false);
    let block = c.block(&[(":path", "/x")]);
    c.send(headers(1, block, true, true));
    c.expect_resets(&[(1, ErrorCode::ProtocolError)]);
}

#[test]
fn priority_is_accepted_on_idle_open_and_closed_streams() {
    let mut c = Client::connected(Config::default());
    c.request(1, "GET", "/", false);
    c.request(3, "GET", "/", true);
    c.respond(3, 200, true);
    c.frames();
    c.send(priority(9, 1)); // idle
    c.send(priority(1, 0)); // open
    c.send(priority(3, 1)); // closed
    assert!(c.frames().is_empty());
    assert_eq!(c.conn.phase(), Phase::Open);
    // PRIORITY did not open stream 9: 5 is still a valid new id.
    c.request(5, "GET", "/", true);
    assert!(Client::request_ids(&c.events()).contains(&5));
}

#[test]
fn priority_self_dependency_resets_the_stream() {
    let mut c = Client::connected(Config::default());
    c.request(1, "GET", "/", false);
    c.send(priority(1, 1));
    c.expect_resets(&[(1, ErrorCode::ProtocolError)]);
}

#[test]
fn headers_with_self_dependency_resets_but_keeps_hpack_in_sync() {
    let mut c = Client::connected(Config::default());
    let fields = [
        (":method", "GET"),
        (":scheme", "https"),
        (":authority", "example.com"),
        (":path", "/indexed"),
        ("x-session", "abcdef"),
    ];
    let block = c.block(&fields);
    c.send(Frame::Headers(Headers {
        stream_id: sid(1),
        fragment: block,
        end_stream: true,
        end_headers: true,
        priority: Some(PrioritySpec {
            dependency: sid(1),
            exclusive: false,
            weight: 0,
        }),
        pad_len: None,
    }));
    c.expect_resets(&[(1, ErrorCode::ProtocolError)]);
    assert!(c
        .events()
        .iter()
        .all(|e| !matches!(e, Event::Request { .. })));
    // This block is all dynamic-table references to entries the first one inserted.
    let block = c.block(&fields);
    assert!(block.len() <= 6, "client should index: {block:?}");
    c.send(headers(3, block, true, true));
    let events = c.events();
    let [Event::Request { stream, head, .. }] = &events[..] else {
        panic!("{events:?}")
    };
    assert_eq!(*stream, sid(3));
    assert_eq!(head.headers["x-session"], "abcdef");
    assert_eq!(c.conn.phase(), Phase::Open);
}

#[test]
fn streams_over_the_limit_are_refused_and_the_connection_lives_on() {
    let mut c = Client::connected({
        let mut config = Config::default();
        config.max_concurrent_streams = 2;
        config
    });
    c.request(1, "GET", "/", true);
    c.request(3, "GET", "/", true);
    c.request(5, "GET", "/", true);
    c.expect_resets(&[(5, ErrorCode::RefusedStream)]);
    assert_eq!(Client::request_ids(&c.events()), vec![1, 3]);
    assert_eq!(c.conn.stats().streams_refused, 1);
    c.respond(1, 200, true);
    c.frames();
    c.request(7, "GET", "/", true);
    assert_eq!(Client::request_ids(&c.events()), vec![7]);
    assert!(c.frames().is_empty());
}

#[test]
fn push_promise_from_the_client_is_a_protocol_error() {
    let mut c = Client::connected(Config::default());
    c.request(1, "GET", "/", false);
    let block = get_block(&mut c, "/pushed");
    c.send(Frame::PushPromise(PushPromise {
        stream_id: sid(1),
        promised_id: sid(2),
        fragment: block,
        end_headers: true,
        pad_len: None,
    }));
    c.expect_goaway(1, ErrorCode::ProtocolError);
}

#[test]
fn stream_state_follows_rfc_9113_section_5_1() {
    let mut c = Client::connected(Config::default());
    c.request(1, "GET", "/", false);
    c.request(3, "GET", "/", true);
    c.request(5, "POST", "/", false);
    c.respond(5, 200, true);
    assert_eq!(c.conn.stream_state(sid(1)), Some(StreamState::Open));
    assert_eq!(
        c.conn.stream_state(sid(3)),
        Some(StreamState::HalfClosedRemote)
    );
    assert_eq!(
        c.conn.stream_state(sid(5)),
        Some(StreamState::HalfClosedLocal)
    );
    let pushed = c
        .conn
        .push_promise(
            sid(3),
            Method::GET,
            Uri::from_static("https://example.com/p"),
            HeaderMap::new(),
        )
        .unwrap();
    assert_eq!(pushed, sid(2));
    assert_eq!(
        c.conn.stream_state(sid(2)),
        Some(StreamState::ReservedLocal)
    );
    c.respond(2, 200, false);
    assert_eq!(
        c.conn.stream_state(sid(2)),
        Some(StreamState::HalfClosedRemote)
    );
    c.respond(3, 200, true);
    assert_eq!(c.conn.stream_state(sid(3)), None);
    assert_eq!(c.conn.stream_state(sid(7)), None);
}

#[test]
fn trailers_on_a_stream_we_reset_are_ignored_but_decoded() {
    let mut c = Client::connected(Config::default());
    c.request(1, "POST", "/", false);
    c.events();
    let now = c.now;
    c.conn.reset(sid(1), ErrorCode::Cancel, now);
    c.expect_resets(&[(1, ErrorCode::Cancel)]);
    // In flight before the client saw our RST_STREAM; it inserts into the HPACK table.
    let block = c.block(&[("x-trailer", "inserted-entry")]);
    c.send(headers(1, block, true, true));
    assert!(c.frames().is_empty());
    assert!(c.events().is_empty());
    let block = c.block(&[
        (":method", "GET"),
        (":scheme", "https"),
        (":authority", "example.com"),
        (":path", "/"),
        ("x-trailer", "inserted-entry"),
    ]);
    c.send(headers(3, block, true, true));
    let events = c.events();
    let [Event::Request { head, .. }] = &events[..] else {
        panic!("{events:?}")
    };
    assert_eq!(head.headers["x-trailer"], "inserted-entry");
}

#[test]
fn refused_stream_block_still_updates_hpack() {
    let mut c = Client::connected({
        let mut config = Config::default();
        config.max_concurrent_streams = 1;
        config
    });
    c.request(1, "GET", "/", false);
    c.request_with(3, "GET", "/", &[("x-only-on-3", "value")], true);
    c.expect_resets(&[(3, ErrorCode::RefusedStream)]);
    c.send(rst(1, ErrorCode::Cancel));
    c.request_with(5, "GET", "/", &[("x-only-on-3", "value")], true);
    let events = c.events();
    let Some(Event::Request { stream, head, .. }) = events.last() else {
        panic!("{events:?}")
    };
    assert_eq!(*stream, sid(5));
    assert_eq!(head.headers["x-only-on-3"], "value");
}
