//! Owns helpers shared by the unit tests: raw frame building and one-shot decoding.

use bytes::BytesMut;

use crate::{Decoder, Frame, FrameError};

/// A raw frame: 9-octet header (length from `payload`) followed by `payload`.
pub(crate) fn raw(kind: u8, flags: u8, stream_id: u32, payload: &[u8]) -> Vec<u8> {
    let len = u32::try_from(payload.len()).unwrap().to_be_bytes();
    let mut v = vec![len[1], len[2], len[3], kind, flags];
    v.extend_from_slice(&stream_id.to_be_bytes());
    v.extend_from_slice(payload);
    v
}

/// Decodes exactly one complete frame with a default decoder. A successful decode
/// and a stream error must both consume the whole input.
pub(crate) fn decode_one(bytes: &[u8]) -> Result<Frame, FrameError> {
    let mut src = BytesMut::from(bytes);
    match Decoder::new().decode(&mut src) {
        Ok(Some(frame)) => {
            assert!(src.is_empty(), "frame left {} octets", src.len());
            Ok(frame)
        }
        Ok(None) => panic!("incomplete frame"),
        Err(e @ FrameError::Stream { .. }) => {
            assert!(src.is_empty(), "stream error left {} octets", src.len());
            Err(e)
        }
        Err(e) => Err(e),
    }
}
