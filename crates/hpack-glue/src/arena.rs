//! Field bytes copied out of the HPACK decoder into shared chunks, so that a request's
//! `HeaderValue`s, `Authority` and `PathAndQuery` need no allocation each: they become
//! `Bytes` slices of one chunk (about two allocations per [`CHUNK`] octets of fields).

use bytes::{Bytes, BytesMut};

/// Octets per chunk. A chunk lives as long as any field cut from it, so it is kept small.
pub const CHUNK: usize = 4096;

/// See the module docs. One per connection (inside the head decoder).
#[derive(Debug, Default)]
pub struct Arena {
    buf: BytesMut,
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
}
