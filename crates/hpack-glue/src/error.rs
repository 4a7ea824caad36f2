//! Why a header block was refused, and what the connection must do about it.

use std::fmt;

use crate::collect::Rejection;
use crate::hpack::DecodeError;

/// Why a header block was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeadError {
    /// HPACK failed: connection error COMPRESSION_ERROR (RFC 9113 §4.3). Decoder state is lost.
    Compression(DecodeError),
    /// Malformed message (RFC 9113 §8.1.1): stream error PROTOCOL_ERROR. The block WAS fully
    /// applied to the HPACK table. The text is one of the [`reason`](crate::reason) constants.
    Malformed(&'static str),
    /// Header list larger than our SETTINGS_MAX_HEADER_LIST_SIZE (counted as RFC 9113 §6.5.2:
    /// name + value + 32 per field, pseudo-headers included): respond 431. Block fully
    /// applied to the table.
    TooLarge,
}

impl HeadError {
    /// Whether the whole connection is lost (true only for [`HeadError::Compression`]).
    pub fn is_connection_error(&self) -> bool {
        matches!(self, HeadError::Compression(_))
    }
}

impl From<DecodeError> for HeadError {
    fn from(e: DecodeError) -> Self {
        HeadError::Compression(e)
    }
}

impl From<Rejection> for HeadError {
    fn from(r: Rejection) -> Self {
        match r {
            Rejection::Malformed(reason) => HeadError::Malformed(reason),
            Rejection::TooLarge => HeadError::TooLarge,
        }
    }
}

impl fmt::Display for HeadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HeadError::Compression(e) => write!(f, "compression error: {e}"),
            HeadError::Malformed(reason) => write!(f, "malformed header block: {reason}"),
            HeadError::TooLarge => {
                f.write_str("header list larger than SETTINGS_MAX_HEADER_LIST_SIZE")
            }
        }
    }
}

impl std::error::Error for HeadError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            HeadError::Compression(e) => Some(e),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reason;

    #[test]
    fn conversions_and_display() {
        let e: HeadError = DecodeError::InvalidIndex.into();
        assert_eq!(e, HeadError::Compression(DecodeError::InvalidIndex));
        assert!(e.is_connection_error());
        let m: HeadError = Rejection::Malformed(reason::EMPTY_PATH).into();
        assert_eq!(m, HeadError::Malformed(reason::EMPTY_PATH));
        assert!(!m.is_connection_error());
        assert_eq!(HeadError::from(Rejection::TooLarge), HeadError::TooLarge);
        assert_eq!(m.to_string(), "malformed header block: empty :path");
    }
}
