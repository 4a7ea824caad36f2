//! The service API: a [`Service`] turns an [`http::Request`] into an [`http::Response`],
//! with streaming bodies in both directions, trailers, 1xx responses and server push.
//!
//! Services are built once per core and need not be `Send`: they may hold `Rc`/`RefCell`
//! per-core state (caches, pools, counters) without locks. This layer exposes no driver
//! internals: a protocol driver implements [`exchange::StreamIo`] for its connection, and
//! bodies and contexts talk to that trait only.

pub(crate) mod access_log;
mod body;
mod context;
mod error;
pub(crate) mod exchange;
mod prepared;
pub(crate) mod respond;
pub(crate) mod stamp;

use std::future::Future;

pub use self::access_log::{AccessLog, AccessLogFormat, AccessLogTarget};
pub(crate) use self::body::{Binding, BodyKind};
pub use self::body::{Body, BodyWriter, CollectError, RequestBody};
pub use self::context::Context;
pub use self::error::StreamError;
pub use self::prepared::PreparedHead;

/// A request as handlers see it: `http` types, a streaming body.
pub type Request = http::Request<RequestBody>;
/// A response as handlers return it.
pub type Response = http::Response<Body>;

/// Something that answers requests. Implemented for closures by [`service_fn`].
pub trait Service: 'static {
    /// Answers one request. The future runs on the core that accepted the connection and
    /// is dropped (cancelled) if the client resets the stream.
    fn call(&self, req: Request, cx: Context) -> impl Future<Output = Response> + 'static;

    /// Answers at once, without a future, when the service can (a static file, a
    /// hello-world page): `Some(response)`, or `None` and [`call`](Service::call) follows
    /// with the same request. The default answers nothing here. A response from here costs
    /// no task, no boxed future and no poll, and the request's memory goes back to the
    /// connection for the next request. It runs on the connection's task, in the turn that
    /// decoded the request: keep it to work that does not wait (anything that would,
    /// belongs in `call`). The request is lent mutably so a wrapper can tag it; one that
    /// returns `None` should leave it as `call` is meant to see it.
    fn call_now(&self, req: &mut Request, cx: &Context) -> Option<Response> {
        let _ = (req, cx);
        None
    }

    /// Connection lifecycle (Go's `ConnState`): `New` when accepted, `Active`/`Idle` as
    /// requests start and stop being in flight, `Closed` at the end. Called on the
    /// connection's core; the default does nothing.
    fn on_connection(&self, info: &crate::runtime::ConnInfo, state: ConnState) {
        let _ = (info, state);
    }
}

/// Where a connection is in its life, as told to [`Service::on_connection`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConnState {
    /// Accepted; nothing received yet.
    New,
    /// At least one request in flight.
    Active,
    /// Open with no request in flight.
    Idle,
    /// Gone.
    Closed,
}

/// A [`Service`] from a closure `Fn(Request, Context) -> impl Future<Output = Response>`.
pub fn service_fn<F, Fut>(f: F) -> ServiceFn<F>
where
    F: Fn(Request, Context) -> Fut + 'static,
    Fut: Future<Output = Response> + 'static,
{
    ServiceFn(f)
}

/// See [`service_fn`].
#[derive(Clone)]
pub struct ServiceFn<F>(F);

impl<F, Fut> Service for ServiceFn<F>
where
    F: Fn(Request, Context) -> Fut + 'static,
    Fut: Future<Output = Response> + 'static,
{
    fn call(&self, req: Request, cx: Context) -> impl Future<Output = Response> + 'static {
        (self.0)(req, cx)
    }
}
