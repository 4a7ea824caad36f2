//! Routes connection events to handlers: spawns one local task per request, feeds request
//! bodies, wakes writers, cancels handlers whose stream was reset, and writes responses.

use std::future::Future;
use std::rc::Rc;
use std::task::Poll;
use std::time::Duration;

use h2ring_conn::{ErrorCode, Event, RequestHead, StreamId};
use http::{Method, StatusCode, Version};

use super::shared::ConnShared;
use crate::metrics::Protocol;
use crate::service::access_log::LogStart;
use crate::service::exchange::{CoreServices, StreamIo, StreamSlot};
use crate::service::respond::{self, ResponseTarget};
use crate::service::{Context, RequestBody, Service, StreamError};

/// Handles every pending event. Tasks to cancel are returned so they are dropped outside
/// any borrow.
pub(crate) fn dispatch<S: Service>(
    shared: &Rc<ConnShared>,
    core: &CoreServices<S>,
    cancelled: &mut Vec<glommio::Task<()>>,
    cx: &mut std::task::Context<'_>,
) {
    loop {
        let event = match shared.conn.try_borrow_mut() {
            Ok(mut conn) => conn.poll_event(),
            Err(_) => return,
        };
        let Some(event) = event else { return };
        match event {
            Event::Request {
                stream,
                head,
                end_stream,
                pushed,
            } => start_request(shared, core, stream, head, end_stream, pushed, cx),
            Event::Data {
                stream,
                data,
                end_stream,
            } => {
                if let Some(slot) = slot(shared, stream) {
                    slot.push_data(data, end_stream);
                }
            }
            Event::Trailers { stream, trailers } => {
                if let Some(slot) = slot(shared, stream) {
                    slot.set_trailers(*trailers);
                }
            }
            Event::SendReady { stream } => {
                if let Some(slot) = slot(shared, stream) {
                    slot.wake_sender();
                }
            }
            Event::Reset {
                stream,
                code,
                by_peer,
            } => {
                let removed = shared.streams.borrow_mut().remove(&stream);
                if let Some(slot) = removed {
                    slot.fail(StreamError::Reset { code, by_peer });
                    core.core.metrics().error(code.to_u32());
                    // Cancel the handler: its future is dropped (RFC 9113 §8.1 — the
                    // client no longer wants the response).
                    if let Some(task) = slot.task.borrow_mut().take() {
                        cancelled.push(task);
                    }
                    shared.recycle_slot(slot);
                }
            }
            Event::StreamClosed { stream } => {
                // The protocol side is done; the handler may still be finishing (it will
                // find the stream gone). Forget the slot once nobody can need it.
                let slot = shared.streams.borrow_mut().remove(&stream);
                if let Some(slot) = slot {
                    slot.fail(StreamError::ConnectionClosed);
                    if let Some(task) = slot.task.borrow_mut().take() {
                        // Let a finishing handler run to its end (full-duplex readers
                        // get end-of-body, writers an error).
                        task.detach();
                    }
                    shared.recycle_slot(slot);
                }
            }
            Event::GoAwayReceived { .. } | Event::Closing { .. } => {}
        }
    }
}

fn slot(shared: &ConnShared, id: StreamId) -> Option<Rc<StreamSlot>> {
    shared.streams.borrow().get(&id).cloned()
}

fn start_request<S: Service>(
    shared: &Rc<ConnShared>,
    core: &CoreServices<S>,
    id: StreamId,
    mut head: Box<RequestHead>,
    end_stream: bool,
    pushed: bool,
    task_cx: &mut std::task::Context<'_>,
) {
    if !shared.active.get() {
        shared.active.set(true);
        core.service
            .on_connection(&shared.info, crate::service::ConnState::Active);
    }

    // Per-core cap on running handlers: refuse retry-safely (RFC 9113 §8.7).
    if core.handlers.get() >= core.settings.max_handlers {
        shared.reset(id, ErrorCode::RefusedStream);
        core.core.metrics().error(ErrorCode::RefusedStream.to_u32());
        return;
    }
    let scheme = head.scheme.clone().unwrap_or(http::uri::Scheme::HTTP);
    // One request object per connection, refilled for each stream and kept when the
    // service answers at once: a repeated request then costs pointer comparisons, not a
    // URI build and the moves of a 256-octet struct.
    let mut spare = shared.spare_request.borrow_mut();
    let request: &mut crate::service::Request =
        spare.get_or_insert_with(|| Box::new(http::Request::new(RequestBody::empty())));
    fill_request(request, &mut head);
    // A valid head's URI carries the effective authority (`:authority`, else `host`):
    // absolute form, or authority form for plain CONNECT. Only pushes need it on the
    // slot, and only a client that accepts pushes gets them.
    let authority = if shared.can_push() {
        request.uri().authority().cloned()
    } else {
        None
    };
    let slot = shared.new_slot(id, pushed, scheme, authority, end_stream);
    shared.streams.borrow_mut().insert(id, slot.clone());
    *request.body_mut() = RequestBody {
        link: (!end_stream).then(|| (shared.clone() as Rc<dyn StreamIo>, slot.clone())),
        wanted: false,
    };
    let is_head = request.method() == Method::HEAD;
    // The turn's time, read once per turn: no clock read per request.
    let started = shared.now.get();
    let cx = Context {
        shared: shared.clone(),
        slot: slot.clone(),
        core: core.core.clone(),
        received_at: started,
    };
    core.core.metrics().stream_opened();
    let log = (core.settings.access_log.as_ref())
        .map(|log| LogStart::new(log, shared.info.peer.ip(), started));
    let mut target = ResponseTarget::new(shared, &slot, is_head, &core.handlers, log);
    // A service that answers in its call (`call_now`), or whose future is ready on its
    // first poll here, needs no task at all. One that has to wait becomes a task in the
    // handler queue (its stale registration of this waker costs at most one spurious
    // wake-up of the connection task).
    if let Some(outcome) = respond::answer_now(&*core.service, request, &cx) {
        drop(cx);
        let status = target.finish_now(outcome, request);
        // Kept for the next stream; the body goes now (an unread one is discarded) so
        // the kept request holds neither this stream nor the connection.
        *request.body_mut() = RequestBody::empty();
        drop(spare);
        recycle_head(shared, head);
        return completed_in_turn(core, status);
    }
    // The handler keeps the request; the kept box gets an empty one (no allocation).
    target.capture(request);
    let request = std::mem::replace(request, http::Request::new(RequestBody::empty()));
    drop(spare);
    recycle_head(shared, head);
    let mut fut = Box::pin(respond::handle(&*core.service, request, cx, target));
    if let Poll::Ready(status) = fut.as_mut().poll(task_cx) {
        return completed_in_turn(core, status);
    }
    let metrics_core = core.core.clone();
    let task = async move {
        let status = fut.await;
        metrics_core.metrics().request_completed(
            Protocol::Http2,
            status.as_u16(),
            started.elapsed(),
        );
    };
    match glommio::spawn_local_into(task, core.core.handler_queue()) {
        Ok(task) => *slot.task.borrow_mut() = Some(task),
        Err(_) => shared.reset(id, ErrorCode::InternalError),
    }
}

fn recycle_head(shared: &ConnShared, head: Box<RequestHead>) {
    if let Ok(mut conn) = shared.conn.try_borrow_mut() {
        conn.recycle_request_head(head);
    }
}

/// Records a request answered within the turn that decoded it: by the turn clock (the
/// one clock read of the turn), no time passed.
fn completed_in_turn<S>(core: &CoreServices<S>, status: StatusCode) {
    core.core
        .metrics()
        .request_completed(Protocol::Http2, status.as_u16(), Duration::ZERO);
}

/// Makes `request` (the connection's kept request object, holding the previous request or
/// nothing) the request `head` describes. Method and fields are swapped in; the URI is
/// built, unless the request already holds the head's very buffers (the decoder's repeat
/// memo hands out the same ones each time). What the head gets in exchange goes back to
/// the decoder with it.
fn fill_request(request: &mut crate::service::Request, head: &mut RequestHead) {
    std::mem::swap(request.method_mut(), &mut head.method);
    if !head.is_target_of(request.uri()) {
        *request.uri_mut() = head.take_uri();
    }
    // Swapped even when equal: comparing costs more than the swap, and the map the head
    // takes back is, for a repeated request, already the one the decoder's memo refills
    // by comparison alone.
    std::mem::swap(request.headers_mut(), &mut head.headers);
    *request.version_mut() = Version::HTTP_2;
    // Whatever a service left in the extensions belonged to the previous request.
    // Connection facts are on `Context::conn_info`, not in the extensions: inserting one
    // would allocate a map per request.
    request.extensions_mut().clear();
    if let Some(protocol) = head.protocol.take() {
        request
            .extensions_mut()
            .insert(h2ring_hpack::Protocol(protocol));
    }
}
