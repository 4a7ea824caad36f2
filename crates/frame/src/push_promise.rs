//! Owns the PUSH_PROMISE frame (RFC 9113 §6.6).

use bytes::{BufMut, Bytes, BytesMut};

use crate::frame_type::{Flags, FrameType};
use crate::head::{encode_frame_header, FrameHead};
use crate::{padding, wire, ErrorCode, FrameError, StreamId};

/// Octets of the Promised Stream ID field (§6.6).
pub(crate) const PROMISED_ID_LEN: usize = 4;

/// A PUSH_PROMISE frame (padding stripped).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PushPromise {
    /// Stream the promise is associated with (never 0).
    pub stream_id: StreamId,
    /// Stream the sender reserves for the pushed response.
    pub promised_id: StreamId,
    /// Field-block fragment of the promised request.
    pub fragment: Bytes,
    /// END_HEADERS flag.
    pub end_headers: bool,
    /// Some(n) when PADDED: n padding octets (the Pad Length octet not counted).
    pub pad_len: Option<u8>,
}

impl PushPromise {
    pub(crate) fn decode(head: &FrameHead, mut payload: Bytes) -> Result<PushPromise, FrameError> {
        // §6.6: PUSH_PROMISE must be associated with a stream.
        if head.stream_id.is_zero() {
            return Err(FrameError::connection(
                ErrorCode::ProtocolError,
                "PUSH_PROMISE on stream 0",
            ));
        }
        let flags = Flags::from_bits(head.flags);
        let too_short = FrameError::connection(ErrorCode::FrameSizeError, "PUSH_PROMISE too short");
        let pad_len = padding::take_pad_len(
            &mut payload,
            flags.contains(Flags::PADDED),
            "PUSH_PROMISE too short",
        )?;
        // §4.2: too small for the mandatory Promised Stream ID.
        let promised = wire::split_front(&mut payload, PROMISED_ID_LEN)
            .and_then(|octets| wire::u32_at(&octets, 0))
            .ok_or(too_short)?;
        padding::trim_padding(
            &mut payload,
            pad_len,
            "PUSH_PROMISE padding exceeds payload",
        )?;
        Ok(PushPromise {
            stream_id: head.stream_id,
            promised_id: StreamId::new(promised),
            fragment: payload,
            end_headers: flags.contains(Flags::END_HEADERS),
            pad_len,
        })
    }

    pub(crate) fn encode(&self, dst: &mut BytesMut) {
        let flags = Flags::EMPTY
            .with_if(Flags::END_HEADERS, self.end_headers)
            .with_if(Flags::PADDED, self.pad_len.is_some());
        let length = wire::len_u32(PROMISED_ID_LEN + self.fragment.len())
            .saturating_add(padding::overhead(self.pad_len));
        let kind = FrameType::PushPromise.to_u8();
        encode_frame_header(kind, flags.bits(), self.stream_id, length, dst);
        padding::put_pad_len(self.pad_len, dst);
        dst.put_u32(self.promised_id.value());
        dst.put_slice(&self.fragment);
        padding::put_padding(self.pad_len, dst);
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
            decode_one(&raw(0x5, 0x4, 0, &[0, 0, 0, 2])),
            Err(FrameError::connection(
                ErrorCode::ProtocolError,
                "PUSH_PROMISE on stream 0"
            ))
        );
    }

    #[test]
    fn shorter_than_promised_id_is_frame_size_error() {
        let want = Err(FrameError::connection(
            ErrorCode::FrameSizeError,
            "PUSH_PROMISE too short",
        ));
        assert_eq!(decode_one(&raw(0x5, 0x4, 1, &[0, 0, 2])), want);
        // Padded: Pad Length octet then only 3 octets.
        assert_eq!(decode_one(&raw(0x5, 0x8, 1, &[0, 0, 0, 2])), want);
        assert_eq!(decode_one(&raw(0x5, 0x8, 1, &[])), want);
    }

    #[test]
    fn padding_longer_than_fragment_is_protocol_error() {
        assert_eq!(
            decode_one(&raw(0x5, 0x8, 1, &[2, 0, 0, 0, 2, 0x82])),
            Err(FrameError::connection(
                ErrorCode::ProtocolError,
                "PUSH_PROMISE padding exceeds payload"
            ))
        );
    }

    #[test]
    fn decodes_padded_promise() {
        assert_eq!(
            decode_one(&raw(0x5, 0x8 | 0x4, 1, &[1, 0x80, 0, 0, 2, 0x82, 0])),
            Ok(Frame::PushPromise(PushPromise {
                stream_id: StreamId::new(1),
                promised_id: StreamId::new(2),
                fragment: Bytes::from_static(&[0x82]),
                end_headers: true,
                pad_len: Some(1),
            }))
        );
    }
}
