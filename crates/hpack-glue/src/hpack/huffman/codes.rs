//! The HPACK Huffman code (RFC 7541 Appendix B), derived at compile time.
//!
//! The Appendix B code is canonical: within each length, codes are assigned
//! in increasing symbol order. So only the 257 code lengths are written down
//! here and the codes themselves are re-derived by a `const fn`; tests compare
//! spot values against Appendix B and decode all 256 symbols with an
//! independent decoder.

/// Symbol index of EOS (RFC 7541 §5.2: must never appear in a string).
pub(crate) const EOS: usize = 256;

/// Longest code in the table (EOS, 30 bits).
pub(crate) const MAX_CODE_LEN: u8 = 30;

/// Code length in bits for symbols 0..=255 and EOS (256), from Appendix B.
#[rustfmt::skip]
pub(crate) const CODE_LENGTHS: [u8; 257] = [
    13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28,  // symbols 0..=15
    28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28,  // symbols 16..=31
    6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6,  // symbols 32..=47
    5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10,  // symbols 48..=63
    13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,  // symbols 64..=79
    7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6,  // symbols 80..=95
    15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5,  // symbols 96..=111
    6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28,  // symbols 112..=127
    20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23,  // symbols 128..=143
    24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24,  // symbols 144..=159
    22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23,  // symbols 160..=175
    21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23,  // symbols 176..=191
    26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25,  // symbols 192..=207
    19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27,  // symbols 208..=223
    20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23,  // symbols 224..=239
    26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26,  // symbols 240..=255
    30,  // symbols 256..=256
];

/// Right-aligned code for each symbol: canonical assignment over
/// [`CODE_LENGTHS`].
pub(crate) const CODES: [u32; 257] = canonical_codes(&CODE_LENGTHS);

const fn canonical_codes(lengths: &[u8; 257]) -> [u32; 257] {
    let mut codes = [0u32; 257];
    let mut next: u32 = 0;
    let mut len = 1;
    while len <= MAX_CODE_LEN {
        let mut sym = 0;
        while sym < 257 {
            if lengths[sym] == len {
                codes[sym] = next;
                next += 1;
            }
            sym += 1;
        }
        if len < MAX_CODE_LEN {
            next <<= 1;
        }
        len += 1;
    }
    // A complete prefix code uses every code of the longest length.
    assert!(next == 1 << MAX_CODE_LEN);
    codes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spot_values_match_appendix_b() {
        // (symbol, code, length) rows copied from RFC 7541 Appendix B.
        let rows: [(usize, u32, u8); 10] = [
            (0, 0x1ff8, 13),
            (b' ' as usize, 0x14, 6),
            (b'0' as usize, 0x0, 5),
            (b'a' as usize, 0x3, 5),
            (b'A' as usize, 0x21, 6),
            (b'{' as usize, 0x7ffe, 15),
            (b'~' as usize, 0x1ffd, 13),
            (10, 0x3ffffffc, 30),
            (255, 0x3ffffee, 26),
            (EOS, 0x3fffffff, 30),
        ];
        for (sym, code, len) in rows {
            assert_eq!((CODES[sym], CODE_LENGTHS[sym]), (code, len), "symbol {sym}");
        }
    }

    #[test]
    fn kraft_sum_is_exactly_one() {
        let sum: u64 = CODE_LENGTHS
            .iter()
            .map(|&len| 1u64 << (MAX_CODE_LEN - len))
            .sum();
        assert_eq!(sum, 1u64 << MAX_CODE_LEN);
    }
}
