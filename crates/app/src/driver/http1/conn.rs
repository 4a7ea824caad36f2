//! The HTTP/1.1 connection task: reads request heads back to back (pipelining), runs one
//! handler at a time so responses leave in request order, feeds request bodies with
//! backpressure, writes responses, and detects an `Upgrade: h2c` request.

use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use futures_lite::io::{AsyncRead, AsyncWrite};
use glommio::timer::Timer;
use h2ring_conn::StreamId;
use http::{Method, StatusCode};

use super::chunked::{ChunkedDecoder, Piece};
use super::exchange::{Exchange, Out, RequestFacts, MAX_BUFFERED_RESPONSE};
use super::handler;
use super::parse::{parse_head, Framing, Head, Reject};
use super::upgrade::{h2c_upgrade, Upgrade};
use crate::driver::send_progress::SendProgress;
use crate::runtime::ConnInfo;
use crate::service::exchange::CoreServices;
use crate::service::exchange::StreamSlot;
use crate::service::{stamp, ConnState, Service, StreamError};
use crate::transport::abort::ResetOnClose;
use crate::transport::scratch::Layer;

/// Time a client gets to send a complete request head (and, between requests, the idle
/// time a keep-alive connection is kept open).
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// Request body octets buffered for a handler that has not read them; beyond it the
/// connection stops reading (TCP backpressure).
pub const MAX_BUFFERED_BODY: usize = 64 * 1024;
/// Unread request body the server reads and drops after the response to keep the
/// connection; a larger rest closes it instead (RFC 9112 §9.3 lets either happen).
pub const MAX_DISCARDED_BODY: u64 = 256 * 1024;
/// Octets asked of the socket per read.
const READ_CHUNK: usize = 16 * 1024;

/// How the request body in progress is being read.
enum BodyIn {
    Done,
    Length(u64),
    Chunked(ChunkedDecoder),
}

/// The request being answered.
struct Current {
    slot: Rc<StreamSlot>,
    body: BodyIn,
    discarded: u64,
    task: Option<glommio::Task<()>>,
}

/// How the HTTP/1.1 phase of a connection ended.
pub(crate) enum Outcome {
    Close,
    /// Given up on as a slow reader: the socket is set to reset on close, and must not be
    /// closed gracefully (that would wait to flush to a client that does not read; over
    /// TLS, forever).
    Reset,
    /// `Upgrade: h2c`: the 101 is out; HTTP/2 continues with this request as stream 1.
    Upgrade(Box<Upgrade>, BytesMut),
}

pub(crate) struct Conn<'a, T, S> {
    pub(crate) stream: &'a mut T,
    pub(crate) rbuf: BytesMut,
    services: &'a CoreServices<S>,
    exchange: Rc<Exchange>,
    tls: bool,
    /// `Upgrade: h2c` is honoured (cleartext ports that speak h2c).
    h2c: bool,
    eof: bool,
    current: Option<Current>,
    next_id: u32,
    /// A refused request's answer is queued: close once it is written.
    closing: bool,
    deadline: Option<Timer>,
    /// Whether the client reads what we write fast enough (`write_timeout`, the minimum
    /// send rate).
    progress: SendProgress,
    /// The response in progress must be written by then (`response_send_timeout`).
    response_deadline: Option<Instant>,
    /// Wakes the task for the earlier of `progress`'s deadline and `response_deadline`.
    send_timer: Option<(Instant, Timer)>,
    shutdown: Option<Pin<Box<dyn Future<Output = ()>>>>,
    draining: bool,
    upgrade: Option<Box<Upgrade>>,
}

impl<'a, T: AsyncRead + AsyncWrite + ResetOnClose + Unpin, S: Service> Conn<'a, T, S> {
    pub(crate) fn new(
        stream: &'a mut T,
        rbuf: BytesMut,
        services: &'a CoreServices<S>,
        info: ConnInfo,
        tls: bool,
        h2c: bool,
    ) -> Self {
        let facts = RequestFacts {
            id: StreamId::new(0),
            version: http::Version::HTTP_11,
            is_head: false,
            te_trailers: false,
            keep_alive: true,
            expect_continue: false,
        };
        Conn {
            stream,
            rbuf,
            services,
            exchange: Rc::new(Exchange::new(
                info,
                facts,
                services.settings.server_header.clone(),
            )),
            tls,
            h2c: h2c && !tls,
            eof: false,
            current: None,
            next_id: 1,
            closing: false,
            deadline: None,
            progress: SendProgress::new(&services.settings.http2),
            response_deadline: None,
            send_timer: None,
            shutdown: Some(Box::pin(services.core.shutdown_started())),
            draining: false,
            upgrade: None,
        }
    }

    /// Serves requests until the connection should close or switch to HTTP/2.
    pub(crate) async fn run(&mut self) -> Outcome {
        let info = self.exchange.info;
        let outcome = poll_fn(|cx| self.poll(cx)).await;
        if let Some(cur) = self.current.take() {
            cur.slot.fail(StreamError::ConnectionClosed);
            drop(cur.task);
        }
        // Late writes from a detached handler find the exchange closed.
        self.exchange.state.borrow_mut().aborted = true;
        self.services.service.on_connection(&info, ConnState::Idle);
        outcome
    }

    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<Outcome> {
        loop {
            let mut progressed = false;
            if let Some(signal) = self.shutdown.as_mut() {
                if signal.as_mut().poll(cx).is_ready() {
                    // Finish the request in progress, then close (RFC 9112 §9.6).
                    self.shutdown = None;
                    self.draining = true;
                    self.exchange.state.borrow_mut().facts.keep_alive = false;
                    progressed = true;
                }
            }
            match self.read(cx) {
                Ok(read) => progressed |= read,
                Err(()) => return Poll::Ready(Outcome::Close),
            }
            if self.current.is_none() && !self.closing && self.upgrade.is_none() {
                if self.draining {
                    return Poll::Ready(Outcome::Close);
                }
                match self.next_request(cx) {
                    Ok(started) => progressed |= started,
                    Err(()) => return Poll::Ready(Outcome::Close),
                }
            }
            progressed |= self.feed_body();
            match self.write(cx) {
                Ok(wrote) => progressed |= wrote,
                Err(()) => return Poll::Ready(Outcome::Close),
            }
            if let Some(done) = self.finish_exchange() {
                return Poll::Ready(done);
            }
            match self.send_deadlines(cx) {
                Ok(fired) => progressed |= fired,
                Err(()) => return Poll::Ready(Outcome::Reset),
            }
            if !progressed {
                self.exchange.set_io_waker(cx.waker());
                return Poll::Pending;
            }
        }
    }

    /// Reads more octets when they are needed: a head, a body the handler has room for,
    /// or pipelined requests up to a head's worth.
    fn read(&mut self, cx: &mut Context<'_>) -> Result<bool, ()> {
        if self.eof {
            return Ok(false);
        }
        let wanted = match &self.current {
            None => !self.closing,
            Some(cur) => {
                let s = self.exchange.state.borrow();
                match cur.body {
                    BodyIn::Done => self.rbuf.len() < super::parse::MAX_HEAD_BYTES,
                    _ => s.discard_body || s.unread < MAX_BUFFERED_BODY,
                }
            }
        };
        if !wanted || self.rbuf.len() >= super::parse::MAX_HEAD_BYTES + READ_CHUNK {
            return Ok(false);
        }
        let got = Layer::Plaintext.poll_append(
            Pin::new(&mut *self.stream),
            cx,
            READ_CHUNK,
            &mut self.rbuf,
        );
        match got {
            Poll::Ready(Ok(n)) => {
                if n == 0 {
                    self.eof = true;
                }
                Ok(true)
            }
            Poll::Ready(Err(_)) => Err(()),
            Poll::Pending => Ok(false),
        }
    }

    /// Parses the next head, if complete, and starts its handler (or queues a refusal).
    fn next_request(&mut self, cx: &mut Context<'_>) -> Result<bool, ()> {
        let head = match parse_head(&self.rbuf) {
            Ok(Some(head)) => head,
            Ok(None) => {
                if self.eof {
                    return Err(());
                }
                return self.wait_for_head(cx).map(|()| false);
            }
            Err(reject) => {
                self.refuse(reject);
                return Ok(true);
            }
        };
        self.deadline = None;
        let _ = self.rbuf.split_to(head.len);
        if self.h2c {
            match h2c_upgrade(&head) {
                Some(Ok(settings)) => {
                    self.begin_upgrade(head, settings);
                    return Ok(true);
                }
                Some(Err(reject)) => {
                    self.refuse(reject);
                    return Ok(true);
                }
                None => {}
            }
        }
        self.start(head);
        Ok(true)
    }

    /// Arms the head deadline; `Err` once it passed.
    fn wait_for_head(&mut self, cx: &mut Context<'_>) -> Result<(), ()> {
        let timer = self
            .deadline
            .get_or_insert_with(|| Timer::new(HEADER_READ_TIMEOUT));
        match Pin::new(timer).poll(cx) {
            Poll::Ready(_) => Err(()),
            Poll::Pending => Ok(()),
        }
    }

    /// Answers a malformed request with its status and closes (RFC 9112 §11.2: after a
    /// framing error the rest of the stream cannot be trusted).
    fn refuse(&mut self, reject: Reject) {
        self.closing = true;
        let body = format!("{}\n", reject.reason);
        let date = stamp::with_date(Instant::now(), |_, date| date.clone());
        let server = match &self.services.settings.server_header {
            Some(value) => format!("server: {}\r\n", value.to_str().unwrap_or_default()),
            None => String::new(),
        };
        let text = format!(
            "HTTP/1.1 {} {}\r\ndate: {}\r\n{server}content-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            reject.status.as_str(),
            reject.status.canonical_reason().unwrap_or("Error"),
            date.to_str().unwrap_or_default(),
            body.len()
        );
        self.exchange
            .state
            .borrow_mut()
            .wbuf
            .extend_from_slice(text.as_bytes());
    }

    fn new_facts(&mut self, head: &Head) -> RequestFacts {
        let id = StreamId::new(self.next_id);
        self.next_id = self.next_id.wrapping_add(2) | 1;
        RequestFacts {
            id,
            version: head.version,
            is_head: head.method == Method::HEAD,
            te_trailers: head.te_trailers,
            keep_alive: head.keep_alive && !self.draining,
            expect_continue: head.expect_continue,
        }
    }

    fn start(&mut self, head: Head) {
        let facts = self.new_facts(&head);
        let received_at = Instant::now();
        self.exchange.restart(facts, received_at);
        let body = match head.framing {
            Framing::None | Framing::Length(0) => BodyIn::Done,
            Framing::Length(n) => BodyIn::Length(n),
            Framing::Chunked => BodyIn::Chunked(ChunkedDecoder::default()),
        };
        let body_end = matches!(body, BodyIn::Done);
        let scheme = if self.tls {
            http::uri::Scheme::HTTPS
        } else {
            http::uri::Scheme::HTTP
        };
        let authority = handler::effective_uri(&head, self.tls).authority().cloned();
        let slot = Rc::new(StreamSlot::new(
            facts.id, false, scheme, authority, body_end,
        ));
        let started = handler::start(
            self.services,
            &self.exchange,
            &slot,
            head,
            body_end,
            self.tls,
        );
        let task = match started {
            Ok(task) => task,
            Err(handler::Refused) => {
                // At the handler cap: 503, retry-safe (RFC 9110 §15.6.4).
                let _ = crate::service::exchange::StreamIo::send_head(
                    &*self.exchange,
                    facts.id,
                    StatusCode::SERVICE_UNAVAILABLE,
                    &http::HeaderMap::new(),
                    true,
                );
                self.exchange.state.borrow_mut().facts.keep_alive = false;
                None
            }
        };
        self.services
            .service
            .on_connection(&self.exchange.info, ConnState::Active);
        self.current = Some(Current {
            slot,
            body,
            discarded: 0,
            task,
        });
    }

    /// Moves request body octets from the read buffer to the handler, or drops them once
    /// the handler let go of the body.
    fn feed_body(&mut self) -> bool {
        if self.upgrade.is_some() {
            return self.feed_upgrade_body();
        }
        let Some(cur) = self.current.as_mut() else {
            return false;
        };
        let mut progressed = false;
        loop {
            let (discard, room) = {
                let s = self.exchange.state.borrow();
                (s.discard_body, MAX_BUFFERED_BODY.saturating_sub(s.unread))
            };
            let room = if discard { READ_CHUNK } else { room };
            let piece = match &mut cur.body {
                BodyIn::Done => return progressed,
                BodyIn::Length(left) => {
                    if self.rbuf.is_empty() || room == 0 {
                        None
                    } else {
                        let take = (self.rbuf.len() as u64).min(*left).min(room as u64) as usize;
                        *left -= take as u64;
                        let data = self.rbuf.split_to(take).freeze();
                        if *left == 0 {
                            cur.body = BodyIn::Done;
                            Some((data, true, None))
                        } else {
                            Some((data, false, None))
                        }
                    }
                }
                BodyIn::Chunked(dec) => match dec.decode(&mut self.rbuf, room) {
                    Ok(None) => None,
                    Ok(Some(Piece::Data(d))) => Some((d, false, None)),
                    Ok(Some(Piece::End(trailers))) => {
                        cur.body = BodyIn::Done;
                        Some((Bytes::new(), true, Some(trailers)))
                    }
                    Err(_) => {
                        // Broken framing: the connection cannot continue.
                        self.exchange.state.borrow_mut().aborted = true;
                        cur.slot.fail(StreamError::ConnectionClosed);
                        return true;
                    }
                },
            };
            let Some((data, end, trailers)) = piece else {
                if self.eof && !matches!(cur.body, BodyIn::Done) {
                    // The client went away mid-body.
                    cur.slot.fail(StreamError::ConnectionClosed);
                    self.exchange.state.borrow_mut().aborted = true;
                    return true;
                }
                return progressed;
            };
            progressed = true;
            if discard {
                cur.discarded += data.len() as u64;
                continue;
            }
            self.exchange.state.borrow_mut().unread += data.len();
            match trailers {
                Some(Some(t)) => {
                    cur.slot.push_data(data, false);
                    cur.slot.set_trailers(t);
                }
                _ => cur.slot.push_data(data, end),
            }
        }
    }

    /// Writes queued response octets; wakes a writer waiting for room.
    fn write(&mut self, cx: &mut Context<'_>) -> Result<bool, ()> {
        let mut wrote = false;
        loop {
            let mut s = self.exchange.state.borrow_mut();
            if s.wbuf.is_empty() {
                self.progress.drained();
                break;
            }
            match Pin::new(&mut *self.stream).poll_write(cx, &s.wbuf) {
                Poll::Ready(Ok(0)) | Poll::Ready(Err(_)) => return Err(()),
                Poll::Ready(Ok(n)) => {
                    let _ = s.wbuf.split_to(n);
                    self.progress.wrote(n);
                    wrote = true;
                }
                Poll::Pending => {
                    self.progress.refused(Instant::now());
                    break;
                }
            }
        }
        if wrote {
            let room = self.exchange.state.borrow().wbuf.len() < MAX_BUFFERED_RESPONSE;
            if let (true, Some(cur)) = (room, &self.current) {
                cur.slot.wake_sender();
            }
            if self.exchange.state.borrow().wbuf.is_empty() {
                // The next response starts with a fresh, small buffer.
                self.exchange.state.borrow_mut().wbuf = BytesMut::new();
            }
        }
        Ok(wrote)
    }

    /// Applies the slow-reader rules and the response deadline: `Err` to close the
    /// connection (abortively: a client that does not read would otherwise be sent what
    /// the kernel still holds), `Ok(true)` when a deadline passed without closing (a
    /// minimum-rate window ended with enough written), else arms the timer for the next.
    fn send_deadlines(&mut self, cx: &mut Context<'_>) -> Result<bool, ()> {
        let limit = self.services.settings.http2.response_send_timeout;
        // A refusal being written (`closing`) has no request of its own to time.
        let responding = self.current.is_some() || self.upgrade.is_some();
        self.response_deadline = match (limit, responding) {
            (Some(limit), true) => {
                let s = self.exchange.state.borrow();
                let done = s.out == Out::Done && s.wbuf.is_empty();
                (!done).then_some(s.received_at + limit)
            }
            _ => None,
        };
        if self.progress.deadline().is_none() && self.response_deadline.is_none() {
            // Nothing is counting (the common case): no clock read, no timer.
            self.send_timer = None;
            return Ok(false);
        }
        let now = Instant::now();
        let late = self.response_deadline.is_some_and(|at| at <= now);
        if let Err(why) = self.progress.check(now) {
            tracing::debug!(peer = %self.exchange.info.peer, ?why, "closing a slow reader");
        } else if late {
            tracing::debug!(peer = %self.exchange.info.peer, "response_send_timeout passed");
        } else {
            return Ok(self.arm_send_timer(cx, now));
        }
        self.services.core.metrics().slow_reader_closed();
        self.stream.reset_on_close();
        Err(())
    }

    /// Arms the send timer for the next deadline; true if it already fired.
    fn arm_send_timer(&mut self, cx: &mut Context<'_>, now: Instant) -> bool {
        let next = match (self.progress.deadline(), self.response_deadline) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let Some(at) = next else {
            self.send_timer = None;
            return false;
        };
        let wait = at.saturating_duration_since(now);
        match &mut self.send_timer {
            Some((armed, timer)) if *armed != at => {
                timer.reset(wait);
                *armed = at;
            }
            Some(_) => {}
            None => self.send_timer = Some((at, Timer::new(wait))),
        }
        let fired = self
            .send_timer
            .as_mut()
            .is_some_and(|(_, timer)| Pin::new(timer).poll(cx).is_ready());
        if fired {
            self.send_timer = None;
        }
        fired
    }

    /// After a write: ends the exchange once its response is out and its body read, and
    /// decides whether the connection goes on.
    fn finish_exchange(&mut self) -> Option<Outcome> {
        let (flushed, out, keep_alive, aborted, discard) = {
            let s = self.exchange.state.borrow();
            (
                s.wbuf.is_empty(),
                s.out,
                s.facts.keep_alive,
                s.aborted,
                s.discard_body,
            )
        };
        if aborted {
            return Some(Outcome::Close);
        }
        if self.closing {
            return flushed.then_some(Outcome::Close);
        }
        if let Some(upgrade) = self.upgrade.take() {
            if flushed && upgrade.answered {
                return Some(Outcome::Upgrade(upgrade, std::mem::take(&mut self.rbuf)));
            }
            self.upgrade = Some(upgrade);
            return None;
        }
        let cur = self.current.as_mut()?;
        if out != Out::Done || !flushed {
            return None;
        }
        if !matches!(cur.body, BodyIn::Done) {
            if !keep_alive || self.eof || cur.discarded > MAX_DISCARDED_BODY {
                return Some(Outcome::Close);
            }
            if !discard {
                // Response complete, body unread: drop the rest to keep the connection.
                self.exchange.state.borrow_mut().discard_body = true;
            }
            return None;
        }
        if !keep_alive || (self.eof && self.rbuf.is_empty()) {
            return Some(Outcome::Close);
        }
        if let Some(cur) = self.current.take() {
            if let Some(task) = cur.task {
                // The response is complete; let the handler finish whatever it does.
                task.detach();
            }
        }
        self.services
            .service
            .on_connection(&self.exchange.info, ConnState::Idle);
        None
    }

    fn begin_upgrade(&mut self, head: Head, settings: Vec<u8>) {
        let facts = self.new_facts(&head);
        let received_at = Instant::now();
        self.exchange.restart(facts, received_at);
        self.upgrade = Some(Box::new(Upgrade::new(head, settings)));
    }

    /// Collects the upgrading request's body (it precedes the switch, RFC 7540 §3.2), then
    /// queues the 101.
    fn feed_upgrade_body(&mut self) -> bool {
        let Some(upgrade) = self.upgrade.as_mut() else {
            return false;
        };
        let fed = upgrade.feed(&mut self.rbuf);
        if upgrade.ready() && !upgrade.answered {
            upgrade.answered = true;
            self.exchange
                .state
                .borrow_mut()
                .wbuf
                .extend_from_slice(super::upgrade::SWITCHING_PROTOCOLS);
            return true;
        }
        if self.eof && !upgrade.ready() {
            self.exchange.state.borrow_mut().aborted = true;
            return true;
        }
        fed
    }
}
