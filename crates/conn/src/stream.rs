//! One HTTP/2 stream's state (RFC 9113 §5.1) and its per-stream buffers.

use std::collections::VecDeque;

use bytes::Bytes;
use h2ring_frame::StreamId;
use http::HeaderMap;

use crate::flow::{RecvWindow, SendWindow};
use crate::priority::Priority;

/// The stream states of RFC 9113 §5.1 that a stream in the store can be in. `idle` and
/// `closed` streams are not stored: idle ones are known by id arithmetic, closed ones are
/// removed (and briefly remembered by id, see `closed::ClosedStreams`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamState {
    /// A stream we promised with PUSH_PROMISE and have not answered yet.
    ReservedLocal,
    /// Both sides may still send: the request body or the response is unfinished.
    Open,
    /// We sent END_STREAM; the peer may still send.
    HalfClosedLocal,
    /// The peer sent END_STREAM; we may still send.
    HalfClosedRemote,
}

/// How far our side (the response) has got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SendHalf {
    /// No final (non-1xx) head yet.
    AwaitingHead,
    /// Final head sent; body and/or trailers may follow.
    Streaming,
    /// END_STREAM has been written.
    Done,
}

pub(crate) struct Stream {
    pub(crate) id: StreamId,
    pub(crate) recv_open: bool,
    pub(crate) send: SendHalf,
    pub(crate) pushed: bool,
    /// When the stream opened (its request head arrived, or its push was promised): the
    /// start of `response_send_timeout`.
    pub(crate) opened_at: std::time::Instant,

    // Receive side.
    pub(crate) recv_window: RecvWindow,
    /// Body octets handed to the application and not yet consumed; refunded to the
    /// connection window if the stream goes away first.
    pub(crate) unconsumed: u32,
    pub(crate) content_length: Option<u64>,
    pub(crate) body_received: u64,
    /// The application dropped the request body: discard what arrives, refund it at once.
    pub(crate) body_discarded: bool,
    /// `expect: 100-continue` still owed a 100 when the body is first read.
    pub(crate) expect_continue: bool,
    /// When the client last sent body (or could not, for lack of window); once the
    /// response is complete and the body is discarded, when the response ended.
    pub(crate) last_recv: std::time::Instant,

    // Send side.
    pub(crate) send_window: SendWindow,
    pub(crate) queue: ChunkQueue,
    pub(crate) queued_len: usize,
    /// The application has finished its body (END_STREAM goes on the last DATA or trailers).
    pub(crate) end_queued: bool,
    /// Boxed: trailers are rare, and inline they made every stream 88 octets larger,
    /// octets moved each time a stream enters or leaves the store.
    pub(crate) trailers: Option<Box<HeaderMap>>,
    pub(crate) priority: Priority,
    /// The application asked for send capacity and got none: tell it when there is room.
    pub(crate) writer_blocked: bool,
    /// Since when queued response data has been held back by the peer's windows.
    pub(crate) send_blocked_since: Option<std::time::Instant>,
}

impl Stream {
    pub(crate) fn new(
        id: StreamId,
        recv_window: u32,
        send_window: u32,
        now: std::time::Instant,
    ) -> Self {
        Stream {
            id,
            recv_open: true,
            send: SendHalf::AwaitingHead,
            pushed: false,
            opened_at: now,
            recv_window: RecvWindow::new(recv_window, recv_window),
            unconsumed: 0,
            content_length: None,
            body_received: 0,
            body_discarded: false,
            expect_continue: false,
            last_recv: now,
            send_window: SendWindow::new(send_window),
            queue: ChunkQueue::default(),
            queued_len: 0,
            end_queued: false,
            trailers: None,
            priority: Priority::default(),
            writer_blocked: false,
            send_blocked_since: None,
        }
    }

    /// The RFC 9113 §5.1 state this stream is in.
    pub fn state(&self) -> StreamState {
        if self.pushed && self.send == SendHalf::AwaitingHead {
            return StreamState::ReservedLocal;
        }
        match (self.recv_open, self.send == SendHalf::Done) {
            (true, false) => StreamState::Open,
            (true, true) => StreamState::HalfClosedLocal,
            (false, _) => StreamState::HalfClosedRemote,
        }
    }

    /// Both directions finished: the stream is closed and leaves the store.
    pub(crate) fn is_closed(&self) -> bool {
        !self.recv_open && self.send == SendHalf::Done
    }

    /// Whether the rest of a declared request body (content-length) fits the window the
    /// client already has, so it can arrive without a WINDOW_UPDATE from us.
    pub(crate) fn declared_rest_fits_window(&self) -> bool {
        self.content_length.is_some_and(|declared| {
            declared.saturating_sub(self.body_received) <= u64::from(self.recv_window.available())
        })
    }

    /// The response is complete and the client still sends a body nobody reads
    /// (half-closed (local), draining).
    pub(crate) fn is_draining_unread_body(&self) -> bool {
        self.recv_open && self.body_discarded && self.send == SendHalf::Done
    }

    /// Whether a DATA or trailers frame could be written now (window permitting for DATA).
    pub(crate) fn has_pending_send(&self) -> bool {
        self.send == SendHalf::Streaming && (self.queued_len > 0 || self.end_queued)
    }

    /// Whether the scheduler should hold this stream: it has a frame to write and, if that
    /// frame needs window, some stream window (the connection window is checked when
    /// writing: a stream waiting only for it keeps its place in the queue).
    pub(crate) fn is_ready_to_send(&self) -> bool {
        self.has_pending_send() && (!self.needs_window() || self.send_window.available() > 0)
    }

    /// Whether the next frame needs send window: a non-empty body chunk does, a bare
    /// END_STREAM or trailers do not.
    pub(crate) fn needs_window(&self) -> bool {
        self.queued_len > 0
    }
}

/// Response body chunks waiting for window. Most responses are one chunk, which lives
/// inline: no allocation per response.
#[derive(Default)]
pub(crate) struct ChunkQueue {
    front: Option<Bytes>,
    rest: VecDeque<Bytes>,
}

impl ChunkQueue {
    pub(crate) fn push_back(&mut self, chunk: Bytes) {
        if self.front.is_none() {
            self.front = Some(chunk);
        } else {
            self.rest.push_back(chunk);
        }
    }

    pub(crate) fn front_mut(&mut self) -> Option<&mut Bytes> {
        self.front.as_mut()
    }

    pub(crate) fn pop_front(&mut self) -> Option<Bytes> {
        let front = self.front.take();
        self.front = self.rest.pop_front();
        front
    }

    pub(crate) fn clear(&mut self) {
        self.front = None;
        self.rest.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunk_queue_keeps_order() {
        let mut q = ChunkQueue::default();
        assert!(q.front_mut().is_none());
        for c in [&b"a"[..], b"b", b"c"] {
            q.push_back(Bytes::copy_from_slice(c));
        }
        assert_eq!(q.pop_front().as_deref(), Some(&b"a"[..]));
        q.push_back(Bytes::from_static(b"d"));
        let got: Vec<_> = std::iter::from_fn(|| q.pop_front()).collect();
        assert_eq!(got, vec![&b"b"[..], b"c", b"d"]);
        q.push_back(Bytes::from_static(b"e"));
        q.clear();
        assert!(q.pop_front().is_none());
    }
}
