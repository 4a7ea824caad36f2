//! Owns the header-block encoders that split a block into HEADERS/PUSH_PROMISE + CONTINUATION (RFC 9113 §4.3, §6.10).

use bytes::{BufMut, BytesMut};

use crate::continuation::encode_continuation;
use crate::frame_type::{Flags, FrameType};
use crate::head::{encode_frame_header, frame_header_bytes};
use crate::limits::clamp_frame_size;
use crate::priority::PRIORITY_SPEC_LEN;
use crate::push_promise::PROMISED_ID_LEN;
use crate::{wire, PrioritySpec, StreamId, FRAME_HEADER_LEN};

/// A complete header block as HEADERS followed by as many CONTINUATION frames as `max_frame_size` requires (§4.3, §6.10). END_HEADERS on the last frame only; END_STREAM on HEADERS.
///
/// `max_frame_size` is the peer's SETTINGS_MAX_FRAME_SIZE, clamped to 16384..=16777215.
/// The 5 priority octets, when present, count against the first frame.
pub fn encode_header_block(
    stream_id: StreamId,
    block: &[u8],
    end_stream: bool,
    priority: Option<PrioritySpec>,
    max_frame_size: u32,
    dst: &mut BytesMut,
) {
    let max = frame_size_usize(max_frame_size);
    let prio_len = if priority.is_some() {
        PRIORITY_SPEC_LEN
    } else {
        0
    };
    let (first, rest) = block.split_at(block.len().min(max - prio_len));
    let flags = Flags::EMPTY
        .with_if(Flags::END_STREAM, end_stream)
        .with_if(Flags::PRIORITY, priority.is_some())
        .with_if(Flags::END_HEADERS, rest.is_empty());
    let length = wire::len_u32(prio_len + first.len());
    encode_frame_header(
        FrameType::Headers.to_u8(),
        flags.bits(),
        stream_id,
        length,
        dst,
    );
    if let Some(spec) = &priority {
        spec.encode(dst);
    }
    dst.put_slice(first);
    encode_continuations(stream_id, rest, max, dst);
}

/// Frames a header block that was encoded straight into `dst`, after a 9-octet gap left
/// for the HEADERS frame header: `dst[start..start + 9]` is the gap, `dst[start + 9..]` the
/// block. When the block fits in one frame (the usual case) only the gap is filled in, so
/// the block is never copied; otherwise it is re-framed as HEADERS + CONTINUATION like
/// [`encode_header_block`].
///
/// # Panics
/// If `dst` is shorter than `start + 9` (a bug in the caller, not input).
pub fn frame_header_block_in_place(
    stream_id: StreamId,
    end_stream: bool,
    max_frame_size: u32,
    dst: &mut BytesMut,
    start: usize,
) {
    let block_len = dst.len() - start - FRAME_HEADER_LEN;
    if block_len > frame_size_usize(max_frame_size) {
        let block = dst.split_off(start + FRAME_HEADER_LEN);
        dst.truncate(start);
        encode_header_block(stream_id, &block, end_stream, None, max_frame_size, dst);
        return;
    }
    let flags = Flags::END_HEADERS.with_if(Flags::END_STREAM, end_stream);
    let head = frame_header_bytes(
        FrameType::Headers.to_u8(),
        flags.bits(),
        stream_id,
        wire::len_u32(block_len),
    );
    dst[start..start + FRAME_HEADER_LEN].copy_from_slice(&head);
}

/// Same for PUSH_PROMISE + CONTINUATION.
///
/// `max_frame_size` is clamped like [`encode_header_block`]'s; the 4-octet
/// Promised Stream ID counts against the first frame.
pub fn encode_push_promise(
    stream_id: StreamId,
    promised_id: StreamId,
    block: &[u8],
    max_frame_size: u32,
    dst: &mut BytesMut,
) {
    let max = frame_size_usize(max_frame_size);
    let (first, rest) = block.split_at(block.len().min(max - PROMISED_ID_LEN));
    let flags = Flags::EMPTY.with_if(Flags::END_HEADERS, rest.is_empty());
    let length = wire::len_u32(PROMISED_ID_LEN + first.len());
    let kind = FrameType::PushPromise.to_u8();
    encode_frame_header(kind, flags.bits(), stream_id, length, dst);
    dst.put_u32(promised_id.value());
    dst.put_slice(first);
    encode_continuations(stream_id, rest, max, dst);
}

/// The legal frame size as a `usize` (always ≥ 16384, so fixed fields fit).
fn frame_size_usize(max_frame_size: u32) -> usize {
    usize::try_from(clamp_frame_size(max_frame_size)).unwrap_or(usize::MAX)
}

/// Writes `rest` as CONTINUATION frames of at most `max` octets; END_HEADERS on the last.
fn encode_continuations(stream_id: StreamId, mut rest: &[u8], max: usize, dst: &mut BytesMut) {
    while !rest.is_empty() {
        let (chunk, tail) = rest.split_at(rest.len().min(max));
        encode_continuation(stream_id, chunk, tail.is_empty(), dst);
        rest = tail;
    }
}
