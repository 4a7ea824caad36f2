//! Owns one connection's I/O loop: read everything available, feed the client, let the
//! pacer send, write the whole batch in one go, and sleep until the socket or a timer wakes it.

use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::BytesMut;
use futures_lite::io::{AsyncRead, AsyncWrite};
use glommio::timer::Timer;

use super::core::CoreRun;
use super::pacer::Pacer;
use crate::client::ClientConn;
use crate::config::TIMEOUT_CHECK_INTERVAL;

/// Loop turns one wake-up may take before yielding to the core's other connections.
const MAX_TURNS: usize = 8;

/// How a connection's loop ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The run is over for this connection (deadline reached or quota done).
    Done,
    /// The connection broke or was shut down by the server; reconnect if time remains.
    Lost,
}

enum Read {
    Data(usize),
    Closed,
    Pending,
}

/// One live connection.
pub struct Link<T> {
    stream: T,
    rbuf: BytesMut,
    /// Where the socket is read into, zeroed once. Reading straight into `rbuf`'s spare
    /// capacity would need it zeroed before every read (a safe `&mut [u8]`): 64 KiB of
    /// memset per read cost a tenth of the client's CPU, more than copying what arrived.
    scratch: Box<[u8]>,
    conn: ClientConn,
    timer: Option<(Instant, Timer)>,
    next_expiry: Instant,
    counted: bool,
}

impl<T: AsyncRead + AsyncWrite + Unpin> Link<T> {
    /// Wraps a connected transport; the client preface is written on the first turn.
    pub fn new(stream: T, conn: ClientConn, read_chunk: usize, now: Instant) -> Link<T> {
        Link {
            stream,
            rbuf: BytesMut::with_capacity(read_chunk),
            scratch: vec![0; read_chunk].into_boxed_slice(),
            conn,
            timer: None,
            next_expiry: now + TIMEOUT_CHECK_INTERVAL,
            counted: false,
        }
    }

    /// Runs the connection until the run ends for it or it breaks.
    pub async fn run(mut self, core: &CoreRun, pacer: &mut Pacer) -> Outcome {
        let outcome = poll_fn(|cx| self.poll(cx, core, pacer)).await;
        if outcome == Outcome::Lost {
            self.conn.abort(&mut core.stats.borrow_mut());
        }
        outcome
    }

    fn poll(&mut self, cx: &mut Context<'_>, core: &CoreRun, pacer: &mut Pacer) -> Poll<Outcome> {
        for _ in 0..MAX_TURNS {
            let now = Instant::now();
            let mut progressed = false;
            {
                let mut st = core.stats.borrow_mut();
                match self.read(cx) {
                    Read::Data(n) => {
                        if core.window.contains(now) {
                            st.bytes_in += n as u64;
                        }
                        if self
                            .conn
                            .recv(&mut self.rbuf, now, &core.window, &mut st)
                            .is_err()
                        {
                            drop(st);
                            self.flush(cx);
                            return Poll::Ready(Outcome::Lost);
                        }
                        progressed = true;
                    }
                    Read::Closed => return Poll::Ready(Outcome::Lost),
                    Read::Pending => {}
                }
                if !self.counted && self.conn.is_established() {
                    self.counted = true;
                    st.connections_ok += 1;
                    core.note_established();
                }
                progressed |=
                    pacer.issue(&mut self.conn, now, core.deadline, &core.window, &mut st);
                if let Some(timeout) = core.request_timeout {
                    if now >= self.next_expiry {
                        self.conn.expire(now, timeout, &mut st);
                        self.next_expiry = now + TIMEOUT_CHECK_INTERVAL;
                    }
                }
            }
            match self.write(cx) {
                Ok(wrote) => {
                    if wrote > 0 && core.window.contains(now) {
                        core.stats.borrow_mut().bytes_out += wrote as u64;
                    }
                    progressed |= wrote > 0;
                }
                Err(()) => return Poll::Ready(Outcome::Lost),
            }
            if core.deadline.is_some_and(|d| now >= d)
                || (pacer.exhausted() && self.conn.in_flight() == 0)
            {
                return Poll::Ready(Outcome::Done);
            }
            if self.conn.is_finished() && self.conn.output().is_empty() {
                return Poll::Ready(Outcome::Lost);
            }
            if !progressed {
                if self.poll_timer(cx, core, pacer, now) {
                    continue;
                }
                return Poll::Pending;
            }
        }
        // Busy: let the other connections on this core have a turn.
        cx.waker().wake_by_ref();
        Poll::Pending
    }

    fn read(&mut self, cx: &mut Context<'_>) -> Read {
        match Pin::new(&mut self.stream).poll_read(cx, &mut self.scratch) {
            Poll::Ready(Ok(0)) | Poll::Ready(Err(_)) => Read::Closed,
            Poll::Ready(Ok(n)) => {
                self.rbuf
                    .extend_from_slice(self.scratch.get(..n).unwrap_or_default());
                Read::Data(n)
            }
            Poll::Pending => Read::Pending,
        }
    }

    /// Writes what the client produced, returning the octets written; `Err` when the
    /// socket is broken.
    fn write(&mut self, cx: &mut Context<'_>) -> Result<usize, ()> {
        let mut wrote = 0;
        while !self.conn.output().is_empty() {
            match Pin::new(&mut self.stream).poll_write(cx, self.conn.output()) {
                Poll::Ready(Ok(0)) | Poll::Ready(Err(_)) => return Err(()),
                Poll::Ready(Ok(n)) => {
                    self.conn.consume_output(n);
                    wrote += n;
                }
                Poll::Pending => break,
            }
        }
        Ok(wrote)
    }

    /// Best effort: push out a final GOAWAY before the connection is dropped.
    fn flush(&mut self, cx: &mut Context<'_>) {
        let _ = self.write(cx);
    }

    /// Arms the timer for the earliest of deadline, next open-loop send and timeout
    /// check; true if it already fired (the loop should run again).
    fn poll_timer(
        &mut self,
        cx: &mut Context<'_>,
        core: &CoreRun,
        pacer: &Pacer,
        now: Instant,
    ) -> bool {
        let timeout_check = core.request_timeout.map(|_| self.next_expiry);
        let wake = [core.deadline, pacer.next_wake(now), timeout_check]
            .into_iter()
            .flatten()
            .min();
        let Some(wake) = wake else {
            self.timer = None;
            return false;
        };
        if wake <= now {
            return true;
        }
        match &mut self.timer {
            Some((at, _)) if *at == wake => {}
            _ => self.timer = Some((wake, Timer::new(wake - now))),
        }
        let Some((_, timer)) = &mut self.timer else {
            return false;
        };
        if Pin::new(timer).poll(cx).is_ready() {
            self.timer = None;
            return true;
        }
        false
    }
}
