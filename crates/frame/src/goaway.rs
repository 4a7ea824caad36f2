//! Owns the GOAWAY frame (RFC 9113 §6.8).

use bytes::{BufMut, Bytes, BytesMut};

use crate::frame_type::FrameType;
use crate::head::{encode_frame_header, FrameHead};
use crate::{wire, ErrorCode, FrameError, StreamId};

/// Octets of Last-Stream-ID + Error Code before the debug data (§6.8).
const GOAWAY_FIXED_LEN: usize = 8;

/// A GOAWAY frame (§6.8).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GoAway {
    /// Highest peer-initiated stream the sender may have processed.
    pub last_stream_id: StreamId,
    /// Why the connection is closing.
    pub code: ErrorCode,
    /// Opaque diagnostic data.
    pub debug_data: Bytes,
}

impl GoAway {
    /// A GOAWAY without debug data.
    pub fn new(last_stream_id: StreamId, code: ErrorCode) -> GoAway {
        GoAway {
            last_stream_id,
            code,
            debug_data: Bytes::new(),
        }
    }

    pub(crate) fn decode(head: &FrameHead, mut payload: Bytes) -> Result<GoAway, FrameError> {
        // §6.8: GOAWAY applies to the connection, not a stream.
        if !head.stream_id.is_zero() {
            return Err(FrameError::connection(
                ErrorCode::ProtocolError,
                "GOAWAY on a stream",
            ));
        }
        let too_short =
            FrameError::connection(ErrorCode::FrameSizeError, "GOAWAY shorter than 8 octets");
        let fixed = wire::split_front(&mut payload, GOAWAY_FIXED_LEN).ok_or(too_short)?;
        let last = wire::u32_at(&fixed, 0).ok_or(too_short)?;
        let code = wire::u32_at(&fixed, 4).ok_or(too_short)?;
        Ok(GoAway {
            last_stream_id: StreamId::new(last),
            code: ErrorCode::from_u32(code),
            debug_data: payload,
        })
    }

    pub(crate) fn encode(&self, dst: &mut BytesMut) {
        let length = wire::len_u32(GOAWAY_FIXED_LEN + self.debug_data.len());
        encode_frame_header(FrameType::GoAway.to_u8(), 0, StreamId::ZERO, length, dst);
        dst.put_u32(self.last_stream_id.value());
        dst.put_u32(self.code.to_u32());
        dst.put_slice(&self.debug_data);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::{decode_one, raw};
    use crate::Frame;

    #[test]
    fn nonzero_stream_is_connection_protocol_error() {
        assert_eq!(
            decode_one(&raw(0x7, 0, 1, &[0; 8])),
            Err(FrameError::connection(
                ErrorCode::ProtocolError,
                "GOAWAY on a stream"
            ))
        );
    }

    #[test]
    fn short_payload_is_connection_frame_size_error() {
        assert_eq!(
            decode_one(&raw(0x7, 0, 0, &[0; 7])),
            Err(FrameError::connection(
                ErrorCode::FrameSizeError,
                "GOAWAY shorter than 8 octets"
            ))
        );
    }

    #[test]
    fn reserved_bit_ignored_and_debug_data_kept() {
        assert_eq!(
            decode_one(&raw(0x7, 0, 0, &[0x80, 0, 0, 9, 0, 0, 0, 0xb, b'x'])),
            Ok(Frame::GoAway(GoAway {
                last_stream_id: StreamId::new(9),
                code: ErrorCode::EnhanceYourCalm,
                debug_data: Bytes::from_static(b"x"),
            }))
        );
    }
}
