//! HPACK codec (RFC 7541) and validated HTTP/2 heads (RFC 9113 §8).

mod block;
mod collect;
pub mod field;
pub mod hpack;
mod limits;
mod pseudo;
pub mod reason;
mod request;

pub use block::{BlockKind, DecodedBlock};
pub use limits::{HeadLimits, DEFAULT_MAX_HEADER_LIST_SIZE};
pub use request::{Protocol, RequestHead};
