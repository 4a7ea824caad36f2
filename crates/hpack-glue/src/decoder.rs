//! Decodes header blocks fragment by fragment into validated heads (RFC 9113 §4.3, §8).

use crate::block::{BlockKind, DecodedBlock};
use crate::collect::BlockCollector;
use crate::error::HeadError;
use crate::hpack::Decoder;
use crate::limits::HeadLimits;

/// Decodes header blocks fragment by fragment into validated heads; one per connection.
///
/// The HPACK dynamic table is shared by every block on the connection, so each block is
/// decoded to its end even when the stream it opens will be refused (RFC 9113 §4.3).
#[derive(Debug)]
pub struct HeadDecoder {
    hpack: Decoder,
    limits: HeadLimits,
    block: BlockCollector,
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
        }
    }

    /// Changes the limits; they apply from the next [`begin`](Self::begin).
    pub fn set_limits(&mut self, limits: HeadLimits) {
        self.limits = limits;
        apply_string_limit(&mut self.hpack, limits);
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
        let block = &mut self.block;
        self.hpack
            .decode_fragment(fragment, end_headers, |field| {
                block.on_field(field.name, field.value)
            })
            .map_err(HeadError::Compression)?;
        if !end_headers {
            return Ok(None);
        }
        Ok(Some(self.block.finish()?))
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
