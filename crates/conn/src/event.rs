//! What the connection tells the application.

use bytes::Bytes;
use h2ring_frame::{ErrorCode, StreamId};
use h2ring_hpack::RequestHead;
use http::HeaderMap;

/// An event for the application, polled with [`crate::Connection::poll_event`].
#[derive(Debug)]
pub enum Event {
    /// A new request (or a request we promised with PUSH_PROMISE, `pushed: true`). When
    /// `end_stream` is false, its body arrives as [`Event::Data`] and maybe [`Event::Trailers`].
    Request {
        /// The stream to answer on: a client-opened odd id, or the even id we reserved.
        stream: StreamId,
        /// Method, URI parts and fields, validated against RFC 9113 §8. Hand the box back
        /// with [`crate::Connection::recycle_request_head`] to spare the next request an
        /// allocation.
        head: Box<RequestHead>,
        /// The HEADERS carried END_STREAM: the request has no body (a GET, usually).
        end_stream: bool,
        /// We made this request up ourselves with [`crate::Connection::push_promise`]; the
        /// client never sends it.
        pushed: bool,
    },
    /// A chunk of request body. The application must report what it consumed with
    /// [`crate::Connection::consume`] so the flow-control window reopens.
    Data {
        /// The request's stream.
        stream: StreamId,
        /// The body octets, padding removed; a zero-copy slice of the received buffer.
        data: Bytes,
        /// This is the body's last chunk and no trailers follow.
        end_stream: bool,
    },
    /// Request trailers; the body is complete. Boxed: they are rare, and every event is
    /// as large as its largest kind (it would double the size of the two events each
    /// request makes).
    Trailers {
        /// The request's stream.
        stream: StreamId,
        /// The trailer fields (no pseudo-headers: RFC 9113 §8.1 forbids them there).
        trailers: Box<HeaderMap>,
    },
    /// The stream ended abnormally: the peer reset it (`by_peer`), or we did because of a
    /// protocol error on it. Whatever the application does for it may stop.
    Reset {
        /// The stream, already forgotten by the connection: sending on it fails.
        stream: StreamId,
        /// The RST_STREAM error code (ours or the peer's); a connection error resets every
        /// open stream with the GOAWAY's code.
        code: ErrorCode,
        /// The peer sent RST_STREAM, as opposed to us resetting the stream (a protocol
        /// error, a timeout, or the connection closing).
        by_peer: bool,
    },
    /// The stream's response buffer has room again after
    /// [`crate::Connection::send_capacity`] returned 0.
    SendReady {
        /// The stream that can take more response body.
        stream: StreamId,
    },
    /// The stream completed in both directions.
    StreamClosed {
        /// The finished stream; its id is not reused.
        stream: StreamId,
    },
    /// The peer sent GOAWAY: it opens no new streams; push is off.
    GoAwayReceived {
        /// The last stream we opened (a push) that the peer may still process
        /// (RFC 9113 §6.8); requests on the peer's own streams are unaffected.
        last_stream_id: StreamId,
        /// Why the peer is leaving: `NoError` for a graceful close.
        code: ErrorCode,
    },
    /// We sent GOAWAY: no new requests will be accepted on this connection.
    Closing {
        /// The code our GOAWAY carries: `NoError` when we drain on purpose, an error code
        /// when the peer broke the protocol.
        code: ErrorCode,
    },
}
