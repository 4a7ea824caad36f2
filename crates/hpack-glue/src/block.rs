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

/// A fully decoded and validated header block. The decoder hands request heads out boxed
/// (`R`), in boxes the application gives back ([`HeadDecoder::recycle_request_head`]):
/// a head is about 256 octets and travels through the connection's event queue.
///
/// [`HeadDecoder::recycle_request_head`]: crate::HeadDecoder::recycle_request_head
#[derive(Debug)]
pub enum DecodedBlock<R = Box<RequestHead>> {
    /// A request head.
    Request(R),
    /// Trailer fields.
    Trailers(HeaderMap),
}
