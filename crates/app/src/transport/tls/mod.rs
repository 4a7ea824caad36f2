//! TLS for the server: rustls configuration (RFC 9113 §9.2 policy, ALPN, SNI, resumption,
//! reload), the sans-IO `TlsStream` over glommio sockets, and the per-connection
//! handshake that decides between HTTP/2 and HTTP/1.1.

mod accept;
mod config;
#[cfg(feature = "self-signed")]
mod self_signed;
mod stream;

pub(crate) use self::accept::{handshake, NegotiatedProtocol};
pub(crate) use self::config::TlsAcceptor;
pub use self::config::TlsConfig;
pub(crate) use self::stream::TlsStream;

/// The TLS facts of a request's connection, in the request extensions of every request
/// that arrived over TLS.
///
/// ```
/// use h2ring::{Request, TlsInfo};
///
/// fn over_tls_1_3(req: &Request) -> bool {
///     req.extensions().get::<TlsInfo>().is_some_and(|tls| tls.version == "TLSv1_3")
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TlsInfo {
    /// The ALPN protocol agreed (`h2`, `http/1.1`), if any.
    pub alpn: Option<String>,
    /// The server name the client asked for (SNI), if any.
    pub sni: Option<String>,
    /// The TLS version, e.g. `TLSv1_3`.
    pub version: String,
    /// The cipher suite, e.g. `TLS13_AES_128_GCM_SHA256`.
    pub cipher: String,
}
