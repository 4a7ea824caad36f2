//! Fuzzes the HPACK decoder: input split into two header blocks and into
//! fragments at positions taken from the input. Must never panic; fragmenting
//! must not change the result; decoded fields must survive a re-encode with
//! our Encoder and a decode by a fresh Decoder.
#![no_main]

use bytes::BytesMut;
use h2ring_hpack::hpack::{DecodeError, Decoder, Encoder, DEFAULT_TABLE_SIZE};
use libfuzzer_sys::fuzz_target;

/// (name, value, never_indexed) for each field of each block.
type Blocks = Vec<Vec<(Vec<u8>, Vec<u8>, bool)>>;

/// Decodes `blocks` with one decoder, each block cut into `step`-octet
/// fragments. Stops at the first error.
fn decode(blocks: &[&[u8]], step: usize) -> (Blocks, Result<(), DecodeError>) {
    let mut dec = Decoder::new(DEFAULT_TABLE_SIZE);
    let mut out = Blocks::new();
    for block in blocks {
        let mut fields = Vec::new();
        let chunks: Vec<&[u8]> = if block.is_empty() {
            vec![&[][..]]
        } else {
            block.chunks(step).collect()
        };
        for (i, chunk) in chunks.iter().enumerate() {
            let last = i + 1 == chunks.len();
            let r = dec.decode_fragment(chunk, last, |f| {
                fields.push((f.name.to_vec(), f.value.to_vec(), f.never_indexed))
            });
            if let Err(e) = r {
                out.push(fields);
                return (out, Err(e));
            }
        }
        out.push(fields);
    }
    (out, Ok(()))
}

fuzz_target!(|data: &[u8]| {
    let [step, split, rest @ ..] = data else {
        return;
    };
    let step = 1 + usize::from(*step % 64);
    let mid = usize::from(*split) * rest.len() / 256;
    let blocks = [&rest[..mid], &rest[mid..]];

    let (fragmented, result) = decode(&blocks, step);
    let (whole, whole_result) = decode(&blocks, usize::MAX);
    assert_eq!(result, whole_result, "fragmenting changed the outcome");
    assert_eq!(fragmented, whole, "fragmenting changed the fields");
    if result.is_err() {
        return;
    }

    // Re-encode with a fresh Encoder, decode with a fresh Decoder.
    let mut enc = Encoder::new();
    let mut dec = Decoder::new(DEFAULT_TABLE_SIZE);
    for fields in &whole {
        let mut dst = BytesMut::new();
        enc.begin_block(&mut dst);
        for (name, value, never_indexed) in fields {
            if *never_indexed {
                enc.encode_field_never_indexed(name, value, &mut dst);
            } else {
                enc.encode_field(name, value, &mut dst);
            }
        }
        let mut again = Vec::new();
        dec.decode_fragment(&dst, true, |f| {
            again.push((f.name.to_vec(), f.value.to_vec(), f.never_indexed))
        })
        .expect("our own encoding failed to decode");
        assert_eq!(again.len(), fields.len());
        for (a, b) in again.iter().zip(fields) {
            assert_eq!((&a.0, &a.1), (&b.0, &b.1));
            // Never-indexed must stay never-indexed (RFC 7541 §7.1.3).
            assert!(a.2 || !b.2);
        }
    }
});
