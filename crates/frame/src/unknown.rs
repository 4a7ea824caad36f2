//! Owns the report of a frame of unknown type (RFC 9113 §4.1, §5.5).

use bytes::{BufMut, BytesMut};

use crate::head::{encode_frame_header, FrameHead};
use crate::StreamId;

/// A frame of a type we do not know: its payload is discarded, but it is reported so the connection can enforce §4.3 (nothing may interleave a header block).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unknown {
    /// The type octet.
    pub kind: u8,
    /// The raw flags octet (no bits are defined for an unknown type).
    pub flags: u8,
    /// The stream identifier.
    pub stream_id: StreamId,
    /// Length of the discarded payload.
    pub length: u32,
}

impl Unknown {
    pub(crate) fn from_head(head: &FrameHead) -> Unknown {
        Unknown {
            kind: head.kind,
            flags: head.flags,
            stream_id: head.stream_id,
            length: head.length,
        }
    }

    /// Writes the header and `length` zero octets, since the payload was not kept.
    pub(crate) fn encode(&self, dst: &mut BytesMut) {
        encode_frame_header(self.kind, self.flags, self.stream_id, self.length, dst);
        dst.put_bytes(0, usize::try_from(self.length).unwrap_or(0));
    }
}
