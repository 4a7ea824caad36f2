//! Collects the fields of one header block as the HPACK decoder emits them: sizes the list
//! (RFC 9113 §6.5.2), validates each field (§8.2, §8.3) and stores only what is worth keeping.

use bytes::Bytes;
use http::header::{COOKIE, HOST};
use http::{HeaderMap, HeaderName, HeaderValue};

use crate::arena::Arena;
use crate::block::{BlockKind, DecodedBlock};
use crate::field::{
    field_size, parse_content_length, validate_connection_rules, validate_name, validate_value,
};
use crate::limits::HeadLimits;
use crate::pseudo::{RequestPseudo, RequestTarget};
use crate::reason;
use crate::request::RequestHead;

/// Initial `HeaderMap` capacity: a typical browser request carries 10-20 regular fields.
pub const INITIAL_HEADER_CAPACITY: usize = 16;

/// Separator between cookie crumbs when re-joining them (RFC 9113 §8.2.3).
const COOKIE_SEPARATOR: &[u8] = b"; ";

/// Why a block was rejected without breaking the HPACK state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    /// The message is malformed (RFC 9113 §8.1.1).
    Malformed(&'static str),
    /// The header list exceeds our SETTINGS_MAX_HEADER_LIST_SIZE (RFC 9113 §6.5.2).
    TooLarge,
}

impl From<&'static str> for Rejection {
    fn from(reason: &'static str) -> Self {
        Rejection::Malformed(reason)
    }
}

/// Accumulates one header block's fields.
#[derive(Debug)]
pub struct BlockCollector {
    kind: BlockKind,
    limits: HeadLimits,
    /// §6.5.2 size of every field seen, stored or not.
    list_size: usize,
    /// §6.5.2 size of the fields actually kept in memory.
    stored_size: usize,
    rejection: Option<Rejection>,
    pseudo: RequestPseudo,
    saw_regular: bool,
    headers: HeaderMap,
    /// Cookie crumbs joined so far; `None` until the first `cookie` field.
    cookie: Option<Vec<u8>>,
    content_length: Option<u64>,
    expect_continue: bool,
    /// Where field bytes are copied; carried from block to block.
    arena: Arena,
}

impl BlockCollector {
    /// Starts collecting a block of `kind` under `limits`.
    pub fn new(kind: BlockKind, limits: HeadLimits) -> Self {
        BlockCollector {
            kind,
            limits,
            list_size: 0,
            stored_size: 0,
            rejection: None,
            pseudo: RequestPseudo::default(),
            saw_regular: false,
            // Allocated on the first stored field, so a fresh collector costs nothing.
            headers: HeaderMap::new(),
            cookie: None,
            content_length: None,
            expect_continue: false,
            arena: Arena::default(),
        }
    }

    /// The kind of block being collected.
    pub fn kind(&self) -> BlockKind {
        self.kind
    }

    /// Starts the next block of `kind` in place, keeping the arena: cheaper than building
    /// a new collector (a few hundred octets) and moving it in.
    pub fn restart(&mut self, kind: BlockKind, limits: HeadLimits) {
        self.kind = kind;
        self.limits = limits;
        self.list_size = 0;
        self.stored_size = 0;
        self.rejection = None;
        self.pseudo = RequestPseudo::default();
        self.saw_regular = false;
        if !self.headers.is_empty() || self.headers.capacity() > 0 {
            self.headers = HeaderMap::new();
        }
        self.cookie = None;
        self.content_length = None;
        self.expect_continue = false;
    }

    /// §6.5.2 size of all fields seen so far.
    pub fn list_size(&self) -> usize {
        self.list_size
    }

    /// §6.5.2 size of the fields currently held in memory (never above the limit).
    pub fn stored_size(&self) -> usize {
        self.stored_size
    }

    /// Takes one decoded field. Once the block is rejected, fields are only counted.
    pub fn on_field(&mut self, name: &[u8], value: &[u8]) {
        let size = field_size(name, value);
        self.list_size = self.list_size.saturating_add(size);
        if self.rejection.is_some() {
            return;
        }
        // Widening u32 -> usize is lossless on every platform we target (>= 32-bit).
        if self.list_size > self.limits.max_header_list_size as usize {
            // No "HPACK bomb": stop storing the moment the list is over the limit.
            return self.reject(Rejection::TooLarge);
        }
        match self.accept(name, value) {
            Ok(()) => self.stored_size += size,
            Err(rejection) => self.reject(rejection),
        }
    }

    fn reject(&mut self, rejection: Rejection) {
        self.rejection = Some(rejection);
        // Free what we stored: the block is dead but may still have many fields to decode.
        self.headers = HeaderMap::new();
        self.cookie = None;
        self.stored_size = 0;
    }

    fn accept(&mut self, name: &[u8], value: &[u8]) -> Result<(), Rejection> {
        if name.first() != Some(&b':') {
            // Exactly these bytes were validated and built before on this connection.
            if let Some((name, value)) = self.arena.remembered(name, value) {
                self.saw_regular = true;
                return self.store(name, value);
            }
        }
        validate_value(value)?;
        if name.first() == Some(&b':') {
            return self.accept_pseudo(name, value);
        }
        self.saw_regular = true;
        validate_name(name)?;
        validate_connection_rules(name, value)?;
        match name {
            b"cookie" => {
                self.push_cookie(value);
                return Ok(());
            }
            b"content-length" => self.note_content_length(value)?,
            b"expect" => self.expect_continue |= value.eq_ignore_ascii_case(b"100-continue"),
            _ => {}
        }
        let memo = !matches!(name, b"content-length" | b"expect");
        // Standard names map to constants without allocating (names are validated above).
        let name = HeaderName::from_bytes(name).map_err(|_| reason::INVALID_NAME)?;
        let value = HeaderValue::from_maybe_shared(self.arena.copy(value))
            .map_err(|_| reason::INVALID_VALUE)?;
        if memo {
            // Fields with side effects (content-length, expect; cookie is joined above)
            // always take the full path.
            self.arena.remember(&name, &value);
        }
        self.store(name, value)
    }

    fn store(&mut self, name: HeaderName, value: HeaderValue) -> Result<(), Rejection> {
        if self.headers.capacity() == 0 {
            self.headers.reserve(INITIAL_HEADER_CAPACITY);
        }
        self.headers
            .try_append(name, value)
            .map_err(|_| Rejection::TooLarge)?;
        Ok(())
    }

    fn accept_pseudo(&mut self, name: &[u8], value: &[u8]) -> Result<(), Rejection> {
        // RFC 9113 §8.1: trailers carry no pseudo-headers.
        if self.kind == BlockKind::Trailers {
            return Err(reason::PSEUDO_IN_TRAILERS.into());
        }
        // RFC 9113 §8.3: all pseudo-headers precede regular fields.
        if self.saw_regular {
            return Err(reason::PSEUDO_AFTER_REGULAR.into());
        }
        Ok(self.pseudo.accept(name, value, &mut self.arena)?)
    }

    /// RFC 9113 §8.2.3: cookie crumbs are re-joined with "; " before use.
    fn push_cookie(&mut self, crumb: &[u8]) {
        let joined = self.cookie.get_or_insert_with(Vec::new);
        if !joined.is_empty() {
            joined.extend_from_slice(COOKIE_SEPARATOR);
        }
        joined.extend_from_slice(crumb);
    }

    /// RFC 9110 §8.6: repeated content-length fields must all agree.
    fn note_content_length(&mut self, value: &[u8]) -> Result<(), &'static str> {
        let parsed = parse_content_length(value)?;
        match self.content_length {
            Some(previous) if previous != parsed => Err(reason::CONFLICTING_CONTENT_LENGTH),
            _ => {
                self.content_length = Some(parsed);
                Ok(())
            }
        }
    }

    /// Ends the block: returns the validated result or the first rejection. The size
    /// counters stay readable afterwards; the stored fields move out.
    pub fn finish(&mut self) -> Result<DecodedBlock<RequestHead>, Rejection> {
        if let Some(rejection) = self.rejection {
            return Err(rejection);
        }
        let mut headers = std::mem::take(&mut self.headers);
        if let Some(cookie) = self.cookie.take() {
            let value = HeaderValue::from_maybe_shared(Bytes::from(cookie))
                .map_err(|_| reason::INVALID_VALUE)?;
            headers
                .try_append(COOKIE, value)
                .map_err(|_| Rejection::TooLarge)?;
        }
        if self.kind == BlockKind::Trailers {
            return Ok(DecodedBlock::Trailers(headers));
        }
        let pseudo = std::mem::take(&mut self.pseudo);
        let target = pseudo.finish(self.limits.extended_connect)?;
        check_host(&target, &headers)?;
        Ok(DecodedBlock::Request(RequestHead {
            method: target.method,
            scheme: target.scheme,
            authority: target.authority,
            path: target.path,
            protocol: target.protocol,
            headers,
            content_length: self.content_length,
            expect_continue: self.expect_continue,
        }))
    }
}

/// RFC 9113 §8.3.1: a `host` field next to `:authority` must carry the same value
/// (compared case-insensitively, as host names are).
fn check_host(target: &RequestTarget, headers: &HeaderMap) -> Result<(), &'static str> {
    let Some(authority) = &target.authority else {
        return Ok(());
    };
    let matches = |host: &HeaderValue| {
        host.as_bytes()
            .eq_ignore_ascii_case(authority.as_str().as_bytes())
    };
    if headers.get_all(HOST).iter().all(matches) {
        Ok(())
    } else {
        Err(reason::HOST_MISMATCH)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GET: [(&str, &str); 4] = [
        (":method", "GET"),
        (":scheme", "https"),
        (":authority", "a.test"),
        (":path", "/"),
    ];

    fn collect(kind: BlockKind, limits: HeadLimits, fields: &[(&str, &str)]) -> BlockCollector {
        let mut c = BlockCollector::new(kind, limits);
        for (n, v) in fields {
            c.on_field(n.as_bytes(), v.as_bytes());
        }
        c
    }

    fn request(extra: &[(&str, &str)]) -> Result<RequestHead, Rejection> {
        let mut fields = GET.to_vec();
        fields.extend_from_slice(extra);
        match collect(BlockKind::Request, HeadLimits::default(), &fields).finish()? {
            DecodedBlock::Request(head) => Ok(head),
            DecodedBlock::Trailers(_) => panic!("request block decoded as trailers"),
        }
    }

    #[test]
    fn cookies_are_joined() {
        let head = request(&[
            ("cookie", "a=1"),
            ("x", "y"),
            ("cookie", "b=2"),
            ("cookie", "c=3"),
        ])
        .unwrap();
        let all: Vec<_> = head.headers.get_all(COOKIE).iter().collect();
        assert_eq!(all, ["a=1; b=2; c=3"]);
    }

    #[test]
    fn content_length_and_expect() {
        let head = request(&[
            ("content-length", "42"),
            ("content-length", "42"),
            ("expect", "100-Continue"),
        ])
        .unwrap();
        assert_eq!(head.content_length, Some(42));
        assert_eq!(head.headers.get_all("content-length").iter().count(), 2);
        assert!(head.expect_continue);
        assert_eq!(
            request(&[("content-length", "1"), ("content-length", "2")]).unwrap_err(),
            Rejection::Malformed(reason::CONFLICTING_CONTENT_LENGTH)
        );
        assert!(!request(&[("expect", "something")]).unwrap().expect_continue);
    }

    #[test]
    fn host_must_match_authority() {
        assert!(request(&[("host", "A.TEST")]).is_ok());
        assert_eq!(
            request(&[("host", "b.test")]).unwrap_err(),
            Rejection::Malformed(reason::HOST_MISMATCH)
        );
    }

    #[test]
    fn control_chars_other_than_nul_cr_lf_are_rejected_by_http() {
        assert_eq!(
            request(&[("x", "a\x01b")]).unwrap_err(),
            Rejection::Malformed(reason::INVALID_VALUE)
        );
    }

    #[test]
    fn size_counts_everything_and_storage_stops_at_limit() {
        let limits = HeadLimits {
            max_header_list_size: 200,
            ..HeadLimits::default()
        };
        let mut c = BlockCollector::new(BlockKind::Request, limits);
        for (n, v) in GET {
            c.on_field(n.as_bytes(), v.as_bytes());
        }
        let base = c.list_size();
        assert_eq!(
            base,
            (7 + 3 + 32) + (7 + 5 + 32) + (10 + 6 + 32) + (5 + 1 + 32)
        );
        for _ in 0..1000 {
            c.on_field(b"x-big", b"0123456789");
            assert!(c.stored_size() <= 200);
        }
        assert_eq!(c.list_size(), base + 1000 * (5 + 10 + 32));
        assert_eq!(c.finish().unwrap_err(), Rejection::TooLarge);
    }

    #[test]
    fn first_rejection_wins() {
        let limits = HeadLimits {
            max_header_list_size: 100,
            ..HeadLimits::default()
        };
        let mut c = collect(
            BlockKind::Request,
            limits,
            &[
                (":method", "GET"),
                ("Bad", "x"),
                ("x", "0123456789012345678901234567890123456789"),
            ],
        );
        assert_eq!(
            c.finish().unwrap_err(),
            Rejection::Malformed(reason::UPPERCASE_NAME)
        );
    }

    #[test]
    fn trailers_reject_pseudo() {
        let mut c = collect(
            BlockKind::Trailers,
            HeadLimits::default(),
            &[("grpc-status", "0")],
        );
        match c.finish().unwrap() {
            DecodedBlock::Trailers(map) => assert_eq!(map["grpc-status"], "0"),
            DecodedBlock::Request(_) => panic!("trailers decoded as request"),
        }
        let mut c = collect(
            BlockKind::Trailers,
            HeadLimits::default(),
            &[(":path", "/")],
        );
        assert_eq!(
            c.finish().unwrap_err(),
            Rejection::Malformed(reason::PSEUDO_IN_TRAILERS)
        );
    }

    #[test]
    fn pseudo_after_regular() {
        let mut c = collect(
            BlockKind::Request,
            HeadLimits::default(),
            &[GET[0], GET[1], ("x", "y"), GET[3]],
        );
        assert_eq!(
            c.finish().unwrap_err(),
            Rejection::Malformed(reason::PSEUDO_AFTER_REGULAR)
        );
    }
}
