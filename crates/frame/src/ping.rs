//! Owns the PING frame (RFC 9113 §6.7).

use bytes::{BufMut, Bytes, BytesMut};

use crate::frame_type::{Flags, FrameType};
use crate::head::{encode_frame_header, FrameHead};
use crate::{wire, ErrorCode, FrameError, StreamId};

/// PING payload length (§6.7).
const PING_LEN: usize = 8;

/// A PING frame (§6.7).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ping {
    /// ACK flag: this is a response.
    pub ack: bool,
    /// Opaque data, echoed in the response.
    pub payload: [u8; 8],
}

impl Ping {
    /// A PING request.
    pub fn new(payload: [u8; 8]) -> Ping {
        Ping {
            ack: false,
            payload,
        }
    }

    /// The ACK answering a PING that carried `payload` (§6.7: identical payload).
    pub fn pong(payload: [u8; 8]) -> Ping {
        Ping { ack: true, payload }
    }

    pub(crate) fn decode(head: &FrameHead, payload: &Bytes) -> Result<Ping, FrameError> {
        // §6.7: PING is connection-level only.
        if !head.stream_id.is_zero() {
            return Err(FrameError::connection(
                ErrorCode::ProtocolError,
                "PING on a stream",
            ));
        }
        let Ok(octets) = <[u8; PING_LEN]>::try_from(&payload[..]) else {
            return Err(FrameError::connection(
                ErrorCode::FrameSizeError,
                "PING length is not 8",
            ));
        };
        Ok(Ping {
            ack: Flags::from_bits(head.flags).contains(Flags::ACK),
            payload: octets,
        })
    }

    pub(crate) fn encode(&self, dst: &mut BytesMut) {
        let flags = Flags::EMPTY.with_if(Flags::ACK, self.ack);
        let length = wire::len_u32(PING_LEN);
        encode_frame_header(
            FrameType::Ping.to_u8(),
            flags.bits(),
            StreamId::ZERO,
            length,
            dst,
        );
        dst.put_slice(&self.payload);
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
            decode_one(&raw(0x6, 0, 1, &[0; 8])),
            Err(FrameError::connection(
                ErrorCode::ProtocolError,
                "PING on a stream"
            ))
        );
    }

    #[test]
    fn wrong_length_is_connection_frame_size_error() {
        let want = Err(FrameError::connection(
            ErrorCode::FrameSizeError,
            "PING length is not 8",
        ));
        assert_eq!(decode_one(&raw(0x6, 0, 0, &[0; 7])), want);
        assert_eq!(decode_one(&raw(0x6, 0, 0, &[0; 9])), want);
    }

    #[test]
    fn ack_flag_and_payload() {
        assert_eq!(
            decode_one(&raw(0x6, 0x1, 0, b"12345678")),
            Ok(Frame::Ping(Ping::pong(*b"12345678")))
        );
    }
}
