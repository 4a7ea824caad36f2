//! Per-core read buffers. Reading into a connection's own buffer means growing it
//! zero-filled first (safe Rust has no reads into uninitialised memory): a 16 KiB memset
//! per read, and 16 KiB of capacity that stays with every connection, idle or not.
//! Instead a read lands in one buffer per core, zeroed once, and only the octets read are
//! handed on. glommio's stream reads complete inside `poll_read` (readiness, then a
//! non-blocking `recv`), so the buffer is needed only for the call and every connection
//! on the core can share it.
//!
//! Two layers can be inside a read at once — a protocol driver reading plaintext from a
//! TLS stream that reads ciphertext from the socket — so each layer has its own buffer.

use std::cell::RefCell;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::BytesMut;
use futures_lite::io::AsyncRead;

/// The largest read either buffer serves: one full TLS record with its header and
/// padding (RFC 8446 §5.2) fits in a ciphertext read, and many small HTTP requests fit in
/// a plaintext one.
pub const MAX_READ: usize = 16 * 1024 + 512;

thread_local! {
    static PLAINTEXT: RefCell<Vec<u8>> = RefCell::new(vec![0; MAX_READ]);
    static CIPHERTEXT: RefCell<Vec<u8>> = RefCell::new(vec![0; MAX_READ]);
}

/// Which layer reads: each has its own buffer, so a plaintext read may drive a
/// ciphertext read beneath it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layer {
    /// What an HTTP driver reads (from a socket, or from a TLS stream).
    Plaintext,
    /// What a TLS stream reads from its socket.
    Ciphertext,
}

impl Layer {
    /// Reads at most `limit` octets (capped at [`MAX_READ`]) from `stream` and passes
    /// them to `take`; an empty slice means the stream ended. `take` must not read
    /// through the same layer (it would find the buffer borrowed and panic).
    pub fn poll_read<T, R>(
        self,
        stream: Pin<&mut T>,
        cx: &mut Context<'_>,
        limit: usize,
        take: impl FnOnce(&[u8]) -> R,
    ) -> Poll<io::Result<R>>
    where
        T: AsyncRead + ?Sized,
    {
        let buffer = match self {
            Layer::Plaintext => &PLAINTEXT,
            Layer::Ciphertext => &CIPHERTEXT,
        };
        buffer.with_borrow_mut(|scratch| {
            let room = limit.min(scratch.len());
            match stream.poll_read(cx, &mut scratch[..room]) {
                Poll::Ready(Ok(n)) => Poll::Ready(Ok(take(&scratch[..n]))),
                Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
                Poll::Pending => Poll::Pending,
            }
        })
    }

    /// Reads at most `limit` octets from `stream` onto the end of `into`; `Ok(0)` means
    /// the stream ended.
    pub fn poll_append<T>(
        self,
        stream: Pin<&mut T>,
        cx: &mut Context<'_>,
        limit: usize,
        into: &mut BytesMut,
    ) -> Poll<io::Result<usize>>
    where
        T: AsyncRead + ?Sized,
    {
        self.poll_read(stream, cx, limit, |read| {
            into.extend_from_slice(read);
            read.len()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_lite::io::Cursor;
    use std::task::Waker;

    fn read_all(layer: Layer, input: &[u8], limit: usize) -> Vec<Vec<u8>> {
        let mut cx = Context::from_waker(Waker::noop());
        let mut stream = Cursor::new(input.to_vec());
        let mut pieces = Vec::new();
        loop {
            match layer.poll_read(Pin::new(&mut stream), &mut cx, limit, |read| read.to_vec()) {
                Poll::Ready(Ok(piece)) if piece.is_empty() => return pieces,
                Poll::Ready(Ok(piece)) => pieces.push(piece),
                other => panic!("a cursor is always ready: {other:?}"),
            }
        }
    }

    #[test]
    fn reads_are_capped_by_the_limit_and_the_buffer() {
        let input: Vec<u8> = (0..40_000u32).map(|i| i as u8).collect();
        let small = read_all(Layer::Plaintext, &input, 100);
        assert_eq!(small.len(), 400);
        assert!(small.iter().all(|piece| piece.len() == 100));
        let large = read_all(Layer::Plaintext, &input, usize::MAX);
        assert_eq!(large[0].len(), MAX_READ);
        assert_eq!(large.concat(), input);
    }

    /// A plaintext read may drive a ciphertext read inside it, as a TLS stream does.
    #[test]
    fn layers_nest() {
        struct Nested(Cursor<Vec<u8>>);
        impl AsyncRead for Nested {
            fn poll_read(
                mut self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &mut [u8],
            ) -> Poll<io::Result<usize>> {
                let limit = buf.len();
                Layer::Ciphertext.poll_read(Pin::new(&mut self.0), cx, limit, |read| {
                    buf[..read.len()].copy_from_slice(read);
                    read.len()
                })
            }
        }
        let mut cx = Context::from_waker(Waker::noop());
        let mut stream = Nested(Cursor::new(b"through two layers".to_vec()));
        let got =
            Layer::Plaintext.poll_read(Pin::new(&mut stream), &mut cx, 64, |read| read.to_vec());
        assert!(matches!(got, Poll::Ready(Ok(ref read)) if read == b"through two layers"));
    }
}
