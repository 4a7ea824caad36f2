//! The kinds of header block a stream carries and what decoding one yields.

use http::HeaderMap;

use crate::request::RequestHead;

/// Which header section a block carries (RFC 9113 §8.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockKind {
    /// The request header section that opens a stream.
    Request,
    /// A trailer section, after the body (no pseudo-headers allowed).
    Trailers,
}

/// A fully decoded and validated header block.
#[derive(Debug)]
pub enum DecodedBlock {
    /// A request head.
    Request(RequestHead),
    /// Trailer fields.
    Trailers(HeaderMap),
}
