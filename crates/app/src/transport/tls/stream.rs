//! `TlsStream`: a rustls `ServerConnection` driven sans-IO over any async byte transport
//! (a glommio `TcpStream`), so the HTTP drivers run over TLS unchanged. No extra thread:
//! ciphertext is read into rustls, plaintext read out of it, and records produced by one
//! `poll_write` leave in one socket write.

use std::io::{self, Read, Write};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use futures_lite::io::{AsyncRead, AsyncWrite};
use rustls::ServerConnection;

use crate::transport::scratch::{Layer, MAX_READ};

/// Encrypted output buffered beyond this makes `poll_write` wait for the socket, so a
/// client that does not read cannot grow server memory.
pub const MAX_PENDING_CIPHERTEXT: usize = 256 * 1024;

/// A TLS session over `T`, readable and writable as plaintext.
pub struct TlsStream<T> {
    io: T,
    tls: ServerConnection,
    /// Ciphertext read from `io` that rustls has not taken yet.
    rbuf: Vec<u8>,
    rpos: usize,
    /// Ciphertext waiting to be written to `io`.
    wbuf: Vec<u8>,
    wpos: usize,
    eof: bool,
}

impl<T> TlsStream<T> {
    /// Wraps a transport from which `read` was already read (usually nothing), and a
    /// fresh server session that takes `read` first.
    pub fn new(io: T, tls: ServerConnection, read: Vec<u8>) -> Self {
        TlsStream {
            io,
            tls,
            rbuf: read,
            rpos: 0,
            wbuf: Vec::new(),
            wpos: 0,
            eof: false,
        }
    }

    /// The transport under the session.
    pub(crate) fn transport(&self) -> &T {
        &self.io
    }

    /// The rustls session (negotiated ALPN, version, suite, SNI).
    pub fn session(&self) -> &ServerConnection {
        &self.tls
    }
}

fn tls_error(e: rustls::Error) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e)
}

/// How much of some ciphertext rustls took, and whether processing it failed.
struct Fed {
    taken: usize,
    result: io::Result<()>,
}

/// Gives `ciphertext` to rustls until it takes no more, processing each piece; an empty
/// `ciphertext` tells it the transport ended.
fn feed(tls: &mut ServerConnection, ciphertext: &[u8]) -> Fed {
    let mut rest = ciphertext;
    loop {
        let result = match tls.read_tls(&mut rest) {
            Ok(n) => tls.process_new_packets().map(|_| n).map_err(tls_error),
            Err(e) => Err(e),
        };
        match result {
            Ok(n) if n > 0 && !rest.is_empty() => {}
            result => {
                return Fed {
                    taken: ciphertext.len() - rest.len(),
                    result: result.map(drop),
                }
            }
        }
    }
}

impl<T: AsyncRead + AsyncWrite + Unpin> TlsStream<T> {
    /// Moves every record rustls has ready into the write buffer.
    fn encode(&mut self) {
        while self.tls.wants_write() {
            // Writing into a Vec cannot fail.
            if self.tls.write_tls(&mut self.wbuf).is_err() {
                break;
            }
        }
    }

    /// Writes buffered ciphertext until done (`Ready(Ok)`), blocked (`Pending`), or broken.
    fn poll_flush_tls(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.encode();
        while self.wpos < self.wbuf.len() {
            match Pin::new(&mut self.io).poll_write(cx, &self.wbuf[self.wpos..]) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => self.wpos += n,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
        self.wbuf.clear();
        self.wpos = 0;
        Poll::Ready(Ok(()))
    }

    /// Feeds ciphertext a read left over (rustls took only part of it) to rustls.
    fn feed_left_over(&mut self) -> io::Result<()> {
        let fed = feed(&mut self.tls, &self.rbuf[self.rpos..]);
        self.rpos += fed.taken;
        if self.rpos == self.rbuf.len() {
            self.rbuf.clear();
            self.rpos = 0;
        }
        fed.result
    }

    /// Reads more ciphertext from the transport into rustls. The read lands in the core's
    /// ciphertext buffer and goes straight to rustls; only what rustls cannot take yet is
    /// kept here, so an idle session holds no read buffer.
    fn poll_fill(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let fed = if self.rpos < self.rbuf.len() {
            self.feed_left_over()
        } else {
            let (tls, rbuf) = (&mut self.tls, &mut self.rbuf);
            let read = Layer::Ciphertext.poll_read(Pin::new(&mut self.io), cx, MAX_READ, |read| {
                // Zero octets tell rustls the transport ended.
                let fed = feed(tls, read);
                rbuf.extend_from_slice(&read[fed.taken..]);
                (read.is_empty(), fed.result)
            });
            let (ended, fed) = ready!(read)?;
            self.eof |= ended;
            fed
        };
        // Send the alert rustls queued before failing.
        Poll::Ready(fed.inspect_err(|_| self.encode()))
    }

    /// Drives the handshake to its end (or failure), flushing its records.
    pub async fn handshake(&mut self) -> io::Result<()> {
        std::future::poll_fn(|cx| {
            while self.tls.is_handshaking() {
                if let Poll::Ready(Err(e)) = self.poll_flush_tls(cx) {
                    return Poll::Ready(Err(e));
                }
                if self.eof {
                    return Poll::Ready(Err(io::ErrorKind::UnexpectedEof.into()));
                }
                match self.poll_fill(cx) {
                    Poll::Ready(Ok(())) => {}
                    Poll::Ready(Err(e)) => {
                        // Best effort: let the client see the alert.
                        let _ = self.poll_flush_tls(cx);
                        return Poll::Ready(Err(e));
                    }
                    Poll::Pending => return Poll::Pending,
                }
            }
            // The server's last flight (and TLS 1.3 tickets) must leave before we wait
            // for the client's first request.
            self.poll_flush_tls(cx)
        })
        .await
    }
}

impl<T: AsyncRead + AsyncWrite + Unpin> AsyncRead for TlsStream<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        loop {
            match this.tls.reader().read(buf) {
                Ok(n) => return Poll::Ready(Ok(n)),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Poll::Ready(Err(e)),
            }
            // Records rustls produced on its own (key updates, alerts) and output a
            // blocked writer left behind go out whenever the driver polls for input.
            if let Poll::Ready(Err(e)) = this.poll_flush_tls(cx) {
                return Poll::Ready(Err(e));
            }
            if this.eof {
                return Poll::Ready(Ok(0));
            }
            match this.poll_fill(cx) {
                Poll::Ready(Ok(())) => {}
                Poll::Ready(Err(e)) => {
                    let _ = this.poll_flush_tls(cx);
                    return Poll::Ready(Err(e));
                }
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

impl<T: AsyncRead + AsyncWrite + Unpin> AsyncWrite for TlsStream<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.wbuf.len() - this.wpos >= MAX_PENDING_CIPHERTEXT {
            match this.poll_flush_tls(cx) {
                Poll::Ready(Ok(())) => {}
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
        let n = this.tls.writer().write(buf)?;
        // All records of this write leave in one socket write; if the socket is full the
        // rest waits in `wbuf` and goes out on the next poll.
        match this.poll_flush_tls(cx) {
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            _ => Poll::Ready(Ok(n)),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match this.poll_flush_tls(cx) {
            Poll::Ready(Ok(())) => Pin::new(&mut this.io).poll_flush(cx),
            other => other,
        }
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.tls.send_close_notify();
        match this.poll_flush_tls(cx) {
            Poll::Ready(Ok(())) => Pin::new(&mut this.io).poll_close(cx),
            other => other,
        }
    }
}
