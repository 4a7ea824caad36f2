//! A connection that starts life as an HTTP/1.1 `Upgrade: h2c` (RFC 7540 §3.2): the
//! client's `HTTP2-Settings` are applied as if received, and the upgrading request is
//! stream 1, already complete (half-closed (remote)) since its body came before the switch.

use std::fmt;
use std::time::Instant;

use bytes::{BufMut, Bytes, BytesMut};
use h2ring_frame::{Decoder, Frame, StreamId};
use h2ring_hpack::RequestHead;

use super::Connection;
use crate::config::Config;
use crate::event::Event;
use crate::priority::Priority;
use crate::stream::Stream;

/// Why an upgrade was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpgradeError {
    /// The `HTTP2-Settings` payload is not a valid SETTINGS payload (RFC 9113 §6.5).
    InvalidSettings,
    /// A body whose length contradicts its `content-length` (RFC 9113 §8.1.1).
    ContentLengthMismatch,
}

impl fmt::Display for UpgradeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UpgradeError::InvalidSettings => f.write_str("invalid HTTP2-Settings"),
            UpgradeError::ContentLengthMismatch => {
                f.write_str("request body does not match content-length")
            }
        }
    }
}

impl std::error::Error for UpgradeError {}

/// The upgrading request's stream (RFC 7540 §3.2).
const UPGRADE_STREAM: StreamId = StreamId::new(1);

impl Connection {
    /// A connection created by a 101 answer to `Upgrade: h2c`. `http2_settings` is the
    /// base64url-decoded `HTTP2-Settings` payload; `head` and `body` are the upgrading
    /// request, delivered as stream 1 (`Event::Request`, then `Event::Data` if the body is
    /// not empty). The connection then waits for the client preface like a new one; the
    /// client's settings need no ACK (the 101 acknowledges them, RFC 7540 §3.2.1).
    pub fn new_upgraded(
        config: Config,
        now: Instant,
        http2_settings: &[u8],
        head: RequestHead,
        body: Bytes,
    ) -> Result<Connection, UpgradeError> {
        if head
            .content_length
            .is_some_and(|cl| cl != body.len() as u64)
        {
            return Err(UpgradeError::ContentLengthMismatch);
        }
        let mut conn = Connection::new(config, now);
        let settings = decode_settings(http2_settings)?;
        if settings.entry_count() > conn.config.max_settings_entries {
            return Err(UpgradeError::InvalidSettings);
        }
        conn.apply_peer_settings(&settings)
            .map_err(|_| UpgradeError::InvalidSettings)?;
        let mut stream = Stream::new(
            UPGRADE_STREAM,
            conn.config.stream_window,
            conn.peer.initial_window,
            now,
        );
        // Half-closed (remote): the client sent all of the request over HTTP/1.1. Its body
        // never counted against HTTP/2 flow control, so nothing is left to consume.
        stream.recv_open = false;
        stream.content_length = head.content_length;
        stream.body_received = body.len() as u64;
        stream.priority = Priority::of_request(&head.headers);
        conn.store.insert(stream);
        conn.last_client_stream = UPGRADE_STREAM;
        conn.stats.requests += 1;
        conn.timers.became_active();
        let has_body = !body.is_empty();
        let head = conn.boxed_head(head);
        conn.events.push_back(Event::Request {
            stream: UPGRADE_STREAM,
            head,
            end_stream: !has_body,
            pushed: false,
        });
        if has_body {
            conn.events.push_back(Event::Data {
                stream: UPGRADE_STREAM,
                data: body,
                end_stream: true,
            });
        }
        Ok(conn)
    }
}

/// Parses a SETTINGS payload with the frame decoder, so the rules are the same as for a
/// SETTINGS frame.
fn decode_settings(payload: &[u8]) -> Result<h2ring_frame::Settings, UpgradeError> {
    let len = u32::try_from(payload.len()).map_err(|_| UpgradeError::InvalidSettings)?;
    if len > 0xff_ffff {
        return Err(UpgradeError::InvalidSettings);
    }
    let mut frame = BytesMut::with_capacity(9 + payload.len());
    frame.put_slice(&len.to_be_bytes()[1..]);
    frame.put_slice(&[0x4, 0, 0, 0, 0, 0]);
    frame.put_slice(payload);
    let mut decoder = Decoder::new();
    decoder.set_max_frame_size(0xff_ffff);
    match decoder.decode(&mut frame) {
        Ok(Some(Frame::Settings(s))) if !s.ack => Ok(s),
        _ => Err(UpgradeError::InvalidSettings),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::StreamState;
    use http::Method;

    fn head(content_length: Option<u64>) -> RequestHead {
        RequestHead {
            method: Method::POST,
            scheme: Some(http::uri::Scheme::HTTP),
            authority: Some(http::uri::Authority::from_static("example.com")),
            path: Some(http::uri::PathAndQuery::from_static("/up")),
            protocol: None,
            headers: http::HeaderMap::new(),
            content_length,
            expect_continue: false,
        }
    }

    // SETTINGS_MAX_CONCURRENT_STREAMS = 100, SETTINGS_INITIAL_WINDOW_SIZE = 33554432.
    const CURL_SETTINGS: [u8; 12] = [0, 3, 0, 0, 0, 100, 0, 4, 2, 0, 0, 0];

    #[test]
    fn stream_one_carries_the_request_and_its_body() {
        let body = Bytes::from_static(b"abc");
        let mut conn = Connection::new_upgraded(
            Config::default(),
            Instant::now(),
            &CURL_SETTINGS,
            head(Some(3)),
            body,
        )
        .unwrap();
        match conn.poll_event() {
            Some(Event::Request {
                stream,
                end_stream,
                head,
                ..
            }) => {
                assert_eq!(stream.value(), 1);
                assert!(!end_stream);
                assert_eq!(head.path.unwrap(), "/up");
            }
            other => panic!("{other:?}"),
        }
        match conn.poll_event() {
            Some(Event::Data {
                stream,
                data,
                end_stream,
            }) => {
                assert_eq!(stream.value(), 1);
                assert_eq!(&data[..], b"abc");
                assert!(end_stream);
            }
            other => panic!("{other:?}"),
        }
        assert!(conn.poll_event().is_none());
        assert_eq!(
            conn.stream_state(UPGRADE_STREAM),
            Some(StreamState::HalfClosedRemote)
        );
        assert_eq!(conn.peer.initial_window, 33_554_432);
        assert_eq!(conn.peer.max_concurrent_streams, Some(100));
    }

    #[test]
    fn body_less_request_ends_with_its_head() {
        let mut conn = Connection::new_upgraded(
            Config::default(),
            Instant::now(),
            &[],
            head(None),
            Bytes::new(),
        )
        .unwrap();
        assert!(matches!(
            conn.poll_event(),
            Some(Event::Request {
                end_stream: true,
                ..
            })
        ));
        assert!(conn.poll_event().is_none());
    }

    #[test]
    fn broken_settings_and_lengths_are_refused() {
        let now = Instant::now();
        let bad =
            Connection::new_upgraded(Config::default(), now, &[0, 4, 0], head(None), Bytes::new());
        assert_eq!(bad.err(), Some(UpgradeError::InvalidSettings));
        // SETTINGS_INITIAL_WINDOW_SIZE above 2^31-1 (RFC 9113 §6.5.2).
        let bad = Connection::new_upgraded(
            Config::default(),
            now,
            &[0, 4, 0x80, 0, 0, 0],
            head(None),
            Bytes::new(),
        );
        assert_eq!(bad.err(), Some(UpgradeError::InvalidSettings));
        let bad = Connection::new_upgraded(
            Config::default(),
            now,
            &[],
            head(Some(5)),
            Bytes::from_static(b"abc"),
        );
        assert_eq!(bad.err(), Some(UpgradeError::ContentLengthMismatch));
    }

    #[test]
    fn http2_settings_over_the_entry_cap_are_refused() {
        let now = Instant::now();
        let entries = |n: usize| -> Vec<u8> { (0..n).flat_map(|_| [0, 4, 0, 0, 0, 1]).collect() };
        let ok = Connection::new_upgraded(
            Config::default(),
            now,
            &entries(100),
            head(None),
            Bytes::new(),
        );
        assert!(ok.is_ok());
        let bad = Connection::new_upgraded(
            Config::default(),
            now,
            &entries(101),
            head(None),
            Bytes::new(),
        );
        assert_eq!(bad.err(), Some(UpgradeError::InvalidSettings));
    }
}
