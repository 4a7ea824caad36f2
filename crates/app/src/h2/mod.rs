//! The HTTP/2 connection driver: a thin glommio task around the sans-IO
//! [`h2ring_conn::Connection`]. One task per connection does all its I/O in a single poll
//! function — read what the socket has, feed the connection, route events to handlers,
//! apply timers, write everything produced in as few `send`s as possible — and sleeps until
//! the socket, a handler, a timer or shutdown wakes it.

pub(crate) mod dispatch;
pub(crate) mod io;
pub(crate) mod shared;

use std::cell::Cell;
use std::rc::Rc;

use bytes::BytesMut;

use self::dispatch::CoreServices;
pub use self::dispatch::{empty_response, Protocol};
use crate::runtime::{ConnectionFn, CoreContext};
use crate::service::Service;

/// Builds the per-core connection callback that serves HTTP/2 (prior knowledge) with
/// `service`. Called once per core by [`crate::Server::start`]'s factory.
pub fn connection_fn<S: Service>(core: &CoreContext, service: S) -> ConnectionFn {
    let services = Rc::new(CoreServices {
        service: Rc::new(service),
        core: core.clone(),
        handlers: Rc::new(Cell::new(0)),
    });
    Rc::new(move |stream, info| {
        Box::pin(io::serve_new(
            stream,
            BytesMut::new(),
            info,
            services.clone(),
        ))
    })
}
