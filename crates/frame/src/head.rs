//! Owns the 9-octet frame header (RFC 9113 §4.1): parsing and writing it.

use bytes::{BufMut, BytesMut};

use crate::{StreamId, FRAME_HEADER_LEN, MAX_MAX_FRAME_SIZE};

/// A parsed frame header. The flags are raw: each frame type masks off bits it does not define.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameHead {
    /// Payload length (24 bits).
    pub length: u32,
    /// Type octet (may be unknown).
    pub kind: u8,
    /// Raw flags octet.
    pub flags: u8,
    /// Stream identifier with the reserved bit cleared (§4.1: R "MUST be ignored").
    pub stream_id: StreamId,
}

impl FrameHead {
    /// Parses the header at the front of `buf`; `None` when fewer than 9 octets are there.
    pub fn parse(buf: &[u8]) -> Option<FrameHead> {
        let octets: &[u8; FRAME_HEADER_LEN] = buf.get(..FRAME_HEADER_LEN)?.try_into().ok()?;
        let [l0, l1, l2, kind, flags, s0, s1, s2, s3] = *octets;
        Some(FrameHead {
            length: u32::from_be_bytes([0, l0, l1, l2]),
            kind,
            flags,
            stream_id: StreamId::new(u32::from_be_bytes([s0, s1, s2, s3])),
        })
    }

    /// Writes this header (9 octets) to `dst`.
    pub fn encode(&self, dst: &mut BytesMut) {
        encode_frame_header(self.kind, self.flags, self.stream_id, self.length, dst);
    }
}

/// Writes a raw 9-octet frame header (§4.1).
///
/// # Panics
/// If `length` exceeds 2^24-1: such a frame cannot be expressed, so this is a caller bug.
pub fn encode_frame_header(
    kind: u8,
    flags: u8,
    stream_id: StreamId,
    length: u32,
    dst: &mut BytesMut,
) {
    dst.put_slice(&frame_header_bytes(kind, flags, stream_id, length));
}

/// The 9 octets of a frame header (§4.1: 24-bit length, type, flags, R bit + 31-bit
/// stream id, big-endian), for writing in place over a gap left earlier.
///
/// # Panics
/// As [`encode_frame_header`].
pub(crate) fn frame_header_bytes(
    kind: u8,
    flags: u8,
    stream_id: StreamId,
    length: u32,
) -> [u8; FRAME_HEADER_LEN] {
    assert!(
        length <= MAX_MAX_FRAME_SIZE,
        "frame payload of {length} octets does not fit the 24-bit length field"
    );
    let [_, l0, l1, l2] = length.to_be_bytes();
    let [s0, s1, s2, s3] = stream_id.value().to_be_bytes();
    [l0, l1, l2, kind, flags, s0, s1, s2, s3]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_needs_nine_octets_and_ignores_reserved_bit() {
        let raw = [0x01, 0x02, 0x03, 0xfe, 0xa5, 0x80, 0, 0, 0x07, 0xff];
        assert_eq!(FrameHead::parse(&raw[..8]), None);
        let head = FrameHead::parse(&raw).unwrap();
        assert_eq!(
            head,
            FrameHead {
                length: 0x010203,
                kind: 0xfe,
                flags: 0xa5,
                stream_id: StreamId::new(7),
            }
        );
    }

    #[test]
    fn encode_writes_exact_octets() {
        let mut dst = BytesMut::new();
        encode_frame_header(0x8, 0x1, StreamId::new(0x0102_0304), 0x00ab_cdef, &mut dst);
        assert_eq!(
            &dst[..],
            &[0xab, 0xcd, 0xef, 0x08, 0x01, 0x01, 0x02, 0x03, 0x04]
        );
    }

    #[test]
    #[should_panic(expected = "24-bit")]
    fn encode_rejects_oversized_length() {
        encode_frame_header(
            0,
            0,
            StreamId::ZERO,
            MAX_MAX_FRAME_SIZE + 1,
            &mut BytesMut::new(),
        );
    }
}
