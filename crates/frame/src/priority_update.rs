//! Owns the PRIORITY_UPDATE frame (RFC 9218 §7.1).

use bytes::{BufMut, Bytes, BytesMut};

use crate::frame_type::FrameType;
use crate::head::{encode_frame_header, FrameHead};
use crate::{wire, ErrorCode, FrameError, StreamId};

/// Octets of the Prioritized Stream ID field (RFC 9218 §7.1).
const PRIORITIZED_ID_LEN: usize = 4;

/// A PRIORITY_UPDATE frame: a new Priority Field Value for a request stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PriorityUpdate {
    /// Stream whose priority changes (never 0).
    pub prioritized_stream_id: StreamId,
    /// Structured-field Priority value, e.g. `u=1, i` (ASCII, not validated here).
    pub field_value: Bytes,
}

impl PriorityUpdate {
    pub(crate) fn decode(
        head: &FrameHead,
        mut payload: Bytes,
    ) -> Result<PriorityUpdate, FrameError> {
        // RFC 9218 §7.1: sent on stream 0 only.
        if !head.stream_id.is_zero() {
            return Err(FrameError::connection(
                ErrorCode::ProtocolError,
                "PRIORITY_UPDATE on a stream",
            ));
        }
        let id = wire::split_front(&mut payload, PRIORITIZED_ID_LEN)
            .and_then(|octets| wire::u32_at(&octets, 0))
            .ok_or(FrameError::connection(
                ErrorCode::FrameSizeError,
                "PRIORITY_UPDATE shorter than 4 octets",
            ))?;
        let prioritized_stream_id = StreamId::new(id);
        // RFC 9218 §7.1: a Prioritized Stream ID of 0 is a PROTOCOL_ERROR.
        if prioritized_stream_id.is_zero() {
            return Err(FrameError::connection(
                ErrorCode::ProtocolError,
                "PRIORITY_UPDATE for stream 0",
            ));
        }
        Ok(PriorityUpdate {
            prioritized_stream_id,
            field_value: payload,
        })
    }

    pub(crate) fn encode(&self, dst: &mut BytesMut) {
        let length = wire::len_u32(PRIORITIZED_ID_LEN + self.field_value.len());
        let kind = FrameType::PriorityUpdate.to_u8();
        encode_frame_header(kind, 0, StreamId::ZERO, length, dst);
        dst.put_u32(self.prioritized_stream_id.value());
        dst.put_slice(&self.field_value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::{decode_one, raw};
    use crate::Frame;

    #[test]
    fn nonzero_stream_is_protocol_error() {
        assert_eq!(
            decode_one(&raw(0x10, 0, 1, &[0, 0, 0, 1])),
            Err(FrameError::connection(
                ErrorCode::ProtocolError,
                "PRIORITY_UPDATE on a stream"
            ))
        );
    }

    #[test]
    fn short_payload_is_frame_size_error() {
        assert_eq!(
            decode_one(&raw(0x10, 0, 0, &[0, 0, 1])),
            Err(FrameError::connection(
                ErrorCode::FrameSizeError,
                "PRIORITY_UPDATE shorter than 4 octets"
            ))
        );
    }

    #[test]
    fn prioritized_stream_zero_is_protocol_error() {
        assert_eq!(
            decode_one(&raw(0x10, 0, 0, &[0x80, 0, 0, 0, b'u'])),
            Err(FrameError::connection(
                ErrorCode::ProtocolError,
                "PRIORITY_UPDATE for stream 0"
            ))
        );
    }

    #[test]
    fn decodes_field_value() {
        assert_eq!(
            decode_one(&raw(0x10, 0, 0, b"\x00\x00\x00\x05u=1, i")),
            Ok(Frame::PriorityUpdate(PriorityUpdate {
                prioritized_stream_id: StreamId::new(5),
                field_value: Bytes::from_static(b"u=1, i"),
            }))
        );
    }
}
