//! Owns the frame type octets (RFC 9113 §6, RFC 9218 §7.1) and the typed flag bits.

use core::ops::BitOr;

/// Frame type octets (§6 + RFC 9218 PRIORITY_UPDATE 0x10).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum FrameType {
    /// DATA (§6.1).
    Data = 0x0,
    /// HEADERS (§6.2).
    Headers = 0x1,
    /// PRIORITY (§6.3, deprecated but still parsed).
    Priority = 0x2,
    /// RST_STREAM (§6.4).
    RstStream = 0x3,
    /// SETTINGS (§6.5).
    Settings = 0x4,
    /// PUSH_PROMISE (§6.6).
    PushPromise = 0x5,
    /// PING (§6.7).
    Ping = 0x6,
    /// GOAWAY (§6.8).
    GoAway = 0x7,
    /// WINDOW_UPDATE (§6.9).
    WindowUpdate = 0x8,
    /// CONTINUATION (§6.10).
    Continuation = 0x9,
    /// PRIORITY_UPDATE (RFC 9218 §7.1).
    PriorityUpdate = 0x10,
}

impl FrameType {
    /// Maps a type octet to a known type; `None` for types this codec does not know (§5.5).
    pub const fn from_u8(v: u8) -> Option<FrameType> {
        Some(match v {
            0x0 => FrameType::Data,
            0x1 => FrameType::Headers,
            0x2 => FrameType::Priority,
            0x3 => FrameType::RstStream,
            0x4 => FrameType::Settings,
            0x5 => FrameType::PushPromise,
            0x6 => FrameType::Ping,
            0x7 => FrameType::GoAway,
            0x8 => FrameType::WindowUpdate,
            0x9 => FrameType::Continuation,
            0x10 => FrameType::PriorityUpdate,
            _ => return None,
        })
    }

    /// The type octet.
    pub const fn to_u8(self) -> u8 {
        self as u8
    }
}

/// The flags octet of a frame header (RFC 9113 §4.1). Which bits mean what depends
/// on the frame type; bits a type does not define are ignored on receipt.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Flags(u8);

impl Flags {
    /// No flags set.
    pub const EMPTY: Flags = Flags(0);
    /// DATA, HEADERS: last frame the sender will send on this stream (§6.1, §6.2).
    pub const END_STREAM: Flags = Flags(0x1);
    /// SETTINGS, PING: this frame acknowledges the peer's (§6.5, §6.7).
    pub const ACK: Flags = Flags(0x1);
    /// HEADERS, PUSH_PROMISE, CONTINUATION: the header block ends here (§6.2).
    pub const END_HEADERS: Flags = Flags(0x4);
    /// DATA, HEADERS, PUSH_PROMISE: a Pad Length octet and padding are present (§6.1).
    pub const PADDED: Flags = Flags(0x8);
    /// HEADERS: exclusive flag, stream dependency and weight are present (§6.2).
    pub const PRIORITY: Flags = Flags(0x20);

    /// Wraps a raw flags octet.
    pub const fn from_bits(bits: u8) -> Flags {
        Flags(bits)
    }

    /// The raw flags octet.
    pub const fn bits(self) -> u8 {
        self.0
    }

    /// True when every bit of `other` is set in `self`.
    pub const fn contains(self, other: Flags) -> bool {
        self.0 & other.0 == other.0
    }

    /// `self` with the bits of `other` added when `on` is true.
    pub const fn with_if(self, other: Flags, on: bool) -> Flags {
        if on {
            Flags(self.0 | other.0)
        } else {
            self
        }
    }
}

impl BitOr for Flags {
    type Output = Flags;
    fn bitor(self, rhs: Flags) -> Flags {
        Flags(self.0 | rhs.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_octets_round_trip() {
        for v in 0..=u8::MAX {
            if let Some(t) = FrameType::from_u8(v) {
                assert_eq!(t.to_u8(), v);
            }
        }
        assert_eq!(FrameType::from_u8(0x10), Some(FrameType::PriorityUpdate));
        assert_eq!(FrameType::from_u8(0xa), None);
        assert_eq!(FrameType::from_u8(0xff), None);
    }

    #[test]
    fn flag_operations() {
        let f = Flags::END_HEADERS | Flags::PADDED;
        assert_eq!(f.bits(), 0x0c);
        assert!(f.contains(Flags::PADDED));
        assert!(!f.contains(Flags::PRIORITY));
        assert_eq!(Flags::EMPTY.with_if(Flags::ACK, true), Flags::ACK);
        assert_eq!(Flags::EMPTY.with_if(Flags::ACK, false), Flags::EMPTY);
    }
}
