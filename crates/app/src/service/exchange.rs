//! The seam between the service API and the protocol drivers. `StreamIo`: what a request's body, its response writer and its `Context` need from the
//! protocol carrying it, so one `Service` answers HTTP/2 streams and HTTP/1.1 exchanges.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;
use std::task::{Poll, Waker};

use bytes::Bytes;
use h2ring_conn::{ErrorCode, StreamId};
use http::{HeaderMap, StatusCode};

use super::respond::merged_head;
use super::{PreparedHead, StreamError};
use crate::runtime::{ConnInfo, CoreContext};
use crate::Http2Config;

/// One request/response exchange's transport, seen from the handler side. Implemented by
/// the HTTP/2 connection state (per stream id) and by the HTTP/1.1 connection.
pub(crate) trait StreamIo {
    /// Facts about the connection.
    fn info(&self) -> ConnInfo;
    /// Queues a response head (final or 1xx); `end` when no body follows.
    fn send_head(
        &self,
        id: StreamId,
        status: StatusCode,
        headers: &HeaderMap,
        end: bool,
    ) -> Result<(), StreamError>;
    /// Queues a final response head of `headers` and `content-length: content_length`
    /// (not in the map: adding it there costs a field map's allocations per response);
    /// a 1xx status is refused.
    fn send_sized_head(
        &self,
        id: StreamId,
        status: StatusCode,
        headers: &HeaderMap,
        content_length: u64,
        end: bool,
    ) -> Result<(), StreamError>;
    /// Queues a response head of `prepared` fields followed by `extra` ones.
    fn send_prepared_head(
        &self,
        id: StreamId,
        status: StatusCode,
        prepared: &PreparedHead,
        extra: &HeaderMap,
        end: bool,
    ) -> Result<(), StreamError> {
        self.send_head(id, status, &merged_head(prepared, extra), end)
    }
    /// Queues body octets; `end` ends the body.
    fn send_data(&self, id: StreamId, data: Bytes, end: bool) -> Result<(), StreamError>;
    /// Ends the body with trailers.
    fn send_trailers(&self, id: StreamId, trailers: HeaderMap) -> Result<(), StreamError>;
    /// Octets the writer may queue now (0: wait for `wake_sender`).
    fn send_capacity(&self, id: StreamId) -> Result<usize, StreamError>;
    /// The handler took `n` octets of request body.
    fn consume(&self, id: StreamId, n: usize);
    /// The handler started reading the body (`100 Continue` time).
    fn body_wanted(&self, id: StreamId);
    /// The handler dropped the body unread.
    fn discard_body(&self, id: StreamId);
    /// Abandons the exchange.
    fn reset(&self, id: StreamId, code: ErrorCode);
    /// Whether server push is possible now.
    fn can_push(&self) -> bool;
    /// Promises a pushed GET of `uri`.
    fn push(
        &self,
        parent: StreamId,
        uri: http::Uri,
        headers: HeaderMap,
    ) -> Result<u32, StreamError>;
}

/// The settings every connection on one core shares, made once per core.
pub(crate) struct CoreSettings {
    /// HTTP/2 settings, normalized.
    pub(crate) http2: Rc<Http2Config>,
    /// The cap on running handlers (Go's unimplemented MaxHandlers).
    pub(crate) max_handlers: usize,
    /// The `server` field of every final response without one (`None`: not sent).
    pub(crate) server_header: Option<http::HeaderValue>,
    /// This core's end of the access log, if there is one.
    pub(crate) access_log: Option<Rc<super::access_log::CoreLog>>,
}

/// What a driver needs from the core: the service, the core's context, the core's
/// settings, and the per-core count of running handlers.
pub(crate) struct CoreServices<S> {
    pub(crate) service: Rc<S>,
    pub(crate) core: CoreContext,
    pub(crate) settings: Rc<CoreSettings>,
    pub(crate) handlers: Rc<Cell<usize>>,
}

/// The body of one request as it arrives, waiting for the handler to read it.
#[derive(Default)]
pub(crate) struct BodyQueue {
    chunks: VecDeque<Bytes>,
    ended: bool,
    trailers: Option<HeaderMap>,
}

/// The driver's view of one stream: request body queue, wakers, and the handler task.
pub(crate) struct StreamSlot {
    pub(crate) id: StreamId,
    pub(crate) pushed: bool,
    pub(crate) scheme: http::uri::Scheme,
    pub(crate) authority: Option<http::uri::Authority>,
    body: RefCell<BodyQueue>,
    body_waker: Cell<Option<Waker>>,
    send_waker: Cell<Option<Waker>>,
    reset: Cell<Option<StreamError>>,
    pub(crate) task: RefCell<Option<glommio::Task<()>>>,
}

impl StreamSlot {
    pub(crate) fn new(
        id: StreamId,
        pushed: bool,
        scheme: http::uri::Scheme,
        authority: Option<http::uri::Authority>,
        end_stream: bool,
    ) -> Self {
        StreamSlot {
            id,
            pushed,
            scheme,
            authority,
            body: RefCell::new(BodyQueue {
                ended: end_stream,
                ..BodyQueue::default()
            }),
            body_waker: Cell::new(None),
            send_waker: Cell::new(None),
            reset: Cell::new(None),
            task: RefCell::new(None),
        }
    }

    /// Makes a finished stream's slot the slot of a new one, keeping its body queue's
    /// memory.
    pub(crate) fn reinit(
        &mut self,
        id: StreamId,
        pushed: bool,
        scheme: http::uri::Scheme,
        authority: Option<http::uri::Authority>,
        end_stream: bool,
    ) {
        self.id = id;
        self.pushed = pushed;
        self.scheme = scheme;
        self.authority = authority;
        let body = self.body.get_mut();
        body.chunks.clear();
        body.ended = end_stream;
        body.trailers = None;
        *self.body_waker.get_mut() = None;
        *self.send_waker.get_mut() = None;
        *self.reset.get_mut() = None;
        *self.task.get_mut() = None;
    }

    pub(crate) fn push_data(&self, data: Bytes, end: bool) {
        {
            let mut body = self.body.borrow_mut();
            if !data.is_empty() {
                body.chunks.push_back(data);
            }
            body.ended |= end;
        }
        self.wake_body();
    }

    pub(crate) fn set_trailers(&self, trailers: HeaderMap) {
        {
            let mut body = self.body.borrow_mut();
            body.trailers = Some(trailers);
            body.ended = true;
        }
        self.wake_body();
    }

    pub(crate) fn take_trailers(&self) -> Option<HeaderMap> {
        self.body.borrow_mut().trailers.take()
    }

    pub(crate) fn body_finished(&self) -> bool {
        let body = self.body.borrow();
        body.ended && body.chunks.is_empty()
    }

    pub(crate) fn poll_body(&self, waker: &Waker) -> Poll<Option<Result<Bytes, StreamError>>> {
        let mut body = self.body.borrow_mut();
        if let Some(chunk) = body.chunks.pop_front() {
            return Poll::Ready(Some(Ok(chunk)));
        }
        if body.ended {
            return Poll::Ready(None);
        }
        if let Some(err) = self.reset.get() {
            return Poll::Ready(Some(Err(err)));
        }
        self.body_waker.set(Some(waker.clone()));
        Poll::Pending
    }

    fn wake_body(&self) {
        if let Some(w) = self.body_waker.take() {
            w.wake();
        }
    }

    pub(crate) fn set_send_waker(&self, waker: &Waker) {
        self.send_waker.set(Some(waker.clone()));
    }

    pub(crate) fn wake_sender(&self) {
        if let Some(w) = self.send_waker.take() {
            w.wake();
        }
    }

    pub(crate) fn error(&self) -> Option<StreamError> {
        self.reset.get()
    }

    /// The stream is gone: wake everyone waiting on it with the error.
    pub(crate) fn fail(&self, err: StreamError) {
        if self.reset.get().is_none() {
            self.reset.set(Some(err));
        }
        self.wake_body();
        self.wake_sender();
    }
}
