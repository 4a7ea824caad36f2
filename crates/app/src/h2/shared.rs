//! State one HTTP/2 connection shares between its I/O task and its handlers: the sans-IO
//! connection, the driver's per-stream slots, and the waker of the I/O task. All of it is
//! `Rc`/`RefCell` on one core; no borrow is ever held across an `.await`.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};
use std::hash::BuildHasherDefault;
use std::rc::Rc;
use std::task::{Poll, Waker};
use std::time::Instant;

use bytes::Bytes;
use h2ring_conn::{Connection, ErrorCode, StreamId};
use http::{HeaderMap, StatusCode};

use crate::runtime::ConnInfo;
use crate::service::StreamError;

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
    fn reinit(
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

/// The handler-side state of each stream in flight, by id.
pub(crate) type StreamSlots =
    HashMap<StreamId, Rc<StreamSlot>, BuildHasherDefault<h2ring_conn::StreamIdHasher>>;

/// One connection's shared state.
pub(crate) struct ConnShared {
    pub(crate) conn: RefCell<Connection>,
    pub(crate) streams: RefCell<StreamSlots>,
    io_waker: Cell<Option<Waker>>,
    pub(crate) info: ConnInfo,
    /// The time of the I/O task's current turn; handlers use it instead of reading the clock.
    pub(crate) now: Cell<Instant>,
    pub(crate) closed: Cell<bool>,
    /// Whether the service was last told this connection is Active (ConnState).
    pub(crate) active: Cell<bool>,
    /// Slots of finished streams that nothing refers to any more, for the next requests.
    spare_slots: RefCell<Vec<Rc<StreamSlot>>>,
    /// The request object of the last request answered at once, refilled for the next
    /// one (see `dispatch::fill_request`). Its body is always empty. Boxed: an idle
    /// connection carries a pointer, not a request.
    pub(crate) spare_request: RefCell<Option<Box<crate::Request>>>,
}

/// Finished stream slots kept for reuse: a burst can open as many streams as the
/// connection allows at once (250 by default), all decoded before the first is answered.
/// The pool goes when the connection idles.
const MAX_SPARE_SLOTS: usize = 256;

impl ConnShared {
    pub(crate) fn new(conn: Connection, info: ConnInfo, now: Instant) -> Self {
        ConnShared {
            conn: RefCell::new(conn),
            streams: RefCell::new(StreamSlots::default()),
            io_waker: Cell::new(None),
            info,
            now: Cell::new(now),
            closed: Cell::new(false),
            active: Cell::new(false),
            spare_slots: RefCell::new(Vec::new()),
            spare_request: RefCell::new(None),
        }
    }

    /// A slot for a new stream, in the allocation of a finished one when there is one.
    pub(crate) fn new_slot(
        &self,
        id: StreamId,
        pushed: bool,
        scheme: http::uri::Scheme,
        authority: Option<http::uri::Authority>,
        end_stream: bool,
    ) -> Rc<StreamSlot> {
        let spare = self.spare_slots.borrow_mut().pop();
        if let Some(mut spare) = spare {
            // Only unshared slots are kept (see `recycle_slot`).
            if let Some(reused) = Rc::get_mut(&mut spare) {
                reused.reinit(id, pushed, scheme, authority, end_stream);
                return spare;
            }
        }
        Rc::new(StreamSlot::new(id, pushed, scheme, authority, end_stream))
    }

    /// Takes back the slot of a stream that ended, if nothing else holds it: a request
    /// answered within its turn then costs no allocation for its slot.
    pub(crate) fn recycle_slot(&self, slot: Rc<StreamSlot>) {
        if Rc::strong_count(&slot) == 1 && Rc::weak_count(&slot) == 0 {
            let mut spare = self.spare_slots.borrow_mut();
            if spare.len() < MAX_SPARE_SLOTS {
                spare.push(slot);
            }
        }
    }

    /// Gives back the memory a burst of requests left behind (the connection is idle).
    pub(crate) fn release_idle_memory(&self) {
        self.conn.borrow_mut().release_idle_memory();
        *self.spare_slots.borrow_mut() = Vec::new();
        *self.spare_request.borrow_mut() = None;
        let mut streams = self.streams.borrow_mut();
        if streams.is_empty() && streams.capacity() > 0 {
            *streams = StreamSlots::default();
        }
    }

    pub(crate) fn set_io_waker(&self, waker: &Waker) {
        self.io_waker.set(Some(waker.clone()));
    }

    /// The I/O task is running: wake-ups from handlers it polls itself are not needed.
    pub(crate) fn clear_io_waker(&self) {
        self.io_waker.take();
    }

    /// New output is waiting in the connection: let the I/O task write it.
    pub(crate) fn wake_io(&self) {
        if let Some(w) = self.io_waker.take() {
            w.wake();
        }
    }

    /// Runs `f` on the connection and wakes the I/O task. `Err` if the connection is gone
    /// or (defensively) already borrowed.
    fn with_conn<T>(
        &self,
        f: impl FnOnce(&mut Connection, Instant) -> T,
    ) -> Result<T, StreamError> {
        let mut conn = self.borrow_conn()?;
        let out = f(&mut conn, self.now.get());
        drop(conn);
        self.wake_io();
        Ok(out)
    }

    pub(crate) fn send_head(
        &self,
        id: StreamId,
        status: StatusCode,
        headers: &HeaderMap,
        end: bool,
    ) -> Result<(), StreamError> {
        self.with_conn(|c, now| c.send_response(id, status, headers, end, now))?
            .map_err(StreamError::from)
    }

    pub(crate) fn send_sized_head(
        &self,
        id: StreamId,
        status: StatusCode,
        headers: &HeaderMap,
        content_length: u64,
        end: bool,
    ) -> Result<(), StreamError> {
        self.with_conn(|c, now| {
            c.send_sized_response(id, status, headers, content_length, end, now)
        })?
        .map_err(StreamError::from)
    }

    pub(crate) fn send_prepared_head(
        &self,
        id: StreamId,
        status: StatusCode,
        prepared: &crate::PreparedHead,
        extra: &HeaderMap,
        end: bool,
    ) -> Result<(), StreamError> {
        self.with_conn(|c, now| {
            c.send_prepared_response(id, status, prepared.fields(), extra, end, now)
        })?
        .map_err(StreamError::from)
    }

    pub(crate) fn send_data(
        &self,
        id: StreamId,
        data: Bytes,
        end: bool,
    ) -> Result<(), StreamError> {
        self.with_conn(|c, _| c.send_data(id, data, end))?
            .map_err(StreamError::from)
    }

    pub(crate) fn send_trailers(
        &self,
        id: StreamId,
        trailers: HeaderMap,
    ) -> Result<(), StreamError> {
        self.with_conn(|c, _| c.send_trailers(id, trailers))?
            .map_err(StreamError::from)
    }

    /// A query: no output is produced, so the I/O task is not woken.
    pub(crate) fn send_capacity(&self, id: StreamId) -> Result<usize, StreamError> {
        self.borrow_conn()?
            .send_capacity(id)
            .map_err(StreamError::from)
    }

    /// The connection, unless it is gone or (defensively) already borrowed.
    fn borrow_conn(&self) -> Result<std::cell::RefMut<'_, Connection>, StreamError> {
        if self.closed.get() {
            return Err(StreamError::ConnectionClosed);
        }
        self.conn
            .try_borrow_mut()
            .map_err(|_| StreamError::ConnectionClosed)
    }

    pub(crate) fn consume(&self, id: StreamId, n: usize) {
        let _ = self.with_conn(|c, _| c.consume(id, n));
    }

    pub(crate) fn body_wanted(&self, id: StreamId) {
        let _ = self.with_conn(|c, now| c.body_wanted(id, now));
    }

    pub(crate) fn discard_body(&self, id: StreamId) {
        let _ = self.with_conn(|c, now| c.discard_body(id, now));
    }

    pub(crate) fn reset(&self, id: StreamId, code: ErrorCode) {
        let _ = self.with_conn(|c, now| c.reset(id, code, now));
    }

    pub(crate) fn can_push(&self) -> bool {
        !self.closed.get() && self.conn.try_borrow().is_ok_and(|c| c.can_push())
    }

    pub(crate) fn push(
        &self,
        parent: StreamId,
        uri: http::Uri,
        headers: HeaderMap,
    ) -> Result<u32, StreamError> {
        self.with_conn(|c, _| c.push_promise(parent, http::Method::GET, uri, headers))?
            .map(|id| id.value())
            .map_err(StreamError::from)
    }
}
