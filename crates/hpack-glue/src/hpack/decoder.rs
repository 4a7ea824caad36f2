//! The HPACK decoder: turns header block fragments into fields, keeping the
//! dynamic table and any representation cut across fragments.

use super::dynamic_table::DynamicTable;
use super::scan::{scan, LiteralKind, NameRef, Repr, Scan, StrSpan};
use super::{huffman, static_table, DecodeError, Field, DEFAULT_MAX_STRING_LEN};

/// Octets of representation framing (first octet plus two length integers)
/// allowed on top of two maximal strings when buffering across fragments.
const FRAGMENT_FRAMING_SLACK: usize = 16;

/// Owned (name, value) pairs, as returned by [`Decoder::decode_block`].
pub type OwnedFields = Vec<(Vec<u8>, Vec<u8>)>;

/// Decodes header blocks for one connection direction (RFC 7541 §3).
#[derive(Debug)]
pub struct Decoder {
    table: DynamicTable,
    /// The SETTINGS_HEADER_TABLE_SIZE we advertised: the largest size update
    /// a peer may send (§4.2).
    max_table_size: usize,
    /// Longest string literal accepted (default [`DEFAULT_MAX_STRING_LEN`]).
    max_string_len: usize,
    /// Octets of a representation cut at the end of the previous fragment.
    pending: Vec<u8>,
    /// Reused scratch for Huffman-decoded names / copied table names.
    name_buf: Vec<u8>,
    /// Reused scratch for Huffman-decoded values.
    value_buf: Vec<u8>,
    /// A field has been decoded in the current block, so size updates are
    /// no longer allowed (§4.2).
    field_seen: bool,
    /// Set once decoding failed; the table is then out of sync for good.
    failed: Option<DecodeError>,
    /// Bumped by every change to the dynamic table (insertion, size change).
    generation: u64,
}

impl Decoder {
    /// Creates a decoder; `max_table_size` is the SETTINGS_HEADER_TABLE_SIZE
    /// we advertised, and a size update above it is an error (§4.2, §6.3).
    ///
    /// The table starts at that size rather than at 4096: a peer that
    /// starts at 4096 without a size update only ever references a prefix
    /// of our entries, so both kinds of peers decode correctly.
    pub fn new(max_table_size: usize) -> Self {
        Decoder {
            table: DynamicTable::new(max_table_size),
            max_table_size,
            max_string_len: DEFAULT_MAX_STRING_LEN,
            pending: Vec::new(),
            name_buf: Vec::new(),
            value_buf: Vec::new(),
            field_seen: false,
            failed: None,
            generation: 0,
        }
    }

    /// A number that changes whenever the dynamic table may have changed. Equal values
    /// before and after decoding a block mean the block left the table alone; the same
    /// bytes decoded again at the same generation give the same fields. A client may then
    /// reuse what it made of an identical block instead of decoding it again.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Changes the advertised SETTINGS_HEADER_TABLE_SIZE; call once the peer
    /// acknowledged it. Shrinking below the current table size evicts at
    /// once (the peer must then send a matching size update, §4.2).
    pub fn set_max_table_size(&mut self, n: usize) {
        self.max_table_size = n;
        if self.table.max_size() > n {
            self.table.set_max_size(n);
            self.generation += 1;
        }
    }

    /// Sets the longest accepted string literal (name or value, encoded or
    /// Huffman-decoded). Longer strings fail with `StringTooLong`.
    pub fn set_max_string_len(&mut self, n: usize) {
        self.max_string_len = n;
    }

    /// Current dynamic table size in RFC octets (§4.1: name + value + 32
    /// per entry).
    pub fn table_size(&self) -> usize {
        self.table.size()
    }

    /// Dynamic table entries as (name, value), newest (index 62) first;
    /// for tests and debugging.
    pub fn table_entries(&self) -> impl Iterator<Item = (&[u8], &[u8])> + '_ {
        self.table.iter()
    }

    /// Most octets a representation cut across fragments may occupy.
    fn max_pending(&self) -> usize {
        self.max_string_len
            .saturating_mul(2)
            .saturating_add(FRAGMENT_FRAMING_SLACK)
    }

    /// Decodes one fragment of a header block (a HEADERS / PUSH_PROMISE /
    /// CONTINUATION payload), calling `emit` for each complete field as soon
    /// as it is decoded; fragments are never concatenated first.
    ///
    /// A representation cut at the end of a fragment is kept (bounded by
    /// about 2 × max string length + 16 octets, else
    /// `FragmentBufferOverflow`) and finished by the next call.
    /// `end_of_block` marks the last fragment (END_HEADERS); an unfinished
    /// representation then is `Truncated`. Dynamic table size updates are
    /// only legal before the first field of a block (§4.2). After an `Err`
    /// the decoder keeps returning that error.
    pub fn decode_fragment<F: FnMut(Field<'_>)>(
        &mut self,
        fragment: &[u8],
        end_of_block: bool,
        mut emit: F,
    ) -> Result<(), DecodeError> {
        if let Some(err) = self.failed {
            return Err(err);
        }
        let result = self.decode_inner(fragment, end_of_block, &mut emit);
        if let Err(err) = result {
            self.failed = Some(err);
            self.pending = Vec::new();
        }
        result
    }

    /// Test/bench convenience: decodes a whole block into owned
    /// (name, value) pairs.
    pub fn decode_block(&mut self, block: &[u8]) -> Result<OwnedFields, DecodeError> {
        let mut out = Vec::new();
        self.decode_fragment(block, true, |f| {
            out.push((f.name.to_vec(), f.value.to_vec()));
        })?;
        Ok(out)
    }

    fn decode_inner(
        &mut self,
        fragment: &[u8],
        end_of_block: bool,
        emit: &mut dyn FnMut(Field<'_>),
    ) -> Result<(), DecodeError> {
        let mut rest = fragment;
        if !self.pending.is_empty() {
            rest = self.finish_pending(rest, emit)?;
        }
        while !rest.is_empty() && self.pending.is_empty() {
            match scan(rest, self.max_string_len)? {
                Scan::Done(repr, used) => {
                    let (this, tail) = rest.split_at(used);
                    self.apply(repr, this, emit)?;
                    rest = tail;
                }
                Scan::NeedMore(_) => {
                    self.buffer_pending(rest)?;
                    rest = &[];
                }
            }
        }
        if end_of_block {
            if !self.pending.is_empty() {
                return Err(DecodeError::Truncated);
            }
            self.field_seen = false;
        }
        Ok(())
    }

    /// Completes the buffered representation with octets from the front of
    /// `rest`, copying only as many as it needs; returns what is left.
    fn finish_pending<'f>(
        &mut self,
        mut rest: &'f [u8],
        emit: &mut dyn FnMut(Field<'_>),
    ) -> Result<&'f [u8], DecodeError> {
        loop {
            match scan(&self.pending, self.max_string_len)? {
                Scan::Done(repr, used) => {
                    debug_assert_eq!(used, self.pending.len());
                    let pending = std::mem::take(&mut self.pending);
                    let result = self.apply(repr, &pending, emit);
                    // Give the allocation back for the next cut.
                    self.pending = pending;
                    self.pending.clear();
                    result?;
                    return Ok(rest);
                }
                Scan::NeedMore(total) => {
                    let want = total.saturating_sub(self.pending.len());
                    let take = want.min(rest.len());
                    if take == 0 {
                        return Ok(rest);
                    }
                    let (head, tail) = rest.split_at(take);
                    self.buffer_pending(head)?;
                    rest = tail;
                }
            }
        }
    }

    fn buffer_pending(&mut self, octets: &[u8]) -> Result<(), DecodeError> {
        if self.pending.len() + octets.len() > self.max_pending() {
            return Err(DecodeError::FragmentBufferOverflow);
        }
        self.pending.extend_from_slice(octets);
        Ok(())
    }

    /// Applies one scanned representation; `buf` is the buffer its spans
    /// point into.
    fn apply(
        &mut self,
        repr: Repr,
        buf: &[u8],
        emit: &mut dyn FnMut(Field<'_>),
    ) -> Result<(), DecodeError> {
        match repr {
            Repr::SizeUpdate(size) => self.size_update(size),
            Repr::Indexed(index) => {
                let (name, value) = lookup(&self.table, index)?;
                self.field_seen = true;
                emit(Field {
                    name,
                    value,
                    never_indexed: false,
                });
                Ok(())
            }
            Repr::Literal { kind, name, value } => {
                self.field_seen = true;
                self.literal(kind, name, value, buf, emit)
            }
        }
    }

    fn size_update(&mut self, size: usize) -> Result<(), DecodeError> {
        // RFC 7541 §4.2: only at the start of a block.
        if self.field_seen {
            return Err(DecodeError::TableSizeUpdateNotAtStart);
        }
        // RFC 7541 §6.3: must not exceed the protocol limit we advertised.
        if size > self.max_table_size {
            return Err(DecodeError::TableSizeUpdateTooLarge);
        }
        self.table.set_max_size(size);
        self.generation += 1;
        Ok(())
    }

    fn literal(
        &mut self,
        kind: LiteralKind,
        name: NameRef,
        value: StrSpan,
        buf: &[u8],
        emit: &mut dyn FnMut(Field<'_>),
    ) -> Result<(), DecodeError> {
        let max = self.max_string_len;
        if kind == LiteralKind::Incremental {
            // The name may live in an entry the insertion evicts: copy it.
            let name = match name {
                NameRef::Indexed(index) => {
                    let (n, _) = lookup(&self.table, index)?;
                    self.name_buf.clear();
                    self.name_buf.extend_from_slice(n);
                    &self.name_buf[..]
                }
                NameRef::Literal(span) => string(buf, span, &mut self.name_buf, max)?,
            };
            let value = string(buf, value, &mut self.value_buf, max)?;
            // RFC 7541 §6.2.1: emitted and added to the dynamic table.
            self.table.insert(name, value);
            self.generation += 1;
            emit(Field {
                name,
                value,
                never_indexed: false,
            });
            return Ok(());
        }
        let name = match name {
            NameRef::Indexed(index) => lookup(&self.table, index)?.0,
            NameRef::Literal(span) => string(buf, span, &mut self.name_buf, max)?,
        };
        let value = string(buf, value, &mut self.value_buf, max)?;
        emit(Field {
            name,
            value,
            never_indexed: kind == LiteralKind::NeverIndexed,
        });
        Ok(())
    }
}

/// Looks up a 1-based index in the static then dynamic table (§2.3.3).
fn lookup(table: &DynamicTable, index: usize) -> Result<(&[u8], &[u8]), DecodeError> {
    if index <= static_table::STATIC_LEN {
        // Index 0 falls through to `None` here (§6.1: MUST be an error).
        return static_table::get(index).ok_or(DecodeError::InvalidIndex);
    }
    table
        .get(index - static_table::STATIC_LEN - 1)
        .ok_or(DecodeError::InvalidIndex)
}

/// Resolves a string literal: a borrow of `buf` if raw, else Huffman-decoded
/// into `scratch`.
fn string<'a>(
    buf: &'a [u8],
    span: StrSpan,
    scratch: &'a mut Vec<u8>,
    max_len: usize,
) -> Result<&'a [u8], DecodeError> {
    // Spans come from scanning this very buffer, so this cannot fail.
    let raw = buf
        .get(span.start..span.start + span.len)
        .ok_or(DecodeError::Truncated)?;
    if !span.huffman {
        return Ok(raw);
    }
    scratch.clear();
    huffman::decode(raw, scratch)?;
    if scratch.len() > max_len {
        return Err(DecodeError::StringTooLong);
    }
    Ok(&scratch[..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generation_moves_exactly_when_the_table_may_change() {
        let mut dec = Decoder::new(4096);
        let start = dec.generation();
        // Indexed :method GET, literal without indexing: the table is untouched.
        dec.decode_block(&[0x82, 0x04, 0x01, b'/']).unwrap();
        assert_eq!(dec.generation(), start);
        // Literal with incremental indexing: one insertion.
        dec.decode_block(&[0x41, 0x01, b'a']).unwrap();
        assert_eq!(dec.generation(), start + 1);
        // A size update at the start of a block.
        dec.decode_block(&[0x3f, 0xe1, 0x1f, 0x82]).unwrap();
        assert_eq!(dec.generation(), start + 2);
        // Lowering the advertised limit below the table's size evicts.
        dec.set_max_table_size(0);
        assert_eq!(dec.generation(), start + 3);
    }

    #[test]
    fn pending_buffer_is_bounded() {
        // Unreachable through scanning (string lengths are checked first),
        // so exercise the guard directly.
        let mut dec = Decoder::new(4096);
        dec.set_max_string_len(8);
        assert_eq!(dec.buffer_pending(&[0; 32]), Ok(()));
        assert_eq!(
            dec.buffer_pending(&[0; 1]),
            Err(DecodeError::FragmentBufferOverflow)
        );
    }

    #[test]
    fn pending_copies_only_what_the_representation_needs() {
        let mut dec = Decoder::new(4096);
        let mut got = Vec::new();
        // Literal cut after its first octet; the next fragment completes it
        // and carries two more indexed fields.
        dec.decode_fragment(&[0x41], false, |_| {}).unwrap();
        dec.decode_fragment(&[0x01, b'a', 0x82, 0x84], true, |f| {
            got.push((f.name.to_vec(), f.value.to_vec()))
        })
        .unwrap();
        assert_eq!(got.len(), 3);
        assert!(dec.pending.is_empty());
        assert_eq!(got[0], (b":authority".to_vec(), b"a".to_vec()));
    }
}
