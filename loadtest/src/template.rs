//! Owns the pre-encoded request header block of one connection, so steady-state request
//! encoding is a memcpy plus the stream id in the frame header.

use bytes::{Bytes, BytesMut};
use h2ring_hpack::hpack::{Encoder, DEFAULT_TABLE_SIZE};

use crate::config::RequestSpec;

/// `user-agent` sent with every request.
pub const USER_AGENT: &str = concat!("h2ring-loadtest/", env!("CARGO_PKG_VERSION"));

/// The request head of one connection: the first block inserts the fields into the
/// server's HPACK dynamic table (RFC 7541 §6.2.1); every later block is the same fields
/// as 1-octet indices (§6.1), so it is encoded once and replayed.
#[derive(Debug)]
pub struct RequestTemplate {
    encoder: Encoder,
    fields: Vec<(Vec<u8>, Vec<u8>)>,
    /// Block to send next if it differs from `steady` (after the start or a table resize).
    first: Option<Bytes>,
    /// The block every other request replays.
    steady: Bytes,
}

impl RequestTemplate {
    /// Encodes `spec`'s head (pseudo-fields first, RFC 9113 §8.3), plus `content-length`
    /// when it has a body.
    pub fn new(spec: &RequestSpec) -> RequestTemplate {
        let mut fields: Vec<(Vec<u8>, Vec<u8>)> = vec![
            (b":method".to_vec(), spec.method.as_bytes().to_vec()),
            (b":scheme".to_vec(), spec.scheme.as_bytes().to_vec()),
            (b":authority".to_vec(), spec.authority.as_bytes().to_vec()),
            (b":path".to_vec(), spec.path.as_bytes().to_vec()),
            (b"user-agent".to_vec(), USER_AGENT.as_bytes().to_vec()),
        ];
        if !spec.body.is_empty() {
            let len = spec.body.len().to_string();
            fields.push((b"content-length".to_vec(), len.into_bytes()));
        }
        for (name, value) in &spec.headers {
            fields.push((
                name.to_ascii_lowercase().into_bytes(),
                value.as_bytes().to_vec(),
            ));
        }
        let mut template = RequestTemplate {
            encoder: Encoder::new(),
            fields,
            first: None,
            steady: Bytes::new(),
        };
        template.reencode();
        template
    }

    /// The block for the next request; call once per request sent.
    pub fn next_block(&mut self) -> Bytes {
        match self.first.take() {
            Some(first) => first,
            None => self.steady.clone(),
        }
    }

    /// Applies the server's SETTINGS_HEADER_TABLE_SIZE (RFC 7541 §4.2): the next block
    /// starts with a size update and re-inserts what the smaller table dropped.
    pub fn set_peer_table_size(&mut self, size: u32) {
        let size = usize::try_from(size).unwrap_or(usize::MAX);
        // Our encoder never keeps more than the default, so a larger table changes nothing.
        if size >= DEFAULT_TABLE_SIZE {
            return;
        }
        self.encoder.set_max_table_size(size);
        self.reencode();
    }

    fn reencode(&mut self) {
        self.first = Some(self.encode_block());
        self.steady = self.encode_block();
    }

    fn encode_block(&mut self) -> Bytes {
        let mut dst = BytesMut::new();
        self.encoder.begin_block(&mut dst);
        for (name, value) in &self.fields {
            self.encoder.encode_field(name, value, &mut dst);
        }
        dst.freeze()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use h2ring_hpack::hpack::Decoder;

    fn decode_all(blocks: &[Bytes], table: usize) -> Vec<Vec<(Vec<u8>, Vec<u8>)>> {
        let mut dec = Decoder::new(table);
        blocks
            .iter()
            .map(|b| dec.decode_block(b).unwrap())
            .collect()
    }

    #[test]
    fn steady_blocks_are_indices_that_decode_to_the_same_head() {
        let mut spec = RequestSpec::get("example.com:8080", "/index.html");
        spec.body = Bytes::from_static(b"abc");
        spec.headers.push(("X-Test".into(), "1".into()));
        let mut t = RequestTemplate::new(&spec);
        let blocks: Vec<Bytes> = (0..3).map(|_| t.next_block()).collect();
        // RFC 7541 §6.1: each of the 7 fields is one indexed octet once the table is warm.
        assert_eq!(blocks[1].len(), 7);
        assert_eq!(blocks[1], blocks[2]);
        assert!(blocks[0].len() > blocks[1].len());
        let heads = decode_all(&blocks, 4096);
        for head in &heads {
            assert_eq!(head, &heads[0]);
        }
        let names: Vec<&[u8]> = heads[0].iter().map(|(n, _)| n.as_slice()).collect();
        assert_eq!(
            names,
            [
                &b":method"[..],
                b":scheme",
                b":authority",
                b":path",
                b"user-agent",
                b"content-length",
                b"x-test"
            ]
        );
        assert_eq!(heads[0][5].1, b"3");
    }

    #[test]
    fn smaller_peer_table_is_signalled_and_still_decodes() {
        let spec = RequestSpec::get("h", "/");
        let mut t = RequestTemplate::new(&spec);
        let before = t.next_block();
        let _ = t.next_block();
        t.set_peer_table_size(0);
        let after = t.next_block();
        // RFC 7541 §6.3: dynamic table size update to 0 is the first octet.
        assert_eq!(after[0], 0x20);
        let steady = t.next_block();
        assert_ne!(steady[0], 0x20);
        let heads = decode_all(&[before, after, steady], 4096);
        assert_eq!(heads[0], heads[1]);
        assert_eq!(heads[1], heads[2]);
    }
}
