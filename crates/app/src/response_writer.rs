//! Writes a handler's response onto its stream, for HTTP/2 and HTTP/1.1 alike: the head
//! (prepared fields first when there are some), then the body as its kind allows.

use h2ring_conn::StreamId;
use http::{header, HeaderMap, HeaderValue, StatusCode};

use crate::service::{Binding, BodyKind, StreamError};
use crate::stream_io::StreamIo;
use crate::PreparedHead;

/// Sends `response` on stream `id`. `bind_stream` makes the binding a channel body writes
/// through once its head is out.
pub(crate) fn write_response<I: StreamIo + ?Sized>(
    io: &I,
    id: StreamId,
    response: crate::Response,
    is_head: bool,
    bind_stream: impl FnOnce() -> Binding,
) {
    let (mut parts, body) = response.into_parts();
    let prepared = body.head.as_ref();
    let send_head = |headers: &HeaderMap, end: bool| -> Result<(), StreamError> {
        match prepared {
            Some(p) => io.send_prepared_head(id, parts.status, p, headers, end),
            None => io.send_head(id, parts.status, headers, end),
        }
    };
    match body.kind {
        BodyKind::Empty => {
            let _ = send_head(&parts.headers, true);
        }
        BodyKind::Full(bytes) => {
            // RFC 9110 §6.4.1: a 204 or 304 carries no content, whatever the handler gave;
            // RFC 9113 §8.1 / RFC 9112 §6.3: neither does a response to HEAD.
            let no_content =
                parts.status == StatusCode::NO_CONTENT || parts.status == StatusCode::NOT_MODIFIED;
            let has_length = |h: &HeaderMap| h.contains_key(header::CONTENT_LENGTH);
            // A 204 must not carry content-length (RFC 9110 §8.6), and a 304's would be
            // the selected representation's, not this body's.
            if !no_content
                && !has_length(&parts.headers)
                && !prepared.is_some_and(|p| has_length(p.headers()))
            {
                parts
                    .headers
                    .insert(header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
            }
            let no_body = is_head || no_content || bytes.is_empty();
            if send_head(&parts.headers, no_body).is_ok() && !no_body {
                let _ = io.send_data(id, bytes, true);
            }
        }
        BodyKind::Channel(channel) => match send_head(&parts.headers, is_head) {
            Ok(()) if is_head => channel.bind(Binding::Discard),
            Ok(()) => channel.bind(bind_stream()),
            Err(e) => channel.bind(Binding::Failed(e)),
        },
    }
}

/// The prepared fields and then `extra` in one map, for a transport with no table to
/// replay encoded fields into.
pub(crate) fn merged_head(prepared: &PreparedHead, extra: &HeaderMap) -> HeaderMap {
    let mut merged = prepared.headers().clone();
    for (name, value) in extra {
        merged.append(name, value.clone());
    }
    merged
}
