//! Stream state independent of read boundaries (issue 19): the h2spec cases that used to
//! flake, replayed with the client's frames split at every octet, the application's
//! response sent at the split (as a handler that answers at once and drops the body
//! does), and the same verdict expected every time. A response that is complete before
//! the client ended its side leaves the stream half-closed (local) (RFC 9113 §5.1), so
//! what the client sends next is judged against that state, not as a closed stream.

mod support;

use bytes::BytesMut;
use h2ring_conn::{Config, Event};
use h2ring_frame::{ErrorCode, Frame};
use support::*;

/// What the server answered with: every RST_STREAM and GOAWAY after the handshake, as
/// (frame, stream or last stream id, code).
type Verdict = Vec<(&'static str, u32, ErrorCode)>;

fn verdict(frames: &[Frame]) -> Verdict {
    frames
        .iter()
        .filter_map(|f| match f {
            Frame::RstStream(r) => Some(("RST_STREAM", r.stream_id.value(), r.code)),
            Frame::GoAway(g) => Some(("GOAWAY", g.last_stream_id.value(), g.code)),
            _ => None,
        })
        .collect()
}

/// Requests the connection delivered are answered at once with a small body, and their
/// request bodies dropped unread.
fn answer_requests(c: &mut Client) {
    for event in c.events() {
        if let Event::Request { stream, .. } = event {
            // The stream may be gone already (the same read reset it): the application
            // then gets an error, as a handler would.
            let now = c.now;
            c.conn.discard_body(stream, now);
            let head = c.conn.send_response(
                stream,
                http::StatusCode::OK,
                &http::HeaderMap::new(),
                false,
                now,
            );
            if head.is_ok() {
                let body = bytes::Bytes::from_static(b"hello");
                c.conn.send_data(stream, body, true).unwrap();
            }
        }
    }
}

/// Feeds `script` (the client's frames after the handshake) split at `at`, answering the
/// requests that arrived in between, and returns the verdict.
fn run_split(script: &dyn Fn(&mut Client) -> Vec<Frame>, at: usize) -> Verdict {
    let mut c = Client::connected(Config::default());
    let mut bytes = BytesMut::new();
    for frame in script(&mut c) {
        frame.encode(&mut bytes);
    }
    let at = at.min(bytes.len());
    c.send_bytes(&bytes[..at]);
    answer_requests(&mut c);
    c.send_bytes(&bytes[at..]);
    answer_requests(&mut c);
    assert_eq!(c.unconsumed_input(), 0);
    verdict(&c.frames())
}

/// Every split of the script gives `want`.
fn same_verdict_at_every_boundary(script: &dyn Fn(&mut Client) -> Vec<Frame>, want: Verdict) {
    let len = {
        let mut c = Client::connected(Config::default());
        let mut bytes = BytesMut::new();
        for frame in script(&mut c) {
            frame.encode(&mut bytes);
        }
        bytes.len()
    };
    for at in 0..=len {
        assert_eq!(run_split(script, at), want, "split at octet {at} of {len}");
    }
}

fn post_head(c: &mut Client) -> Frame {
    let fragment = c.block(&[
        (":method", "POST"),
        (":scheme", "http"),
        (":authority", "localhost"),
        (":path", "/"),
    ]);
    headers(1, fragment, false, true)
}

fn data(id: u32, payload: &'static [u8], end_stream: bool) -> Frame {
    Frame::Data(h2ring_frame::Data::new(
        sid(id),
        bytes::Bytes::from_static(payload),
        end_stream,
    ))
}

/// h2spec http2/5.1/8: DATA after the client's own RST_STREAM is STREAM_CLOSED.
#[test]
fn data_after_client_reset() {
    same_verdict_at_every_boundary(
        &|c| {
            vec![
                post_head(c),
                rst(1, ErrorCode::Cancel),
                data(1, b"test", true),
            ]
        },
        vec![("RST_STREAM", 1, ErrorCode::StreamClosed)],
    );
}

/// h2spec http2/5.1/9: HEADERS after the client's own RST_STREAM is STREAM_CLOSED (a
/// connection error here: a header block on a closed stream, §5.1).
#[test]
fn headers_after_client_reset() {
    same_verdict_at_every_boundary(
        &|c| {
            let first = post_head(c);
            let again = c.block(&[
                (":method", "POST"),
                (":scheme", "http"),
                (":authority", "localhost"),
                (":path", "/"),
            ]);
            vec![
                first,
                rst(1, ErrorCode::Cancel),
                headers(1, again, true, true),
            ]
        },
        vec![("GOAWAY", 1, ErrorCode::StreamClosed)],
    );
}

/// POST head, DATA "test", then a second header block on stream 1 with `fields` and
/// `end_stream`: the verdict must be RST_STREAM(PROTOCOL_ERROR) at every split.
fn second_block_is_a_protocol_error(
    fields: &'static [(&'static str, &'static str)],
    end_stream: bool,
) {
    same_verdict_at_every_boundary(
        &|c| {
            let head = post_head(c);
            let trailers = c.block(fields);
            vec![
                head,
                data(1, b"test", false),
                headers(1, trailers, end_stream, true),
            ]
        },
        vec![("RST_STREAM", 1, ErrorCode::ProtocolError)],
    );
}

/// h2spec http2/8.1/1: a second HEADERS frame without END_STREAM is a PROTOCOL_ERROR.
#[test]
fn second_headers_without_end_stream() {
    second_block_is_a_protocol_error(&[("x-test", "ok")], false);
}

/// h2spec http2/8.1.2.1/3: trailers with a pseudo-header field are malformed.
#[test]
fn pseudo_header_in_trailers() {
    second_block_is_a_protocol_error(&[(":method", "POST")], false);
}

/// The same with END_STREAM on the trailers: still malformed, whatever the timing.
#[test]
fn pseudo_header_in_trailers_ending_the_stream() {
    second_block_is_a_protocol_error(&[(":method", "POST")], true);
}

/// h2spec http2/6.9.1/3: WINDOW_UPDATEs that take a stream's window past 2^31-1 are a
/// stream FLOW_CONTROL_ERROR, also once the response is complete (half-closed (local)).
#[test]
fn stream_window_overflow() {
    same_verdict_at_every_boundary(
        &|c| {
            vec![
                post_head(c),
                window_update(1, 0x7fff_ffff),
                window_update(1, 0x7fff_ffff),
            ]
        },
        vec![("RST_STREAM", 1, ErrorCode::FlowControlError)],
    );
}

/// A well-behaved upload the handler ignores: the client's END_STREAM closes the stream
/// and nothing is reset, wherever the response lands.
#[test]
fn ignored_upload_ends_cleanly() {
    same_verdict_at_every_boundary(
        &|c| vec![post_head(c), data(1, b"te", false), data(1, b"st", true)],
        vec![],
    );
}
