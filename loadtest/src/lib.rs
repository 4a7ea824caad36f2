//! `h2ring-loadtest`: an HTTP/2 load generator on h2ring's thread-per-core runtime.
//!
//! N connections × M concurrent streams in a closed loop (like h2load), or an open loop
//! at a fixed rate whose latencies count from each request's intended send time
//! (correcting coordinated omission); latencies go into an HdrHistogram. h2c with prior
//! knowledge, or h2 over TLS (rustls).

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod cli;
pub mod client;
pub mod config;
pub mod driver;
pub mod report;
pub mod stats;
pub mod template;
pub mod tls;

pub use config::{Config, Cores, Mode, RequestSpec, Stop};
pub use driver::{run, RunError};
pub use report::Report;
pub use stats::{ErrorKind, Stats};
