//! Server push (RFC 9113 §8.4).

mod support;

use h2ring_conn::{Config, Event, SendError, StreamState};
use h2ring_frame::{ErrorCode, Frame, GoAway, Setting};
use http::{HeaderMap, HeaderValue, Method, Uri};
use support::*;

fn push(c: &mut Client, parent: u32, path: &str) -> Result<h2ring_frame::StreamId, SendError> {
    let uri: Uri = format!("https://example.com{path}").parse().unwrap();
    c.conn
        .push_promise(sid(parent), Method::GET, uri, HeaderMap::new())
}

#[test]
fn push_promise_reserves_even_ids_and_delivers_the_promised_request() {
    let mut c = Client::connected(Config::default());
    c.request(1, "GET", "/", true);
    c.events();
    assert_eq!(push(&mut c, 1, "/style.css"), Ok(sid(2)));
    assert_eq!(push(&mut c, 1, "/app.js"), Ok(sid(4)));
    let events = c.events();
    let [Event::Request {
        stream,
        head,
        end_stream: true,
        pushed: true,
    }, Event::Request { stream: s4, .. }] = &events[..]
    else {
        panic!("{events:?}")
    };
    assert_eq!(*stream, sid(2));
    assert_eq!(*s4, sid(4));
    assert_eq!(head.method, Method::GET);
    assert_eq!(head.path.as_ref().map(|p| p.as_str()), Some("/style.css"));
    let frames = c.frames();
    assert_eq!(frames.len(), 2);
    let mut promised = Vec::new();
    for f in &frames {
        let Frame::PushPromise(p) = f else {
            panic!("{frames:?}")
        };
        assert_eq!(p.stream_id, sid(1));
        assert!(p.end_headers);
        let fields = c.decode_block(&p.fragment.clone());
        promised.push((p.promised_id.value(), fields));
    }
    assert_eq!(promised[0].0, 2);
    assert!(promised[0]
        .1
        .contains(&(":path".into(), "/style.css".into())));
    assert!(promised[0].1.contains(&(":method".into(), "GET".into())));
    assert!(promised[0]
        .1
        .contains(&(":authority".into(), "example.com".into())));
    assert_eq!(promised[1].0, 4);
    assert_eq!(
        c.conn.stream_state(sid(2)),
        Some(StreamState::ReservedLocal)
    );
    assert_eq!(c.conn.stats().requests, 3);
}

#[test]
fn pushed_response_goes_on_the_even_stream() {
    let mut c = Client::connected(Config::default());
    c.request(1, "GET", "/", true);
    push(&mut c, 1, "/style.css").unwrap();
    c.frames();
    c.respond_body(2, 7);
    let frames = c.frames();
    assert!(matches!(&frames[0], Frame::Headers(h) if h.stream_id == sid(2) && !h.end_stream));
    assert_eq!(data_frames(&frames), vec![(2, 7, true)]);
    assert_eq!(c.conn.stream_state(sid(2)), None);
    // The client may reset a pushed stream it does not want.
    push(&mut c, 1, "/b").unwrap();
    c.send(rst(4, ErrorCode::Cancel));
    assert_eq!(c.conn.stream_state(sid(4)), None);
    assert_eq!(c.conn.phase(), h2ring_conn::Phase::Open);
}

#[test]
fn push_refused_when_the_peer_disabled_it() {
    let mut c = Client::connected_with(Config::default(), vec![Setting::EnablePush(false)]);
    c.request(1, "GET", "/", true);
    assert!(!c.conn.can_push());
    assert!(matches!(
        push(&mut c, 1, "/x"),
        Err(SendError::PushRefused(_))
    ));
    assert!(c.frames().is_empty());
}

#[test]
fn push_refused_when_disabled_in_config() {
    let mut c = Client::connected({
        let mut config = Config::default();
        config.allow_push = false;
        config
    });
    c.request(1, "GET", "/", true);
    assert!(matches!(
        push(&mut c, 1, "/x"),
        Err(SendError::PushRefused(_))
    ));
}

#[test]
fn push_refused_after_goaway() {
    let mut c = Client::connected(Config::default());
    c.request(1, "GET", "/", false);
    let now = c.now;
    c.conn.start_shutdown(now);
    assert!(matches!(
        push(&mut c, 1, "/x"),
        Err(SendError::PushRefused(_))
    ));
    let mut d = Client::connected(Config::default());
    d.request(1, "GET", "/", false);
    d.send(Frame::GoAway(GoAway::new(sid(1), ErrorCode::NoError)));
    assert!(matches!(
        push(&mut d, 1, "/x"),
        Err(SendError::PushRefused(_))
    ));
}

#[test]
fn push_refused_on_a_pushed_stream() {
    let mut c = Client::connected(Config::default());
    c.request(1, "GET", "/", true);
    push(&mut c, 1, "/a").unwrap();
    assert!(matches!(
        push(&mut c, 2, "/b"),
        Err(SendError::PushRefused(_))
    ));
}

#[test]
fn push_refused_for_unsafe_methods_and_bodies() {
    let mut c = Client::connected(Config::default());
    c.request(1, "GET", "/", true);
    let uri = Uri::from_static("https://example.com/x");
    assert!(matches!(
        c.conn
            .push_promise(sid(1), Method::POST, uri.clone(), HeaderMap::new()),
        Err(SendError::PushRefused(_))
    ));
    let mut h = HeaderMap::new();
    h.insert("content-length", HeaderValue::from_static("3"));
    assert!(matches!(
        c.conn.push_promise(sid(1), Method::GET, uri, h),
        Err(SendError::PushRefused(_))
    ));
    assert!(matches!(
        c.conn.push_promise(
            sid(1),
            Method::GET,
            Uri::from_static("/relative"),
            HeaderMap::new()
        ),
        Err(SendError::PushRefused(_))
    ));
    assert!(c.frames().is_empty());
}

#[test]
fn push_refused_over_the_peer_concurrency_limit() {
    let mut c = Client::connected_with(Config::default(), vec![Setting::MaxConcurrentStreams(1)]);
    c.request(1, "GET", "/", true);
    assert_eq!(push(&mut c, 1, "/a"), Ok(sid(2)));
    assert!(matches!(
        push(&mut c, 1, "/b"),
        Err(SendError::PushRefused(_))
    ));
    c.respond_body(2, 1);
    c.frames();
    assert_eq!(push(&mut c, 1, "/b"), Ok(sid(4)));
}

#[test]
fn push_refused_after_the_parent_response_ended() {
    let mut c = Client::connected(Config::default());
    c.request(1, "POST", "/", false);
    c.respond(1, 200, true);
    assert_eq!(push(&mut c, 1, "/a"), Err(SendError::AlreadyEnded));
}

#[test]
fn headers_from_the_client_on_a_pushed_stream_is_a_protocol_error() {
    let mut c = Client::connected(Config::default());
    c.request(1, "GET", "/", true);
    push(&mut c, 1, "/a").unwrap();
    c.frames();
    c.request(2, "GET", "/", true);
    c.expect_goaway(1, ErrorCode::ProtocolError);
}
