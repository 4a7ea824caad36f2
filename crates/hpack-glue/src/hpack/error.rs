//! The HPACK decoding error type: every variant is a COMPRESSION_ERROR.

use std::fmt;

/// Why a header block could not be decoded.
///
/// Every variant is a connection error of type COMPRESSION_ERROR
/// (RFC 9113 §4.3): the dynamic table can no longer be trusted, so the
/// decoder that returned it must not be used again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecodeError {
    /// A prefixed integer (RFC 7541 §5.1) exceeded `u32` or used more than
    /// five continuation octets.
    IntegerOverflow,
    /// A string literal (RFC 7541 §5.2) was longer than the configured
    /// maximum string length (before or after Huffman decoding).
    StringTooLong,
    /// A Huffman-coded string contained EOS, padding longer than 7 bits, or
    /// padding that is not a prefix of EOS (RFC 7541 §5.2).
    InvalidHuffman,
    /// Index 0, or an index past the end of the static + dynamic table
    /// (RFC 7541 §2.3.3, §6.1).
    InvalidIndex,
    /// A dynamic table size update above the SETTINGS_HEADER_TABLE_SIZE we
    /// advertised (RFC 7541 §6.3).
    TableSizeUpdateTooLarge,
    /// A dynamic table size update after the first field of a header block
    /// (RFC 7541 §4.2).
    TableSizeUpdateNotAtStart,
    /// The header block ended in the middle of a representation.
    Truncated,
    /// A representation cut across fragments needed more buffering than the
    /// configured bound allows.
    FragmentBufferOverflow,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let msg = match self {
            DecodeError::IntegerOverflow => "HPACK integer overflow",
            DecodeError::StringTooLong => "HPACK string literal too long",
            DecodeError::InvalidHuffman => "invalid HPACK Huffman string",
            DecodeError::InvalidIndex => "invalid HPACK table index",
            DecodeError::TableSizeUpdateTooLarge => {
                "HPACK table size update above advertised limit"
            }
            DecodeError::TableSizeUpdateNotAtStart => {
                "HPACK table size update after the first header field"
            }
            DecodeError::Truncated => "HPACK header block truncated",
            DecodeError::FragmentBufferOverflow => "HPACK fragment buffer overflow",
        };
        f.write_str(msg)
    }
}

impl std::error::Error for DecodeError {}
