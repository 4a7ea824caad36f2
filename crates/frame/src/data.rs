//! Owns the DATA frame (RFC 9113 §6.1).

use bytes::{BufMut, Bytes, BytesMut};

use crate::frame_type::{Flags, FrameType};
use crate::head::{encode_frame_header, FrameHead};
use crate::{padding, wire, ErrorCode, FrameError, StreamId};

/// A DATA frame; `data` has the padding stripped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Data {
    /// Stream the data belongs to (never 0).
    pub stream_id: StreamId,
    /// Application data, without padding.
    pub data: Bytes,
    /// END_STREAM flag.
    pub end_stream: bool,
    /// Some(n) when PADDED: n padding octets (the Pad Length octet itself not counted)
    pub pad_len: Option<u8>,
}

impl Data {
    /// An unpadded DATA frame.
    pub fn new(stream_id: StreamId, data: Bytes, end_stream: bool) -> Data {
        Data {
            stream_id,
            data,
            end_stream,
            pad_len: None,
        }
    }

    /// Octets that count against flow control (§6.1): whole payload incl. Pad Length octet and padding.
    pub fn flow_controlled_len(&self) -> u32 {
        wire::len_u32(self.data.len()).saturating_add(padding::overhead(self.pad_len))
    }

    pub(crate) fn decode(head: &FrameHead, mut payload: Bytes) -> Result<Data, FrameError> {
        // §6.1: DATA must be associated with a stream.
        if head.stream_id.is_zero() {
            return Err(FrameError::connection(
                ErrorCode::ProtocolError,
                "DATA on stream 0",
            ));
        }
        let flags = Flags::from_bits(head.flags);
        let pad_len = padding::take_pad_len(
            &mut payload,
            flags.contains(Flags::PADDED),
            "DATA too short for Pad Length",
        )?;
        padding::trim_padding(&mut payload, pad_len, "DATA padding exceeds payload")?;
        Ok(Data {
            stream_id: head.stream_id,
            data: payload,
            end_stream: flags.contains(Flags::END_STREAM),
            pad_len,
        })
    }

    pub(crate) fn encode(&self, dst: &mut BytesMut) {
        let flags = Flags::EMPTY
            .with_if(Flags::END_STREAM, self.end_stream)
            .with_if(Flags::PADDED, self.pad_len.is_some());
        let length = self.flow_controlled_len();
        encode_frame_header(
            FrameType::Data.to_u8(),
            flags.bits(),
            self.stream_id,
            length,
            dst,
        );
        padding::put_pad_len(self.pad_len, dst);
        dst.put_slice(&self.data);
        padding::put_padding(self.pad_len, dst);
    }
}

/// Writes only the header of an unpadded DATA frame; the caller appends exactly
/// `length` payload octets itself (lets the connection write payloads without building a `Data`).
///
/// # Panics
/// If `length` exceeds 2^24-1.
pub fn encode_data_header(stream_id: StreamId, length: u32, end_stream: bool, dst: &mut BytesMut) {
    let flags = Flags::EMPTY.with_if(Flags::END_STREAM, end_stream);
    encode_frame_header(
        FrameType::Data.to_u8(),
        flags.bits(),
        stream_id,
        length,
        dst,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::{decode_one, raw};

    #[test]
    fn stream_zero_is_connection_protocol_error() {
        assert_eq!(
            decode_one(&raw(0x0, 0, 0, b"hi")),
            Err(FrameError::connection(
                ErrorCode::ProtocolError,
                "DATA on stream 0"
            ))
        );
    }

    #[test]
    fn padding_longer_than_payload_is_protocol_error() {
        // Pad Length 3 but only 2 octets follow it.
        assert_eq!(
            decode_one(&raw(0x0, 0x8, 1, &[3, b'a', b'b'])),
            Err(FrameError::connection(
                ErrorCode::ProtocolError,
                "DATA padding exceeds payload"
            ))
        );
        // Pad Length 1 with nothing after it: the padding equals the whole payload length.
        assert!(decode_one(&raw(0x0, 0x8, 1, &[1])).is_err());
    }

    #[test]
    fn padded_without_pad_length_octet_is_frame_size_error() {
        assert_eq!(
            decode_one(&raw(0x0, 0x8, 1, &[])),
            Err(FrameError::connection(
                ErrorCode::FrameSizeError,
                "DATA too short for Pad Length"
            ))
        );
    }

    #[test]
    fn padding_is_stripped_and_counted_for_flow_control() {
        let frame = decode_one(&raw(0x0, 0x8 | 0x1 | 0x40, 5, &[2, b'o', b'k', 0, 0])).unwrap();
        let crate::Frame::Data(d) = frame else {
            panic!("not DATA: {frame:?}")
        };
        assert_eq!(&d.data[..], b"ok");
        assert_eq!(d.pad_len, Some(2));
        assert!(d.end_stream);
        assert_eq!(d.flow_controlled_len(), 5);
        // Padding that exactly fills the rest leaves empty data.
        let frame = decode_one(&raw(0x0, 0x8, 5, &[2, 0, 0])).unwrap();
        assert_eq!(
            frame,
            crate::Frame::Data(Data {
                stream_id: StreamId::new(5),
                data: Bytes::new(),
                end_stream: false,
                pad_len: Some(2),
            })
        );
    }

    #[test]
    fn data_header_only() {
        let mut dst = BytesMut::new();
        encode_data_header(StreamId::new(3), 0x0102, true, &mut dst);
        assert_eq!(&dst[..], &[0, 0x01, 0x02, 0, 0x1, 0, 0, 0, 3]);
    }
}
