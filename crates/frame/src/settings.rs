//! Owns the SETTINGS frame and its parameters (RFC 9113 §6.5, RFC 8441 §3, RFC 9218 §2.1).

use bytes::{BufMut, Bytes, BytesMut};

use crate::frame_type::{Flags, FrameType};
use crate::head::{encode_frame_header, FrameHead};
use crate::{
    wire, ErrorCode, FrameError, StreamId, DEFAULT_MAX_FRAME_SIZE, MAX_MAX_FRAME_SIZE,
    MAX_WINDOW_SIZE,
};

/// Octets per setting: 16-bit identifier + 32-bit value (§6.5.1).
const SETTING_LEN: usize = 6;

/// Known SETTINGS identifiers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u16)]
pub enum SettingId {
    /// SETTINGS_HEADER_TABLE_SIZE (§6.5.2).
    HeaderTableSize = 0x1,
    /// SETTINGS_ENABLE_PUSH (§6.5.2).
    EnablePush = 0x2,
    /// SETTINGS_MAX_CONCURRENT_STREAMS (§6.5.2).
    MaxConcurrentStreams = 0x3,
    /// SETTINGS_INITIAL_WINDOW_SIZE (§6.5.2).
    InitialWindowSize = 0x4,
    /// SETTINGS_MAX_FRAME_SIZE (§6.5.2).
    MaxFrameSize = 0x5,
    /// SETTINGS_MAX_HEADER_LIST_SIZE (§6.5.2).
    MaxHeaderListSize = 0x6,
    /// SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 8441 §3).
    EnableConnectProtocol = 0x8,
    /// SETTINGS_NO_RFC7540_PRIORITIES (RFC 9218 §2.1).
    NoRfc7540Priorities = 0x9,
}

impl SettingId {
    /// Maps a wire identifier; `None` for identifiers we must ignore (§6.5.2).
    pub const fn from_u16(v: u16) -> Option<SettingId> {
        Some(match v {
            0x1 => SettingId::HeaderTableSize,
            0x2 => SettingId::EnablePush,
            0x3 => SettingId::MaxConcurrentStreams,
            0x4 => SettingId::InitialWindowSize,
            0x5 => SettingId::MaxFrameSize,
            0x6 => SettingId::MaxHeaderListSize,
            0x8 => SettingId::EnableConnectProtocol,
            0x9 => SettingId::NoRfc7540Priorities,
            _ => return None,
        })
    }

    /// The wire identifier.
    pub const fn to_u16(self) -> u16 {
        self as u16
    }
}

/// One validated setting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Setting {
    /// HPACK dynamic table size the receiver may use.
    HeaderTableSize(u32),
    /// Whether server push is allowed.
    EnablePush(bool),
    /// Cap on concurrently open streams the sender permits.
    MaxConcurrentStreams(u32),
    /// Initial stream flow-control window (≤ 2^31-1).
    InitialWindowSize(u32),
    /// Largest frame payload the sender accepts (16384..=16777215).
    MaxFrameSize(u32),
    /// Advisory cap on the uncompressed header list size.
    MaxHeaderListSize(u32),
    /// Extended CONNECT allowed (RFC 8441, id 0x8).
    EnableConnectProtocol(bool),
    /// RFC 7540 priorities not used (RFC 9218, id 0x9).
    NoRfc7540Priorities(bool),
}

/// Parses a 0/1 boolean setting; anything else is the given error.
fn flag(value: u32, reason: &'static str) -> Result<bool, FrameError> {
    match value {
        0 => Ok(false),
        1 => Ok(true),
        _ => Err(FrameError::connection(ErrorCode::ProtocolError, reason)),
    }
}

impl Setting {
    /// Validates `value` for `id` (§6.5.2); every failure is a connection error.
    pub fn from_id_value(id: SettingId, value: u32) -> Result<Setting, FrameError> {
        Ok(match id {
            SettingId::HeaderTableSize => Setting::HeaderTableSize(value),
            // §6.5.2: ENABLE_PUSH other than 0 or 1 is a PROTOCOL_ERROR.
            SettingId::EnablePush => Setting::EnablePush(flag(value, "ENABLE_PUSH not 0 or 1")?),
            SettingId::MaxConcurrentStreams => Setting::MaxConcurrentStreams(value),
            // §6.5.2: above 2^31-1 is a FLOW_CONTROL_ERROR.
            SettingId::InitialWindowSize if value > MAX_WINDOW_SIZE => {
                return Err(FrameError::connection(
                    ErrorCode::FlowControlError,
                    "INITIAL_WINDOW_SIZE above 2^31-1",
                ))
            }
            SettingId::InitialWindowSize => Setting::InitialWindowSize(value),
            // §6.5.2: outside 2^14..=2^24-1 is a PROTOCOL_ERROR.
            SettingId::MaxFrameSize
                if !(DEFAULT_MAX_FRAME_SIZE..=MAX_MAX_FRAME_SIZE).contains(&value) =>
            {
                return Err(FrameError::connection(
                    ErrorCode::ProtocolError,
                    "MAX_FRAME_SIZE out of range",
                ))
            }
            SettingId::MaxFrameSize => Setting::MaxFrameSize(value),
            SettingId::MaxHeaderListSize => Setting::MaxHeaderListSize(value),
            // RFC 8441 §3: only 0 and 1 are valid.
            SettingId::EnableConnectProtocol => {
                Setting::EnableConnectProtocol(flag(value, "ENABLE_CONNECT_PROTOCOL not 0 or 1")?)
            }
            // RFC 9218 §2.1: only 0 and 1 are valid.
            SettingId::NoRfc7540Priorities => {
                Setting::NoRfc7540Priorities(flag(value, "NO_RFC7540_PRIORITIES not 0 or 1")?)
            }
        })
    }

    /// The identifier.
    pub fn id(&self) -> SettingId {
        match self {
            Setting::HeaderTableSize(_) => SettingId::HeaderTableSize,
            Setting::EnablePush(_) => SettingId::EnablePush,
            Setting::MaxConcurrentStreams(_) => SettingId::MaxConcurrentStreams,
            Setting::InitialWindowSize(_) => SettingId::InitialWindowSize,
            Setting::MaxFrameSize(_) => SettingId::MaxFrameSize,
            Setting::MaxHeaderListSize(_) => SettingId::MaxHeaderListSize,
            Setting::EnableConnectProtocol(_) => SettingId::EnableConnectProtocol,
            Setting::NoRfc7540Priorities(_) => SettingId::NoRfc7540Priorities,
        }
    }

    /// The 32-bit wire value.
    pub fn value(&self) -> u32 {
        match *self {
            Setting::HeaderTableSize(v)
            | Setting::MaxConcurrentStreams(v)
            | Setting::InitialWindowSize(v)
            | Setting::MaxFrameSize(v)
            | Setting::MaxHeaderListSize(v) => v,
            Setting::EnablePush(b)
            | Setting::EnableConnectProtocol(b)
            | Setting::NoRfc7540Priorities(b) => u32::from(b),
        }
    }
}

/// A SETTINGS frame (§6.5). Order is kept: §6.5.3 says values apply in order.
///
/// The parameters are held in their wire form: a decoded frame is a zero-copy slice of the
/// received octets, validated once by the decoder, and read with [`Settings::iter`], so
/// receiving SETTINGS allocates nothing however many entries it carries (a peer can fill a
/// 16 KiB frame with 2 730 of them). Equality compares the known parameters in order, as
/// [`Settings::iter`] yields them.
#[derive(Clone)]
pub struct Settings {
    /// ACK flag; an ACK carries no settings.
    pub ack: bool,
    /// Entries in wire form (6 octets each, §6.5.1), every known one valid.
    entries: Bytes,
}

impl Settings {
    /// A SETTINGS frame carrying `settings`.
    pub fn new(settings: Vec<Setting>) -> Settings {
        let mut entries = BytesMut::with_capacity(settings.len() * SETTING_LEN);
        for s in &settings {
            entries.put_u16(s.id().to_u16());
            entries.put_u32(s.value());
        }
        Settings {
            ack: false,
            entries: entries.freeze(),
        }
    }

    /// An empty SETTINGS frame with the ACK flag.
    pub fn ack() -> Settings {
        Settings {
            ack: true,
            entries: Bytes::new(),
        }
    }

    /// The known parameters in wire order; entries with identifiers we do not know are
    /// skipped, as §6.5.2 requires (and so are out-of-range values, which only a frame
    /// built with [`Settings::new`] can hold: it encodes them as given, for tests).
    pub fn iter(&self) -> SettingsIter<'_> {
        SettingsIter {
            entries: self.entries.chunks_exact(SETTING_LEN),
        }
    }

    /// Entries on the wire, unknown identifiers included: the work the frame asks of its
    /// receiver, for limits on it.
    pub fn entry_count(&self) -> usize {
        self.entries.len() / SETTING_LEN
    }

    pub(crate) fn decode(head: &FrameHead, payload: &Bytes) -> Result<Settings, FrameError> {
        // §6.5: SETTINGS always applies to the connection.
        if !head.stream_id.is_zero() {
            return Err(FrameError::connection(
                ErrorCode::ProtocolError,
                "SETTINGS on a stream",
            ));
        }
        let ack = Flags::from_bits(head.flags).contains(Flags::ACK);
        // §6.5: an ACK with a payload is a FRAME_SIZE_ERROR.
        if ack && !payload.is_empty() {
            return Err(FrameError::connection(
                ErrorCode::FrameSizeError,
                "SETTINGS ACK with payload",
            ));
        }
        // §6.5: the length must be a multiple of 6.
        if payload.len() % SETTING_LEN != 0 {
            return Err(FrameError::connection(
                ErrorCode::FrameSizeError,
                "SETTINGS length not a multiple of 6",
            ));
        }
        // Validated here, once, so that `iter` cannot fail.
        for entry in payload.chunks_exact(SETTING_LEN) {
            if let Some((id, value)) = known_entry(entry) {
                Setting::from_id_value(id, value)?;
            }
        }
        Ok(Settings {
            ack,
            entries: payload.clone(),
        })
    }

    pub(crate) fn encode(&self, dst: &mut BytesMut) {
        let flags = Flags::EMPTY.with_if(Flags::ACK, self.ack);
        let length = wire::len_u32(self.entries.len());
        encode_frame_header(
            FrameType::Settings.to_u8(),
            flags.bits(),
            StreamId::ZERO,
            length,
            dst,
        );
        dst.extend_from_slice(&self.entries);
    }
}

/// One 6-octet entry's identifier and value, `None` for identifiers we do not know.
fn known_entry(entry: &[u8]) -> Option<(SettingId, u32)> {
    let id = SettingId::from_u16(wire::u16_at(entry, 0)?)?;
    Some((id, wire::u32_at(entry, 2)?))
}

impl PartialEq for Settings {
    fn eq(&self, other: &Settings) -> bool {
        self.ack == other.ack && self.iter().eq(other.iter())
    }
}

impl Eq for Settings {}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("ack", &self.ack)
            .field("settings", &DebugList(self))
            .finish()
    }
}

/// Shows the parameters as a list without collecting them.
struct DebugList<'a>(&'a Settings);

impl std::fmt::Debug for DebugList<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.0.iter()).finish()
    }
}

impl<'a> IntoIterator for &'a Settings {
    type Item = Setting;
    type IntoIter = SettingsIter<'a>;

    fn into_iter(self) -> SettingsIter<'a> {
        self.iter()
    }
}

/// The known parameters of a [`Settings`] frame in wire order (see [`Settings::iter`]).
#[derive(Clone, Debug)]
pub struct SettingsIter<'a> {
    entries: std::slice::ChunksExact<'a, u8>,
}

impl Iterator for SettingsIter<'_> {
    type Item = Setting;

    fn next(&mut self) -> Option<Setting> {
        for entry in self.entries.by_ref() {
            if let Some((id, value)) = known_entry(entry) {
                // Validated by the decoder (or built from valid `Setting`s): cannot fail.
                if let Ok(setting) = Setting::from_id_value(id, value) {
                    return Some(setting);
                }
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::{decode_one, raw};
    use crate::Frame;

    fn one(id: u16, value: u32) -> Vec<u8> {
        let mut p = id.to_be_bytes().to_vec();
        p.extend_from_slice(&value.to_be_bytes());
        raw(0x4, 0, 0, &p)
    }

    fn conn(code: ErrorCode, reason: &'static str) -> Result<Frame, FrameError> {
        Err(FrameError::connection(code, reason))
    }

    #[test]
    fn nonzero_stream_is_protocol_error() {
        assert_eq!(
            decode_one(&raw(0x4, 0, 1, &[])),
            conn(ErrorCode::ProtocolError, "SETTINGS on a stream")
        );
    }

    #[test]
    fn ack_with_payload_is_frame_size_error() {
        assert_eq!(
            decode_one(&raw(0x4, 0x1, 0, &[0, 1, 0, 0, 0, 0])),
            conn(ErrorCode::FrameSizeError, "SETTINGS ACK with payload")
        );
    }

    #[test]
    fn length_not_multiple_of_six_is_frame_size_error() {
        assert_eq!(
            decode_one(&raw(0x4, 0, 0, &[0, 1, 0, 0, 0])),
            conn(
                ErrorCode::FrameSizeError,
                "SETTINGS length not a multiple of 6"
            )
        );
    }

    #[test]
    fn enable_push_must_be_boolean() {
        assert_eq!(
            decode_one(&one(0x2, 2)),
            conn(ErrorCode::ProtocolError, "ENABLE_PUSH not 0 or 1")
        );
    }

    #[test]
    fn initial_window_size_above_max_is_flow_control_error() {
        assert_eq!(
            decode_one(&one(0x4, MAX_WINDOW_SIZE + 1)),
            conn(
                ErrorCode::FlowControlError,
                "INITIAL_WINDOW_SIZE above 2^31-1"
            )
        );
        assert_eq!(
            decode_one(&one(0x4, MAX_WINDOW_SIZE)),
            Ok(Frame::Settings(Settings::new(vec![
                Setting::InitialWindowSize(MAX_WINDOW_SIZE)
            ])))
        );
    }

    #[test]
    fn max_frame_size_out_of_range_is_protocol_error() {
        let want = conn(ErrorCode::ProtocolError, "MAX_FRAME_SIZE out of range");
        assert_eq!(decode_one(&one(0x5, 16_383)), want);
        assert_eq!(decode_one(&one(0x5, 16_777_216)), want);
        assert!(decode_one(&one(0x5, 16_384)).is_ok());
        assert!(decode_one(&one(0x5, 16_777_215)).is_ok());
    }

    #[test]
    fn enable_connect_protocol_must_be_boolean() {
        assert_eq!(
            decode_one(&one(0x8, 7)),
            conn(
                ErrorCode::ProtocolError,
                "ENABLE_CONNECT_PROTOCOL not 0 or 1"
            )
        );
    }

    #[test]
    fn no_rfc7540_priorities_must_be_boolean() {
        assert_eq!(
            decode_one(&one(0x9, 2)),
            conn(ErrorCode::ProtocolError, "NO_RFC7540_PRIORITIES not 0 or 1")
        );
    }

    #[test]
    fn unknown_identifiers_are_skipped_in_order() {
        let payload = [
            0, 0x3, 0, 0, 0, 100, 0, 0x7, 0xff, 0xff, 0xff, 0xff, 0, 0x9, 0, 0, 0, 1,
        ];
        assert_eq!(
            decode_one(&raw(0x4, 0, 0, &payload)),
            Ok(Frame::Settings(Settings::new(vec![
                Setting::MaxConcurrentStreams(100),
                Setting::NoRfc7540Priorities(true),
            ])))
        );
    }

    #[test]
    fn decoding_keeps_every_entry_without_copying() {
        let payload = [
            0, 0x4, 0, 0, 0, 0, 0x0a, 0x0a, 0, 0, 0, 1, 0, 0x4, 0, 0, 0, 1,
        ];
        let wire = raw(0x4, 0, 0, &payload);
        let mut src = bytes::BytesMut::from(&wire[..]);
        let payload_at = src.as_ptr().wrapping_add(crate::FRAME_HEADER_LEN);
        let Ok(Some(Frame::Settings(s))) = crate::Decoder::new().decode(&mut src) else {
            panic!("not SETTINGS")
        };
        // Three entries on the wire, one of them unknown (0x0a0a, a GREASE-style id).
        assert_eq!(s.entry_count(), 3);
        assert_eq!(
            s.iter().collect::<Vec<_>>(),
            vec![Setting::InitialWindowSize(0), Setting::InitialWindowSize(1)]
        );
        // The entries are the received octets, not a copy.
        assert_eq!(s.entries.as_ptr(), payload_at);
        // And they re-encode exactly, unknown entry included.
        let mut out = BytesMut::new();
        s.encode(&mut out);
        assert_eq!(&out[..], &wire[..]);
    }
}
