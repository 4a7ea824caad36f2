//! RFC 7541 Appendix C examples (C.2-C.6) for the HPACK decoder and encoder,
//! plus fragment-split decoding of every example block.

use bytes::BytesMut;
use h2ring_hpack::hpack::{Decoder, Encoder, Field, DEFAULT_TABLE_SIZE};

type Pair = (&'static str, &'static str);

/// One header block of an Appendix C sequence.
struct Block {
    /// Hex dump as printed in the RFC (spaces ignored).
    hex: &'static str,
    fields: &'static [Pair],
    /// Dynamic table after the block, newest first.
    table: &'static [Pair],
    table_size: usize,
}

fn unhex(s: &str) -> Vec<u8> {
    let digits: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    digits
        .chunks(2)
        .map(|pair| u8::from_str_radix(std::str::from_utf8(pair).unwrap(), 16).unwrap())
        .collect()
}

fn owned(pairs: &[Pair]) -> Vec<(Vec<u8>, Vec<u8>)> {
    pairs
        .iter()
        .map(|(n, v)| (n.as_bytes().to_vec(), v.as_bytes().to_vec()))
        .collect()
}

fn table_of(dec: &Decoder) -> Vec<(Vec<u8>, Vec<u8>)> {
    dec.table_entries()
        .map(|(n, v)| (n.to_vec(), v.to_vec()))
        .collect()
}

const REQ1: &[Pair] = &[
    (":method", "GET"),
    (":scheme", "http"),
    (":path", "/"),
    (":authority", "www.example.com"),
];
const REQ2: &[Pair] = &[
    (":method", "GET"),
    (":scheme", "http"),
    (":path", "/"),
    (":authority", "www.example.com"),
    ("cache-control", "no-cache"),
];
const REQ3: &[Pair] = &[
    (":method", "GET"),
    (":scheme", "https"),
    (":path", "/index.html"),
    (":authority", "www.example.com"),
    ("custom-key", "custom-value"),
];
const REQ_T1: &[Pair] = &[(":authority", "www.example.com")];
const REQ_T2: &[Pair] = &[
    ("cache-control", "no-cache"),
    (":authority", "www.example.com"),
];
const REQ_T3: &[Pair] = &[
    ("custom-key", "custom-value"),
    ("cache-control", "no-cache"),
    (":authority", "www.example.com"),
];

/// C.3: requests without Huffman coding.
const C3: [Block; 3] = [
    Block {
        hex: "8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d",
        fields: REQ1,
        table: REQ_T1,
        table_size: 57,
    },
    Block {
        hex: "8286 84be 5808 6e6f 2d63 6163 6865",
        fields: REQ2,
        table: REQ_T2,
        table_size: 110,
    },
    Block {
        hex: "8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65",
        fields: REQ3,
        table: REQ_T3,
        table_size: 164,
    },
];

/// C.4: the same requests with Huffman coding.
const C4: [Block; 3] = [
    Block {
        hex: "8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff",
        fields: REQ1,
        table: REQ_T1,
        table_size: 57,
    },
    Block {
        hex: "8286 84be 5886 a8eb 1064 9cbf",
        fields: REQ2,
        table: REQ_T2,
        table_size: 110,
    },
    Block {
        hex: "8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf",
        fields: REQ3,
        table: REQ_T3,
        table_size: 164,
    },
];

const DATE1: &str = "Mon, 21 Oct 2013 20:13:21 GMT";
const DATE2: &str = "Mon, 21 Oct 2013 20:13:22 GMT";
const LOCATION: &str = "https://www.example.com";
const COOKIE: &str = "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1";

const RESP1: &[Pair] = &[
    (":status", "302"),
    ("cache-control", "private"),
    ("date", DATE1),
    ("location", LOCATION),
];
const RESP2: &[Pair] = &[
    (":status", "307"),
    ("cache-control", "private"),
    ("date", DATE1),
    ("location", LOCATION),
];
const RESP3: &[Pair] = &[
    (":status", "200"),
    ("cache-control", "private"),
    ("date", DATE2),
    ("location", LOCATION),
    ("content-encoding", "gzip"),
    ("set-cookie", COOKIE),
];
const RESP_T1: &[Pair] = &[
    ("location", LOCATION),
    ("date", DATE1),
    ("cache-control", "private"),
    (":status", "302"),
];
const RESP_T2: &[Pair] = &[
    (":status", "307"),
    ("location", LOCATION),
    ("date", DATE1),
    ("cache-control", "private"),
];
const RESP_T3: &[Pair] = &[
    ("set-cookie", COOKIE),
    ("content-encoding", "gzip"),
    ("date", DATE2),
];

/// C.5: responses without Huffman coding, table size 256 (evictions).
const C5: [Block; 3] = [
    Block {
        hex: "4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 \
              3133 2032 303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 \
              7861 6d70 6c65 2e63 6f6d",
        fields: RESP1,
        table: RESP_T1,
        table_size: 222,
    },
    Block {
        hex: "4803 3330 37c1 c0bf",
        fields: RESP2,
        table: RESP_T2,
        table_size: 222,
    },
    Block {
        hex: "88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 \
              474d 54c0 5a04 677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 \
              454f 5049 5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b 2076 \
              6572 7369 6f6e 3d31",
        fields: RESP3,
        table: RESP_T3,
        table_size: 215,
    },
];

/// C.6: the same responses with Huffman coding.
const C6: [Block; 3] = [
    Block {
        hex: "4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 \
              82a6 2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3",
        fields: RESP1,
        table: RESP_T1,
        table_size: 222,
    },
    Block {
        hex: "4883 640e ffc1 c0bf",
        fields: RESP2,
        table: RESP_T2,
        table_size: 222,
    },
    Block {
        hex: "88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b \
              d9ab 77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 \
              0fb5 291f 9587 3160 65c0 03ed 4ee5 b106 3d50 07",
        fields: RESP3,
        table: RESP_T3,
        table_size: 215,
    },
];

/// Decodes a whole sequence with one decoder, checking fields and the
/// dynamic table after each block.
fn check_decode(blocks: &[Block], table_size: usize) {
    let mut dec = Decoder::new(table_size);
    for (i, block) in blocks.iter().enumerate() {
        let got = dec.decode_block(&unhex(block.hex)).unwrap();
        assert_eq!(got, owned(block.fields), "block {i} fields");
        assert_eq!(table_of(&dec), owned(block.table), "block {i} table");
        assert_eq!(dec.table_size(), block.table_size, "block {i} size");
    }
}

/// Encodes each block's field list, returning the encoded blocks.
fn encode_all(blocks: &[Block], huffman: bool, table_size: usize) -> Vec<Vec<u8>> {
    let mut enc = Encoder::new();
    enc.set_huffman(huffman);
    if table_size != DEFAULT_TABLE_SIZE {
        enc.set_max_table_size(table_size);
    }
    blocks
        .iter()
        .map(|block| {
            let mut dst = BytesMut::new();
            enc.begin_block(&mut dst);
            for (n, v) in block.fields {
                enc.encode_field(n.as_bytes(), v.as_bytes(), &mut dst);
            }
            dst.to_vec()
        })
        .collect()
}

#[test]
fn c2_1_literal_with_indexing() {
    let block = unhex("400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572");
    let mut dec = Decoder::new(DEFAULT_TABLE_SIZE);
    let got = dec.decode_block(&block).unwrap();
    assert_eq!(got, owned(&[("custom-key", "custom-header")]));
    assert_eq!(table_of(&dec), owned(&[("custom-key", "custom-header")]));
    assert_eq!(dec.table_size(), 55);

    let mut enc = Encoder::new();
    enc.set_huffman(false);
    let mut dst = BytesMut::new();
    enc.encode_field(b"custom-key", b"custom-header", &mut dst);
    assert_eq!(&dst[..], &block[..]);
}

#[test]
fn c2_2_literal_without_indexing() {
    let block = unhex("040c 2f73 616d 706c 652f 7061 7468");
    let mut dec = Decoder::new(DEFAULT_TABLE_SIZE);
    assert_eq!(
        dec.decode_block(&block).unwrap(),
        owned(&[(":path", "/sample/path")])
    );
    assert_eq!(dec.table_size(), 0);

    // Our encoder indexes this small field (§6.2.1, 0x44) where the RFC
    // example does not; check it round-trips.
    let mut enc = Encoder::new();
    enc.set_huffman(false);
    let mut dst = BytesMut::new();
    enc.encode_field(b":path", b"/sample/path", &mut dst);
    assert_eq!(dst[0], 0x44);
    let mut dec = Decoder::new(DEFAULT_TABLE_SIZE);
    assert_eq!(
        dec.decode_block(&dst).unwrap(),
        owned(&[(":path", "/sample/path")])
    );
}

#[test]
fn c2_3_literal_never_indexed() {
    let block = unhex("1008 7061 7373 776f 7264 0673 6563 7265 74");
    let mut dec = Decoder::new(DEFAULT_TABLE_SIZE);
    let mut fields = Vec::new();
    dec.decode_fragment(&block, true, |f: Field<'_>| {
        fields.push((f.name.to_vec(), f.value.to_vec(), f.never_indexed))
    })
    .unwrap();
    assert_eq!(fields, [(b"password".to_vec(), b"secret".to_vec(), true)]);
    assert_eq!(dec.table_size(), 0);

    let mut enc = Encoder::new();
    enc.set_huffman(false);
    let mut dst = BytesMut::new();
    enc.encode_field_never_indexed(b"password", b"secret", &mut dst);
    assert_eq!(&dst[..], &block[..]);
}

#[test]
fn c2_4_indexed() {
    let mut dec = Decoder::new(DEFAULT_TABLE_SIZE);
    assert_eq!(
        dec.decode_block(&[0x82]).unwrap(),
        owned(&[(":method", "GET")])
    );
    assert_eq!(dec.table_size(), 0);
    let mut dst = BytesMut::new();
    Encoder::new().encode_field(b":method", b"GET", &mut dst);
    assert_eq!(&dst[..], [0x82]);
}

#[test]
fn c3_requests_without_huffman() {
    check_decode(&C3, DEFAULT_TABLE_SIZE);
    let encoded = encode_all(&C3, false, DEFAULT_TABLE_SIZE);
    for (block, got) in C3.iter().zip(&encoded) {
        assert_eq!(got, &unhex(block.hex));
    }
}

#[test]
fn c4_requests_with_huffman() {
    check_decode(&C4, DEFAULT_TABLE_SIZE);
    let encoded = encode_all(&C4, true, DEFAULT_TABLE_SIZE);
    for (block, got) in C4.iter().zip(&encoded) {
        assert_eq!(got, &unhex(block.hex));
    }
}

/// C.5/C.6 encoding: our choices differ (set-cookie is never indexed, and
/// `date` exceeds the 1/4-of-table indexing threshold at size 256), so
/// check that our blocks decode to the same lists with the table bounded.
fn check_response_round_trip(blocks: &[Block], huffman: bool) {
    let encoded = encode_all(blocks, huffman, 256);
    // The first block starts with the size update to 256.
    assert_eq!(&encoded[0][..3], [0x3F, 0xE1, 0x01]);
    let mut dec = Decoder::new(256);
    for (block, bytes) in blocks.iter().zip(&encoded) {
        assert_eq!(dec.decode_block(bytes).unwrap(), owned(block.fields));
        assert!(dec.table_size() <= 256);
    }
}

#[test]
fn c5_responses_without_huffman() {
    check_decode(&C5, 256);
    check_response_round_trip(&C5, false);
}

#[test]
fn c6_responses_with_huffman() {
    check_decode(&C6, 256);
    check_response_round_trip(&C6, true);
}

/// Decodes `blocks` in order, the `split`-th one cut by `cuts` into
/// fragments, and checks fields and the final table against the RFC.
fn decode_with_cuts(blocks: &[Block], table_size: usize, split: usize, cuts: &[usize]) {
    let mut dec = Decoder::new(table_size);
    for (i, block) in blocks.iter().enumerate() {
        let bytes = unhex(block.hex);
        let mut got = Vec::new();
        let mut bounds = vec![0];
        if i == split {
            bounds.extend_from_slice(cuts);
        }
        bounds.push(bytes.len());
        for (k, w) in bounds.windows(2).enumerate() {
            let last = k + 2 == bounds.len();
            dec.decode_fragment(&bytes[w[0]..w[1]], last, |f| {
                got.push((f.name.to_vec(), f.value.to_vec()))
            })
            .unwrap_or_else(|e| panic!("block {i} cuts {cuts:?}: {e}"));
        }
        assert_eq!(got, owned(block.fields), "block {i} cuts {cuts:?}");
    }
    let last = blocks.last().unwrap();
    assert_eq!(table_of(&dec), owned(last.table));
    assert_eq!(dec.table_size(), last.table_size);
}

#[test]
fn every_two_fragment_split_decodes_the_same() {
    for (blocks, size) in [(&C3, 4096), (&C4, 4096), (&C5, 256), (&C6, 256)] {
        for split in 0..blocks.len() {
            let len = unhex(blocks[split].hex).len();
            for cut in 0..=len {
                decode_with_cuts(blocks, size, split, &[cut]);
            }
        }
    }
}

#[test]
fn one_octet_fragments_decode_the_same() {
    for (blocks, size) in [(&C3, 4096), (&C4, 4096), (&C5, 256), (&C6, 256)] {
        for split in 0..blocks.len() {
            let len = unhex(blocks[split].hex).len();
            let cuts: Vec<usize> = (1..len).collect();
            decode_with_cuts(blocks, size, split, &cuts);
        }
    }
}

#[test]
fn empty_fragments_are_harmless() {
    let bytes = unhex(C4[0].hex);
    let mut dec = Decoder::new(4096);
    let mut got = Vec::new();
    let mut push = |f: Field<'_>| got.push((f.name.to_vec(), f.value.to_vec()));
    dec.decode_fragment(&[], false, &mut push).unwrap();
    dec.decode_fragment(&bytes[..5], false, &mut push).unwrap();
    dec.decode_fragment(&[], false, &mut push).unwrap();
    dec.decode_fragment(&bytes[5..], false, &mut push).unwrap();
    dec.decode_fragment(&[], true, &mut push).unwrap();
    assert_eq!(got, owned(REQ1));
}
