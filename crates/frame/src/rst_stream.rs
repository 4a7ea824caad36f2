//! Owns the RST_STREAM frame (RFC 9113 §6.4).

use bytes::{BufMut, Bytes, BytesMut};

use crate::frame_type::FrameType;
use crate::head::{encode_frame_header, FrameHead};
use crate::{wire, ErrorCode, FrameError, StreamId};

/// RST_STREAM payload length (§6.4).
const RST_STREAM_LEN: usize = 4;

/// An RST_STREAM frame (§6.4).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RstStream {
    /// Stream being reset (never 0).
    pub stream_id: StreamId,
    /// Why.
    pub code: ErrorCode,
}

impl RstStream {
    pub(crate) fn decode(head: &FrameHead, payload: &Bytes) -> Result<RstStream, FrameError> {
        // §6.4: RST_STREAM on stream 0 is a connection PROTOCOL_ERROR.
        if head.stream_id.is_zero() {
            return Err(FrameError::connection(
                ErrorCode::ProtocolError,
                "RST_STREAM on stream 0",
            ));
        }
        // §6.4: any length but 4 is a connection FRAME_SIZE_ERROR.
        let code = match wire::u32_at(payload, 0) {
            Some(v) if payload.len() == RST_STREAM_LEN => ErrorCode::from_u32(v),
            _ => {
                return Err(FrameError::connection(
                    ErrorCode::FrameSizeError,
                    "RST_STREAM length is not 4",
                ))
            }
        };
        Ok(RstStream {
            stream_id: head.stream_id,
            code,
        })
    }

    pub(crate) fn encode(&self, dst: &mut BytesMut) {
        let length = wire::len_u32(RST_STREAM_LEN);
        encode_frame_header(FrameType::RstStream.to_u8(), 0, self.stream_id, length, dst);
        dst.put_u32(self.code.to_u32());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::{decode_one, raw};
    use crate::Frame;

    #[test]
    fn stream_zero_is_connection_protocol_error() {
        assert_eq!(
            decode_one(&raw(0x3, 0, 0, &[0, 0, 0, 8])),
            Err(FrameError::connection(
                ErrorCode::ProtocolError,
                "RST_STREAM on stream 0"
            ))
        );
    }

    #[test]
    fn wrong_length_is_connection_frame_size_error() {
        let want = Err(FrameError::connection(
            ErrorCode::FrameSizeError,
            "RST_STREAM length is not 4",
        ));
        assert_eq!(decode_one(&raw(0x3, 0, 1, &[0, 0, 8])), want);
        assert_eq!(decode_one(&raw(0x3, 0, 1, &[0, 0, 0, 8, 0])), want);
    }

    #[test]
    fn unknown_code_is_kept() {
        assert_eq!(
            decode_one(&raw(0x3, 0, 1, &[0, 0, 0x12, 0x34])),
            Ok(Frame::RstStream(RstStream {
                stream_id: StreamId::new(1),
                code: ErrorCode::Unknown(0x1234),
            }))
        );
    }
}
