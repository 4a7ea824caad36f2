//! TLS for the server: rustls configuration (RFC 9113 §9.2 policy, ALPN, SNI, resumption,
//! reload), the sans-IO `TlsStream` over glommio sockets, and the per-connection
//! handshake that decides between HTTP/2 and HTTP/1.1.

mod accept;
mod config;
mod reload;
mod self_signed;
mod stream;

pub use self::accept::{handshake, inadequate_security_goaway, Handshaken, NegotiatedProtocol};
pub use self::config::{
    is_adequate, load_pair, provider, CertSource, SniCert, TlsAcceptor, TlsError, TlsOptions,
    ALPN_H2, ALPN_HTTP11, DEFAULT_HANDSHAKE_TIMEOUT, DEFAULT_SESSION_CACHE_SIZE,
    PERMITTED_TLS12_SUITES,
};
pub use self::reload::reload_on_sighup;
pub use self::self_signed::{generate as generate_self_signed, SELF_SIGNED_NAMES};
pub use self::stream::{TlsStream, MAX_PENDING_CIPHERTEXT};

/// The TLS facts of a request's connection, in the request extensions of every request
/// that arrived over TLS (`req.extensions().get::<TlsInfo>()`).
#[derive(Debug, Clone, PartialEq, Eq)]
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
