//! Prefixed integer representation (RFC 7541 §5.1), bounded to `u32`.

use bytes::{BufMut, BytesMut};

use super::DecodeError;

/// Most continuation octets accepted after a full prefix: 5 × 7 bits cover
/// every `u32`. RFC 7541 §5.1 allows unbounded encodings; §7.4 lets a decoder
/// limit them, and a longer run is treated as overflow.
pub(crate) const MAX_CONTINUATION_OCTETS: usize = 5;

/// Decodes a prefixed integer whose prefix is the low `prefix_bits` (1-8) of
/// `buf[0]`.
///
/// Returns `Ok(None)` if `buf` ends before the integer does, otherwise the
/// value and the number of octets used. Overflow is reported as soon as it is
/// visible, even if the integer is still incomplete.
pub(crate) fn decode(buf: &[u8], prefix_bits: u8) -> Result<Option<(u32, usize)>, DecodeError> {
    debug_assert!((1..=8).contains(&prefix_bits));
    let mask = 0xFFu8 >> (8 - prefix_bits);
    let Some(&first) = buf.first() else {
        return Ok(None);
    };
    let prefix = first & mask;
    if prefix < mask {
        return Ok(Some((u32::from(prefix), 1)));
    }
    let mut value = u64::from(mask);
    for (i, &octet) in buf.iter().skip(1).enumerate() {
        if i >= MAX_CONTINUATION_OCTETS {
            return Err(DecodeError::IntegerOverflow);
        }
        value += u64::from(octet & 0x7F) << (7 * i);
        if value > u64::from(u32::MAX) {
            return Err(DecodeError::IntegerOverflow);
        }
        if octet & 0x80 == 0 {
            // `value` was just checked to fit in u32.
            return Ok(Some((value as u32, i + 2)));
        }
    }
    // All continuation octets seen so far have the "more" bit set: once the
    // budget is spent, the next octet could only overflow.
    if buf.len() > MAX_CONTINUATION_OCTETS {
        return Err(DecodeError::IntegerOverflow);
    }
    Ok(None)
}

/// Encodes `value` with a `prefix_bits` (1-8) prefix; `flags` supplies the
/// high bits of the first octet (e.g. `0x40` for incremental indexing).
pub(crate) fn encode(value: usize, prefix_bits: u8, flags: u8, dst: &mut BytesMut) {
    debug_assert!((1..=8).contains(&prefix_bits));
    let mask = 0xFFu8 >> (8 - prefix_bits);
    if value < usize::from(mask) {
        dst.put_u8(flags | value as u8);
        return;
    }
    dst.put_u8(flags | mask);
    let mut rest = value - usize::from(mask);
    while rest >= 0x80 {
        dst.put_u8(0x80 | (rest & 0x7F) as u8);
        rest >>= 7;
    }
    dst.put_u8(rest as u8);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(value: usize, prefix: u8) -> Vec<u8> {
        let mut dst = BytesMut::new();
        encode(value, prefix, 0, &mut dst);
        dst.to_vec()
    }

    #[test]
    fn rfc_c1_examples() {
        // C.1.1: 10 with a 5-bit prefix.
        assert_eq!(enc(10, 5), [0x0A]);
        assert_eq!(decode(&[0x0A], 5), Ok(Some((10, 1))));
        // C.1.2: 1337 with a 5-bit prefix.
        assert_eq!(enc(1337, 5), [0x1F, 0x9A, 0x0A]);
        assert_eq!(decode(&[0x1F, 0x9A, 0x0A], 5), Ok(Some((1337, 3))));
        // C.1.3: 42 at an octet boundary (8-bit prefix).
        assert_eq!(enc(42, 8), [0x2A]);
        assert_eq!(decode(&[0x2A], 8), Ok(Some((42, 1))));
    }

    #[test]
    fn flags_are_preserved_and_masked_off() {
        let mut dst = BytesMut::new();
        encode(62, 6, 0x40, &mut dst);
        assert_eq!(&dst[..], [0x7E]);
        assert_eq!(decode(&[0x7E], 6), Ok(Some((62, 1))));
        assert_eq!(decode(&[0xE0 | 0x1F, 0x00], 5), Ok(Some((31, 2))));
    }

    #[test]
    fn round_trip_every_prefix() {
        for prefix in 1..=8u8 {
            for value in [0usize, 1, 30, 31, 126, 127, 128, 255, 256, 16_383, 1 << 20] {
                let bytes = enc(value, prefix);
                assert_eq!(
                    decode(&bytes, prefix),
                    Ok(Some((value as u32, bytes.len()))),
                    "prefix {prefix} value {value}"
                );
                // Every strict prefix of the encoding is incomplete.
                for cut in 0..bytes.len() {
                    assert_eq!(decode(&bytes[..cut], prefix), Ok(None));
                }
            }
        }
    }

    #[test]
    fn u32_max_fits_and_one_more_overflows() {
        let max = enc(u32::MAX as usize, 5);
        assert_eq!(decode(&max, 5), Ok(Some((u32::MAX, max.len()))));
        let over = enc(u32::MAX as usize + 1, 5);
        assert_eq!(decode(&over, 5), Err(DecodeError::IntegerOverflow));
    }

    #[test]
    fn long_continuation_run_fails_fast() {
        // Prefix full, then zero-valued continuations that never end.
        let run = [0x1F, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80];
        assert_eq!(decode(&run, 5), Err(DecodeError::IntegerOverflow));
        // 0xFF run overflows u32 before the fifth continuation octet.
        let ff = [0xFF; 8];
        assert_eq!(decode(&ff, 5), Err(DecodeError::IntegerOverflow));
        // Five zero continuations and still going: incomplete is not allowed
        // to grow further.
        assert_eq!(decode(&run[..6], 5), Err(DecodeError::IntegerOverflow));
        assert_eq!(decode(&run[..5], 5), Ok(None));
    }
}
