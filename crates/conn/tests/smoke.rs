//! The basic request/response exchange, end to end through the sans-IO connection.

mod support;

use bytes::Bytes;
use h2ring_conn::{Config, Event};
use h2ring_frame::Frame;
use http::{HeaderMap, StatusCode};
use support::*;

#[test]
fn get_request_gets_a_response_with_body() {
    let mut c = Client::connected(Config::default());
    c.request(1, "GET", "/hello", true);
    let events = c.events();
    let Some(Event::Request {
        stream,
        head,
        end_stream,
        ..
    }) = events.into_iter().next()
    else {
        panic!("no request event");
    };
    assert_eq!(stream, sid(1));
    assert!(end_stream);
    assert_eq!(head.path.as_ref().map(|p| p.as_str()), Some("/hello"));
    let now = c.now;
    c.conn
        .send_response(sid(1), StatusCode::OK, &HeaderMap::new(), false, now)
        .unwrap();
    c.conn
        .send_data(sid(1), Bytes::from_static(b"hi"), true)
        .unwrap();
    let frames = c.frames();
    assert_eq!(frames.len(), 2, "{frames:?}");
    let Frame::Headers(h) = &frames[0] else {
        panic!()
    };
    assert!(h.end_headers && !h.end_stream);
    let fields = c.decode_block(&h.fragment.clone());
    assert_eq!(fields, vec![(":status".to_string(), "200".to_string())]);
    let Frame::Data(d) = &frames[1] else { panic!() };
    assert_eq!(&d.data[..], b"hi");
    assert!(d.end_stream);
    assert!(matches!(c.events()[..], [Event::StreamClosed { .. }]));
    assert_eq!(c.conn.open_streams(), 0);
}

/// A request head's box handed back is reused for the next request's head (no allocation
/// per request), and carries that request's own fields.
#[test]
fn recycled_request_heads_are_reused_with_fresh_contents() {
    let mut c = Client::connected(Config::default());
    c.request(1, "GET", "/first", true);
    let Some(Event::Request { head, .. }) = c.conn.poll_event() else {
        panic!("no request")
    };
    assert_eq!(head.path.as_ref().map(|p| p.as_str()), Some("/first"));
    let reused: *const h2ring_conn::RequestHead = &*head;
    c.conn.recycle_request_head(head);
    c.request(3, "POST", "/second", true);
    let Some(Event::Request { head, .. }) = c.conn.poll_event() else {
        panic!("no request")
    };
    assert_eq!(&*head as *const _, reused, "the recycled box");
    assert_eq!(head.method, http::Method::POST);
    assert_eq!(head.path.as_ref().map(|p| p.as_str()), Some("/second"));
}
