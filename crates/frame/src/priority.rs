//! Owns the RFC 7540-style priority fields and the PRIORITY frame (RFC 9113 §5.3, §6.3).

use bytes::{BufMut, Bytes, BytesMut};

use crate::frame_type::FrameType;
use crate::head::{encode_frame_header, FrameHead};
use crate::{wire, ErrorCode, FrameError, StreamId};

/// Octets of Exclusive + Stream Dependency + Weight (§6.2, §6.3).
pub(crate) const PRIORITY_SPEC_LEN: usize = 5;
/// The E bit on the Stream Dependency field.
const EXCLUSIVE_BIT: u32 = 0x8000_0000;

/// Priority fields of HEADERS and PRIORITY frames (deprecated scheme, still parsed, §5.3.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PrioritySpec {
    /// Stream this one depends on.
    pub dependency: StreamId,
    /// Exclusive flag.
    pub exclusive: bool,
    /** wire value; the weight is value+1 */
    pub weight: u8,
}

impl PrioritySpec {
    /// Parses the 5 priority octets at the front of `buf`; `None` when fewer are there.
    pub(crate) fn parse(buf: &[u8]) -> Option<PrioritySpec> {
        let dep = wire::u32_at(buf, 0)?;
        let weight = *buf.get(4)?;
        Some(PrioritySpec {
            dependency: StreamId::new(dep),
            exclusive: dep & EXCLUSIVE_BIT != 0,
            weight,
        })
    }

    /// Writes the 5 priority octets.
    pub(crate) fn encode(&self, dst: &mut BytesMut) {
        let e = if self.exclusive { EXCLUSIVE_BIT } else { 0 };
        dst.put_u32(self.dependency.value() | e);
        dst.put_u8(self.weight);
    }
}

/// A PRIORITY frame (§6.3).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Priority {
    /// Stream whose priority changes (never 0).
    pub stream_id: StreamId,
    /// The new priority.
    pub spec: PrioritySpec,
}

impl Priority {
    pub(crate) fn decode(head: &FrameHead, payload: &Bytes) -> Result<Priority, FrameError> {
        // §6.3: PRIORITY on stream 0 is a connection PROTOCOL_ERROR.
        if head.stream_id.is_zero() {
            return Err(FrameError::connection(
                ErrorCode::ProtocolError,
                "PRIORITY on stream 0",
            ));
        }
        // §6.3: a length other than 5 is a *stream* FRAME_SIZE_ERROR.
        let spec = match PrioritySpec::parse(payload) {
            Some(spec) if payload.len() == PRIORITY_SPEC_LEN => spec,
            _ => {
                return Err(FrameError::stream(
                    head.stream_id,
                    ErrorCode::FrameSizeError,
                    "PRIORITY length is not 5",
                ))
            }
        };
        // §5.3.1: a stream cannot depend on itself.
        if spec.dependency == head.stream_id {
            return Err(FrameError::stream(
                head.stream_id,
                ErrorCode::ProtocolError,
                "PRIORITY stream depends on itself",
            ));
        }
        Ok(Priority {
            stream_id: head.stream_id,
            spec,
        })
    }

    pub(crate) fn encode(&self, dst: &mut BytesMut) {
        encode_frame_header(
            FrameType::Priority.to_u8(),
            0,
            self.stream_id,
            wire::len_u32(PRIORITY_SPEC_LEN),
            dst,
        );
        self.spec.encode(dst);
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
            decode_one(&raw(0x2, 0, 0, &[0, 0, 0, 1, 16])),
            Err(FrameError::connection(
                ErrorCode::ProtocolError,
                "PRIORITY on stream 0"
            ))
        );
    }

    #[test]
    fn wrong_length_is_stream_frame_size_error() {
        let want = Err(FrameError::stream(
            StreamId::new(3),
            ErrorCode::FrameSizeError,
            "PRIORITY length is not 5",
        ));
        assert_eq!(decode_one(&raw(0x2, 0, 3, &[0, 0, 0, 1])), want);
        assert_eq!(decode_one(&raw(0x2, 0, 3, &[0, 0, 0, 1, 16, 0])), want);
    }

    #[test]
    fn self_dependency_is_stream_protocol_error() {
        assert_eq!(
            decode_one(&raw(0x2, 0, 3, &[0x80, 0, 0, 3, 16])),
            Err(FrameError::stream(
                StreamId::new(3),
                ErrorCode::ProtocolError,
                "PRIORITY stream depends on itself"
            ))
        );
    }

    #[test]
    fn decodes_exclusive_and_weight() {
        assert_eq!(
            decode_one(&raw(0x2, 0xff, 5, &[0x80, 0, 0, 3, 200])),
            Ok(Frame::Priority(Priority {
                stream_id: StreamId::new(5),
                spec: PrioritySpec {
                    dependency: StreamId::new(3),
                    exclusive: true,
                    weight: 200,
                },
            }))
        );
    }
}
