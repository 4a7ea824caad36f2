//! Owns the RFC 9113 §7 error codes and the decoder's error type (§5.4).

use core::fmt;

use crate::StreamId;

/// RFC 9113 §7 error codes. Unknown codes are kept (they MUST NOT trigger special behaviour, §7).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// 0x0: graceful shutdown / no error.
    NoError,
    /// 0x1: unspecific protocol error.
    ProtocolError,
    /// 0x2: unexpected internal error.
    InternalError,
    /// 0x3: flow-control protocol violated.
    FlowControlError,
    /// 0x4: SETTINGS not acknowledged in time.
    SettingsTimeout,
    /// 0x5: frame received on a half-closed stream.
    StreamClosed,
    /// 0x6: frame with an invalid size.
    FrameSizeError,
    /// 0x7: stream refused before any processing.
    RefusedStream,
    /// 0x8: stream no longer needed.
    Cancel,
    /// 0x9: field-section compression context broken.
    CompressionError,
    /// 0xa: CONNECT tunnel reset or closed abnormally.
    ConnectError,
    /// 0xb: peer is generating excessive load.
    EnhanceYourCalm,
    /// 0xc: transport does not meet security requirements.
    InadequateSecurity,
    /// 0xd: HTTP/1.1 required instead.
    Http11Required,
    /// Any other code; never produced for a value listed above.
    Unknown(u32),
}

impl ErrorCode {
    /// Maps a wire value to a code; values without a name become [`ErrorCode::Unknown`].
    pub const fn from_u32(v: u32) -> Self {
        match v {
            0x0 => ErrorCode::NoError,
            0x1 => ErrorCode::ProtocolError,
            0x2 => ErrorCode::InternalError,
            0x3 => ErrorCode::FlowControlError,
            0x4 => ErrorCode::SettingsTimeout,
            0x5 => ErrorCode::StreamClosed,
            0x6 => ErrorCode::FrameSizeError,
            0x7 => ErrorCode::RefusedStream,
            0x8 => ErrorCode::Cancel,
            0x9 => ErrorCode::CompressionError,
            0xa => ErrorCode::ConnectError,
            0xb => ErrorCode::EnhanceYourCalm,
            0xc => ErrorCode::InadequateSecurity,
            0xd => ErrorCode::Http11Required,
            other => ErrorCode::Unknown(other),
        }
    }

    /// The 32-bit wire value.
    pub const fn to_u32(self) -> u32 {
        match self {
            ErrorCode::NoError => 0x0,
            ErrorCode::ProtocolError => 0x1,
            ErrorCode::InternalError => 0x2,
            ErrorCode::FlowControlError => 0x3,
            ErrorCode::SettingsTimeout => 0x4,
            ErrorCode::StreamClosed => 0x5,
            ErrorCode::FrameSizeError => 0x6,
            ErrorCode::RefusedStream => 0x7,
            ErrorCode::Cancel => 0x8,
            ErrorCode::CompressionError => 0x9,
            ErrorCode::ConnectError => 0xa,
            ErrorCode::EnhanceYourCalm => 0xb,
            ErrorCode::InadequateSecurity => 0xc,
            ErrorCode::Http11Required => 0xd,
            ErrorCode::Unknown(v) => v,
        }
    }

    /// The RFC name, e.g. `"PROTOCOL_ERROR"`; `"UNKNOWN"` for unnamed codes.
    pub const fn name(self) -> &'static str {
        match self {
            ErrorCode::NoError => "NO_ERROR",
            ErrorCode::ProtocolError => "PROTOCOL_ERROR",
            ErrorCode::InternalError => "INTERNAL_ERROR",
            ErrorCode::FlowControlError => "FLOW_CONTROL_ERROR",
            ErrorCode::SettingsTimeout => "SETTINGS_TIMEOUT",
            ErrorCode::StreamClosed => "STREAM_CLOSED",
            ErrorCode::FrameSizeError => "FRAME_SIZE_ERROR",
            ErrorCode::RefusedStream => "REFUSED_STREAM",
            ErrorCode::Cancel => "CANCEL",
            ErrorCode::CompressionError => "COMPRESSION_ERROR",
            ErrorCode::ConnectError => "CONNECT_ERROR",
            ErrorCode::EnhanceYourCalm => "ENHANCE_YOUR_CALM",
            ErrorCode::InadequateSecurity => "INADEQUATE_SECURITY",
            ErrorCode::Http11Required => "HTTP_1_1_REQUIRED",
            ErrorCode::Unknown(_) => "UNKNOWN",
        }
    }
}

impl From<u32> for ErrorCode {
    fn from(v: u32) -> Self {
        ErrorCode::from_u32(v)
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorCode::Unknown(v) => write!(f, "UNKNOWN(0x{v:x})"),
            known => f.write_str(known.name()),
        }
    }
}

/// What the decoder found wrong, with its RFC 9113 §5.4 kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameError {
    /// Connection error (§5.4.1): the caller sends GOAWAY(code) and closes; decoder state is unspecified afterwards.
    Connection {
        /// Code to put in the GOAWAY frame.
        code: ErrorCode,
        /// Human-readable cause (for logs and GOAWAY debug data).
        reason: &'static str,
    },
    /// Stream error (§5.4.2): the offending frame's bytes WERE consumed; the caller resets `stream_id` with `code` and may keep decoding.
    Stream {
        /// Stream to reset with RST_STREAM.
        stream_id: StreamId,
        /// Code to put in the RST_STREAM frame.
        code: ErrorCode,
        /// Human-readable cause.
        reason: &'static str,
    },
}

impl FrameError {
    /// The error code to send, whatever the error's kind.
    pub fn code(&self) -> ErrorCode {
        match self {
            FrameError::Connection { code, .. } | FrameError::Stream { code, .. } => *code,
        }
    }

    /// The human-readable cause.
    pub fn reason(&self) -> &'static str {
        match self {
            FrameError::Connection { reason, .. } | FrameError::Stream { reason, .. } => reason,
        }
    }

    /// True when the whole connection must be closed (§5.4.1).
    pub fn is_connection_error(&self) -> bool {
        matches!(self, FrameError::Connection { .. })
    }

    /// Shorthand for a connection error.
    pub(crate) const fn connection(code: ErrorCode, reason: &'static str) -> Self {
        FrameError::Connection { code, reason }
    }

    /// Shorthand for a stream error.
    pub(crate) const fn stream(stream_id: StreamId, code: ErrorCode, reason: &'static str) -> Self {
        FrameError::Stream {
            stream_id,
            code,
            reason,
        }
    }
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameError::Connection { code, reason } => {
                write!(f, "connection error {code}: {reason}")
            }
            FrameError::Stream {
                stream_id,
                code,
                reason,
            } => write!(f, "stream error {code} on stream {stream_id}: {reason}"),
        }
    }
}

impl std::error::Error for FrameError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_unknown_is_kept() {
        for v in 0..=0xd {
            let code = ErrorCode::from_u32(v);
            assert!(!matches!(code, ErrorCode::Unknown(_)));
            assert_eq!(code.to_u32(), v);
        }
        assert_eq!(ErrorCode::from_u32(0xe), ErrorCode::Unknown(0xe));
        assert_eq!(ErrorCode::Unknown(0xdead).to_u32(), 0xdead);
        assert_eq!(ErrorCode::FlowControlError.name(), "FLOW_CONTROL_ERROR");
        assert_eq!(ErrorCode::Http11Required.name(), "HTTP_1_1_REQUIRED");
        assert_eq!(ErrorCode::Unknown(0x1f).to_string(), "UNKNOWN(0x1f)");
    }

    #[test]
    fn frame_error_accessors_and_display() {
        let c = FrameError::connection(ErrorCode::ProtocolError, "bad");
        assert_eq!(c.code(), ErrorCode::ProtocolError);
        assert!(c.is_connection_error());
        assert_eq!(c.to_string(), "connection error PROTOCOL_ERROR: bad");
        let s = FrameError::stream(StreamId::new(3), ErrorCode::FrameSizeError, "short");
        assert_eq!(s.code(), ErrorCode::FrameSizeError);
        assert!(!s.is_connection_error());
        assert_eq!(s.reason(), "short");
        assert_eq!(
            s.to_string(),
            "stream error FRAME_SIZE_ERROR on stream 3: short"
        );
    }
}
