//! Owns the HEADERS frame (RFC 9113 §6.2).

use bytes::{BufMut, Bytes, BytesMut};

use crate::frame_type::{Flags, FrameType};
use crate::head::{encode_frame_header, FrameHead};
use crate::priority::PRIORITY_SPEC_LEN;
use crate::{padding, wire, ErrorCode, FrameError, PrioritySpec, StreamId};

/// A HEADERS frame carrying one field-block fragment (padding stripped).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Headers {
    /// Stream being opened or continued (never 0).
    pub stream_id: StreamId,
    /// Field-block fragment (HPACK-encoded), without padding or priority.
    pub fragment: Bytes,
    /// END_STREAM flag.
    pub end_stream: bool,
    /// END_HEADERS flag: no CONTINUATION follows.
    pub end_headers: bool,
    /// Priority fields, present when the PRIORITY flag is set.
    pub priority: Option<PrioritySpec>,
    /// Some(n) when PADDED: n padding octets (the Pad Length octet not counted).
    pub pad_len: Option<u8>,
}

impl Headers {
    pub(crate) fn decode(head: &FrameHead, mut payload: Bytes) -> Result<Headers, FrameError> {
        // §6.2: HEADERS must be associated with a stream.
        if head.stream_id.is_zero() {
            return Err(FrameError::connection(
                ErrorCode::ProtocolError,
                "HEADERS on stream 0",
            ));
        }
        let flags = Flags::from_bits(head.flags);
        let pad_len = padding::take_pad_len(
            &mut payload,
            flags.contains(Flags::PADDED),
            "HEADERS too short for Pad Length",
        )?;
        let priority = if flags.contains(Flags::PRIORITY) {
            // §4.2: too small for the mandatory priority fields.
            let spec = wire::split_front(&mut payload, PRIORITY_SPEC_LEN)
                .and_then(|octets| PrioritySpec::parse(&octets))
                .ok_or(FrameError::connection(
                    ErrorCode::FrameSizeError,
                    "HEADERS too short for priority",
                ))?;
            Some(spec)
        } else {
            None
        };
        padding::trim_padding(&mut payload, pad_len, "HEADERS padding exceeds payload")?;
        Ok(Headers {
            stream_id: head.stream_id,
            fragment: payload,
            end_stream: flags.contains(Flags::END_STREAM),
            end_headers: flags.contains(Flags::END_HEADERS),
            priority,
            pad_len,
        })
    }

    pub(crate) fn encode(&self, dst: &mut BytesMut) {
        let flags = Flags::EMPTY
            .with_if(Flags::END_STREAM, self.end_stream)
            .with_if(Flags::END_HEADERS, self.end_headers)
            .with_if(Flags::PADDED, self.pad_len.is_some())
            .with_if(Flags::PRIORITY, self.priority.is_some());
        let prio_len = if self.priority.is_some() {
            PRIORITY_SPEC_LEN
        } else {
            0
        };
        let length = wire::len_u32(prio_len + self.fragment.len())
            .saturating_add(padding::overhead(self.pad_len));
        encode_frame_header(
            FrameType::Headers.to_u8(),
            flags.bits(),
            self.stream_id,
            length,
            dst,
        );
        padding::put_pad_len(self.pad_len, dst);
        if let Some(spec) = &self.priority {
            spec.encode(dst);
        }
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
            decode_one(&raw(0x1, 0x4, 0, b"\x82")),
            Err(FrameError::connection(
                ErrorCode::ProtocolError,
                "HEADERS on stream 0"
            ))
        );
    }

    #[test]
    fn padding_longer_than_fragment_is_protocol_error() {
        assert_eq!(
            decode_one(&raw(0x1, 0x8 | 0x4, 1, &[2, 0x82])),
            Err(FrameError::connection(
                ErrorCode::ProtocolError,
                "HEADERS padding exceeds payload"
            ))
        );
    }

    #[test]
    fn padded_without_pad_length_octet_is_frame_size_error() {
        assert_eq!(
            decode_one(&raw(0x1, 0x8, 1, &[])),
            Err(FrameError::connection(
                ErrorCode::FrameSizeError,
                "HEADERS too short for Pad Length"
            ))
        );
    }

    #[test]
    fn priority_flag_needs_five_octets() {
        assert_eq!(
            decode_one(&raw(0x1, 0x20, 1, &[0, 0, 0, 3])),
            Err(FrameError::connection(
                ErrorCode::FrameSizeError,
                "HEADERS too short for priority"
            ))
        );
    }

    #[test]
    fn padding_and_priority_must_both_fit() {
        // Pad Length 1 + 5 priority octets, but the padding octet is missing.
        assert_eq!(
            decode_one(&raw(0x1, 0x28, 1, &[1, 0, 0, 0, 3, 15])),
            Err(FrameError::connection(
                ErrorCode::ProtocolError,
                "HEADERS padding exceeds payload"
            ))
        );
        // Pad Length present, priority cut short.
        assert_eq!(
            decode_one(&raw(0x1, 0x28, 1, &[0, 0, 0, 0, 3])),
            Err(FrameError::connection(
                ErrorCode::FrameSizeError,
                "HEADERS too short for priority"
            ))
        );
    }

    #[test]
    fn self_dependency_is_left_to_the_connection() {
        let frame = decode_one(&raw(0x1, 0x20 | 0x4, 1, &[0, 0, 0, 1, 15, 0x82])).unwrap();
        let Frame::Headers(h) = frame else {
            panic!("not HEADERS: {frame:?}")
        };
        assert_eq!(h.priority.map(|p| p.dependency), Some(StreamId::new(1)));
        assert_eq!(&h.fragment[..], &[0x82]);
        assert!(h.end_headers);
        assert!(!h.end_stream);
    }
}
