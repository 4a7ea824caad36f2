//! Sans-IO HTTP/2 server connection (RFC 9113): bytes and timer ticks in, events and bytes
//! out. No sockets, no executor, no clock: the runtime in `h2ring` feeds it.
//!
//! ```
//! use std::time::Instant;
//! use bytes::BytesMut;
//! use h2ring_conn::{Config, Connection};
//!
//! let now = Instant::now();
//! let mut conn = Connection::new(Config::default(), now);
//! // Our SETTINGS go out first, before the client has said anything (RFC 9113 §3.4).
//! let mut out = BytesMut::new();
//! conn.poll_transmit(&mut out, now);
//! assert_eq!(out[3], 0x4); // a SETTINGS frame
//! // Feed the client preface and its SETTINGS; then poll events and transmit again.
//! let mut input = BytesMut::from(&b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\x04\0\0\0\0\0"[..]);
//! conn.recv(&mut input, now);
//! assert!(input.is_empty());
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod budget;
mod closed;
mod config;
mod connection;
mod error;
mod event;
mod flow;
pub mod priority;
pub mod scheduler;
mod stats;
mod store;
mod stream;

pub use budget::RateBudget;
pub use config::Config;
pub use connection::{Connection, Phase, UpgradeError, WRITE_BUDGET};
pub use error::SendError;
pub use event::Event;
pub use h2ring_frame::{ErrorCode, StreamId};
pub use h2ring_hpack::{PreparedFields, RequestHead};
pub use stats::{ErrorCounts, Stats};
pub use store::StreamIdHasher;
pub use stream::StreamState;
