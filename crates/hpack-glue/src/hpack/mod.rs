//! HPACK header compression (RFC 7541): integers, Huffman strings, static and
//! dynamic tables, a fragment-streaming decoder and an encoder.
//!
//! Written for h2ring instead of using the `hpack` crate, which is
//! unmaintained (RUSTSEC-2023-0084), panics on hostile input
//! (RUSTSEC-2023-0085) and does not bound a peer's table size.

mod decoder;
mod dynamic_table;
mod encoder;
mod error;
pub mod huffman;
mod integer;
mod memo;
mod scan;
mod static_table;

pub use self::decoder::{Decoder, OwnedFields};
pub use self::encoder::Encoder;
pub(crate) use self::encoder::{format_decimal, MAX_DECIMAL_DIGITS};
pub use self::error::DecodeError;
pub use self::memo::BlockMemo;

/// Default dynamic table size (RFC 9113 §6.5.2 SETTINGS_HEADER_TABLE_SIZE
/// initial value), and the cap on the table our [`Encoder`] keeps.
pub const DEFAULT_TABLE_SIZE: usize = 4096;

/// Default longest string literal (name or value, before and after Huffman
/// decoding) the [`Decoder`] accepts; a longer one is COMPRESSION_ERROR, as
/// in Go's `x/net/http2/hpack` (whose limit is the max header list size).
/// Checked before anything is buffered or allocated.
pub const DEFAULT_MAX_STRING_LEN: usize = 16 * 1024;

/// One decoded header field. The slices borrow decoder-internal storage and
/// are valid only during the callback.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field<'a> {
    /// Field name octets (not validated here).
    pub name: &'a [u8],
    /// Field value octets (not validated here).
    pub value: &'a [u8],
    /// The field was sent as a never-indexed literal (RFC 7541 §6.2.3); an
    /// intermediary must re-encode it the same way (§7.1.3).
    pub never_indexed: bool,
}
