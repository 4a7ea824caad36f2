//! Huffman string coding for HPACK (RFC 7541 §5.2, Appendix B).

mod codes;
mod decode_table;

use bytes::{BufMut, BytesMut};

use self::codes::{CODES, CODE_LENGTHS};
use self::decode_table::{DECODE_TABLE, FLAG_ACCEPT, FLAG_EMIT, FLAG_FAIL};
use super::DecodeError;

/// Number of octets `src` takes once Huffman-encoded (including padding).
pub fn encoded_len(src: &[u8]) -> usize {
    let bits: usize = src
        .iter()
        .map(|&b| usize::from(CODE_LENGTHS[usize::from(b)]))
        .sum();
    bits.div_ceil(8)
}

/// Appends the Huffman encoding of `src` to `dst`, padded with the most
/// significant bits of EOS (all ones, RFC 7541 §5.2).
pub fn encode(src: &[u8], dst: &mut BytesMut) {
    dst.reserve(encoded_len(src));
    // Bits not yet written sit in the low `pending` bits of `acc`; at most
    // 7 + 30 bits are live, and older bits are shifted out harmlessly.
    let mut acc: u64 = 0;
    let mut pending: u32 = 0;
    for &b in src {
        let sym = usize::from(b);
        let len = u32::from(CODE_LENGTHS[sym]);
        acc = (acc << len) | u64::from(CODES[sym]);
        pending += len;
        while pending >= 8 {
            pending -= 8;
            dst.put_u8((acc >> pending) as u8);
        }
    }
    if pending > 0 {
        let pad = 8 - pending;
        dst.put_u8(((acc << pad) | ((1 << pad) - 1)) as u8);
    }
}

/// Appends the decoding of the Huffman string `src` to `dst`.
///
/// Rejects EOS inside the string, padding longer than 7 bits and padding
/// that is not all ones (RFC 7541 §5.2) with [`DecodeError::InvalidHuffman`].
pub fn decode(src: &[u8], dst: &mut Vec<u8>) -> Result<(), DecodeError> {
    // Each symbol takes at least 5 bits.
    dst.reserve(src.len() * 8 / 5);
    let mut state: u8 = 0;
    let mut accept = true;
    for &octet in src {
        for nibble in [octet >> 4, octet & 0x0F] {
            let t = DECODE_TABLE[usize::from(state)][usize::from(nibble)];
            if t.flags & FLAG_FAIL != 0 {
                return Err(DecodeError::InvalidHuffman);
            }
            if t.flags & FLAG_EMIT != 0 {
                dst.push(t.sym);
            }
            state = t.next;
            accept = t.flags & FLAG_ACCEPT != 0;
        }
    }
    if accept {
        Ok(())
    } else {
        Err(DecodeError::InvalidHuffman)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(src: &[u8]) -> Vec<u8> {
        let mut dst = BytesMut::new();
        encode(src, &mut dst);
        dst.to_vec()
    }

    fn dec(src: &[u8]) -> Result<Vec<u8>, DecodeError> {
        let mut out = Vec::new();
        decode(src, &mut out).map(|()| out)
    }

    #[test]
    fn rfc_c4_1_authority() {
        let coded = [
            0xf1, 0xe3, 0xc2, 0xe5, 0xf2, 0x3a, 0x6b, 0xa0, 0xab, 0x90, 0xf4, 0xff,
        ];
        assert_eq!(enc(b"www.example.com"), coded);
        assert_eq!(encoded_len(b"www.example.com"), coded.len());
        assert_eq!(dec(&coded).unwrap(), b"www.example.com");
    }

    #[test]
    fn empty_string() {
        assert_eq!(enc(b""), Vec::<u8>::new());
        assert_eq!(dec(b"").unwrap(), Vec::<u8>::new());
    }

    #[test]
    fn every_symbol_round_trips_alone_and_together() {
        let all: Vec<u8> = (0..=255).collect();
        for &b in &all {
            let coded = enc(&[b]);
            assert_eq!(coded.len(), encoded_len(&[b]));
            assert_eq!(dec(&coded).unwrap(), [b], "symbol {b}");
        }
        assert_eq!(dec(&enc(&all)).unwrap(), all);
    }

    #[test]
    fn rejects_bad_padding() {
        // 'a' = 00011, padded with zeros instead of ones.
        assert_eq!(dec(&[0b0001_1000]), Err(DecodeError::InvalidHuffman));
        // 'a' then a whole extra octet of ones: padding of 11 bits.
        assert_eq!(dec(&[0b0001_1111, 0xFF]), Err(DecodeError::InvalidHuffman));
        // Valid: 'a' + 3 bits of ones.
        assert_eq!(dec(&[0b0001_1111]).unwrap(), b"a");
        // A lone all-ones octet is 8 bits of padding.
        assert_eq!(dec(&[0xFF]), Err(DecodeError::InvalidHuffman));
    }

    #[test]
    fn rejects_eos() {
        // EOS is 30 ones; followed by 2 more ones to fill 4 octets.
        assert_eq!(dec(&[0xFF; 4]), Err(DecodeError::InvalidHuffman));
        // 'a' then EOS: 00011 + 30 ones + 5 ones padding.
        assert_eq!(
            dec(&[0b0001_1111, 0xFF, 0xFF, 0xFF, 0xFF]),
            Err(DecodeError::InvalidHuffman)
        );
    }

    #[test]
    fn rejects_zero_padding_after_long_code() {
        // Symbol 0 is 1111111111000 (13 bits); then 3 zero bits of padding.
        assert_eq!(dec(&[0xFF, 0xC0]), Err(DecodeError::InvalidHuffman));
        // The same with ones as padding is valid.
        assert_eq!(dec(&[0xFF, 0xC7]).unwrap(), [0]);
    }
}
