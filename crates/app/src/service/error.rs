//! [`StreamError`]: why a body read or write or a stream operation failed.

use std::fmt;

use h2ring_conn::{ErrorCode, SendError};

/// Why a body read/write or a stream operation failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StreamError {
    /// The stream was reset (by the peer when `by_peer`), with this code.
    Reset {
        /// The RST_STREAM (or GOAWAY) error code.
        code: ErrorCode,
        /// Whether the client reset it (`false`: the server did, e.g. a timeout).
        by_peer: bool,
    },
    /// The connection is gone.
    ConnectionClosed,
    /// The protocol refused the operation.
    Send(SendError),
    /// The response body was dropped before it could be sent.
    BodyDropped,
}

impl fmt::Display for StreamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StreamError::Reset {
                code,
                by_peer: true,
            } => write!(f, "stream reset by peer ({})", code.name()),
            StreamError::Reset { code, .. } => write!(f, "stream reset ({})", code.name()),
            StreamError::ConnectionClosed => f.write_str("connection closed"),
            StreamError::Send(e) => write!(f, "{e}"),
            StreamError::BodyDropped => f.write_str("response body dropped"),
        }
    }
}

impl std::error::Error for StreamError {}

impl From<SendError> for StreamError {
    fn from(e: SendError) -> Self {
        match e {
            SendError::ConnectionClosed => StreamError::ConnectionClosed,
            other => StreamError::Send(other),
        }
    }
}
