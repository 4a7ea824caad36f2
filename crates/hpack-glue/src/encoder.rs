//! Encodes response heads, trailers and pushed request heads (RFC 9113 §8.3.2, §8.4) on top
//! of the HPACK encoder, dropping fields an HTTP/2 message must not carry.

use bytes::BytesMut;
use http::{HeaderMap, HeaderValue, Method, StatusCode};

use crate::field::{field_size, is_connection_specific};
use crate::hpack::Encoder;
use crate::literal_cache::LiteralCache;

/// Encodes response heads, trailers and pushed request heads; one per connection.
#[derive(Debug)]
pub struct HeadEncoder {
    hpack: Encoder,
    cache: LiteralCache,
    /// Whether common response fields go through the stateless literal cache (default on).
    use_cache: bool,
}

impl Default for HeadEncoder {
    fn default() -> Self {
        Self::new()
    }
}

impl HeadEncoder {
    /// An encoder for a peer with the default 4096-octet table.
    pub fn new() -> Self {
        HeadEncoder {
            hpack: Encoder::new(),
            cache: LiteralCache::new(),
            use_cache: true,
        }
    }

    /// Applies the peer's SETTINGS_HEADER_TABLE_SIZE; the size update is emitted at the
    /// start of the next block (RFC 7541 §4.2).
    pub fn set_peer_max_table_size(&mut self, n: usize) {
        self.hpack.set_max_table_size(n);
    }

    /// Turns the stateless literal cache for common response fields on (default) or off.
    /// Off, every field goes through the HPACK encoder's own table (smaller blocks, more
    /// table lookups); see docs/BENCHMARKS.md.
    pub fn set_literal_cache(&mut self, enabled: bool) {
        self.use_cache = enabled;
    }

    /// Encodes `:status` and `headers` as one block. Returns the header list size
    /// (RFC 9113 §6.5.2 accounting) so the connection can honour the peer's
    /// MAX_HEADER_LIST_SIZE.
    pub fn encode_response(
        &mut self,
        status: StatusCode,
        headers: &HeaderMap,
        dst: &mut BytesMut,
    ) -> usize {
        self.hpack.begin_block(dst);
        // RFC 9113 §8.3: pseudo-headers first.
        self.hpack.encode_status(status.as_u16(), dst);
        field_size(b":status", status.as_str().as_bytes()) + self.encode_fields(headers, dst)
    }

    /// Encodes a trailer section (no pseudo-headers, RFC 9113 §8.1). Returns its list size.
    pub fn encode_trailers(&mut self, headers: &HeaderMap, dst: &mut BytesMut) -> usize {
        self.hpack.begin_block(dst);
        self.encode_fields(headers, dst)
    }

    /// PUSH_PROMISE request head (RFC 9113 §8.4): `:method`, `:scheme`, `:authority`,
    /// `:path` + headers. Returns its list size.
    pub fn encode_request(
        &mut self,
        method: &Method,
        scheme: &str,
        authority: &str,
        path: &str,
        headers: &HeaderMap,
        dst: &mut BytesMut,
    ) -> usize {
        self.hpack.begin_block(dst);
        let pseudo: [(&[u8], &[u8]); 4] = [
            (b":method", method.as_str().as_bytes()),
            (b":scheme", scheme.as_bytes()),
            (b":authority", authority.as_bytes()),
            (b":path", path.as_bytes()),
        ];
        let mut size = 0;
        for (name, value) in pseudo {
            self.hpack.encode_field(name, value, dst);
            size += field_size(name, value);
        }
        size + self.encode_fields(headers, dst)
    }

    fn encode_fields(&mut self, headers: &HeaderMap, dst: &mut BytesMut) -> usize {
        let mut size = 0;
        for (name, value) in headers {
            let name = name.as_str().as_bytes();
            if must_strip(name, value) {
                continue;
            }
            // RFC 9113 §8.2.1: no leading/trailing whitespace; trimming keeps the meaning.
            let bytes = value.as_bytes().trim_ascii();
            size += field_size(name, bytes);
            if value.is_sensitive() {
                // RFC 7541 §7.1.3: values marked sensitive never enter a table.
                self.hpack.encode_field_never_indexed(name, bytes, dst);
            } else if !(self.use_cache && self.cache.encode(name, bytes, dst)) {
                self.hpack.encode_field(name, bytes, dst);
            }
        }
        size
    }
}

/// RFC 9113 §8.2.2: connection-specific fields (and `te` other than `trailers`) would make
/// the message malformed, so a handler's stray `connection: close` is dropped, not sent.
fn must_strip(name: &[u8], value: &HeaderValue) -> bool {
    is_connection_specific(name)
        || (name == b"te" && !value.as_bytes().eq_ignore_ascii_case(b"trailers"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hpack::Decoder;

    fn owned(fields: &[(&str, &str)]) -> Vec<(Vec<u8>, Vec<u8>)> {
        fields
            .iter()
            .map(|(n, v)| (n.as_bytes().to_vec(), v.as_bytes().to_vec()))
            .collect()
    }

    #[test]
    fn status_first_then_fields_with_size() {
        let mut headers = HeaderMap::new();
        headers.insert("content-type", HeaderValue::from_static("text/plain"));
        headers.insert("x-id", HeaderValue::from_static("7"));
        let mut enc = HeadEncoder::new();
        let mut dst = BytesMut::new();
        let size = enc.encode_response(StatusCode::OK, &headers, &mut dst);
        assert_eq!(dst[0], 0x88, "static index 8 is :status 200");
        assert_eq!(size, (7 + 3 + 32) + (12 + 10 + 32) + (4 + 1 + 32));
        let fields = Decoder::new(4096).decode_block(&dst).unwrap();
        assert_eq!(
            fields,
            owned(&[
                (":status", "200"),
                ("content-type", "text/plain"),
                ("x-id", "7")
            ])
        );
    }

    #[test]
    fn connection_specific_fields_are_stripped() {
        let mut headers = HeaderMap::new();
        for name in [
            "connection",
            "keep-alive",
            "proxy-connection",
            "transfer-encoding",
            "upgrade",
        ] {
            headers.insert(name, HeaderValue::from_static("x"));
        }
        headers.insert("te", HeaderValue::from_static("gzip"));
        headers.insert("x-kept", HeaderValue::from_static("1"));
        let mut dst = BytesMut::new();
        let size = HeadEncoder::new().encode_response(StatusCode::NOT_FOUND, &headers, &mut dst);
        assert_eq!(size, 42 + (6 + 1 + 32));
        let fields = Decoder::new(4096).decode_block(&dst).unwrap();
        assert_eq!(fields, owned(&[(":status", "404"), ("x-kept", "1")]));
    }

    #[test]
    fn whitespace_is_trimmed_and_sensitive_values_never_indexed() {
        let mut headers = HeaderMap::new();
        headers.insert("x-pad", HeaderValue::from_static("  v \t"));
        let mut secret = HeaderValue::from_static("token");
        secret.set_sensitive(true);
        headers.insert("x-secret", secret);
        let mut dst = BytesMut::new();
        HeadEncoder::new().encode_trailers(&headers, &mut dst);
        let mut dec = Decoder::new(4096);
        let mut seen = Vec::new();
        dec.decode_fragment(&dst, true, |f| {
            seen.push((f.name.to_vec(), f.value.to_vec(), f.never_indexed))
        })
        .unwrap();
        assert_eq!(
            seen,
            [
                (b"x-pad".to_vec(), b"v".to_vec(), false),
                (b"x-secret".to_vec(), b"token".to_vec(), true),
            ]
        );
    }

    #[test]
    fn cache_on_and_off_decode_the_same() {
        let mut headers = HeaderMap::new();
        headers.insert("content-type", HeaderValue::from_static("text/html"));
        headers.insert("server", HeaderValue::from_static("h2ring"));
        for use_cache in [true, false] {
            let mut enc = HeadEncoder::new();
            enc.set_literal_cache(use_cache);
            let mut dec = Decoder::new(4096);
            for _ in 0..3 {
                let mut dst = BytesMut::new();
                enc.encode_response(StatusCode::OK, &headers, &mut dst);
                let fields = dec.decode_block(&dst).unwrap();
                assert_eq!(
                    fields,
                    owned(&[
                        (":status", "200"),
                        ("content-type", "text/html"),
                        ("server", "h2ring")
                    ])
                );
            }
            assert_eq!(
                dec.table_size() == 0,
                use_cache,
                "cache = stateless literals"
            );
        }
    }
}
