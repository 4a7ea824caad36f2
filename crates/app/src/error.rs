//! Startup errors: every way `Server::start` can fail, with one-line human messages.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;

/// Why the server could not start. `Display` gives one human line suitable
/// for `h2ring: error: <message>`.
#[derive(Debug)]
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
    InvalidConfig(String),
    /// The `--root` directory for static files is unusable.
    InvalidRoot {
        /// The path given.
        path: PathBuf,
        /// Why it is unusable.
        reason: String,
    },
    /// A per-core executor (io_uring reactor, thread) failed to start.
    Executor {
        /// The core it was meant for.
        core: usize,
        /// What went wrong.
        reason: String,
    },
}

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
            StartError::InvalidConfig(msg) => write!(f, "{msg}"),
            StartError::InvalidRoot { path, reason } => {
                write!(f, "cannot serve root {}: {reason}", path.display())
            }
            StartError::Executor { core, reason } => {
                write!(f, "cannot start executor on core {core}: {reason}")
            }
        }
    }
}

impl std::error::Error for StartError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StartError::Bind { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// Lower-case OS error text without the `(os error N)` suffix, so messages
/// read as one sentence.
pub fn describe_io_error(err: &io::Error) -> String {
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
pub fn format_core_list(cores: &[usize]) -> String {
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
