//! The connection task's I/O: one poll function that reads, feeds the connection,
//! dispatches events, runs timers and writes, then sleeps until something wakes it.

use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::BytesMut;
use futures_lite::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use glommio::timer::Timer;
use h2ring_conn::Connection;

use super::dispatch::dispatch;
use super::shared::ConnShared;
use crate::driver::send_progress::SendProgress;
use crate::runtime::ConnInfo;
use crate::service::exchange::CoreServices;
use crate::service::{ConnState, Service, StreamError};
use crate::transport::abort::ResetOnClose;
use crate::transport::scratch::Layer;

/// Octets asked of the socket per read. Large enough to take many small requests in
/// one syscall.
const READ_CHUNK: usize = 16 * 1024;
/// Loop turns one wake-up may take before yielding, so a busy connection cannot starve
/// the others on its core.
const MAX_TURNS: usize = 16;
/// A write buffer that grew past this is released as soon as the connection is idle; a
/// smaller one stays until the idle release (see [`IDLE_RELEASE_DELAY`]).
const KEEP_WRITE_BUFFER: usize = 64 * 1024;
/// Bounds of the adaptive per-write DATA budget: a socket that takes everything we give
/// it gets more per write (fewer syscalls and wake-ups: 64 KiB responses went from 45k to
/// 93k req/s at 1 MiB), one whose reader does not keep up drops back to the minimum (a
/// slow reader pins less memory).
const MIN_WRITE_BUDGET: usize = 64 * 1024;
const MAX_WRITE_BUDGET: usize = 1024 * 1024;
/// A socket that refuses our bytes this long has a slow reader: back to the small budget.
const SLOW_READER: std::time::Duration = std::time::Duration::from_millis(200);
/// A connection idle this long gives back its socket buffers (a large write buffer goes
/// at once, see `release_large_write_buffer`) and the memory its streams left behind (see
/// `Connection::release_idle_memory`). Not at once: under load a connection is idle
/// between every two bursts of requests, and releasing then regrew the buffers, the
/// stream map and the scheduler and emptied the HPACK memos once per burst.
const IDLE_RELEASE_DELAY: std::time::Duration = std::time::Duration::from_millis(250);

enum ReadOutcome {
    Data,
    Closed,
    Pending,
}

struct Io<T> {
    stream: T,
    rbuf: BytesMut,
    wbuf: BytesMut,
    wpos: usize,
    timer: Option<(Instant, Timer)>,
    /// Whether the client reads what we write fast enough (`write_timeout`, the minimum
    /// send rate).
    progress: SendProgress,
    /// DATA octets asked of the connection per write; adapts between the bounds above.
    write_budget: usize,
    shutdown: Option<Pin<Box<dyn Future<Output = ()>>>>,
    cancelled: Vec<glommio::Task<()>>,
    /// The last turn that made progress.
    busy_at: Instant,
    /// When an idle connection's memory is due for release (see [`IDLE_RELEASE_DELAY`]).
    release_at: Option<Instant>,
    /// Whether the memory was released since the connection was last busy.
    released: bool,
    /// The connection was given up on as a slow reader: it ends with an RST, not a
    /// graceful close (which would wait to flush to the client that does not read; over
    /// TLS, forever).
    reset: bool,
}

/// Ends every stream's handler when the connection task ends, however it ends (including
/// being dropped by a forced close), so no handler outlives its connection.
struct Teardown(Rc<ConnShared>);

impl Drop for Teardown {
    fn drop(&mut self) {
        self.0.closed.set(true);
        let slots: Vec<_> = self
            .0
            .streams
            .borrow_mut()
            .drain()
            .map(|(_, s)| s)
            .collect();
        let mut tasks = Vec::with_capacity(slots.len());
        for slot in slots {
            slot.fail(StreamError::ConnectionClosed);
            tasks.extend(slot.task.borrow_mut().take());
        }
        drop(tasks);
        // Whatever a service left in the kept request's extensions must not keep the
        // connection alive (a cycle through `ConnShared`).
        let kept = self.0.spare_request.borrow_mut().take();
        drop(kept);
    }
}

/// [`serve`] with a fresh connection configured for this core.
pub(crate) fn serve_new<S, T>(
    stream: T,
    read_ahead: BytesMut,
    info: ConnInfo,
    services: Rc<CoreServices<S>>,
) -> impl std::future::Future<Output = ()>
where
    S: Service,
    T: AsyncRead + AsyncWrite + ResetOnClose + Unpin,
{
    let conn = Connection::new(Rc::clone(&services.settings.http2), Instant::now());
    serve(stream, read_ahead, conn, info, services)
}

/// Serves HTTP/2 on any byte transport (a TCP socket, a TLS session, or a socket whose
/// first bytes were already read into `read_ahead` while sniffing the protocol).
///
/// Not an `async fn`: the connection moves into its `Rc` before the future exists, so the
/// future (allocated for every connection, idle ones included) does not carry a second,
/// dead copy of it.
pub(crate) fn serve<S, T>(
    stream: T,
    read_ahead: BytesMut,
    conn: Connection,
    info: ConnInfo,
    services: Rc<CoreServices<S>>,
) -> impl std::future::Future<Output = ()>
where
    S: Service,
    T: AsyncRead + AsyncWrite + ResetOnClose + Unpin,
{
    let now = Instant::now();
    let mut conn = conn;
    conn.set_server_header(services.settings.server_header.as_ref());
    let shared = Rc::new(ConnShared::new(conn, info, now));
    drive(stream, read_ahead, shared, info, services, now)
}

async fn drive<S, T>(
    stream: T,
    read_ahead: BytesMut,
    shared: Rc<ConnShared>,
    info: ConnInfo,
    services: Rc<CoreServices<S>>,
    now: Instant,
) where
    S: Service,
    T: AsyncRead + AsyncWrite + ResetOnClose + Unpin,
{
    let _teardown = Teardown(shared.clone());
    let mut io = Io {
        stream,
        rbuf: read_ahead,
        wbuf: BytesMut::new(),
        wpos: 0,
        timer: None,
        progress: SendProgress::new(&services.settings.http2),
        write_budget: MIN_WRITE_BUDGET,
        shutdown: Some(Box::pin(services.core.shutdown_started())),
        cancelled: Vec::new(),
        busy_at: now,
        release_at: None,
        released: false,
        reset: false,
    };
    services.service.on_connection(&info, ConnState::New);
    if !io.rbuf.is_empty() {
        // Octets read ahead while sniffing the protocol are the start of the client's
        // input (preface, SETTINGS, maybe whole requests): feed them now, or a client
        // that sent everything in its first packet waits for a read that never comes.
        let mut conn = shared.conn.borrow_mut();
        shared.sync_date(&mut conn, now);
        conn.recv(&mut io.rbuf, now);
    }
    poll_fn(|cx| {
        let done = io.poll(cx, &shared, &services);
        // Go's ConnState: a connection whose requests all finished is idle again. (Active
        // is reported by `dispatch` as a request starts, since a request can start and
        // finish within one poll.)
        let streams_open = shared.conn.try_borrow().is_ok_and(|c| c.open_streams() > 0);
        if shared.active.get() && !streams_open {
            shared.active.set(false);
            services.service.on_connection(&info, ConnState::Idle);
        }
        done
    })
    .await;
    services.service.on_connection(&info, ConnState::Closed);
    let stats = shared.conn.borrow().stats().clone();
    services.core.metrics().bytes_in(stats.bytes_in);
    services.core.metrics().bytes_out(stats.bytes_out);
    if !io.reset {
        let _ = io.stream.close().await;
    }
}

/// The earlier of two optional deadlines.
fn earliest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

impl<T: AsyncRead + AsyncWrite + ResetOnClose + Unpin> Io<T> {
    fn poll<S: Service>(
        &mut self,
        cx: &mut Context<'_>,
        shared: &Rc<ConnShared>,
        services: &CoreServices<S>,
    ) -> Poll<()> {
        shared.clear_io_waker();
        for _ in 0..MAX_TURNS {
            let now = Instant::now();
            shared.now.set(now);
            let mut progressed = false;
            if let Some(signal) = self.shutdown.as_mut() {
                if signal.as_mut().poll(cx).is_ready() {
                    self.shutdown = None;
                    shared.conn.borrow_mut().start_shutdown(now);
                    progressed = true;
                }
            }
            match self.read(cx) {
                ReadOutcome::Data => {
                    let mut conn = shared.conn.borrow_mut();
                    shared.sync_date(&mut conn, now);
                    conn.recv(&mut self.rbuf, now);
                    drop(conn);
                    progressed = true;
                }
                // The peer is gone (or broke the connection): nothing left to do.
                ReadOutcome::Closed => return Poll::Ready(()),
                ReadOutcome::Pending => {}
            }
            progressed |= self.poll_timer(cx, shared, now);
            self.dispatch(shared, services, cx);
            match self.write(cx, shared, now) {
                Ok(wrote) => progressed |= wrote,
                Err(()) => return Poll::Ready(()),
            }
            // Judged after a write attempt: the kernel wakes a blocked writer only once a
            // third of its send buffer is free, so the timer's wake-up is often the first
            // chance to see what the client took since.
            if let Err(why) = self.progress.check(now) {
                // The client stopped reading, or reads a trickle (slow read,
                // CVE-2019-9517): give up on it. No GOAWAY: it would queue behind the
                // frames the client is not reading. RST frees what the kernel still holds.
                tracing::debug!(peer = %shared.info.peer, ?why, "closing a slow reader");
                services.core.metrics().slow_reader_closed();
                self.stream.reset_on_close();
                self.reset = true;
                return Poll::Ready(());
            }
            // Writing may have finished streams or freed capacity.
            self.dispatch(shared, services, cx);
            let (closed, idle) = {
                let conn = shared.conn.borrow();
                (conn.is_closed(), conn.is_idle())
            };
            if closed && self.wpos == self.wbuf.len() {
                return Poll::Ready(());
            }
            if progressed {
                self.busy_at = now;
                self.released = false;
                continue;
            }
            if idle {
                self.release_large_write_buffer();
                if !self.released && self.release_idle_memory_when_due(cx, shared, now) {
                    // Arming the release timer handled a connection timeout: another turn.
                    continue;
                }
            }
            shared.set_io_waker(cx.waker());
            return Poll::Pending;
        }
        // Busy: let the other connections on this core have a turn.
        cx.waker().wake_by_ref();
        Poll::Pending
    }

    fn dispatch<S: Service>(
        &mut self,
        shared: &Rc<ConnShared>,
        services: &CoreServices<S>,
        cx: &mut Context<'_>,
    ) {
        dispatch(shared, services, &mut self.cancelled, cx);
        // Dropping a glommio task cancels it; done here, outside every borrow.
        self.cancelled.clear();
    }

    fn read(&mut self, cx: &mut Context<'_>) -> ReadOutcome {
        let got = Layer::Plaintext.poll_append(
            Pin::new(&mut self.stream),
            cx,
            READ_CHUNK,
            &mut self.rbuf,
        );
        match got {
            Poll::Ready(Ok(0)) | Poll::Ready(Err(_)) => ReadOutcome::Closed,
            Poll::Ready(Ok(_)) => ReadOutcome::Data,
            Poll::Pending => ReadOutcome::Pending,
        }
    }

    /// Writes what the connection produced; `Err` when the socket is broken.
    fn write(
        &mut self,
        cx: &mut Context<'_>,
        shared: &ConnShared,
        now: Instant,
    ) -> Result<bool, ()> {
        let mut wrote = false;
        loop {
            if self.wpos == self.wbuf.len() {
                self.wbuf.clear();
                self.wpos = 0;
                shared.conn.borrow_mut().poll_transmit_up_to(
                    &mut self.wbuf,
                    self.write_budget,
                    now,
                );
                if self.wbuf.is_empty() {
                    // Nothing pending: the slow-reader rules have nothing to count.
                    self.progress.drained();
                    return Ok(wrote);
                }
            }
            match Pin::new(&mut self.stream).poll_write(cx, &self.wbuf[self.wpos..]) {
                Poll::Ready(Ok(0)) | Poll::Ready(Err(_)) => return Err(()),
                Poll::Ready(Ok(n)) => {
                    self.wpos += n;
                    self.progress.wrote(n);
                    wrote = true;
                    if self.wpos == self.wbuf.len() && n >= self.write_budget / 2 {
                        // A full, large write went through at once: the socket keeps up.
                        self.write_budget = (self.write_budget * 2).min(MAX_WRITE_BUDGET);
                    }
                }
                Poll::Pending => {
                    let since = self.progress.refused(now);
                    if now.saturating_duration_since(since) >= SLOW_READER {
                        // Not a momentarily full socket but a reader that does not keep up.
                        self.write_budget = MIN_WRITE_BUDGET;
                    }
                    return Ok(wrote);
                }
            }
        }
    }

    /// Runs the connection's timers: handles a due timeout (returns true) or arms the one
    /// timer for the earliest of the connection's deadline, the write deadline and the
    /// idle-memory release.
    fn poll_timer(&mut self, cx: &mut Context<'_>, shared: &ConnShared, now: Instant) -> bool {
        let write_deadline = self.progress.deadline();
        let conn_deadline = earliest(shared.conn.borrow().poll_timeout(), write_deadline);
        if conn_deadline.is_some_and(|at| at <= now) {
            shared.conn.borrow_mut().handle_timeout(now);
            return true;
        }
        // A release already due is done at the end of this turn; no timer for it.
        let release_at = self.release_at.filter(|at| *at > now);
        let Some(deadline) = earliest(conn_deadline, release_at) else {
            self.timer = None;
            return false;
        };
        match &mut self.timer {
            Some((at, timer)) if *at != deadline => {
                timer.reset(deadline - now);
                *at = deadline;
            }
            Some(_) => {}
            None => self.timer = Some((deadline, Timer::new(deadline - now))),
        }
        if let Some((_, timer)) = self.timer.as_mut() {
            if Pin::new(timer).poll(cx).is_ready() {
                self.timer = None;
                let now = Instant::now();
                if conn_deadline.is_some_and(|at| at <= now) {
                    shared.conn.borrow_mut().handle_timeout(now);
                    return true;
                }
            }
        }
        false
    }

    /// An idle connection: releases its memory once it has been idle for
    /// [`IDLE_RELEASE_DELAY`], else makes sure the timer will wake it then. Returns true
    /// if a connection timeout turned out to be due while arming.
    fn release_idle_memory_when_due(
        &mut self,
        cx: &mut Context<'_>,
        shared: &ConnShared,
        now: Instant,
    ) -> bool {
        let due = self.busy_at + IDLE_RELEASE_DELAY;
        if now >= due {
            self.release_buffers();
            shared.release_idle_memory();
            self.released = true;
            self.release_at = None;
            return false;
        }
        // Re-armed only once the previous deadline passed: a connection busy in bursts
        // resets its timer once per delay, not once per burst.
        if self.release_at.is_some_and(|at| at > now) {
            return false;
        }
        self.release_at = Some(due);
        self.poll_timer(cx, shared, now)
    }

    /// A write buffer grown for bulk data goes back to the allocator as soon as the
    /// connection has nothing in flight, not after the idle delay: the next burst, on this
    /// connection or another, then takes a buffer the cache has just seen. Each of 16
    /// connections keeping its own 1 MiB buffer cost 64 KiB responses 10%.
    fn release_large_write_buffer(&mut self) {
        if self.wpos == self.wbuf.len() && self.wbuf.capacity() > KEEP_WRITE_BUFFER {
            self.wbuf = BytesMut::new();
            self.wpos = 0;
        }
    }

    /// Idle connections keep no buffers (the Go server's first TODO): a connection with
    /// nothing in flight costs its socket and the small connection state only.
    fn release_buffers(&mut self) {
        if self.rbuf.is_empty() && self.rbuf.capacity() > 0 {
            self.rbuf = BytesMut::new();
        }
        if self.wpos == self.wbuf.len() && self.wbuf.capacity() > 0 {
            self.wbuf = BytesMut::new();
            self.wpos = 0;
        }
    }
}
