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
        stream: StreamId,
        head: Box<RequestHead>,
        end_stream: bool,
        pushed: bool,
    },
    /// A chunk of request body. The application must report what it consumed with
    /// [`crate::Connection::consume`] so the flow-control window reopens.
    Data {
        stream: StreamId,
        data: Bytes,
        end_stream: bool,
    },
    /// Request trailers; the body is complete. Boxed: they are rare, and every event is
    /// as large as its largest kind (it would double the size of the two events each
    /// request makes).
    Trailers {
        stream: StreamId,
        trailers: Box<HeaderMap>,
    },
    /// The stream ended abnormally: the peer reset it (`by_peer`), or we did because of a
    /// protocol error on it. Whatever the application does for it may stop.
    Reset {
        stream: StreamId,
        code: ErrorCode,
        by_peer: bool,
    },
    /// The stream's response buffer has room again after
    /// [`crate::Connection::send_capacity`] returned 0.
    SendReady { stream: StreamId },
    /// The stream completed in both directions.
    StreamClosed { stream: StreamId },
    /// The peer sent GOAWAY: it opens no new streams; push is off.
    GoAwayReceived {
        last_stream_id: StreamId,
        code: ErrorCode,
    },
    /// We sent GOAWAY: no new requests will be accepted on this connection.
    Closing { code: ErrorCode },
}
