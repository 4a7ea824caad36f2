//! `--self-signed`: a throwaway certificate for `localhost` and the loopback addresses,
//! generated at start (rcgen, ECDSA P-256) for local trials only.

use rustls::crypto::CryptoProvider;
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::sign::CertifiedKey;

use super::config::certified_key;
use crate::error::TlsError;

/// Names the throwaway certificate is valid for.
pub(crate) const SELF_SIGNED_NAMES: &[&str] = &["localhost", "127.0.0.1", "::1"];

/// Generates a fresh key and self-signed certificate; returns it ready for rustls and as
/// PEM (so a test client can trust it).
pub(crate) fn generate(provider: &CryptoProvider) -> Result<(CertifiedKey, String), TlsError> {
    let names: Vec<String> = SELF_SIGNED_NAMES.iter().map(|s| s.to_string()).collect();
    let made =
        rcgen::generate_simple_self_signed(names).map_err(|e| TlsError::SelfSigned(Box::new(e)))?;
    let pem = made.cert.pem();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(made.signing_key.serialize_der()));
    let pair =
        certified_key(vec![made.cert.der().clone()], key, provider).map_err(TlsError::Rustls)?;
    Ok((pair, pem))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generates_a_matching_pem_certificate() {
        let (pair, pem) = generate(&super::super::config::provider()).unwrap();
        assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"));
        assert_eq!(pair.cert.len(), 1);
        assert!(pair.keys_match().is_ok());
    }
}
