//! Encodes response heads, trailers and pushed request heads (RFC 9113 §8.3.2, §8.4) on top
//! of the HPACK encoder, dropping fields an HTTP/2 message must not carry.

use bytes::BytesMut;
use http::{HeaderMap, HeaderValue, Method, StatusCode};

use crate::field::{field_size, is_connection_specific};
use crate::hpack::Encoder;
use crate::literal_cache::LiteralCache;
use crate::prepared::{PreparedFields, PreparedMemo};
use crate::stamp::{Present, Stamp};

/// Encodes response heads, trailers and pushed request heads; one per connection.
#[derive(Debug)]
pub struct HeadEncoder {
    hpack: Encoder,
    cache: LiteralCache,
    /// Whether common response fields go through the stateless literal cache (default on).
    use_cache: bool,
    /// Octets that prepared response heads encoded to, replayed while the table holds.
    prepared: PreparedMemo,
    /// `date` and `server` for every final response that has none of its own.
    stamp: Stamp,
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
            prepared: PreparedMemo::default(),
            stamp: Stamp::default(),
        }
    }

    /// Sets the `date` every final (non-1xx) response gets unless it has its own (RFC 9110
    /// §6.6.1), or none. Sent after the response's fields through the dynamic table: a
    /// new value is inserted once, and every later response that carries it refers to
    /// it in one octet, so a value that changes once a second re-encodes a prepared head
    /// (whose table indices it shifts) at most once a second.
    pub fn set_date(&mut self, date: Option<&HeaderValue>) {
        Stamp::set(&mut self.stamp.date, &mut self.stamp.memo_for, date);
    }

    /// Sets the `server` every final response gets unless it has its own, or none (the
    /// default); sent like [`set_date`](Self::set_date)'s field.
    pub fn set_server(&mut self, server: Option<&HeaderValue>) {
        Stamp::set(&mut self.stamp.server, &mut self.stamp.memo_for, server);
    }

    /// The most the `date` and `server` fields add to a final response's header list
    /// (RFC 9113 §6.5.2), for checking the peer's MAX_HEADER_LIST_SIZE before encoding.
    pub fn stamp_list_size(&self) -> usize {
        self.stamp
            .missing(Present::default())
            .into_iter()
            .flatten()
            .map(|(name, value)| field_size(name, value))
            .sum()
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
        // Remembered blocks were encoded the other way.
        self.prepared.clear();
    }

    /// Frees memory kept between blocks (for an idle connection).
    pub fn release_memory(&mut self) {
        self.prepared.clear();
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
        let size = self.encode_status_and(status, headers, dst);
        size + self.encode_stamp(status, Present::of(headers), dst)
    }

    fn encode_status_and(
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

    /// [`encode_response`](Self::encode_response) followed by a `content-length` of
    /// `content_length`: a handler's body length goes out without a field map entry (and
    /// the allocations of one) being made for it.
    pub fn encode_sized_response(
        &mut self,
        status: StatusCode,
        headers: &HeaderMap,
        content_length: u64,
        dst: &mut BytesMut,
    ) -> usize {
        let size = self.encode_status_and(status, headers, dst);
        let mut digits = [0u8; crate::hpack::MAX_DECIMAL_DIGITS];
        let value = crate::hpack::format_decimal(content_length, &mut digits);
        self.hpack.encode_field(b"content-length", value, dst);
        size + field_size(b"content-length", value)
            + self.encode_stamp(status, Present::of(headers), dst)
    }

    /// Appends the stamped fields a final response with `present` lacks; returns their
    /// list size. Replays the octets of the last time while the table is unchanged.
    fn encode_stamp(&mut self, status: StatusCode, present: Present, dst: &mut BytesMut) -> usize {
        if status.is_informational() {
            return 0;
        }
        let Self { hpack, stamp, .. } = self;
        let generation = hpack.generation();
        if stamp.memo_for == Some((generation, present)) {
            dst.extend_from_slice(&stamp.memo);
            return stamp.memo_size;
        }
        let fields = stamp.missing(present);
        let size = fields
            .iter()
            .flatten()
            .map(|(name, value)| field_size(name, value))
            .sum();
        let start = dst.len();
        for (name, value) in fields.into_iter().flatten() {
            hpack.encode_field(name, value, dst);
        }
        if hpack.generation() == generation {
            stamp.memo.clear();
            stamp.memo.extend_from_slice(&dst[start..]);
            stamp.memo_for = Some((generation, present));
            stamp.memo_size = size;
        }
        size
    }

    /// Encodes `:status`, the `prepared` fields and then `extra` as one block; returns the
    /// header list size. The octets of `:status` + `prepared` are remembered and replayed
    /// for the next response with the same prepared fields and status while the dynamic
    /// table is unchanged (once the fields are in the table, encoding them no longer
    /// changes it), so a hot response head is encoded once per connection, not per response.
    pub fn encode_prepared_response(
        &mut self,
        status: StatusCode,
        prepared: &PreparedFields,
        extra: &HeaderMap,
        dst: &mut BytesMut,
    ) -> usize {
        self.hpack.begin_block(dst);
        let (key, code) = (prepared.key(), status.as_u16());
        let generation = self.hpack.generation();
        if let Some(block) = self.prepared.get(key, code, generation) {
            dst.extend_from_slice(block);
        } else {
            let start = dst.len();
            self.hpack.encode_status(code, dst);
            // Through the dynamic table, not the stateless literal cache: these octets are
            // replayed for every later response, so from the second response on each field
            // should be a one-octet table reference (a 100-octet file's head: 6 octets
            // instead of 32, and less for the client to decode).
            self.encode_fields_using(prepared.headers(), dst, false);
            if self.hpack.generation() == generation {
                self.prepared.put(key, code, generation, &dst[start..]);
            }
        }
        field_size(b":status", status.as_str().as_bytes())
            + prepared.list_size()
            + self.encode_fields(extra, dst)
            + self.encode_stamp(status, prepared.present().or(Present::of(extra)), dst)
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
        self.encode_fields_using(headers, dst, self.use_cache)
    }

    fn encode_fields_using(
        &mut self,
        headers: &HeaderMap,
        dst: &mut BytesMut,
        use_cache: bool,
    ) -> usize {
        let mut size = 0;
        for (name, value) in headers {
            let name = name.as_str().as_bytes();
            let Some(bytes) = sent_value(name, value) else {
                continue;
            };
            size += field_size(name, bytes);
            if value.is_sensitive() {
                // RFC 7541 §7.1.3: values marked sensitive never enter a table.
                self.hpack.encode_field_never_indexed(name, bytes, dst);
            } else if !(use_cache && self.cache.encode(name, bytes, dst)) {
                self.hpack.encode_field(name, bytes, dst);
            }
        }
        size
    }
}

/// The octets a field's value is sent as, or `None` for a field that is not sent.
/// RFC 9113 §8.2.2: connection-specific fields (and `te` other than `trailers`) would make
/// the message malformed, so a handler's stray `connection: close` is dropped. RFC 9113
/// §8.2.1: no leading/trailing whitespace; trimming keeps the meaning.
pub(crate) fn sent_value<'v>(name: &[u8], value: &'v HeaderValue) -> Option<&'v [u8]> {
    let strip = is_connection_specific(name)
        || (name == b"te" && !value.as_bytes().eq_ignore_ascii_case(b"trailers"));
    (!strip).then(|| value.as_bytes().trim_ascii())
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

    fn head(fields: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in fields {
            headers.append(*name, HeaderValue::from_static(value));
        }
        headers
    }

    /// The prepared fields of a 100-octet static file.
    fn static_file_fields() -> PreparedFields {
        PreparedFields::new(head(&[
            ("etag", "\"64-18eb4aa84ddcdbd6-98e025\""),
            ("last-modified", "Wed, 25 Nov 2026 12:49:23 GMT"),
            ("accept-ranges", "bytes"),
            ("content-type", "text/html; charset=utf-8"),
            ("content-length", "100"),
        ]))
    }

    /// A prepared head must encode to exactly the octets the plain path writes for the same
    /// fields through the dynamic table (prepared fields never use the literal cache),
    /// whether replayed or not, through table inserts, evictions and size updates in
    /// between: the peer's decoder mirrors our table, so one wrong octet corrupts it.
    #[test]
    fn prepared_heads_encode_like_plain_ones_through_table_changes() {
        let file = static_file_fields();
        let other = PreparedFields::new(head(&[("etag", "\"other\""), ("x-big", "v")]));
        let extra = head(&[("x-request", "1")]);
        let none = HeaderMap::new();
        // (prepared, status, extra, peer table size to set before the block)
        let steps: Vec<(&PreparedFields, StatusCode, &HeaderMap, Option<usize>)> = vec![
            (&file, StatusCode::OK, &none, None),
            (&file, StatusCode::OK, &none, None),
            (&file, StatusCode::OK, &none, None),
            (&other, StatusCode::OK, &none, None),
            (&file, StatusCode::OK, &none, None),
            (&file, StatusCode::NOT_MODIFIED, &none, None),
            (&file, StatusCode::OK, &extra, None),
            (&file, StatusCode::OK, &none, None),
            (&file, StatusCode::OK, &none, Some(64)),
            (&file, StatusCode::OK, &none, None),
            (&file, StatusCode::OK, &none, Some(4096)),
            (&file, StatusCode::OK, &none, None),
            (&file, StatusCode::OK, &none, None),
            (&file, StatusCode::from_u16(299).unwrap(), &none, None),
            (&file, StatusCode::from_u16(299).unwrap(), &none, None),
        ];
        for use_cache in [true, false] {
            let mut prepared_enc = HeadEncoder::new();
            let mut plain_enc = HeadEncoder::new();
            prepared_enc.set_literal_cache(use_cache);
            // The extra fields here are not cacheable names: cache or not, the prepared
            // path must match a plain encoder that uses the table for everything.
            plain_enc.set_literal_cache(false);
            let mut dec = Decoder::new(4096);
            for (i, (fields, status, extra, table)) in steps.iter().enumerate() {
                if let Some(n) = table {
                    prepared_enc.set_peer_max_table_size(*n);
                    plain_enc.set_peer_max_table_size(*n);
                }
                let mut merged = fields.headers().clone();
                for (name, value) in extra.iter() {
                    merged.append(name, value.clone());
                }
                let (mut a, mut b) = (BytesMut::new(), BytesMut::new());
                let size_a = prepared_enc.encode_prepared_response(*status, fields, extra, &mut a);
                let size_b = plain_enc.encode_response(*status, &merged, &mut b);
                assert_eq!(a, b, "step {i}, cache {use_cache}");
                assert_eq!(size_a, size_b, "step {i}");
                let decoded = dec.decode_block(&a).unwrap();
                assert_eq!(decoded[0].1, status.as_str().as_bytes());
                assert_eq!(decoded.len(), 1 + merged.len(), "step {i}");
            }
        }
    }

    #[test]
    fn a_stable_prepared_head_is_replayed_not_reencoded() {
        let file = PreparedFields::new(head(&[("etag", "\"e\""), ("content-length", "5")]));
        let mut enc = HeadEncoder::new();
        let none = HeaderMap::new();
        let mut blocks = Vec::new();
        for _ in 0..3 {
            let mut dst = BytesMut::new();
            enc.encode_prepared_response(StatusCode::OK, &file, &none, &mut dst);
            blocks.push(dst);
        }
        // First block inserts both fields; from the second on they are table references
        // and the table stays put, so the block is remembered.
        assert_ne!(blocks[0], blocks[1]);
        assert_eq!(blocks[1], blocks[2]);
        let generation = enc.hpack.generation();
        assert_eq!(
            enc.prepared.get(file.key(), 200, generation),
            Some(&blocks[2][..])
        );
        enc.release_memory();
        assert_eq!(enc.prepared.get(file.key(), 200, generation), None);
    }

    /// Replayed, a static file's head is one octet per field: `:status` and every
    /// prepared field a table reference, even for names the literal cache would send as
    /// stateless literals in a plain head.
    #[test]
    fn a_sized_head_is_the_plain_head_with_its_content_length() {
        for len in [0u64, 7, 100, 65_536, u64::MAX] {
            let headers = head(&[("content-type", "text/plain"), ("x-a", "1")]);
            let mut with_field = headers.clone();
            with_field.insert("content-length", len.into());
            let (mut sized, mut plain) = (HeadEncoder::new(), HeadEncoder::new());
            let (mut a, mut b) = (BytesMut::new(), BytesMut::new());
            let size_a = sized.encode_sized_response(StatusCode::OK, &headers, len, &mut a);
            let size_b = plain.encode_response(StatusCode::OK, &with_field, &mut b);
            assert_eq!(a, b, "{len}");
            assert_eq!(size_a, size_b, "{len}");
        }
    }

    #[test]
    fn a_replayed_prepared_head_is_all_table_references() {
        let file = static_file_fields();
        let mut enc = HeadEncoder::new();
        let mut dec = Decoder::new(4096);
        let none = HeaderMap::new();
        let mut last = BytesMut::new();
        for _ in 0..3 {
            last.clear();
            enc.encode_prepared_response(StatusCode::OK, &file, &none, &mut last);
            assert_eq!(dec.decode_block(&last).unwrap().len(), 6);
        }
        assert_eq!(last.len(), 6, "{last:?}");
    }

    /// RFC 9110 §6.6.1: `date` (and `server`) on every final response, after its fields;
    /// not on a 1xx, and not doubled when the handler set its own.
    #[test]
    fn final_responses_are_stamped_once() {
        let mut enc = HeadEncoder::new();
        enc.set_date(Some(&HeaderValue::from_static(
            "Sun, 06 Nov 1994 08:49:37 GMT",
        )));
        enc.set_server(Some(&HeaderValue::from_static("h2ring")));
        let mut dec = Decoder::new(4096);
        let mut block =
            |enc: &mut HeadEncoder, f: &dyn Fn(&mut HeadEncoder, &mut BytesMut) -> usize| {
                let mut dst = BytesMut::new();
                let size = f(enc, &mut dst);
                let fields = dec.decode_block(&dst).unwrap();
                let listed: usize = fields.iter().map(|(n, v)| n.len() + v.len() + 32).sum();
                assert_eq!(size, listed, "{fields:?}");
                fields
            };
        let date = ("date", "Sun, 06 Nov 1994 08:49:37 GMT");
        let none = HeaderMap::new();
        assert_eq!(
            block(&mut enc, &|e, d| e.encode_response(
                StatusCode::NOT_FOUND,
                &none,
                d
            )),
            owned(&[(":status", "404"), date, ("server", "h2ring")])
        );
        assert_eq!(
            block(&mut enc, &|e, d| e.encode_sized_response(
                StatusCode::OK,
                &none,
                3,
                d
            )),
            owned(&[
                (":status", "200"),
                ("content-length", "3"),
                date,
                ("server", "h2ring")
            ])
        );
        assert_eq!(
            block(&mut enc, &|e, d| e.encode_response(
                StatusCode::EARLY_HINTS,
                &none,
                d
            )),
            owned(&[(":status", "103")])
        );
        let own = head(&[("date", "Mon, 07 Nov 1994 08:49:37 GMT")]);
        assert_eq!(
            block(&mut enc, &|e, d| e.encode_response(StatusCode::OK, &own, d)),
            owned(&[
                (":status", "200"),
                ("date", "Mon, 07 Nov 1994 08:49:37 GMT"),
                ("server", "h2ring")
            ])
        );
        let file = PreparedFields::new(head(&[("etag", "\"e\""), ("server", "files")]));
        assert_eq!(
            block(&mut enc, &|e, d| e.encode_prepared_response(
                StatusCode::OK,
                &file,
                &none,
                d
            )),
            owned(&[
                (":status", "200"),
                ("etag", "\"e\""),
                ("server", "files"),
                date
            ])
        );
        enc.set_server(None);
        enc.set_date(None);
        assert_eq!(
            block(&mut enc, &|e, d| e.encode_response(
                StatusCode::OK,
                &none,
                d
            )),
            owned(&[(":status", "200")])
        );
    }

    /// A `date` that changes once a second costs a prepared head one re-encoding per
    /// change: within the second the whole block is replayed, `date` a one-octet reference.
    /// Old dates fill the table; about once a minute the new one evicts the prepared
    /// fields, and the next response inserts them again (one more re-encoding).
    #[test]
    fn a_changing_date_reencodes_a_prepared_head_once_per_change() {
        let file = static_file_fields();
        let none = HeaderMap::new();
        let mut enc = HeadEncoder::new();
        enc.set_server(Some(&HeaderValue::from_static("h2ring")));
        let mut dec = Decoder::new(4096);
        let mut settled_late = 0;
        for second in 0..130u32 {
            let date = format!(
                "Sun, 06 Nov 1994 08:{:02}:{:02} GMT",
                second / 60,
                second % 60
            );
            enc.set_date(Some(&HeaderValue::from_str(&date).unwrap()));
            let mut blocks = Vec::new();
            for _ in 0..4 {
                let before = enc.hpack.generation();
                let mut dst = BytesMut::new();
                enc.encode_prepared_response(StatusCode::OK, &file, &none, &mut dst);
                let fields = dec.decode_block(&dst).unwrap();
                assert_eq!(fields.len(), 8, "{fields:?}");
                assert_eq!(fields[6], (b"date".to_vec(), date.clone().into_bytes()));
                blocks.push((before, dst));
            }
            // The last responses of the second change nothing and are the same octets:
            // 1 (:status) + 5 (prepared) + 1 (date) + 1 (server).
            assert_eq!(blocks[2].1, blocks[3].1, "second {second}");
            assert_eq!(blocks[3].1.len(), 8, "second {second}");
            assert_eq!(enc.hpack.generation(), blocks[3].0);
            if blocks[1].1 != blocks[2].1 {
                settled_late += 1;
            }
        }
        assert!(settled_late <= 3, "{settled_late} of 130 seconds");
    }
}
