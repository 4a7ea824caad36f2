//! Owns the Pad Length / Padding fields shared by DATA, HEADERS and PUSH_PROMISE (RFC 9113 §6.1).

use bytes::{BufMut, Bytes, BytesMut};

use crate::{ErrorCode, FrameError};

/// Takes the Pad Length octet off the front of `payload` when the PADDED flag is set.
///
/// A padded frame without room for that octet is too small for its mandatory
/// fields: FRAME_SIZE_ERROR (§4.2).
pub(crate) fn take_pad_len(
    payload: &mut Bytes,
    padded: bool,
    too_short: &'static str,
) -> Result<Option<u8>, FrameError> {
    if !padded {
        return Ok(None);
    }
    let Some(&pad) = payload.first() else {
        return Err(FrameError::connection(ErrorCode::FrameSizeError, too_short));
    };
    *payload = payload.slice(1..);
    Ok(Some(pad))
}

/// Cuts the trailing padding off `payload`, which holds what is left after the
/// fixed fields. §6.1/§6.2: padding longer than that is a connection PROTOCOL_ERROR.
pub(crate) fn trim_padding(
    payload: &mut Bytes,
    pad_len: Option<u8>,
    too_long: &'static str,
) -> Result<(), FrameError> {
    let pad = usize::from(pad_len.unwrap_or(0));
    let Some(keep) = payload.len().checked_sub(pad) else {
        return Err(FrameError::connection(ErrorCode::ProtocolError, too_long));
    };
    payload.truncate(keep);
    Ok(())
}

/// Octets the padding fields add to a payload: the Pad Length octet plus the padding.
pub(crate) fn overhead(pad_len: Option<u8>) -> u32 {
    pad_len.map_or(0, |p| u32::from(p) + 1)
}

/// Writes the Pad Length octet, if any.
pub(crate) fn put_pad_len(pad_len: Option<u8>, dst: &mut BytesMut) {
    if let Some(p) = pad_len {
        dst.put_u8(p);
    }
}

/// Writes the padding octets, which §6.1 says MUST be zero.
pub(crate) fn put_padding(pad_len: Option<u8>, dst: &mut BytesMut) {
    if let Some(p) = pad_len {
        dst.put_bytes(0, usize::from(p));
    }
}
