//! Owns h2 over TLS for benchmarking: a rustls client (ring provider, ALPN `h2`) that
//! accepts any server certificate, driven sans-IO under an `AsyncRead + AsyncWrite` adapter.

use std::io::{self, Read, Write};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_lite::io::{AsyncRead, AsyncWrite};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, ClientConnection, DigitallySignedStruct, SignatureScheme};

/// Octets of TLS records read from the socket per call.
const TLS_READ_CHUNK: usize = 64 * 1024;

/// Accepts every certificate (benchmarks use self-signed ones) but still checks that the
/// handshake signatures match the presented key, so the TLS work is the real work.
#[derive(Debug)]
struct AcceptAnyCert(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAnyCert {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// Shared client configuration plus the SNI name to send.
#[derive(Clone, Debug)]
pub struct TlsSetup {
    config: Arc<ClientConfig>,
    server_name: ServerName<'static>,
}

impl TlsSetup {
    /// A client offering ALPN `h2` (RFC 9113 §3.2) with SNI `host`.
    pub fn new(host: &str) -> Result<TlsSetup, String> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnyCert(provider)))
            .with_no_client_auth();
        let mut config = config;
        config.alpn_protocols = vec![b"h2".to_vec()];
        let server_name = ServerName::try_from(host.to_string()).map_err(|e| e.to_string())?;
        Ok(TlsSetup {
            config: Arc::new(config),
            server_name,
        })
    }

    /// Starts a client session over `io`; the handshake runs as the stream is used.
    pub fn wrap<T>(&self, io: T) -> Result<TlsStream<T>, rustls::Error> {
        let tls = ClientConnection::new(self.config.clone(), self.server_name.clone())?;
        Ok(TlsStream {
            io,
            tls,
            records: vec![0; TLS_READ_CHUNK],
            out: Vec::new(),
            out_pos: 0,
            eof: false,
        })
    }
}

/// A TLS client session over a byte transport.
pub struct TlsStream<T> {
    io: T,
    tls: ClientConnection,
    /// Scratch for ciphertext read from the socket.
    records: Vec<u8>,
    /// Ciphertext waiting to be written.
    out: Vec<u8>,
    out_pos: usize,
    eof: bool,
}

impl<T: AsyncRead + AsyncWrite + Unpin> TlsStream<T> {
    /// Moves rustls's pending records to the socket as far as it takes them.
    fn flush_records(&mut self, cx: &mut Context<'_>) -> io::Result<()> {
        loop {
            if self.out_pos == self.out.len() {
                self.out.clear();
                self.out_pos = 0;
                if !self.tls.wants_write() {
                    return Ok(());
                }
                self.tls.write_tls(&mut self.out)?;
            }
            match Pin::new(&mut self.io).poll_write(cx, &self.out[self.out_pos..]) {
                Poll::Ready(Ok(0)) => return Err(io::ErrorKind::WriteZero.into()),
                Poll::Ready(Ok(n)) => self.out_pos += n,
                Poll::Ready(Err(e)) => return Err(e),
                Poll::Pending => return Ok(()),
            }
        }
    }
}

impl<T: AsyncRead + AsyncWrite + Unpin> AsyncRead for TlsStream<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        loop {
            match this.tls.reader().read(buf) {
                // Ok(0) means close_notify arrived: a clean end of stream.
                Ok(n) => return Poll::Ready(Ok(n)),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Poll::Ready(Err(e)),
            }
            if this.eof {
                return Poll::Ready(Ok(0));
            }
            this.flush_records(cx)?;
            let n = match Pin::new(&mut this.io).poll_read(cx, &mut this.records) {
                Poll::Ready(Ok(n)) => n,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            };
            if n == 0 {
                this.eof = true;
                continue;
            }
            let mut records = &this.records[..n];
            while !records.is_empty() {
                this.tls.read_tls(&mut records)?;
                this.tls
                    .process_new_packets()
                    .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
            }
            // Handshake replies (and key updates) go out right away.
            this.flush_records(cx)?;
        }
    }
}

impl<T: AsyncRead + AsyncWrite + Unpin> AsyncWrite for TlsStream<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        // Back-pressure: while earlier records are still queued, take nothing new.
        this.flush_records(cx)?;
        if this.out_pos < this.out.len() {
            return Poll::Pending;
        }
        let n = this.tls.writer().write(buf)?;
        this.flush_records(cx)?;
        if n == 0 && !buf.is_empty() {
            return Poll::Pending;
        }
        Poll::Ready(Ok(n))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        this.flush_records(cx)?;
        if this.out_pos < this.out.len() {
            return Poll::Pending;
        }
        Pin::new(&mut this.io).poll_flush(cx)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.tls.send_close_notify();
        let this = &mut *self;
        this.flush_records(cx)?;
        Pin::new(&mut this.io).poll_close(cx)
    }
}
