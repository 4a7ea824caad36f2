//! One connection's TLS handshake: bounded by the handshake timeout, then the negotiated
//! parameters are checked (RFC 9113 §9.2) and ALPN names the protocol to run.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use futures_lite::future;
use futures_lite::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use rustls::ServerConnection;

use super::config::{is_adequate, ALPN_H2};
use super::stream::TlsStream;
use super::TlsInfo;

/// The protocol ALPN chose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NegotiatedProtocol {
    /// `h2`.
    Http2,
    /// `http/1.1`, or no ALPN at all (RFC 7301 §3.2: the server then picks; HTTP/1.1 is
    /// what a client without ALPN speaks).
    Http11,
}

/// A finished handshake.
pub struct Handshaken<T> {
    /// The session, ready for plaintext.
    pub stream: TlsStream<T>,
    /// What it negotiated.
    pub info: TlsInfo,
    /// The protocol to serve.
    pub protocol: NegotiatedProtocol,
}

/// GOAWAY(INADEQUATE_SECURITY = 0xc) after an empty SETTINGS, RFC 9113 §9.2.
pub fn inadequate_security_goaway() -> [u8; 26] {
    super::super::settings_then_goaway(0xc)
}

/// Runs the server side of the handshake on `io` within `timeout`. `read` holds
/// ciphertext already read from `io` (what followed a PROXY protocol header).
pub async fn handshake<T: AsyncRead + AsyncWrite + Unpin>(
    io: T,
    read: Vec<u8>,
    config: Arc<rustls::ServerConfig>,
    timeout: Duration,
) -> io::Result<Handshaken<T>> {
    let session = ServerConnection::new(config).map_err(io::Error::other)?;
    let mut stream = TlsStream::new(io, session, read);
    let done = async { stream.handshake().await };
    let expired = async {
        glommio::timer::sleep(timeout).await;
        Err(io::Error::new(
            io::ErrorKind::TimedOut,
            "TLS handshake timed out",
        ))
    };
    future::or(done, expired).await?;
    let session = stream.session();
    let (Some(version), Some(suite)) = (
        session.protocol_version(),
        session.negotiated_cipher_suite(),
    ) else {
        return Err(io::Error::other("handshake ended without parameters"));
    };
    let alpn = session.alpn_protocol().map(<[u8]>::to_vec);
    let info = TlsInfo {
        alpn: alpn
            .as_deref()
            .map(|p| String::from_utf8_lossy(p).into_owned()),
        sni: session.server_name().map(str::to_string),
        version: format!("{version:?}"),
        cipher: format!("{:?}", suite.suite()),
    };
    let protocol = if alpn.as_deref() == Some(ALPN_H2) {
        NegotiatedProtocol::Http2
    } else {
        NegotiatedProtocol::Http11
    };
    if protocol == NegotiatedProtocol::Http2 && !is_adequate(version, suite.suite()) {
        // Unreachable with our provider (it never offers such suites), kept as the last
        // line of defence should the configuration ever change.
        let _ = stream.write_all(&inadequate_security_goaway()).await;
        let _ = stream.close().await;
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "inadequate TLS security for HTTP/2",
        ));
    }
    Ok(Handshaken {
        stream,
        info,
        protocol,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn goaway_bytes_decode_as_settings_then_inadequate_security() {
        let mut bytes = bytes::BytesMut::from(&inadequate_security_goaway()[..]);
        let mut decoder = h2ring_frame::Decoder::new();
        match decoder.decode(&mut bytes).unwrap() {
            Some(h2ring_frame::Frame::Settings(s)) => assert!(!s.ack),
            other => panic!("expected SETTINGS, got {other:?}"),
        }
        match decoder.decode(&mut bytes).unwrap() {
            Some(h2ring_frame::Frame::GoAway(g)) => {
                assert_eq!(g.code, h2ring_frame::ErrorCode::InadequateSecurity);
                assert_eq!(g.last_stream_id.value(), 0);
            }
            other => panic!("expected GOAWAY, got {other:?}"),
        }
        assert!(bytes.is_empty());
    }
}
