//! h2ring: thread-per-core io_uring HTTP/2 server runtime.
//!
//! This crate owns the protocol-independent runtime: pinned per-core glommio
//! executors with their own `SO_REUSEPORT` listeners ([`Server`]), graceful
//! shutdown ([`ShutdownHandle`]), static files ([`static_files`]) and
//! metrics ([`metrics`]). An HTTP/2 driver plugs in as the per-core
//! [`ConnectionFn`] passed to [`Server::start`].

pub mod cli;
pub mod config;
pub mod error;
pub mod files_service;
pub mod h2;
pub mod http1;
pub mod metrics;
pub mod runtime;
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
pub use runtime::{
    ConnInfo, ConnectionFactory, ConnectionFn, ConnectionFuture, CoreContext, RunningServer, Server,
};
pub use service::{
    service_fn, Body, BodyWriter, CollectError, ConnState, Context, Request, RequestBody, Response,
    Service, ServiceFn, StreamError,
};
pub use shutdown::{ShutdownHandle, ShutdownSummary};
