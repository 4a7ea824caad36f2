//! h2ring: a thread-per-core io_uring HTTP/2 and HTTP/1.1 server runtime.
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
//!   [`PreparedHead`] sends header fields built once with many responses.
//! - The [`Context`] of a request gives the connection facts ([`ConnInfo`]) and the HTTP/2
//!   extras: 1xx responses (103 Early Hints), server push, resets, and
//!   [`Context::spawn`] for tasks that stream a body. A handler's future is dropped when
//!   the client resets its stream; a panicking handler or spawned task costs only its
//!   stream. A panic nothing catches stops the server rather than leave it running on
//!   fewer cores ([`ShutdownSummary::failed_cores`]).
//! - Every listener speaks HTTP/2 and HTTP/1.1: with [`TlsConfig`] on the builder, ALPN
//!   picks; in cleartext, the first octets do (prior-knowledge h2c, or HTTP/1.1 with
//!   `Upgrade: h2c`). Requests over TLS carry a [`TlsInfo`] in their extensions, extended
//!   CONNECT requests (RFC 8441) a [`Protocol`]. Behind an L4 balancer, a listener added
//!   with [`ServerBuilder::listener`] and [`ListenerConfig::proxy_protocol`] reads the
//!   PROXY protocol header first, and [`ConnInfo::peer`] is the client it names.
//! - [`Server::serve`] stops on SIGINT/SIGTERM; [`Server::start`] returns a
//!   [`RunningServer`] whose [`ServerHandle`] stops it from anywhere: listeners close,
//!   GOAWAY goes out, open streams get the drain timeout to finish.
//! - Settings: [`ServerBuilder`] for the server, [`Http2Config`] for each HTTP/2
//!   connection (the sans-IO `h2ring-conn` crate's limits, windows and timeouts).
//!   [`static_files`] is the file server the `h2ring` binary runs.
//! - Operations: [`ServerBuilder::admin_addr`] serves `/metrics` (Prometheus), `/healthz`
//!   and `/readyz` (503 once a drain starts); a factory adds its own per-core series with
//!   [`CoreContext::counter`] and [`CoreContext::histogram`] ([`metrics`]);
//!   [`ServerBuilder::access_log`] writes an [`AccessLog`] (buffered per core, written by a
//!   thread of its own, reopened on SIGUSR1).
//!
//! ```no_run
//! use std::cell::Cell;
//! use std::rc::Rc;
//! use h2ring::{service_fn, Body, Context, Request, Response, Server};
//!
//! let server = Server::builder()
//!     .listen("127.0.0.1:8080".parse().unwrap())
//!     .build()?;
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
//! })?;
//! println!("{summary}");
//! # Ok::<(), h2ring::StartError>(())
//! ```
//!
//! Errors a caller can act on are typed: [`StartError`] (with [`ConfigError`] and
//! [`TlsError`]) at start-up, [`StreamError`] on a stream.
//!
//! # Layers
//!
//! Modules import only downward: `runtime` (executors, listeners, accept, shutdown,
//! signals; no HTTP) ← `transport` (TLS, protocol sniffing, read buffers) ← `service` (the
//! types above, and the seam drivers implement) ← `driver` (`h2`, `http1`) ← `server`
//! (builder and wiring) ← the binary's CLI. `docs/ARCHITECTURE.md` draws it.

#![warn(missing_docs)]

mod driver;
mod error;
pub mod metrics;
mod runtime;
mod server;
mod service;
pub mod static_files;
mod transport;

pub use error::{ConfigError, StartError, TlsError};
pub use h2ring_conn::{Config as Http2Config, ErrorCode, SendError};
pub use h2ring_hpack::Protocol;
pub use runtime::{ConnInfo, CoreContext, ShutdownSummary};
pub use server::{
    Cores, ListenerConfig, ParseProtocolsError, Protocols, RunningServer, Server, ServerBuilder,
    ServerConfig, ServerHandle,
};
pub use service::{
    service_fn, AccessLog, AccessLogFormat, AccessLogTarget, Body, BodyWriter, CollectError,
    ConnState, Context, PreparedHead, Request, RequestBody, Response, Service, ServiceFn,
    StreamError,
};
pub use transport::tls::{TlsConfig, TlsInfo};
