//! Runs one HTTP/1.1 request through the `Service`: builds the `http::Request`, spawns the
//! handler on the core's handler queue, and writes its response through the `Exchange`.

use std::rc::Rc;

use http::header;
use http::uri::{Authority, Scheme};
use http::{Method, Uri};

use super::exchange::Exchange;
use super::parse::Head;
use crate::metrics::Protocol;
use crate::service::access_log::LogStart;
use crate::service::exchange::CoreServices;
use crate::service::exchange::StreamIo;
use crate::service::exchange::StreamSlot;
use crate::service::respond::{self, ResponseTarget};
use crate::service::{Context, RequestBody, Service};

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

/// Starts the handler for `head`. Returns the task (dropping it cancels the handler),
/// `None` when the service answered at once ([`Service::call_now`]), or [`Refused`].
pub(crate) fn start<S: Service>(
    services: &CoreServices<S>,
    exchange: &Rc<Exchange>,
    slot: &Rc<StreamSlot>,
    head: Head,
    body_end: bool,
    tls: bool,
) -> Result<Option<glommio::Task<()>>, Refused> {
    if services.handlers.get() >= services.settings.max_handlers {
        return Err(Refused);
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
    let started = exchange.state.borrow().received_at;
    let cx = Context {
        shared: io.clone(),
        slot: slot.clone(),
        core: services.core.clone(),
        received_at: started,
    };
    let core = services.core.clone();
    core.metrics().stream_opened();
    let log = (services.settings.access_log.as_ref())
        .map(|log| LogStart::new(log, exchange.info.peer.ip(), started));
    let mut target = ResponseTarget::new(exchange, slot, is_head, &services.handlers, log);
    if let Some(outcome) = respond::answer_now(&*services.service, &mut request, &cx) {
        let status = target.finish_now(outcome, &request);
        core.metrics()
            .request_completed(Protocol::Http1, status.as_u16(), started.elapsed());
        return Ok(None);
    }
    target.capture(&request);
    let handled = respond::handle(&*services.service, request, cx, target);
    let fut = async move {
        let status = handled.await;
        core.metrics()
            .request_completed(Protocol::Http1, status.as_u16(), started.elapsed());
    };
    glommio::spawn_local_into(fut, services.core.handler_queue())
        .map(Some)
        .map_err(|_| Refused)
}

/// The core could not take the request (handler cap reached, or no task could be made):
/// the caller answers 503.
pub(crate) struct Refused;
