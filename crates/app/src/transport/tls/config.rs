//! The rustls `ServerConfig`: PEM loading, the RFC 9113 §9.2 cipher-suite policy, ALPN,
//! SNI certificate selection, session resumption, and certificate reload.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert, ServerSessionMemoryCache};
use rustls::sign::CertifiedKey;
use rustls::{CipherSuite, ProtocolVersion, SupportedCipherSuite};

use crate::error::TlsError;

/// ALPN identifiers offered, in server preference order (RFC 7301): HTTP/2 first.
pub(crate) const ALPN_H2: &[u8] = b"h2";
/// ALPN identifier of HTTP/1.1.
pub(crate) const ALPN_HTTP11: &[u8] = b"http/1.1";
/// Default time a client gets to finish the TLS handshake before it is disconnected.
pub(crate) const DEFAULT_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Default number of TLS sessions each core remembers for stateful resumption.
pub(crate) const DEFAULT_SESSION_CACHE_SIZE: usize = 1024;

/// The only TLS 1.2 suites this server ever negotiates: ephemeral key exchange with an
/// AEAD cipher, the ones RFC 9113 §9.2.2 / Appendix A does not prohibit.
pub(crate) const PERMITTED_TLS12_SUITES: &[CipherSuite] = &[
    CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    CipherSuite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    CipherSuite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    CipherSuite::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
];

/// Whether HTTP/2 may run over a session with this version and suite: TLS 1.2 or later
/// (RFC 9113 §9.2), and on TLS 1.2 only a suite outside the Appendix A block list
/// (§9.2.2). TLS 1.3 suites are all AEAD with ephemeral key exchange.
pub(crate) fn is_adequate(version: ProtocolVersion, suite: CipherSuite) -> bool {
    match version {
        ProtocolVersion::TLSv1_3 => true,
        ProtocolVersion::TLSv1_2 => PERMITTED_TLS12_SUITES.contains(&suite),
        _ => false,
    }
}

/// A certificate chosen by SNI host name.
#[derive(Debug, Clone, PartialEq, Eq)]
struct SniCert {
    /// The server name, compared case-insensitively.
    host: String,
    /// PEM certificate chain.
    cert: PathBuf,
    /// PEM private key.
    key: PathBuf,
}

/// Where the certificates come from.
#[derive(Debug, Clone)]
enum CertSource {
    /// PEM files, read at start and again on every reload.
    Files { cert: PathBuf, key: PathBuf },
    /// A throwaway certificate for `localhost`/`127.0.0.1` made at start.
    #[cfg(feature = "self-signed")]
    SelfSigned,
    /// A rustls configuration the application built.
    Rustls(Arc<rustls::ServerConfig>),
}

/// TLS for a server's listeners: where the certificate comes from, extra certificates
/// chosen by SNI, the handshake deadline and the session cache. Give it to
/// [`ServerBuilder::tls`](crate::ServerBuilder::tls).
///
/// With PEM files or a self-signed certificate, h2ring builds the rustls configuration
/// itself: TLS 1.2 and 1.3 only, no TLS 1.2 suite that RFC 9113 §9.2.2 prohibits, ALPN `h2`
/// then `http/1.1`, session tickets shared by every core and a session cache per core, and
/// certificates that [`ServerHandle::reload_tls`](crate::ServerHandle::reload_tls)
/// re-reads (the `h2ring` binary calls it on SIGHUP).
///
/// ```no_run
/// use std::time::Duration;
/// use h2ring::{Server, TlsConfig};
///
/// let tls = TlsConfig::from_pem_files("site.pem", "site.key")
///     .sni_cert("api.example.com", "api.pem", "api.key")
///     .handshake_timeout(Duration::from_secs(5));
/// let server = Server::builder().tls(tls).build()?;
/// # Ok::<(), h2ring::StartError>(())
/// ```
#[derive(Debug, Clone)]
pub struct TlsConfig {
    source: CertSource,
    sni: Vec<SniCert>,
    handshake_timeout: Duration,
    session_cache_size: usize,
}

impl TlsConfig {
    /// How long a client gets to finish the handshake unless
    /// [`handshake_timeout`](TlsConfig::handshake_timeout) says otherwise.
    pub const DEFAULT_HANDSHAKE_TIMEOUT: Duration = DEFAULT_HANDSHAKE_TIMEOUT;

    fn new(source: CertSource) -> Self {
        TlsConfig {
            source,
            sni: Vec::new(),
            handshake_timeout: DEFAULT_HANDSHAKE_TIMEOUT,
            session_cache_size: DEFAULT_SESSION_CACHE_SIZE,
        }
    }

    /// A PEM certificate chain and its PEM private key (PKCS#8, PKCS#1 or SEC1), read when
    /// the server is built and again on every reload.
    pub fn from_pem_files(cert: impl Into<PathBuf>, key: impl Into<PathBuf>) -> Self {
        TlsConfig::new(CertSource::Files {
            cert: cert.into(),
            key: key.into(),
        })
    }

    /// A throwaway self-signed certificate for `localhost`, `127.0.0.1` and `::1`, made
    /// when the server is built: for local trials only, no client trusts it.
    #[cfg(feature = "self-signed")]
    pub fn self_signed() -> Self {
        TlsConfig::new(CertSource::SelfSigned)
    }

    /// A rustls configuration built by the application (client authentication, another
    /// crypto provider, certificates from memory or a secrets store), used as it is on
    /// every core, except that an empty `alpn_protocols` gets `h2` and `http/1.1`. HTTP/2
    /// is still refused (GOAWAY INADEQUATE_SECURITY) on a session RFC 9113 §9.2 forbids.
    /// SNI certificates and the session cache size set here do not apply to it, and it is
    /// not reloaded.
    pub fn from_rustls(config: Arc<rustls::ServerConfig>) -> Self {
        TlsConfig::new(CertSource::Rustls(config))
    }

    /// Adds a certificate presented to clients asking for `host` (SNI, compared
    /// case-insensitively).
    pub fn sni_cert(
        mut self,
        host: impl Into<String>,
        cert: impl Into<PathBuf>,
        key: impl Into<PathBuf>,
    ) -> Self {
        self.sni.push(SniCert {
            host: host.into(),
            cert: cert.into(),
            key: key.into(),
        });
        self
    }

    /// How long a client gets to finish the handshake (default
    /// [`DEFAULT_HANDSHAKE_TIMEOUT`](TlsConfig::DEFAULT_HANDSHAKE_TIMEOUT), 10 s).
    pub fn handshake_timeout(mut self, timeout: Duration) -> Self {
        self.handshake_timeout = timeout;
        self
    }

    /// TLS sessions each core remembers for stateful resumption (default 1024; tickets
    /// work across cores regardless).
    pub fn session_cache_size(mut self, sessions: usize) -> Self {
        self.session_cache_size = sessions;
        self
    }

    /// Whether the certificate is a throwaway self-signed one.
    pub fn is_self_signed(&self) -> bool {
        #[cfg(feature = "self-signed")]
        if matches!(self.source, CertSource::SelfSigned) {
            return true;
        }
        false
    }
}

/// The certificates in force: a default and the SNI ones.
#[derive(Debug)]
struct CertStore {
    default: Arc<CertifiedKey>,
    by_host: HashMap<String, Arc<CertifiedKey>>,
}

/// Picks the certificate for a ClientHello. The store sits behind a lock so a reload can
/// swap it; it is read once per handshake, never per request.
#[derive(Debug)]
struct CertResolver {
    store: RwLock<Arc<CertStore>>,
}

impl ResolvesServerCert for CertResolver {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let store = self.store.read().ok()?.clone();
        let by_name = hello
            .server_name()
            .and_then(|name| store.by_host.get(&name.to_ascii_lowercase()));
        Some(by_name.unwrap_or(&store.default).clone())
    }
}

/// The shared TLS configuration: one rustls `ServerConfig` per core (each with its own
/// session cache; the ticket keys and certificates are shared), built once at start.
///
/// Reload design: certificates live in a resolver behind an `RwLock<Arc<..>>` that every
/// core's config shares. [`TlsAcceptor::reload`] swaps the `Arc`; handshakes after it
/// present the new certificates, sessions already established keep theirs, so no
/// connection is dropped.
pub(crate) struct TlsAcceptor {
    base: Arc<rustls::ServerConfig>,
    /// `None` for an application's own rustls configuration (used as it is).
    resolver: Option<Arc<CertResolver>>,
    options: TlsConfig,
}

impl fmt::Debug for TlsAcceptor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsAcceptor")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

/// The ring provider restricted to TLS 1.3 suites and the permitted TLS 1.2 suites.
pub(crate) fn provider() -> CryptoProvider {
    let mut provider = rustls::crypto::ring::default_provider();
    provider.cipher_suites.retain(|s| match s {
        SupportedCipherSuite::Tls13(_) => true,
        SupportedCipherSuite::Tls12(_) => PERMITTED_TLS12_SUITES.contains(&s.suite()),
    });
    provider
}

impl TlsAcceptor {
    /// Loads the certificates and builds the configuration.
    pub(crate) fn new(options: TlsConfig) -> Result<Self, TlsError> {
        if let CertSource::Rustls(config) = &options.source {
            let mut config = (**config).clone();
            if config.alpn_protocols.is_empty() {
                config.alpn_protocols = vec![ALPN_H2.to_vec(), ALPN_HTTP11.to_vec()];
            }
            return Ok(TlsAcceptor {
                base: Arc::new(config),
                resolver: None,
                options,
            });
        }
        let provider = Arc::new(provider());
        let store = load_store(&options, &provider)?;
        let resolver = Arc::new(CertResolver {
            store: RwLock::new(Arc::new(store)),
        });
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            // TLS 1.2 and 1.3 only (RFC 9113 §9.2: "TLS 1.2 or higher").
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .map_err(TlsError::Rustls)?
            .with_no_client_auth()
            .with_cert_resolver(resolver.clone());
        config.alpn_protocols = vec![ALPN_H2.to_vec(), ALPN_HTTP11.to_vec()];
        // Stateless resumption works across cores (shared, rotating ticket keys); the
        // stateful cache is replaced per core in `for_core`.
        config.ticketer = rustls::crypto::ring::Ticketer::new().map_err(TlsError::Rustls)?;
        Ok(TlsAcceptor {
            base: Arc::new(config),
            resolver: Some(resolver),
            options,
        })
    }

    /// The configuration one core uses: the shared one with a session cache of its own
    /// (an application's own configuration as it is).
    pub(crate) fn for_core(&self) -> Arc<rustls::ServerConfig> {
        if self.resolver.is_none() {
            return Arc::clone(&self.base);
        }
        let mut config = (*self.base).clone();
        config.session_storage = ServerSessionMemoryCache::new(self.options.session_cache_size);
        Arc::new(config)
    }

    /// The handshake deadline.
    pub(crate) fn handshake_timeout(&self) -> Duration {
        self.options.handshake_timeout
    }

    /// Whether [`TlsAcceptor::reload`] re-reads files (PEM files are configured).
    pub(crate) fn reloads_files(&self) -> bool {
        matches!(self.options.source, CertSource::Files { .. }) || !self.options.sni.is_empty()
    }

    /// Reads the certificate files again and uses them for new handshakes. On error the
    /// old certificates stay in force. An application's own rustls configuration is left
    /// as it is.
    pub(crate) fn reload(&self) -> Result<(), TlsError> {
        let Some(resolver) = &self.resolver else {
            return Ok(());
        };
        let store = load_store(&self.options, self.base.crypto_provider())?;
        let mut slot = resolver.store.write().unwrap_or_else(|p| p.into_inner());
        *slot = Arc::new(store);
        Ok(())
    }
}

fn load_store(options: &TlsConfig, provider: &CryptoProvider) -> Result<CertStore, TlsError> {
    let default = match &options.source {
        CertSource::Files { cert, key } => load_pair(cert, key, provider)?,
        #[cfg(feature = "self-signed")]
        CertSource::SelfSigned => super::self_signed::generate(provider)?.0,
        CertSource::Rustls(_) => unreachable!("an application's rustls config has no store"),
    };
    let mut by_host = HashMap::new();
    for sni in &options.sni {
        let pair = load_pair(&sni.cert, &sni.key, provider)?;
        by_host.insert(sni.host.to_ascii_lowercase(), pair);
    }
    Ok(CertStore {
        default: Arc::new(default),
        by_host: by_host.into_iter().map(|(k, v)| (k, Arc::new(v))).collect(),
    })
}

/// Loads a PEM certificate chain and its private key and checks that they belong together.
fn load_pair(cert: &Path, key: &Path, provider: &CryptoProvider) -> Result<CertifiedKey, TlsError> {
    let chain = CertificateDer::pem_file_iter(cert)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|source| TlsError::Certificate {
            path: cert.to_path_buf(),
            source,
        })?;
    if chain.is_empty() {
        return Err(TlsError::NoCertificate {
            path: cert.to_path_buf(),
        });
    }
    let key_der = PrivateKeyDer::from_pem_file(key).map_err(|source| TlsError::PrivateKey {
        path: key.to_path_buf(),
        source,
    })?;
    certified_key(chain, key_der, provider).map_err(|source| TlsError::KeyMismatch {
        cert: cert.to_path_buf(),
        key: key.to_path_buf(),
        source,
    })
}

/// Pairs a chain with its key, refusing a key that does not match the certificate.
pub(crate) fn certified_key(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    provider: &CryptoProvider,
) -> Result<CertifiedKey, rustls::Error> {
    let signing = provider.key_provider.load_private_key(key)?;
    let pair = CertifiedKey::new(chain, signing);
    pair.keys_match()?;
    Ok(pair)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_prohibited_suite_is_configured() {
        let provider = provider();
        assert!(!provider.cipher_suites.is_empty());
        for suite in &provider.cipher_suites {
            let version = match suite {
                SupportedCipherSuite::Tls13(_) => ProtocolVersion::TLSv1_3,
                SupportedCipherSuite::Tls12(_) => ProtocolVersion::TLSv1_2,
            };
            assert!(is_adequate(version, suite.suite()), "{:?}", suite.suite());
        }
        // Every permitted TLS 1.2 suite the provider knows is kept.
        let tls12 = provider
            .cipher_suites
            .iter()
            .filter(|s| matches!(s, SupportedCipherSuite::Tls12(_)))
            .count();
        assert_eq!(tls12, 6);
    }

    #[test]
    fn adequacy_follows_rfc9113_section_9_2() {
        use CipherSuite as C;
        assert!(is_adequate(
            ProtocolVersion::TLSv1_2,
            C::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
        ));
        // Appendix A block list examples: CBC, static RSA, non-ephemeral.
        for bad in [
            C::TLS_RSA_WITH_AES_128_GCM_SHA256,
            C::TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
            C::TLS_RSA_WITH_AES_256_CBC_SHA256,
            C::TLS_DHE_RSA_WITH_AES_128_CBC_SHA,
        ] {
            assert!(!is_adequate(ProtocolVersion::TLSv1_2, bad), "{bad:?}");
        }
        assert!(!is_adequate(
            ProtocolVersion::TLSv1_1,
            C::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
        ));
        assert!(!is_adequate(
            ProtocolVersion::TLSv1_0,
            C::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
        ));
        assert!(is_adequate(
            ProtocolVersion::TLSv1_3,
            C::TLS13_AES_128_GCM_SHA256
        ));
    }

    #[test]
    fn missing_files_are_one_clear_error() {
        let options = TlsConfig::from_pem_files("/nonexistent/cert.pem", "/nonexistent/key.pem");
        let err = TlsAcceptor::new(options).unwrap_err();
        assert!(matches!(err, TlsError::Certificate { .. }), "{err:?}");
        assert!(
            err.to_string()
                .starts_with("cannot read certificate /nonexistent/cert.pem"),
            "{err}"
        );
    }

    #[cfg(feature = "self-signed")]
    #[test]
    fn alpn_prefers_h2_and_versions_are_12_and_13() {
        let acceptor = TlsAcceptor::new(TlsConfig::self_signed()).unwrap();
        let config = acceptor.for_core();
        assert_eq!(
            config.alpn_protocols,
            vec![b"h2".to_vec(), b"http/1.1".to_vec()]
        );
        assert!(config.ticketer.enabled());
        assert!(acceptor.reload().is_ok());
    }
}
