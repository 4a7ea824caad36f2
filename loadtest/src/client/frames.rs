//! Owns the control frames the client writes: its preface, acknowledgements, window
//! updates, resets and GOAWAY.

use bytes::BytesMut;
use h2ring_frame::{
    ErrorCode, Frame, GoAway, Ping, RstStream, Setting, Settings, StreamId, WindowUpdate,
    DEFAULT_INITIAL_WINDOW_SIZE, PREFACE,
};

/// The client connection preface (RFC 9113 §3.4): magic, our SETTINGS (push off, large
/// stream window), then a WINDOW_UPDATE growing the connection window from its fixed
/// initial 65,535 (§6.9.2) to `connection_window`.
pub fn write_preface(stream_window: u32, connection_window: u32, dst: &mut BytesMut) {
    dst.extend_from_slice(PREFACE);
    Frame::Settings(Settings::new(vec![
        Setting::EnablePush(false),
        Setting::InitialWindowSize(stream_window),
    ]))
    .encode(dst);
    let grow = connection_window.saturating_sub(DEFAULT_INITIAL_WINDOW_SIZE);
    if grow > 0 {
        window_update(StreamId::ZERO, grow, dst);
    }
}

/// WINDOW_UPDATE (§6.9).
pub fn window_update(stream_id: StreamId, increment: u32, dst: &mut BytesMut) {
    Frame::WindowUpdate(WindowUpdate {
        stream_id,
        increment,
    })
    .encode(dst);
}

/// SETTINGS with ACK (§6.5.3).
pub fn settings_ack(dst: &mut BytesMut) {
    Frame::Settings(Settings::ack()).encode(dst);
}

/// PING with ACK echoing `payload` (§6.7).
pub fn ping_ack(payload: [u8; 8], dst: &mut BytesMut) {
    Frame::Ping(Ping::pong(payload)).encode(dst);
}

/// RST_STREAM (§6.4).
pub fn rst_stream(stream_id: StreamId, code: ErrorCode, dst: &mut BytesMut) {
    Frame::RstStream(RstStream { stream_id, code }).encode(dst);
}

/// GOAWAY (§6.8); a client never accepts server streams, so last stream id is 0.
pub fn goaway(code: ErrorCode, dst: &mut BytesMut) {
    Frame::GoAway(GoAway::new(StreamId::ZERO, code)).encode(dst);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preface_bytes() {
        let mut dst = BytesMut::new();
        write_preface(1 << 20, 1 << 20, &mut dst);
        let mut expected = PREFACE.to_vec();
        // SETTINGS: 12 octets, ENABLE_PUSH=0, INITIAL_WINDOW_SIZE=2^20.
        expected.extend_from_slice(&[0, 0, 12, 0x4, 0, 0, 0, 0, 0]);
        expected.extend_from_slice(&[0, 2, 0, 0, 0, 0, 0, 4, 0, 0x10, 0, 0]);
        // WINDOW_UPDATE on stream 0 by 2^20 - 65535.
        expected.extend_from_slice(&[0, 0, 4, 0x8, 0, 0, 0, 0, 0]);
        expected.extend_from_slice(&(1u32 << 20).wrapping_sub(65_535).to_be_bytes());
        assert_eq!(&dst[..], &expected[..]);
    }

    #[test]
    fn no_window_update_for_the_default_window() {
        let mut dst = BytesMut::new();
        write_preface(65_535, 65_535, &mut dst);
        assert_eq!(dst.len(), PREFACE.len() + 9 + 12);
    }
}
