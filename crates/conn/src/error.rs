//! Errors the application can get back from the connection's send API.

use std::fmt;

/// Why an application call on a stream was refused. None of these affect the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SendError {
    /// The stream is not open (never existed, finished, or was reset).
    UnknownStream,
    /// A final response head was already sent.
    HeadAlreadySent,
    /// Body or trailers before the final response head.
    HeadNotSent,
    /// The response was already ended.
    AlreadyEnded,
    /// 101 is not allowed in HTTP/2 (RFC 9113 §8.6), and 1xx cannot end a stream.
    InvalidStatus,
    /// The head is larger than the peer's SETTINGS_MAX_HEADER_LIST_SIZE; the stream was reset.
    HeaderListTooLarge,
    /// Push is not possible now; the reason says why.
    PushRefused(&'static str),
    /// The connection is closing or closed.
    ConnectionClosed,
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SendError::UnknownStream => f.write_str("stream is not open"),
            SendError::HeadAlreadySent => f.write_str("response head already sent"),
            SendError::HeadNotSent => f.write_str("response head not sent yet"),
            SendError::AlreadyEnded => f.write_str("response already ended"),
            SendError::InvalidStatus => f.write_str("status not allowed here"),
            SendError::HeaderListTooLarge => {
                f.write_str("response head exceeds the peer's SETTINGS_MAX_HEADER_LIST_SIZE")
            }
            SendError::PushRefused(why) => write!(f, "push refused: {why}"),
            SendError::ConnectionClosed => f.write_str("connection is closing"),
        }
    }
}

impl std::error::Error for SendError {}
