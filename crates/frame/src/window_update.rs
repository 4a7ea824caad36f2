//! Owns the WINDOW_UPDATE frame (RFC 9113 §6.9).

use bytes::{BufMut, Bytes, BytesMut};

use crate::frame_type::FrameType;
use crate::head::{encode_frame_header, FrameHead};
use crate::{wire, ErrorCode, FrameError, StreamId, MAX_WINDOW_SIZE};

/// WINDOW_UPDATE payload length (§6.9).
const WINDOW_UPDATE_LEN: usize = 4;

/// A WINDOW_UPDATE frame (§6.9); stream 0 means the connection window.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WindowUpdate {
    /// Stream whose window grows, or 0 for the connection.
    pub stream_id: StreamId,
    /// Octets added to the window (1..=2^31-1).
    pub increment: u32,
}

impl WindowUpdate {
    pub(crate) fn decode(head: &FrameHead, payload: &Bytes) -> Result<WindowUpdate, FrameError> {
        // §6.9: a length other than 4 is a connection FRAME_SIZE_ERROR.
        let raw = match wire::u32_at(payload, 0) {
            Some(v) if payload.len() == WINDOW_UPDATE_LEN => v,
            _ => {
                return Err(FrameError::connection(
                    ErrorCode::FrameSizeError,
                    "WINDOW_UPDATE length is not 4",
                ))
            }
        };
        // §6.9: the reserved bit is ignored.
        let increment = raw & MAX_WINDOW_SIZE;
        // §6.9: a zero increment is an error on whatever the frame applies to.
        if increment == 0 {
            let reason = "WINDOW_UPDATE increment is 0";
            return Err(if head.stream_id.is_zero() {
                FrameError::connection(ErrorCode::ProtocolError, reason)
            } else {
                FrameError::stream(head.stream_id, ErrorCode::ProtocolError, reason)
            });
        }
        Ok(WindowUpdate {
            stream_id: head.stream_id,
            increment,
        })
    }

    pub(crate) fn encode(&self, dst: &mut BytesMut) {
        let length = wire::len_u32(WINDOW_UPDATE_LEN);
        encode_frame_header(
            FrameType::WindowUpdate.to_u8(),
            0,
            self.stream_id,
            length,
            dst,
        );
        dst.put_u32(self.increment & MAX_WINDOW_SIZE);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::{decode_one, raw};
    use crate::Frame;

    #[test]
    fn wrong_length_is_connection_frame_size_error() {
        let want = Err(FrameError::connection(
            ErrorCode::FrameSizeError,
            "WINDOW_UPDATE length is not 4",
        ));
        assert_eq!(decode_one(&raw(0x8, 0, 1, &[0, 0, 1])), want);
        assert_eq!(decode_one(&raw(0x8, 0, 0, &[0, 0, 0, 1, 0])), want);
    }

    #[test]
    fn zero_increment_on_stream_is_stream_error() {
        assert_eq!(
            decode_one(&raw(0x8, 0, 7, &[0, 0, 0, 0])),
            Err(FrameError::stream(
                StreamId::new(7),
                ErrorCode::ProtocolError,
                "WINDOW_UPDATE increment is 0"
            ))
        );
    }

    #[test]
    fn zero_increment_on_connection_is_connection_error() {
        // The reserved bit alone does not make a non-zero increment.
        assert_eq!(
            decode_one(&raw(0x8, 0, 0, &[0x80, 0, 0, 0])),
            Err(FrameError::connection(
                ErrorCode::ProtocolError,
                "WINDOW_UPDATE increment is 0"
            ))
        );
    }

    #[test]
    fn reserved_bit_ignored() {
        assert_eq!(
            decode_one(&raw(0x8, 0, 0, &[0xff, 0xff, 0xff, 0xff])),
            Ok(Frame::WindowUpdate(WindowUpdate {
                stream_id: StreamId::ZERO,
                increment: MAX_WINDOW_SIZE,
            }))
        );
    }
}
