//! Owns the streaming frame decoder: framing, the size limit, and per-type dispatch (RFC 9113 §4).

use bytes::{Buf, BytesMut};

use crate::head::FrameHead;
use crate::limits::clamp_frame_size;
use crate::{
    Continuation, Data, ErrorCode, Frame, FrameError, FrameType, GoAway, Headers, Ping, Priority,
    PriorityUpdate, PushPromise, RstStream, Settings, Unknown, WindowUpdate,
    DEFAULT_MAX_FRAME_SIZE, FRAME_HEADER_LEN,
};

/// Streaming decoder.
#[derive(Clone, Debug)]
pub struct Decoder {
    /// Our SETTINGS_MAX_FRAME_SIZE: the largest payload we accept (§4.2). Default 16384.
    max_frame_size: u32,
}

impl Decoder {
    /// A decoder accepting payloads up to [`DEFAULT_MAX_FRAME_SIZE`] (16384).
    pub fn new() -> Self {
        Decoder {
            max_frame_size: DEFAULT_MAX_FRAME_SIZE,
        }
    }

    /// Sets our local SETTINGS_MAX_FRAME_SIZE, clamped to the legal 16384..=16777215 range (§6.5.2).
    pub fn set_max_frame_size(&mut self, n: u32) {
        self.max_frame_size = clamp_frame_size(n);
    }

    /// The largest payload currently accepted.
    pub fn max_frame_size(&self) -> u32 {
        self.max_frame_size
    }

    /// Decodes one frame from the front of `src`. `Ok(None)`: not enough bytes yet, nothing consumed.
    /// `Ok(Some(frame))` / `Err(FrameError::Stream{..})`: the frame's bytes were consumed from `src`.
    /// Payloads (DATA, header fragments, debug data) are `split_to(..).freeze()` slices of `src`: zero-copy.
    pub fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Frame>, FrameError> {
        let Some(head) = FrameHead::parse(src) else {
            return Ok(None);
        };
        // §4.2: refuse from the header alone, so a peer cannot make us buffer an oversized frame.
        if head.length > self.max_frame_size {
            return Err(FrameError::connection(
                ErrorCode::FrameSizeError,
                "frame larger than SETTINGS_MAX_FRAME_SIZE",
            ));
        }
        let Ok(length) = usize::try_from(head.length) else {
            return Err(FrameError::connection(
                ErrorCode::FrameSizeError,
                "frame length does not fit in memory",
            ));
        };
        // No overflow: `length` is at most 2^24-1.
        if src.len() < FRAME_HEADER_LEN + length {
            return Ok(None);
        }
        src.advance(FRAME_HEADER_LEN);
        let payload = src.split_to(length).freeze();
        let Some(kind) = FrameType::from_u8(head.kind) else {
            // §4.1/§5.5: unknown types are ignored (payload dropped) but reported.
            return Ok(Some(Frame::Unknown(Unknown::from_head(&head))));
        };
        let frame = match kind {
            FrameType::Data => Frame::Data(Data::decode(&head, payload)?),
            FrameType::Headers => Frame::Headers(Headers::decode(&head, payload)?),
            FrameType::Priority => Frame::Priority(Priority::decode(&head, &payload)?),
            FrameType::RstStream => Frame::RstStream(RstStream::decode(&head, &payload)?),
            FrameType::Settings => Frame::Settings(Settings::decode(&head, &payload)?),
            FrameType::PushPromise => Frame::PushPromise(PushPromise::decode(&head, payload)?),
            FrameType::Ping => Frame::Ping(Ping::decode(&head, &payload)?),
            FrameType::GoAway => Frame::GoAway(GoAway::decode(&head, payload)?),
            FrameType::WindowUpdate => Frame::WindowUpdate(WindowUpdate::decode(&head, &payload)?),
            FrameType::Continuation => Frame::Continuation(Continuation::decode(&head, payload)?),
            FrameType::PriorityUpdate => {
                Frame::PriorityUpdate(PriorityUpdate::decode(&head, payload)?)
            }
        };
        Ok(Some(frame))
    }
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::raw;
    use crate::{StreamId, MAX_MAX_FRAME_SIZE};

    #[test]
    fn oversized_frame_rejected_from_header_alone() {
        let mut dec = Decoder::new();
        // Only the 9-octet header of a 16385-octet DATA frame has arrived.
        let mut src = BytesMut::from(&[0x00, 0x40, 0x01, 0x0, 0x0, 0, 0, 0, 1][..]);
        assert_eq!(
            dec.decode(&mut src),
            Err(FrameError::connection(
                ErrorCode::FrameSizeError,
                "frame larger than SETTINGS_MAX_FRAME_SIZE"
            ))
        );
        // Also for unknown and connection-level types.
        let mut src = BytesMut::from(&[0x00, 0x40, 0x01, 0xee, 0x0, 0, 0, 0, 0][..]);
        assert!(dec.decode(&mut src).is_err());
    }

    #[test]
    fn raised_limit_accepts_larger_frames() {
        let mut dec = Decoder::new();
        dec.set_max_frame_size(20_000);
        assert_eq!(dec.max_frame_size(), 20_000);
        let mut src = BytesMut::from(&raw(0x0, 0, 1, &[7; 16_385])[..]);
        let frame = dec.decode(&mut src).unwrap().unwrap();
        assert_eq!(frame.stream_id(), StreamId::new(1));
        assert!(src.is_empty());
    }

    #[test]
    fn max_frame_size_is_clamped() {
        let mut dec = Decoder::default();
        assert_eq!(dec.max_frame_size(), DEFAULT_MAX_FRAME_SIZE);
        dec.set_max_frame_size(1);
        assert_eq!(dec.max_frame_size(), DEFAULT_MAX_FRAME_SIZE);
        dec.set_max_frame_size(u32::MAX);
        assert_eq!(dec.max_frame_size(), MAX_MAX_FRAME_SIZE);
    }

    #[test]
    fn incomplete_input_consumes_nothing() {
        let mut dec = Decoder::new();
        let whole = raw(0x6, 0, 0, b"abcdefgh");
        for cut in 0..whole.len() {
            let mut src = BytesMut::from(&whole[..cut]);
            assert_eq!(dec.decode(&mut src), Ok(None));
            assert_eq!(src.len(), cut);
        }
    }

    #[test]
    fn unknown_type_is_consumed_and_reported() {
        let mut dec = Decoder::new();
        let mut src = BytesMut::from(&raw(0xfa, 0xff, 0x8000_0003, b"xyz")[..]);
        src.extend_from_slice(&raw(0x6, 0, 0, b"abcdefgh"));
        assert_eq!(
            dec.decode(&mut src),
            Ok(Some(Frame::Unknown(Unknown {
                kind: 0xfa,
                flags: 0xff,
                stream_id: StreamId::new(3),
                length: 3,
            })))
        );
        assert_eq!(src.len(), FRAME_HEADER_LEN + 8);
    }

    #[test]
    fn stream_error_consumes_the_frame() {
        let mut dec = Decoder::new();
        let mut src = BytesMut::from(&raw(0x8, 0, 5, &[0, 0, 0, 0])[..]);
        src.extend_from_slice(&raw(0x8, 0, 5, &[0, 0, 0, 1]));
        assert!(matches!(
            dec.decode(&mut src),
            Err(FrameError::Stream { .. })
        ));
        assert_eq!(src.len(), FRAME_HEADER_LEN + 4);
        assert!(matches!(
            dec.decode(&mut src),
            Ok(Some(Frame::WindowUpdate(_)))
        ));
        assert!(src.is_empty());
    }

    #[test]
    fn data_payload_is_zero_copy() {
        let mut dec = Decoder::new();
        let mut src = BytesMut::from(&raw(0x0, 0x8, 1, &[2, b'h', b'i', 0, 0])[..]);
        let start = src.as_ptr() as usize;
        let end = start + src.len();
        let Ok(Some(Frame::Data(d))) = dec.decode(&mut src) else {
            panic!("expected DATA")
        };
        let p = d.data.as_ptr() as usize;
        assert!(p >= start && p + d.data.len() <= end);
        // Exactly after the 9-octet header and the Pad Length octet.
        assert_eq!(p, start + FRAME_HEADER_LEN + 1);
        assert_eq!(&d.data[..], b"hi");
    }
}
