//! HPACK codec (RFC 7541) and validated HTTP/2 heads (RFC 9113 §8).
//!
//! [`HeadDecoder`] turns HEADERS/CONTINUATION fragments into a validated [`RequestHead`] or
//! trailers; [`HeadEncoder`] writes response heads, trailers and pushed request heads.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod arena;
pub mod hpack;

mod block;
mod collect;
mod decoder;
mod encoder;
mod error;
pub mod field;
mod limits;
mod literal_cache;
mod prepared;
mod pseudo;
pub mod reason;
mod request;
mod stamp;

pub use block::{BlockKind, DecodedBlock};
pub use decoder::{max_literal_len, HeadDecoder};
pub use encoder::HeadEncoder;
pub use error::HeadError;
pub use limits::{HeadLimits, DEFAULT_MAX_HEADER_LIST_SIZE};
pub use prepared::PreparedFields;
pub use request::{Protocol, RequestHead};
