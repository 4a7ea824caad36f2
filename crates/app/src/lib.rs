//! h2ring: a thread-per-core io_uring HTTP/2 server runtime.
//!
//! The model in one page:
//!
//! - A [`Server`] runs one pinned glommio executor per core, each with its own
//!   `SO_REUSEPORT` listener. A connection is accepted, served and closed on one core.
//! - You give it a **factory** that runs once on each core and returns that core's
//!   [`Service`]. Because a service never leaves its core it may be `!Send`: per-core
//!   caches, pools and counters need no locks.
//! - A [`Service`] answers an [`http::Request`] with an [`http::Response`]. Request bodies
//!   stream in through [`RequestBody`] (reading opens the HTTP/2 flow-control window:
//!   an unread body stops the client); response bodies are [`Body::from`] bytes or are
//!   streamed through a [`BodyWriter`] that waits for the client (backpressure).
//! - The [`Context`] of a request gives the connection facts and the HTTP/2 extras:
//!   1xx responses (103 Early Hints), server push, resets. A handler's future is dropped
//!   when the client resets its stream; a panicking handler costs only its stream.
//! - Every port speaks HTTP/2 (prior knowledge) and HTTP/1.1 (with `Upgrade: h2c`); TLS
//!   with ALPN is in [`tls`] and [`serve::connection_fn`].
//! - [`ShutdownHandle::shutdown`] (or SIGTERM with [`Server::serve`]) stops accepting,
//!   sends GOAWAY everywhere, lets open streams finish within the drain deadline.
//!
//! ```no_run
//! use std::cell::Cell;
//! use std::rc::Rc;
//! use h2ring::{service_fn, Body, Context, Request, Response, Server};
//!
//! let server = Server::builder()
//!     .listen("127.0.0.1:8080".parse().unwrap())
//!     .build()
//!     .expect("valid configuration");
//! // Runs once per core: the counter is per-core state, no lock needed.
//! let summary = server.serve(|_core| {
//!     let hits = Rc::new(Cell::new(0u64));
//!     service_fn(move |_req: Request, cx: Context| {
//!         let hits = hits.clone();
//!         async move {
//!             hits.set(hits.get() + 1);
//!             let text = format!("hello from core {} (#{})\n", cx.conn_info().core, hits.get());
//!             Response::new(Body::from(text))
//!         }
//!     })
//! });
//! println!("{}", summary.expect("server ran"));
//! ```
//!
//! Errors a caller can act on are typed: [`StartError`] at start-up, [`StreamError`] on a
//! stream. The protocol itself lives in the sans-IO crate `h2ring-conn`, configured here
//! through [`Http2Config`].

pub mod cli;
pub mod config;
pub mod error;
pub mod files_service;
pub mod h2;
pub mod http1;
pub mod metrics;
mod prepared;
mod respond;
pub mod runtime;
mod scratch;
pub mod serve;
pub mod service;
pub mod shutdown;
pub mod signals;
pub mod sniff;
pub mod static_files;
mod stream_io;
pub mod tls;

pub use config::{Cores, ServerBuilder, ServerConfig};
pub use error::StartError;
pub use h2ring_conn::{Config as Http2Config, ErrorCode};
pub use prepared::PreparedHead;
pub use runtime::{
    ConnInfo, ConnectionFactory, ConnectionFn, ConnectionFuture, CoreContext, RunningServer, Server,
};
pub use service::{
    service_fn, Body, BodyWriter, CollectError, ConnState, Context, Request, RequestBody, Response,
    Service, ServiceFn, StreamError,
};
pub use shutdown::{ShutdownHandle, ShutdownSummary};
