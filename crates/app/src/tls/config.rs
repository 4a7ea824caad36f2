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

/// ALPN identifiers offered, in server preference order (RFC 7301): HTTP/2 first.
pub const ALPN_H2: &[u8] = b"h2";
/// ALPN identifier of HTTP/1.1.
pub const ALPN_HTTP11: &[u8] = b"http/1.1";
/// Default time a client gets to finish the TLS handshake before it is disconnected.
pub const DEFAULT_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Default number of TLS sessions each core remembers for stateful resumption.
pub const DEFAULT_SESSION_CACHE_SIZE: usize = 1024;

/// The only TLS 1.2 suites this server ever negotiates: ephemeral key exchange with an
/// AEAD cipher, the ones RFC 9113 §9.2.2 / Appendix A does not prohibit.
pub const PERMITTED_TLS12_SUITES: &[CipherSuite] = &[
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
pub fn is_adequate(version: ProtocolVersion, suite: CipherSuite) -> bool {
    match version {
        ProtocolVersion::TLSv1_3 => true,
        ProtocolVersion::TLSv1_2 => PERMITTED_TLS12_SUITES.contains(&suite),
        _ => false,
    }
}

/// A certificate chosen by SNI host name (`--sni-cert HOST=CERT,KEY`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SniCert {
    /// The server name, compared case-insensitively.
    pub host: String,
    /// PEM certificate chain.
    pub cert: PathBuf,
    /// PEM private key.
    pub key: PathBuf,
}

/// Where the certificates come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CertSource {
    /// PEM files, read at start and again on every reload.
    Files {
        /// PEM certificate chain of the default certificate.
        cert: PathBuf,
        /// PEM private key of the default certificate.
        key: PathBuf,
    },
    /// A throwaway certificate for `localhost`/`127.0.0.1` made at start (`--self-signed`).
    SelfSigned,
}

/// TLS settings from the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsOptions {
    /// The default certificate.
    pub source: CertSource,
    /// Extra certificates chosen by SNI.
    pub sni: Vec<SniCert>,
    /// Handshake deadline (default [`DEFAULT_HANDSHAKE_TIMEOUT`]).
    pub handshake_timeout: Duration,
    /// Sessions remembered per core (default [`DEFAULT_SESSION_CACHE_SIZE`]).
    pub session_cache_size: usize,
}

impl TlsOptions {
    /// Options for one certificate source with the defaults.
    pub fn new(source: CertSource) -> Self {
        TlsOptions {
            source,
            sni: Vec::new(),
            handshake_timeout: DEFAULT_HANDSHAKE_TIMEOUT,
            session_cache_size: DEFAULT_SESSION_CACHE_SIZE,
        }
    }
}

/// A TLS setup failure, with the file it concerns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsError(pub String);

impl fmt::Display for TlsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TlsError {}

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
/// core's config shares. [`TlsAcceptor::reload`] (on SIGHUP) swaps the `Arc`; handshakes
/// after it present the new certificates, sessions already established keep theirs, so
/// no connection is dropped.
pub struct TlsAcceptor {
    base: Arc<rustls::ServerConfig>,
    resolver: Arc<CertResolver>,
    options: TlsOptions,
}

impl fmt::Debug for TlsAcceptor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsAcceptor")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

/// The ring provider restricted to TLS 1.3 suites and the permitted TLS 1.2 suites.
pub fn provider() -> CryptoProvider {
    let mut provider = rustls::crypto::ring::default_provider();
    provider.cipher_suites.retain(|s| match s {
        SupportedCipherSuite::Tls13(_) => true,
        SupportedCipherSuite::Tls12(_) => PERMITTED_TLS12_SUITES.contains(&s.suite()),
    });
    provider
}

impl TlsAcceptor {
    /// Loads the certificates and builds the configuration.
    pub fn new(options: TlsOptions) -> Result<Arc<Self>, TlsError> {
        let provider = Arc::new(provider());
        let store = load_store(&options, &provider)?;
        let resolver = Arc::new(CertResolver {
            store: RwLock::new(Arc::new(store)),
        });
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            // TLS 1.2 and 1.3 only (RFC 9113 §9.2: "TLS 1.2 or higher").
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .map_err(|e| TlsError(format!("TLS configuration: {e}")))?
            .with_no_client_auth()
            .with_cert_resolver(resolver.clone());
        config.alpn_protocols = vec![ALPN_H2.to_vec(), ALPN_HTTP11.to_vec()];
        // Stateless resumption works across cores (shared, rotating ticket keys); the
        // stateful cache is replaced per core in `for_core`.
        config.ticketer = rustls::crypto::ring::Ticketer::new()
            .map_err(|e| TlsError(format!("TLS session tickets: {e}")))?;
        Ok(Arc::new(TlsAcceptor {
            base: Arc::new(config),
            resolver,
            options,
        }))
    }

    /// The configuration one core uses: the shared one with a session cache of its own.
    pub fn for_core(&self) -> Arc<rustls::ServerConfig> {
        let mut config = (*self.base).clone();
        config.session_storage = ServerSessionMemoryCache::new(self.options.session_cache_size);
        Arc::new(config)
    }

    /// The handshake deadline.
    pub fn handshake_timeout(&self) -> Duration {
        self.options.handshake_timeout
    }

    /// The options this acceptor was built from.
    pub fn options(&self) -> &TlsOptions {
        &self.options
    }

    /// Reads the certificate files again and uses them for new handshakes. On error the
    /// old certificates stay in force.
    pub fn reload(&self) -> Result<(), TlsError> {
        let store = load_store(&self.options, self.base.crypto_provider())?;
        let mut slot = self
            .resolver
            .store
            .write()
            .map_err(|_| TlsError("certificate store lock poisoned".to_string()))?;
        *slot = Arc::new(store);
        Ok(())
    }
}

fn load_store(options: &TlsOptions, provider: &CryptoProvider) -> Result<CertStore, TlsError> {
    let default = match &options.source {
        CertSource::Files { cert, key } => load_pair(cert, key, provider)?,
        CertSource::SelfSigned => super::self_signed::generate(provider)?.0,
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
pub fn load_pair(
    cert: &Path,
    key: &Path,
    provider: &CryptoProvider,
) -> Result<CertifiedKey, TlsError> {
    let chain = CertificateDer::pem_file_iter(cert)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| TlsError(format!("cannot read certificate {}: {e}", cert.display())))?;
    if chain.is_empty() {
        return Err(TlsError(format!(
            "no certificate found in {}",
            cert.display()
        )));
    }
    let key_der = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| TlsError(format!("cannot read private key {}: {e}", key.display())))?;
    certified_key(chain, key_der, provider)
        .map_err(|e| TlsError(format!("{} with {}: {e}", cert.display(), key.display())))
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
        let options = TlsOptions::new(CertSource::Files {
            cert: "/nonexistent/cert.pem".into(),
            key: "/nonexistent/key.pem".into(),
        });
        let err = TlsAcceptor::new(options).unwrap_err();
        assert!(
            err.0
                .starts_with("cannot read certificate /nonexistent/cert.pem"),
            "{err}"
        );
    }

    #[test]
    fn alpn_prefers_h2_and_versions_are_12_and_13() {
        let acceptor = TlsAcceptor::new(TlsOptions::new(CertSource::SelfSigned)).unwrap();
        let config = acceptor.for_core();
        assert_eq!(
            config.alpn_protocols,
            vec![b"h2".to_vec(), b"http/1.1".to_vec()]
        );
        assert!(config.ticketer.enabled());
        assert!(acceptor.reload().is_ok());
    }
}
