//! Owns the CONTINUATION frame (RFC 9113 §6.10).

use bytes::{BufMut, Bytes, BytesMut};

use crate::frame_type::{Flags, FrameType};
use crate::head::{encode_frame_header, FrameHead};
use crate::{wire, ErrorCode, FrameError, StreamId};

/// A CONTINUATION frame. Whether it may appear here is the connection's call (§6.10).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Continuation {
    /// Stream of the header block being continued (never 0).
    pub stream_id: StreamId,
    /// Next field-block fragment.
    pub fragment: Bytes,
    /// END_HEADERS flag.
    pub end_headers: bool,
}

impl Continuation {
    pub(crate) fn decode(head: &FrameHead, payload: Bytes) -> Result<Continuation, FrameError> {
        // §6.10: CONTINUATION must be associated with a stream.
        if head.stream_id.is_zero() {
            return Err(FrameError::connection(
                ErrorCode::ProtocolError,
                "CONTINUATION on stream 0",
            ));
        }
        Ok(Continuation {
            stream_id: head.stream_id,
            fragment: payload,
            end_headers: Flags::from_bits(head.flags).contains(Flags::END_HEADERS),
        })
    }

    pub(crate) fn encode(&self, dst: &mut BytesMut) {
        encode_continuation(self.stream_id, &self.fragment, self.end_headers, dst);
    }
}

/// Writes one CONTINUATION frame carrying `fragment`.
pub(crate) fn encode_continuation(
    stream_id: StreamId,
    fragment: &[u8],
    end_headers: bool,
    dst: &mut BytesMut,
) {
    let flags = Flags::EMPTY.with_if(Flags::END_HEADERS, end_headers);
    let length = wire::len_u32(fragment.len());
    encode_frame_header(
        FrameType::Continuation.to_u8(),
        flags.bits(),
        stream_id,
        length,
        dst,
    );
    dst.put_slice(fragment);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::{decode_one, raw};
    use crate::Frame;

    #[test]
    fn stream_zero_is_connection_protocol_error() {
        assert_eq!(
            decode_one(&raw(0x9, 0x4, 0, b"\x82")),
            Err(FrameError::connection(
                ErrorCode::ProtocolError,
                "CONTINUATION on stream 0"
            ))
        );
    }

    #[test]
    fn unknown_flags_are_ignored() {
        assert_eq!(
            decode_one(&raw(0x9, !0x4, 3, b"\x82")),
            Ok(Frame::Continuation(Continuation {
                stream_id: StreamId::new(3),
                fragment: Bytes::from_static(b"\x82"),
                end_headers: false,
            }))
        );
    }
}
