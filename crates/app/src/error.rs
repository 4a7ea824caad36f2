//! Startup errors: every way building or starting a server can fail, with one-line human
//! messages and the OS or TLS error underneath.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;

/// Why the server could not start. `Display` gives one human line suitable
/// for `h2ring: error: <message>`; [`std::error::Error::source`] gives the OS or TLS
/// error underneath, where there is one.
///
/// ```
/// use h2ring::{ConfigError, Server, StartError};
///
/// let err = Server::builder().max_connections_per_core(0).build().unwrap_err();
/// assert!(matches!(err, StartError::InvalidConfig(ConfigError::ZeroMaxConnections)));
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum StartError {
    /// A listening socket (server or metrics admin) could not be created.
    Bind {
        /// The address that was requested.
        addr: SocketAddr,
        /// The underlying OS error.
        source: io::Error,
    },
    /// A requested core id is not among the cores this process may run on.
    InvalidCore {
        /// The requested core id.
        core: usize,
        /// The cores this process is allowed to run on.
        available: Vec<usize>,
    },
    /// More cores were requested than the machine offers.
    TooManyCores {
        /// How many were requested.
        requested: usize,
        /// The cores this process is allowed to run on.
        available: Vec<usize>,
    },
    /// The same core id was listed twice.
    DuplicateCore(usize),
    /// The set of usable cores could not be determined.
    CoreDetection,
    /// A configuration value is out of range.
    InvalidConfig(ConfigError),
    /// The TLS configuration could not be built (certificate files, keys).
    Tls(TlsError),
    /// A per-core executor (io_uring reactor, thread) failed to start.
    Executor {
        /// The core it was meant for.
        core: usize,
        /// What went wrong (e.g. io_uring refused by a seccomp profile, or the
        /// locked-memory limit too low for its rings).
        source: io::Error,
    },
    /// The SIGINT/SIGTERM/SIGHUP handlers could not be installed.
    Signals(io::Error),
    /// The access log file could not be opened for appending (or its writer thread not
    /// started).
    AccessLog {
        /// The file (`None` for standard output).
        path: Option<PathBuf>,
        /// The underlying OS error.
        source: io::Error,
    },
}

/// Which setting is out of range, in [`StartError::InvalidConfig`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// No listen address.
    NoListenAddress,
    /// An empty core list.
    NoCores,
    /// A per-core connection cap of 0.
    ZeroMaxConnections,
    /// A per-core handler cap of 0.
    ZeroMaxHandlers,
    /// A `listen(2)` backlog of 0 or above `i32::MAX`.
    Backlog,
    /// A zero preemption timer.
    ZeroPreemptTimer,
    /// `Http2Config::max_concurrent_streams` of 0 (no request could ever be served).
    ZeroMaxConcurrentStreams,
    /// `ServerConfig::admin_max_connections` of 0 (no probe could ever be answered).
    ZeroAdminConnections,
    /// `Http2Config::min_send_window` of 0 while `min_send_bytes` is not (every connection
    /// with output the socket refused would be closed at once).
    ZeroMinSendWindow,
    /// An access log's `buffer_octets` or `queued_buffers` of 0 (no line could be kept).
    ZeroAccessLogBuffer,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ConfigError::NoListenAddress => "at least one listen address is required",
            ConfigError::NoCores => "at least one core is required",
            ConfigError::ZeroMaxConnections => "max connections per core must be at least 1",
            ConfigError::ZeroMaxHandlers => "max handlers per core must be at least 1",
            ConfigError::Backlog => "listen backlog must be between 1 and 2147483647",
            ConfigError::ZeroPreemptTimer => "preempt timer must be positive",
            ConfigError::ZeroMaxConcurrentStreams => "max concurrent streams must be at least 1",
            ConfigError::ZeroAdminConnections => "max admin connections must be at least 1",
            ConfigError::ZeroAccessLogBuffer => {
                "the access log's buffer size and queued buffers must be at least 1"
            }
            ConfigError::ZeroMinSendWindow => {
                "the minimum send rate's window must be positive (or its octets 0, to disable it)"
            }
        })
    }
}

impl std::error::Error for ConfigError {}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StartError::Bind { addr, source } => {
                write!(f, "cannot listen on {addr}: {}", describe_io_error(source))
            }
            StartError::InvalidCore { core, available } => write!(
                f,
                "core {core} does not exist (this machine has cores {})",
                format_core_list(available)
            ),
            StartError::TooManyCores {
                requested,
                available,
            } => write!(
                f,
                "{requested} cores requested but this machine has only {} (cores {})",
                available.len(),
                format_core_list(available)
            ),
            StartError::DuplicateCore(core) => write!(f, "core {core} is listed more than once"),
            StartError::CoreDetection => {
                write!(f, "cannot determine which cores this process may run on")
            }
            StartError::InvalidConfig(e) => write!(f, "{e}"),
            StartError::Tls(e) => write!(f, "{e}"),
            StartError::Executor { core, source } => write!(
                f,
                "cannot start executor on core {core}: {}",
                describe_io_error(source)
            ),
            StartError::Signals(e) => {
                write!(
                    f,
                    "cannot install signal handlers: {}",
                    describe_io_error(e)
                )
            }
            StartError::AccessLog { path, source } => match path {
                Some(path) => write!(
                    f,
                    "cannot open access log {}: {}",
                    path.display(),
                    describe_io_error(source)
                ),
                None => write!(
                    f,
                    "cannot start the access log: {}",
                    describe_io_error(source)
                ),
            },
        }
    }
}

impl std::error::Error for StartError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StartError::Bind { source, .. } | StartError::Executor { source, .. } => Some(source),
            StartError::Signals(source) | StartError::AccessLog { source, .. } => Some(source),
            StartError::InvalidConfig(e) => Some(e),
            StartError::Tls(e) => Some(e),
            _ => None,
        }
    }
}

impl From<TlsError> for StartError {
    fn from(e: TlsError) -> Self {
        StartError::Tls(e)
    }
}

/// Why a TLS configuration could not be built, with the file it concerns.
#[derive(Debug)]
#[non_exhaustive]
pub enum TlsError {
    /// A certificate chain could not be read or parsed as PEM.
    Certificate {
        /// The PEM file.
        path: PathBuf,
        /// What the PEM reader reported.
        source: rustls::pki_types::pem::Error,
    },
    /// A PEM file holds no certificate.
    NoCertificate {
        /// The PEM file.
        path: PathBuf,
    },
    /// A private key could not be read or parsed as PEM.
    PrivateKey {
        /// The PEM file.
        path: PathBuf,
        /// What the PEM reader reported.
        source: rustls::pki_types::pem::Error,
    },
    /// The key is unusable or does not belong to the certificate.
    KeyMismatch {
        /// The certificate's PEM file.
        cert: PathBuf,
        /// The key's PEM file.
        key: PathBuf,
        /// What rustls reported.
        source: rustls::Error,
    },
    /// rustls refused the configuration.
    Rustls(rustls::Error),
    /// A throwaway self-signed certificate could not be made.
    SelfSigned(Box<dyn std::error::Error + Send + Sync>),
}

impl fmt::Display for TlsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TlsError::Certificate { path, source } => {
                write!(f, "cannot read certificate {}: {source}", path.display())
            }
            TlsError::NoCertificate { path } => {
                write!(f, "no certificate found in {}", path.display())
            }
            TlsError::PrivateKey { path, source } => {
                write!(f, "cannot read private key {}: {source}", path.display())
            }
            TlsError::KeyMismatch { cert, key, source } => {
                write!(f, "{} with {}: {source}", cert.display(), key.display())
            }
            TlsError::Rustls(e) => write!(f, "TLS configuration: {e}"),
            TlsError::SelfSigned(e) => write!(f, "cannot generate a self-signed certificate: {e}"),
        }
    }
}

impl std::error::Error for TlsError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            TlsError::Certificate { source, .. } | TlsError::PrivateKey { source, .. } => {
                Some(source)
            }
            TlsError::KeyMismatch { source, .. } | TlsError::Rustls(source) => Some(source),
            TlsError::SelfSigned(e) => Some(e.as_ref()),
            TlsError::NoCertificate { .. } => None,
        }
    }
}

/// Lower-case OS error text without the `(os error N)` suffix, so messages
/// read as one sentence.
pub(crate) fn describe_io_error(err: &io::Error) -> String {
    let text = match err.kind() {
        io::ErrorKind::AddrInUse => return "address already in use".to_string(),
        io::ErrorKind::AddrNotAvailable => return "address not available".to_string(),
        io::ErrorKind::PermissionDenied => return "permission denied".to_string(),
        io::ErrorKind::NotFound => return "no such file or directory".to_string(),
        _ => err.to_string(),
    };
    let trimmed = match text.find(" (os error") {
        Some(pos) => &text[..pos],
        None => text.as_str(),
    };
    let mut chars = trimmed.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Formats sorted core ids compactly: `[0,1,2,5]` → `0-2,5`.
pub(crate) fn format_core_list(cores: &[usize]) -> String {
    let mut sorted = cores.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut parts = Vec::new();
    let mut iter = sorted.into_iter().peekable();
    while let Some(start) = iter.next() {
        let mut end = start;
        while iter.peek() == Some(&(end + 1)) {
            end += 1;
            iter.next();
        }
        if start == end {
            parts.push(start.to_string());
        } else {
            parts.push(format!("{start}-{end}"));
        }
    }
    parts.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_list_is_compacted_into_ranges() {
        assert_eq!(format_core_list(&[0, 1]), "0-1");
        assert_eq!(format_core_list(&[0, 1, 2, 5, 7, 8]), "0-2,5,7-8");
        assert_eq!(format_core_list(&[3]), "3");
        assert_eq!(format_core_list(&[]), "");
    }

    #[test]
    fn messages_match_the_documented_wording() {
        let err = StartError::Bind {
            addr: "127.0.0.1:8080".parse().unwrap(),
            source: io::Error::from_raw_os_error(libc::EADDRINUSE),
        };
        assert_eq!(
            err.to_string(),
            "cannot listen on 127.0.0.1:8080: address already in use"
        );
        let err = StartError::InvalidCore {
            core: 7,
            available: vec![0, 1],
        };
        assert_eq!(
            err.to_string(),
            "core 7 does not exist (this machine has cores 0-1)"
        );
    }

    #[test]
    fn io_error_text_loses_os_error_suffix() {
        let err = io::Error::from_raw_os_error(libc::EMFILE);
        assert_eq!(describe_io_error(&err), "too many open files");
    }
}
