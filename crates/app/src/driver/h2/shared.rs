//! State one HTTP/2 connection shares between its I/O task and its handlers: the sans-IO
//! connection, the driver's per-stream slots, and the waker of the I/O task. All of it is
//! `Rc`/`RefCell` on one core; no borrow is ever held across an `.await`.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::hash::BuildHasherDefault;
use std::rc::Rc;
use std::task::Waker;
use std::time::Instant;

use bytes::Bytes;
use h2ring_conn::{Connection, ErrorCode, StreamId};
use http::{HeaderMap, StatusCode};

use crate::runtime::ConnInfo;
use crate::service::exchange::{StreamIo, StreamSlot};
use crate::service::{stamp, PreparedHead, StreamError};

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
    /// The serial number of the `date` the connection's encoder holds (0: none yet).
    date_serial: Cell<u64>,
    /// Whether the service was last told this connection is Active (ConnState).
    pub(crate) active: Cell<bool>,
    /// Slots of finished streams that nothing refers to any more, for the next requests.
    spare_slots: RefCell<Vec<Rc<StreamSlot>>>,
    /// The request object of the last request answered at once, refilled for the next
    /// one (see `dispatch::fill_request`). Its body is always empty. Boxed: an idle
    /// connection carries a pointer, not a request.
    pub(crate) spare_request: RefCell<Option<Box<crate::service::Request>>>,
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
            date_serial: Cell::new(0),
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

    /// The connection, unless it is gone or (defensively) already borrowed.
    fn borrow_conn(&self) -> Result<std::cell::RefMut<'_, Connection>, StreamError> {
        if self.closed.get() {
            return Err(StreamError::ConnectionClosed);
        }
        self.conn
            .try_borrow_mut()
            .map_err(|_| StreamError::ConnectionClosed)
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

    /// [`with_conn`](Self::with_conn) for a response head: the encoder gets this second's
    /// `date` first if it holds an older one (once a second per connection).
    fn with_head<T>(
        &self,
        f: impl FnOnce(&mut Connection, Instant) -> T,
    ) -> Result<T, StreamError> {
        self.with_conn(|c, now| {
            self.sync_date(c, now);
            f(c, now)
        })
    }

    /// Gives the connection's encoder this second's `date` if it holds an older one: before
    /// each head the driver's handlers send, and before each `recv` (for the heads the
    /// connection answers itself, such as a 431).
    pub(crate) fn sync_date(&self, conn: &mut Connection, now: Instant) {
        stamp::with_date(now, |serial, date| {
            if serial != self.date_serial.get() {
                self.date_serial.set(serial);
                conn.set_response_date(Some(date));
            }
        });
    }
}

impl StreamIo for ConnShared {
    fn info(&self) -> ConnInfo {
        self.info
    }

    fn send_head(
        &self,
        id: StreamId,
        status: StatusCode,
        headers: &HeaderMap,
        end: bool,
    ) -> Result<(), StreamError> {
        self.with_head(|c, now| c.send_response(id, status, headers, end, now))?
            .map_err(StreamError::from)
    }

    fn send_sized_head(
        &self,
        id: StreamId,
        status: StatusCode,
        headers: &HeaderMap,
        content_length: u64,
        end: bool,
    ) -> Result<(), StreamError> {
        self.with_head(|c, now| {
            c.send_sized_response(id, status, headers, content_length, end, now)
        })?
        .map_err(StreamError::from)
    }

    fn send_prepared_head(
        &self,
        id: StreamId,
        status: StatusCode,
        prepared: &PreparedHead,
        extra: &HeaderMap,
        end: bool,
    ) -> Result<(), StreamError> {
        self.with_head(|c, now| {
            c.send_prepared_response(id, status, prepared.fields(), extra, end, now)
        })?
        .map_err(StreamError::from)
    }

    fn send_data(&self, id: StreamId, data: Bytes, end: bool) -> Result<(), StreamError> {
        self.with_conn(|c, _| c.send_data(id, data, end))?
            .map_err(StreamError::from)
    }

    fn send_trailers(&self, id: StreamId, trailers: HeaderMap) -> Result<(), StreamError> {
        self.with_conn(|c, _| c.send_trailers(id, trailers))?
            .map_err(StreamError::from)
    }

    /// A query: no output is produced, so the I/O task is not woken.
    fn send_capacity(&self, id: StreamId) -> Result<usize, StreamError> {
        self.borrow_conn()?
            .send_capacity(id)
            .map_err(StreamError::from)
    }

    fn consume(&self, id: StreamId, n: usize) {
        let _ = self.with_conn(|c, _| c.consume(id, n));
    }

    fn body_wanted(&self, id: StreamId) {
        let _ = self.with_conn(|c, now| c.body_wanted(id, now));
    }

    fn discard_body(&self, id: StreamId) {
        let _ = self.with_conn(|c, now| c.discard_body(id, now));
    }

    fn reset(&self, id: StreamId, code: ErrorCode) {
        let _ = self.with_conn(|c, now| c.reset(id, code, now));
    }

    fn can_push(&self) -> bool {
        !self.closed.get() && self.conn.try_borrow().is_ok_and(|c| c.can_push())
    }

    fn push(
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
