//! Runs a handler for one request and writes its response onto the request's stream, for
//! HTTP/2 and HTTP/1.1 alike: the head (prepared fields first when there are some), then
//! the body as its kind allows; a panicking handler costs its own stream only.

use std::cell::Cell;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::rc::Rc;

use futures_lite::FutureExt;
use h2ring_conn::{ErrorCode, StreamId};
use http::{header, HeaderMap, HeaderValue, StatusCode};

use crate::service::access_log::{LogStart, Pending};
use crate::service::body::Channel;
use crate::service::exchange::StreamIo;
use crate::service::exchange::StreamSlot;
use crate::service::{stamp, PreparedHead};
use crate::service::{Binding, Body, BodyKind, Context, Service, StreamError};

/// Counts a running handler in the per-core total (Go's unimplemented MaxHandlers) and
/// takes it out however the handler ends (done, panicked, cancelled).
struct HandlerGuard(Rc<Cell<usize>>);

impl HandlerGuard {
    fn enter(running: &Rc<Cell<usize>>) -> Self {
        running.set(running.get() + 1);
        HandlerGuard(running.clone())
    }
}

impl Drop for HandlerGuard {
    fn drop(&mut self) {
        self.0.set(self.0.get().saturating_sub(1));
    }
}

/// What one request's handler needs besides the request.
pub(crate) struct ResponseTarget<I> {
    io: Rc<I>,
    slot: Rc<StreamSlot>,
    is_head: bool,
    /// Held for its `Drop`: the handler counts as running until the target goes.
    _guard: HandlerGuard,
    /// Where the request's access-log line starts, when there is a log.
    log: Option<LogStart>,
    /// The request's facts, kept once a handler took the request; still here when the
    /// target is dropped, they belong to a handler cancelled before it answered.
    pending: Option<Box<Pending>>,
}

impl<I> Drop for ResponseTarget<I> {
    fn drop(&mut self) {
        if let Some(pending) = self.pending.take() {
            pending.complete(0);
        }
    }
}

impl<I> ResponseTarget<I> {
    /// The response to a request on `slot` goes to `io`; the handler counts among the
    /// core's `running` ones until it ends.
    pub(crate) fn new(
        io: &Rc<I>,
        slot: &Rc<StreamSlot>,
        is_head: bool,
        running: &Rc<Cell<usize>>,
        log: Option<LogStart>,
    ) -> Self {
        ResponseTarget {
            io: io.clone(),
            slot: slot.clone(),
            is_head,
            _guard: HandlerGuard::enter(running),
            log,
            pending: None,
        }
    }

    /// Keeps what the access log needs of `request`, which the handler is about to take.
    pub(crate) fn capture(&mut self, request: &crate::service::Request) {
        if let Some(start) = &self.log {
            self.pending = Some(start.capture(request));
        }
    }
}

/// Offers `request` to [`Service::call_now`]: `Some` with its response, or `Err` for a
/// panic in it (to be answered with 500 through [`ResponseTarget::finish`]); `None` when
/// the service did not answer at once and [`handle`] follows. The request is lent, not
/// moved: answered at once, its memory stays with the caller.
pub(crate) fn answer_now<S: Service>(
    service: &S,
    request: &mut crate::service::Request,
    cx: &Context,
) -> Option<Result<crate::service::Response, ()>> {
    // The response is written straight into `answer` rather than returned through
    // `catch_unwind`: it is a few hundred octets, and each move of a freshly built
    // struct costs more than its size suggests (the copy reads what was just stored).
    let mut answer = None;
    match std::panic::catch_unwind(AssertUnwindSafe(|| {
        answer = service.call_now(request, cx);
    })) {
        Ok(()) => answer.map(Ok),
        Err(_) => Some(Err(())),
    }
}

/// Calls `service` for `request` now and returns the future that finishes the exchange:
/// awaits the handler, writes its response, and resolves to the status sent. A panic,
/// whether in the call itself (a closure's body runs before its future exists) or in the
/// future, is answered with 500, or RST_STREAM(INTERNAL_ERROR) if the head was already out
/// (RFC 9113 §8.1).
///
/// `use<'s, ..>`: the service's future type names the borrow of `service` (a trait
/// method's `impl Trait` captures it) although the trait makes that future `'static`.
pub(crate) fn handle<'s, S: Service, I: StreamIo + 'static>(
    service: &'s S,
    request: crate::service::Request,
    cx: Context,
    target: ResponseTarget<I>,
) -> impl Future<Output = StatusCode> + 'static + use<'s, S, I> {
    let call = std::panic::catch_unwind(AssertUnwindSafe(|| service.call(request, cx)));
    async move {
        let mut waited = false;
        let outcome = match call {
            Ok(fut) => {
                let mut fut = std::pin::pin!(AssertUnwindSafe(fut).catch_unwind());
                std::future::poll_fn(|task_cx| {
                    let poll = fut.as_mut().poll(task_cx);
                    waited |= poll.is_pending();
                    poll
                })
                .await
            }
            Err(panic) => Err(panic),
        };
        // A handler that waited answers later than the turn that decoded its request
        // (whose clock the driver passed on): its `date` is for now. One that was ready
        // at once needs no clock read (about 20 ns each, per response).
        if waited {
            stamp::refresh(std::time::Instant::now());
        }
        target.finish(outcome.map_err(drop))
    }
}

impl<I: StreamIo + 'static> ResponseTarget<I> {
    /// Writes the handler's response, or for a panicked handler (`Err`) a 500 —
    /// RST_STREAM(INTERNAL_ERROR) if the head was already out (RFC 9113 §8.1). Returns
    /// the status sent. For a handler that took the request (its facts were
    /// [`capture`](Self::capture)d).
    pub(crate) fn finish(self, outcome: Result<crate::service::Response, ()>) -> StatusCode {
        self.finish_for(outcome, None)
    }

    /// [`finish`](Self::finish) for a request answered at once, still at hand: its
    /// access-log line is written from it, with no copy of its fields.
    pub(crate) fn finish_now(
        self,
        outcome: Result<crate::service::Response, ()>,
        request: &crate::service::Request,
    ) -> StatusCode {
        self.finish_for(outcome, Some(request))
    }

    fn finish_for(
        mut self,
        outcome: Result<crate::service::Response, ()>,
        request: Option<&crate::service::Request>,
    ) -> StatusCode {
        let (io, slot, is_head) = (&self.io, &self.slot, self.is_head);
        let (status, sent) = match outcome {
            Ok(response) => {
                let status = response.status();
                let sent = if slot.error().is_none() {
                    let bind = || Binding::Stream(io.clone(), slot.clone());
                    write_response(&**io, slot.id, response, is_head, bind)
                } else {
                    // The stream was reset before the response went out: logged with the
                    // status the handler chose and no body.
                    Sent::Whole(0)
                };
                (status, sent)
            }
            Err(()) => {
                abandon(&**io, slot.id);
                (StatusCode::INTERNAL_SERVER_ERROR, Sent::Whole(0))
            }
        };
        self.log_response(status, sent, request);
        status
    }

    /// Writes the access-log line of a complete response, or leaves it to the writer of a
    /// body that streams on.
    fn log_response(
        &mut self,
        status: StatusCode,
        sent: Sent,
        request: Option<&crate::service::Request>,
    ) {
        let Some(start) = &self.log else { return };
        let pending = self.pending.take().or_else(|| {
            matches!(sent, Sent::Streaming(_)).then(|| request.map(|r| start.capture(r)))?
        });
        match (sent, pending) {
            (Sent::Whole(octets), Some(mut pending)) => {
                pending.set_status(status.as_u16());
                pending.complete(octets);
            }
            (Sent::Whole(octets), None) => {
                if let Some(request) = request {
                    start.write(request, status.as_u16(), octets);
                }
            }
            (Sent::Streaming(channel), Some(mut pending)) => {
                pending.set_status(status.as_u16());
                channel.defer_log(pending);
            }
            (Sent::Streaming(_), None) => {}
        }
    }
}

/// Gives up on stream `id` after a panic: 500 when no response head went out yet, else
/// RST_STREAM(INTERNAL_ERROR) (RFC 9113 §8.1; on HTTP/1.1 the connection closes).
pub(crate) fn abandon<I: StreamIo + ?Sized>(io: &I, id: StreamId) {
    let empty = HeaderMap::new();
    if io
        .send_head(id, StatusCode::INTERNAL_SERVER_ERROR, &empty, true)
        .is_err()
    {
        io.reset(id, ErrorCode::InternalError);
    }
}

/// What [`write_response`] sent of the body.
enum Sent {
    /// All of it: this many octets of body (0 for none, a HEAD response, or a head that
    /// could not be sent).
    Whole(u64),
    /// The head: the body streams from the channel's writer.
    Streaming(Rc<Channel>),
}

/// Sends `response` on stream `id`. `bind_stream` makes the binding a channel body writes
/// through once its head is out.
fn write_response<I: StreamIo + ?Sized>(
    io: &I,
    id: StreamId,
    response: crate::service::Response,
    is_head: bool,
    bind_stream: impl FnOnce() -> Binding,
) -> Sent {
    let (mut parts, body) = response.into_parts();
    let prepared = body.head.as_ref();
    let send_head = |headers: &HeaderMap, end: bool| -> Result<(), StreamError> {
        match prepared {
            Some(p) => io.send_prepared_head(id, parts.status, p, headers, end),
            None => io.send_head(id, parts.status, headers, end),
        }
    };
    match body.kind {
        BodyKind::Empty => {
            let _ = send_head(&parts.headers, true);
            Sent::Whole(0)
        }
        BodyKind::Full(bytes) => {
            // RFC 9110 §6.4.1: a 204 or 304 carries no content, whatever the handler gave;
            // RFC 9113 §8.1 / RFC 9112 §6.3: neither does a response to HEAD.
            let no_content =
                parts.status == StatusCode::NO_CONTENT || parts.status == StatusCode::NOT_MODIFIED;
            let has_length = |h: &HeaderMap| h.contains_key(header::CONTENT_LENGTH);
            // A 204 must not carry content-length (RFC 9110 §8.6), and a 304's would be
            // the selected representation's, not this body's.
            let add_length = !no_content
                && !has_length(&parts.headers)
                && !prepared.is_some_and(|p| has_length(p.headers()));
            let no_body = is_head || no_content || bytes.is_empty();
            let head_sent = match prepared {
                // The usual handler response: the length goes out beside the fields.
                None if add_length => {
                    let length = bytes.len() as u64;
                    io.send_sized_head(id, parts.status, &parts.headers, length, no_body)
                }
                _ => {
                    if add_length {
                        parts
                            .headers
                            .insert(header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
                    }
                    send_head(&parts.headers, no_body)
                }
            };
            if head_sent.is_ok() && !no_body {
                let octets = bytes.len() as u64;
                if io.send_data(id, bytes, true).is_ok() {
                    return Sent::Whole(octets);
                }
            }
            Sent::Whole(0)
        }
        BodyKind::Channel(channel) => {
            match channel.writer_gone() {
                // The writer panicked before the head went out: RFC 9113 §8.1 / RFC 9110
                // §15.6.1, the request failed on our side.
                Some(true) => abandon(io, id),
                // Dropped without a word: the body ended, empty.
                Some(false) => {
                    let _ = send_head(&parts.headers, true);
                }
                None => match send_head(&parts.headers, is_head) {
                    Ok(()) if is_head => channel.bind(Binding::Discard),
                    Ok(()) => {
                        channel.bind(bind_stream());
                        return Sent::Streaming(channel);
                    }
                    Err(e) => channel.bind(Binding::Failed(e)),
                },
            }
            Sent::Whole(0)
        }
    }
}

/// The prepared fields and then `extra` in one map, for a transport with no table to
/// replay encoded fields into.
pub(crate) fn merged_head(prepared: &PreparedHead, extra: &HeaderMap) -> HeaderMap {
    let mut merged = prepared.headers().clone();
    for (name, value) in extra {
        merged.append(name, value.clone());
    }
    merged
}

/// A body-less response for `status` (used by the built-in service and tests).
pub(crate) fn empty_response(status: StatusCode) -> crate::service::Response {
    let mut r = http::Response::new(Body::empty());
    *r.status_mut() = status;
    r
}
