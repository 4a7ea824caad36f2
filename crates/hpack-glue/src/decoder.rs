//! Decodes header blocks fragment by fragment into validated heads (RFC 9113 §4.3, §8).

use crate::block::{BlockKind, DecodedBlock};
use crate::collect::BlockCollector;
use crate::error::HeadError;
use crate::hpack::{BlockMemo, Decoder};
use crate::limits::HeadLimits;
use crate::request::RequestHead;

/// Recycled request-head boxes kept: a burst can open as many streams as the connection
/// allows at once (250 by default), all decoded before the first is answered. The pool
/// goes with [`HeadDecoder::release_memory`] when the connection idles.
const MAX_SPARE_HEADS: usize = 256;

/// Longest request block remembered for [`HeadDecoder`]'s repeat memo. Repeated blocks
/// are the all-indexed kind, a few dozen octets.
pub const REPEAT_MEMO_MAX_BLOCK: usize = 256;

/// Decodes header blocks fragment by fragment into validated heads; one per connection.
///
/// The HPACK dynamic table is shared by every block on the connection, so each block is
/// decoded to its end even when the stream it opens will be refused (RFC 9113 §4.3).
#[derive(Debug)]
pub struct HeadDecoder {
    hpack: Decoder,
    limits: HeadLimits,
    block: BlockCollector,
    /// The current block has not been fed a fragment yet.
    fresh: bool,
    /// The last request block that came whole in one HEADERS frame and left the HPACK
    /// table unchanged, and, once it has repeated, the head it decodes to: a client
    /// repeating itself byte for byte (h2load, a poller, a health check, a unary RPC) is
    /// then answered without decoding. Limits are part of the outcome too, so a change of
    /// limits forgets it.
    repeat: Option<Box<BlockMemo<RequestHead>>>,
    /// Blocks answered from the repeat memo without decoding.
    repeats_reused: u64,
    /// Boxes of heads the application has finished with ([`recycle_request_head`]).
    ///
    /// [`recycle_request_head`]: HeadDecoder::recycle_request_head
    // The boxes are the point: each is handed out and back whole, never moved out of.
    #[allow(clippy::vec_box)]
    spare_heads: Vec<Box<RequestHead>>,
}

impl HeadDecoder {
    /// A decoder enforcing `limits`, with our SETTINGS_HEADER_TABLE_SIZE `max_table_size`.
    pub fn new(limits: HeadLimits, max_table_size: usize) -> Self {
        let mut hpack = Decoder::new(max_table_size);
        apply_string_limit(&mut hpack, limits);
        HeadDecoder {
            hpack,
            limits,
            block: BlockCollector::new(BlockKind::Request, limits),
            fresh: false,
            repeat: None,
            repeats_reused: 0,
            spare_heads: Vec::new(),
        }
    }

    /// Takes back the box of a head this decoder handed out, once the application has
    /// what it needs from it. Whatever the head still holds is kept for reuse: the next
    /// repeated request refills the same field map, and the buffers the head shares with
    /// the repeat memo are not even touched.
    pub fn recycle_request_head(&mut self, head: Box<RequestHead>) {
        if self.spare_heads.len() < MAX_SPARE_HEADS {
            self.spare_heads.push(head);
        }
    }

    /// `head` in a box, a recycled one when there is one.
    pub fn boxed_head(&mut self, head: RequestHead) -> Box<RequestHead> {
        match self.spare_heads.pop() {
            Some(mut spare) => {
                *spare = head;
                spare
            }
            None => Box::new(head),
        }
    }

    /// Changes the limits; they apply from the next [`begin`](Self::begin).
    pub fn set_limits(&mut self, limits: HeadLimits) {
        self.limits = limits;
        apply_string_limit(&mut self.hpack, limits);
        self.repeat = None;
    }

    /// Request blocks answered from the repeat memo (a byte-for-byte repeat of the
    /// previous whole block at the same table state) instead of being decoded.
    pub fn repeats_reused(&self) -> u64 {
        self.repeats_reused
    }

    /// Forgets the repeat memo (and the field bytes it keeps alive) and the spare head
    /// boxes; for idle connections.
    pub fn release_memory(&mut self) {
        self.repeat = None;
        self.spare_heads = Vec::new();
    }

    /// The limits in force for new blocks.
    pub fn limits(&self) -> HeadLimits {
        self.limits
    }

    /// Changes our SETTINGS_HEADER_TABLE_SIZE once the peer acknowledged it (RFC 7541 §4.2).
    pub fn set_max_table_size(&mut self, n: usize) {
        self.hpack.set_max_table_size(n);
    }

    /// Starts a new header block of the given kind.
    pub fn begin(&mut self, kind: BlockKind) {
        self.block.restart(kind, self.limits);
        self.fresh = true;
    }

    /// Feeds one fragment (HEADERS/CONTINUATION payload). Returns `Ok(None)` until
    /// `end_headers`, then the validated block.
    ///
    /// `Compression` errors are returned at once. `Malformed`/`TooLarge` are returned only at
    /// `end_headers`, after the whole block was decoded (HPACK state stays in sync even for a
    /// rejected stream); once the list is over the limit no more field bytes are stored.
    pub fn decode(
        &mut self,
        fragment: &[u8],
        end_headers: bool,
    ) -> Result<Option<DecodedBlock>, HeadError> {
        let whole_request = std::mem::take(&mut self.fresh)
            && end_headers
            && self.block.kind() == BlockKind::Request;
        if !whole_request {
            return self.decode_fields(fragment, end_headers);
        }
        let generation = self.hpack.generation();
        let repeated = self
            .repeat
            .as_ref()
            .is_some_and(|m| m.is_repeat(fragment, generation));
        if repeated {
            if let Some(memo) = self.repeat.as_ref().and_then(|m| m.value()) {
                let mut head = self.spare_heads.pop().unwrap_or_default();
                (*head).clone_from(memo);
                self.repeats_reused += 1;
                return Ok(Some(DecodedBlock::Request(head)));
            }
        }
        let result = self.decode_fields(fragment, end_headers);
        match &result {
            Ok(Some(DecodedBlock::Request(head)))
                if self.hpack.generation() == generation
                    && fragment.len() <= REPEAT_MEMO_MAX_BLOCK =>
            {
                let memo = self.repeat.get_or_insert_with(Box::default);
                if repeated {
                    memo.set_value(RequestHead::clone(head));
                } else {
                    memo.reset(fragment, generation);
                }
            }
            _ => self.repeat = None,
        }
        result
    }

    fn decode_fields(
        &mut self,
        fragment: &[u8],
        end_headers: bool,
    ) -> Result<Option<DecodedBlock>, HeadError> {
        let block = &mut self.block;
        self.hpack
            .decode_fragment(fragment, end_headers, |field| {
                block.on_field(field.name, field.value)
            })
            .map_err(HeadError::Compression)?;
        if !end_headers {
            return Ok(None);
        }
        Ok(Some(match self.block.finish()? {
            DecodedBlock::Request(head) => DecodedBlock::Request(self.boxed_head(head)),
            DecodedBlock::Trailers(trailers) => DecodedBlock::Trailers(trailers),
        }))
    }

    /// Header-list octets (RFC 9113 §6.5.2) counted so far in the current block, stored or
    /// not; the connection uses it to close a CONTINUATION flood early.
    pub fn list_size(&self) -> usize {
        self.block.list_size()
    }

    /// Header-list octets of the current block actually held in memory; never above
    /// `max_header_list_size`, whatever the peer sends.
    pub fn stored_size(&self) -> usize {
        self.block.stored_size()
    }
}

/// Bounds the memory one literal may take while it is decoded. A literal longer than the
/// whole allowed list can never be accepted, but it must not kill the connection either: it
/// is decoded (keeping the HPACK table in step) and the block is answered with 431
/// (RFC 9113 §10.5.1). Only literals beyond this much larger bound — more than a
/// connection's raw header-block budget can carry — are a COMPRESSION_ERROR.
pub fn max_literal_len(limits: HeadLimits) -> usize {
    4 * limits.max_header_list_size as usize + 16 * 1024
}

fn apply_string_limit(hpack: &mut Decoder, limits: HeadLimits) {
    hpack.set_max_string_len(max_literal_len(limits));
}
