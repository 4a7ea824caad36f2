//! Owns the 31-bit stream identifier type (RFC 9113 §5.1.1).

use core::fmt;

/// Mask that clears the reserved R bit (RFC 9113 §4.1: "MUST be ignored when receiving").
const STREAM_ID_MASK: u32 = 0x7fff_ffff;

/// 31-bit stream identifier; the reserved high bit is always cleared on decode/construct.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct StreamId(u32);

impl StreamId {
    /// Stream 0: the connection itself (RFC 9113 §5.1.1).
    pub const ZERO: StreamId = StreamId(0);
    /// The largest legal stream identifier, 2^31-1.
    pub const MAX: StreamId = StreamId(STREAM_ID_MASK);

    /// Builds an identifier from a raw 32-bit value, clearing the reserved R bit.
    pub const fn new(id: u32) -> StreamId {
        StreamId(id & STREAM_ID_MASK)
    }

    /// The identifier as a number (always < 2^31).
    pub const fn value(self) -> u32 {
        self.0
    }

    /// True for stream 0, which names the connection.
    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }

    /// True for odd identifiers (RFC 9113 §5.1.1: client-initiated streams are odd).
    pub const fn is_client_initiated(self) -> bool {
        self.0 % 2 == 1
    }

    /// True for even, non-zero identifiers (server-initiated, i.e. pushed, streams).
    pub const fn is_server_initiated(self) -> bool {
        self.0 != 0 && self.0 % 2 == 0
    }
}

impl From<u32> for StreamId {
    fn from(id: u32) -> StreamId {
        StreamId::new(id)
    }
}

impl From<StreamId> for u32 {
    fn from(id: StreamId) -> u32 {
        id.0
    }
}

impl fmt::Display for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_masks_reserved_bit() {
        assert_eq!(StreamId::new(0x8000_0003).value(), 3);
        assert_eq!(StreamId::new(u32::MAX), StreamId::MAX);
        assert_eq!(StreamId::MAX.value(), 2_147_483_647);
    }

    #[test]
    fn initiator_parity() {
        assert!(StreamId::new(1).is_client_initiated());
        assert!(!StreamId::new(1).is_server_initiated());
        assert!(StreamId::new(2).is_server_initiated());
        assert!(!StreamId::ZERO.is_server_initiated());
        assert!(!StreamId::ZERO.is_client_initiated());
        assert!(StreamId::ZERO.is_zero());
    }

    #[test]
    fn conversions_and_display() {
        assert_eq!(u32::from(StreamId::from(0x8000_0007)), 7);
        assert_eq!(StreamId::new(42).to_string(), "42");
    }
}
