//! Runs one HTTP/1.1 request through the `Service`: builds the `http::Request`, spawns the
//! handler on the core's handler queue, and writes its response through the `Exchange`.

use std::cell::Cell;
use std::panic::AssertUnwindSafe;
use std::rc::Rc;

use futures_lite::FutureExt;
use http::header;
use http::uri::{Authority, Scheme};
use http::{HeaderMap, Method, StatusCode, Uri};

use super::exchange::Exchange;
use super::parse::Head;
use crate::h2::dispatch::CoreServices;
use crate::h2::shared::StreamSlot;
use crate::service::{Binding, Context, RequestBody, Service};
use crate::stream_io::StreamIo;

/// Decrements the per-core handler count however the handler ends.
struct HandlerGuard(Rc<Cell<usize>>);

impl Drop for HandlerGuard {
    fn drop(&mut self) {
        self.0.set(self.0.get().saturating_sub(1));
    }
}

/// The target URI with scheme and authority filled in from the connection and `Host`
/// (RFC 9112 §3.3), so handlers see the same shape as over HTTP/2.
pub(crate) fn effective_uri(head: &Head, tls: bool) -> Uri {
    if head.uri.scheme().is_some() {
        return head.uri.clone();
    }
    let authority = head
        .headers
        .get(header::HOST)
        .and_then(|h| Authority::try_from(h.as_bytes()).ok());
    let (Some(authority), Some(pq)) = (authority, head.uri.path_and_query()) else {
        return head.uri.clone();
    };
    let scheme = if tls { Scheme::HTTPS } else { Scheme::HTTP };
    Uri::builder()
        .scheme(scheme)
        .authority(authority)
        .path_and_query(pq.clone())
        .build()
        .unwrap_or_else(|_| head.uri.clone())
}

/// Starts the handler for `head`. Returns the task (dropping it cancels the handler) or
/// `None` when the core is at its handler cap or cannot spawn; the caller then answers
/// 503.
pub(crate) fn start<S: Service>(
    services: &CoreServices<S>,
    exchange: &Rc<Exchange>,
    slot: &Rc<StreamSlot>,
    head: Head,
    body_end: bool,
    tls: bool,
) -> Option<glommio::Task<()>> {
    if services.handlers.get() >= services.core.max_handlers() {
        return None;
    }
    let uri = effective_uri(&head, tls);
    let is_head = head.method == Method::HEAD;
    let io: Rc<dyn StreamIo> = exchange.clone();
    let body = RequestBody {
        link: (!body_end).then(|| (io.clone(), slot.clone())),
        wanted: false,
    };
    let mut request = http::Request::new(body);
    *request.method_mut() = head.method;
    *request.uri_mut() = uri;
    *request.version_mut() = head.version;
    *request.headers_mut() = head.headers;
    request.extensions_mut().insert(exchange.info);
    let started = std::time::Instant::now();
    let cx = Context {
        shared: io.clone(),
        slot: slot.clone(),
        received_at: started,
    };
    services.handlers.set(services.handlers.get() + 1);
    let guard = HandlerGuard(services.handlers.clone());
    let service = services.service.clone();
    let slot = slot.clone();
    let core = services.core.clone();
    core.metrics().stream_opened();
    let fut = async move {
        let _guard = guard;
        let outcome = AssertUnwindSafe(service.call(request, cx))
            .catch_unwind()
            .await;
        let status = match outcome {
            Ok(response) => {
                let status = response.status();
                write_response(&io, &slot, response, is_head);
                status
            }
            Err(_) => {
                // A panicking handler: 500 if nothing was sent, else the connection closes.
                let sent = io.send_head(
                    slot.id,
                    StatusCode::INTERNAL_SERVER_ERROR,
                    &HeaderMap::new(),
                    true,
                );
                if sent.is_err() {
                    io.reset(slot.id, h2ring_conn::ErrorCode::InternalError);
                }
                StatusCode::INTERNAL_SERVER_ERROR
            }
        };
        core.metrics()
            .request_completed(status.as_u16(), started.elapsed());
    };
    glommio::spawn_local_into(fut, services.core.handler_queue()).ok()
}

/// Sends the handler's response: head, then the body as its kind allows.
fn write_response(
    io: &Rc<dyn StreamIo>,
    slot: &Rc<StreamSlot>,
    response: crate::Response,
    is_head: bool,
) {
    let bind = || Binding::Stream(io.clone(), slot.clone());
    crate::response_writer::write_response(&**io, slot.id, response, is_head, bind);
}
