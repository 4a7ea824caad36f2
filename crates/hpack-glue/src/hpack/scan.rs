//! Splits one header field representation (RFC 7541 §6) off the front of a
//! buffer, validating integers and string lengths but not yet decoding
//! strings.

use super::{integer, DecodeError};

/// A string literal's position in the scanned buffer (§5.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct StrSpan {
    pub(crate) start: usize,
    pub(crate) len: usize,
    pub(crate) huffman: bool,
}

/// Where a literal's name comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NameRef {
    /// Index into the static + dynamic table (never 0).
    Indexed(usize),
    Literal(StrSpan),
}

/// The three literal representations (§6.2.1-§6.2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LiteralKind {
    Incremental,
    WithoutIndexing,
    NeverIndexed,
}

/// One representation, referring to its buffer by offsets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Repr {
    /// §6.1 (the index may be 0; the decoder rejects it).
    Indexed(usize),
    /// §6.2.
    Literal {
        kind: LiteralKind,
        name: NameRef,
        value: StrSpan,
    },
    /// §6.3.
    SizeUpdate(usize),
}

/// Result of scanning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scan {
    /// A whole representation and how many octets it took.
    Done(Repr, usize),
    /// The buffer ends inside a representation, which needs at least this
    /// many octets in total.
    NeedMore(usize),
}

/// Scans the representation at the start of `buf` (non-empty).
pub(crate) fn scan(buf: &[u8], max_string_len: usize) -> Result<Scan, DecodeError> {
    let Some(&first) = buf.first() else {
        return Ok(Scan::NeedMore(1));
    };
    // §6: the leading bits select the representation.
    let (prefix_bits, kind) = if first & 0x80 != 0 {
        return Ok(map_int(integer::decode(buf, 7)?, buf, Repr::Indexed));
    } else if first & 0x40 != 0 {
        (6, LiteralKind::Incremental)
    } else if first & 0x20 != 0 {
        return Ok(map_int(integer::decode(buf, 5)?, buf, Repr::SizeUpdate));
    } else if first & 0x10 != 0 {
        (4, LiteralKind::NeverIndexed)
    } else {
        (4, LiteralKind::WithoutIndexing)
    };
    scan_literal(buf, prefix_bits, kind, max_string_len)
}

fn map_int(decoded: Option<(u32, usize)>, buf: &[u8], f: fn(usize) -> Repr) -> Scan {
    match decoded {
        Some((value, used)) => Scan::Done(f(value as usize), used),
        None => Scan::NeedMore(buf.len() + 1),
    }
}

fn scan_literal(
    buf: &[u8],
    prefix_bits: u8,
    kind: LiteralKind,
    max_string_len: usize,
) -> Result<Scan, DecodeError> {
    let Some((index, mut pos)) = integer::decode(buf, prefix_bits)? else {
        return Ok(Scan::NeedMore(buf.len() + 1));
    };
    let name = if index == 0 {
        match scan_string(buf, pos, max_string_len)? {
            Ok(span) => {
                pos = span.start + span.len;
                NameRef::Literal(span)
            }
            Err(need) => return Ok(Scan::NeedMore(need)),
        }
    } else {
        NameRef::Indexed(index as usize)
    };
    match scan_string(buf, pos, max_string_len)? {
        Ok(value) => Ok(Scan::Done(
            Repr::Literal { kind, name, value },
            value.start + value.len,
        )),
        Err(need) => Ok(Scan::NeedMore(need)),
    }
}

/// Scans a string literal (§5.2) starting at `pos`: `Ok(span)` when it is
/// complete, `Err(total_needed)` when the buffer ends first. The length is
/// checked against `max_string_len` before anything waits for the data.
fn scan_string(
    buf: &[u8],
    pos: usize,
    max_string_len: usize,
) -> Result<Result<StrSpan, usize>, DecodeError> {
    let rest = buf.get(pos..).unwrap_or_default();
    let Some(&first) = rest.first() else {
        return Ok(Err(pos + 1));
    };
    let Some((len, used)) = integer::decode(rest, 7)? else {
        return Ok(Err(buf.len() + 1));
    };
    let len = len as usize;
    if len > max_string_len {
        return Err(DecodeError::StringTooLong);
    }
    let start = pos + used;
    if buf.len() < start + len {
        return Ok(Err(start + len));
    }
    Ok(Ok(StrSpan {
        start,
        len,
        huffman: first & 0x80 != 0,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAX: usize = 1024;

    #[test]
    fn indexed_and_size_update() {
        assert_eq!(scan(&[0x82], MAX), Ok(Scan::Done(Repr::Indexed(2), 1)));
        assert_eq!(scan(&[0x80], MAX), Ok(Scan::Done(Repr::Indexed(0), 1)));
        assert_eq!(
            scan(&[0x3F, 0xE1, 0x1F], MAX),
            Ok(Scan::Done(Repr::SizeUpdate(4096), 3))
        );
        assert_eq!(scan(&[0x3F], MAX), Ok(Scan::NeedMore(2)));
    }

    #[test]
    fn literal_with_indexed_name() {
        // §6.2.1 with name index 1, value "ab" (no Huffman).
        let buf = [0x41, 0x02, b'a', b'b'];
        let value = StrSpan {
            start: 2,
            len: 2,
            huffman: false,
        };
        let repr = Repr::Literal {
            kind: LiteralKind::Incremental,
            name: NameRef::Indexed(1),
            value,
        };
        assert_eq!(scan(&buf, MAX), Ok(Scan::Done(repr, 4)));
        assert_eq!(scan(&buf[..3], MAX), Ok(Scan::NeedMore(4)));
        assert_eq!(scan(&buf[..1], MAX), Ok(Scan::NeedMore(2)));
    }

    #[test]
    fn literal_with_new_name_kinds() {
        for (first, kind) in [
            (0x40, LiteralKind::Incremental),
            (0x00, LiteralKind::WithoutIndexing),
            (0x10, LiteralKind::NeverIndexed),
        ] {
            let buf = [first, 0x81, 0xFF, 0x01, b'v'];
            let name = NameRef::Literal(StrSpan {
                start: 2,
                len: 1,
                huffman: true,
            });
            let value = StrSpan {
                start: 4,
                len: 1,
                huffman: false,
            };
            assert_eq!(
                scan(&buf, MAX),
                Ok(Scan::Done(Repr::Literal { kind, name, value }, 5))
            );
            assert_eq!(scan(&buf[..2], MAX), Ok(Scan::NeedMore(3)));
            assert_eq!(scan(&buf[..3], MAX), Ok(Scan::NeedMore(4)));
        }
    }

    #[test]
    fn string_length_checked_before_data_arrives() {
        // Name length 2000 > MAX, with no data following.
        let buf = [0x40, 0x7F, 0xD1, 0x0E];
        assert_eq!(scan(&buf, MAX), Err(DecodeError::StringTooLong));
        assert_eq!(
            scan(&[0x40, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F], MAX),
            Err(DecodeError::IntegerOverflow)
        );
    }
}
