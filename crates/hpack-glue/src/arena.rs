//! Field bytes copied out of the HPACK decoder into shared chunks, so that a request's
//! `HeaderValue`s, `Authority` and `PathAndQuery` need no allocation each: they become
//! `Bytes` slices of one chunk (about two allocations per [`CHUNK`] octets of fields).
//! It also remembers the values it built most recently: a client repeating itself (the
//! same authority, path, user-agent, accept… request after request) then costs a
//! comparison instead of a parse, a validation and a copy.

use bytes::{Bytes, BytesMut};
use http::uri::{Authority, PathAndQuery};
use http::{HeaderName, HeaderValue};

/// Octets per chunk. A chunk lives as long as any field cut from it, so it is kept small.
pub const CHUNK: usize = 4096;

/// Regular fields remembered per connection.
pub const MEMO_FIELDS: usize = 16;

/// See the module docs. One per connection (inside the head decoder).
#[derive(Debug, Default)]
pub struct Arena {
    buf: BytesMut,
    authority: Option<Authority>,
    path: Option<PathAndQuery>,
    fields: Vec<(HeaderName, HeaderValue)>,
    next_field: usize,
}

impl Arena {
    /// A shared copy of `bytes`.
    pub fn copy(&mut self, bytes: &[u8]) -> Bytes {
        if bytes.is_empty() {
            return Bytes::new();
        }
        if self.buf.capacity() - self.buf.len() < bytes.len() {
            // Values longer than a chunk get a buffer of their own.
            self.buf = BytesMut::with_capacity(CHUNK.max(bytes.len()));
        }
        self.buf.extend_from_slice(bytes);
        self.buf.split().freeze()
    }

    /// The `Authority` for `value` (already checked by the caller), reusing the last one
    /// when the bytes are the same.
    pub fn authority(&mut self, value: &[u8]) -> Option<Authority> {
        if let Some(a) = &self.authority {
            if a.as_str().as_bytes() == value {
                return Some(a.clone());
            }
        }
        let a = Authority::from_maybe_shared(self.copy(value)).ok()?;
        self.authority = Some(a.clone());
        Some(a)
    }

    /// The `PathAndQuery` for `value` (already checked by the caller), reusing the last
    /// one when the bytes are the same.
    pub fn path(&mut self, value: &[u8]) -> Option<PathAndQuery> {
        if let Some(p) = &self.path {
            if p.as_str().as_bytes() == value {
                return Some(p.clone());
            }
        }
        let p = PathAndQuery::from_maybe_shared(self.copy(value)).ok()?;
        self.path = Some(p.clone());
        Some(p)
    }

    /// A field built and validated before with exactly these bytes, if remembered.
    pub fn remembered(&self, name: &[u8], value: &[u8]) -> Option<(HeaderName, HeaderValue)> {
        self.fields
            .iter()
            .find(|(n, v)| v.as_bytes() == value && n.as_str().as_bytes() == name)
            .cloned()
    }

    /// Remembers a field just built (replacing the oldest once full).
    pub fn remember(&mut self, name: &HeaderName, value: &HeaderValue) {
        let entry = (name.clone(), value.clone());
        if self.fields.len() < MEMO_FIELDS {
            self.fields.push(entry);
        } else {
            self.fields[self.next_field] = entry;
            self.next_field = (self.next_field + 1) % MEMO_FIELDS;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_share_one_chunk_and_stay_correct() {
        let mut arena = Arena::default();
        let a = arena.copy(b"hello");
        let b = arena.copy(b"world");
        assert_eq!(&a[..], b"hello");
        assert_eq!(&b[..], b"world");
        // Consecutive slices of the same allocation.
        assert_eq!(a.as_ptr().wrapping_add(5), b.as_ptr());
        let big = vec![b'x'; CHUNK * 2];
        assert_eq!(&arena.copy(&big)[..], &big[..]);
        assert_eq!(&arena.copy(b"")[..], b"");
        drop(a);
        assert_eq!(&b[..], b"world");
    }

    #[test]
    fn repeated_values_are_reused_and_new_ones_built() {
        let mut arena = Arena::default();
        let a1 = arena.authority(b"example.com").unwrap();
        let a2 = arena.authority(b"example.com").unwrap();
        assert_eq!(a1.as_str().as_ptr(), a2.as_str().as_ptr());
        assert_eq!(arena.authority(b"other.org").unwrap(), "other.org");
        assert!(arena.authority(b"host:port:junk{}").is_none());
        let p = arena.path(b"/a?b").unwrap();
        assert_eq!(
            arena.path(b"/a?b").unwrap().as_str().as_ptr(),
            p.as_str().as_ptr()
        );
        assert_eq!(arena.path(b"/c").unwrap(), "/c");
        assert!(arena.remembered(b"x-a", b"1").is_none());
        let name = HeaderName::from_static("x-a");
        arena.remember(&name, &HeaderValue::from_static("1"));
        assert_eq!(arena.remembered(b"x-a", b"1").unwrap().1, "1");
        assert!(arena.remembered(b"x-a", b"2").is_none());
        for i in 0..MEMO_FIELDS {
            arena.remember(&name, &HeaderValue::from(i + 100));
        }
        // The first entry was the oldest and is gone; memory stays bounded.
        assert!(arena.remembered(b"x-a", b"1").is_none());
        assert_eq!(arena.fields.len(), MEMO_FIELDS);
    }
}
