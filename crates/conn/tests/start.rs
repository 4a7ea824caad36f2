//! Connection start (RFC 9113 §3.4): the preface, our SETTINGS, and the start-up timers.

mod support;

use std::time::Duration;

use h2ring_conn::{Config, Phase};
use h2ring_frame::{ErrorCode, Frame, Setting, PREFACE};
use support::*;

#[test]
fn bogus_preface_closes_without_a_word() {
    let mut c = Client::raw(Config::default());
    let first = c.frames();
    assert!(matches!(first.first(), Some(Frame::Settings(_))));
    c.send_bytes(b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n");
    assert_eq!(c.conn.phase(), Phase::Closed);
    assert!(c.conn.is_closed());
    assert!(c.frames().is_empty());
    assert_eq!(c.conn.poll_timeout(), None);
}

#[test]
fn bogus_preface_before_our_settings_were_read_writes_only_settings() {
    let mut c = Client::raw(Config::default());
    c.send_bytes(b"PRI * HTTP/1.1\r\n");
    assert!(c.conn.is_closed());
    let frames = c.frames();
    assert!(
        frames
            .iter()
            .all(|f| matches!(f, Frame::Settings(_) | Frame::WindowUpdate(_))),
        "{frames:?}"
    );
}

#[test]
fn preface_and_settings_in_one_byte_pieces() {
    let mut c = Client::raw(Config::default());
    c.frames();
    for b in PREFACE.iter() {
        assert_eq!(c.conn.phase(), Phase::Preface);
        c.send_bytes(&[*b]);
    }
    assert_eq!(c.conn.phase(), Phase::FirstSettings);
    let mut raw = bytes::BytesMut::new();
    settings(vec![Setting::InitialWindowSize(1000)]).encode(&mut raw);
    for b in raw.iter() {
        assert_eq!(c.conn.phase(), Phase::FirstSettings);
        c.send_bytes(&[*b]);
    }
    assert_eq!(c.conn.phase(), Phase::Open);
    assert_eq!(c.unconsumed_input(), 0);
    let frames = c.frames();
    assert!(
        matches!(&frames[..], [Frame::Settings(s)] if s.ack),
        "{frames:?}"
    );
}

#[test]
fn our_settings_come_first_with_the_configured_values() {
    let mut c = Client::raw(Config::default());
    let frames = c.frames();
    let Frame::Settings(s) = &frames[0] else {
        panic!("{frames:?}")
    };
    assert!(!s.ack);
    assert_eq!(
        s.iter().collect::<Vec<_>>(),
        vec![
            Setting::MaxConcurrentStreams(100),
            Setting::InitialWindowSize(1 << 20),
            Setting::MaxFrameSize(16_384),
            Setting::MaxHeaderListSize(16 * 1024),
            Setting::NoRfc7540Priorities(true),
        ]
    );
    // RFC 9113 §6.9.2: the connection window can only grow by WINDOW_UPDATE.
    assert_eq!(window_updates(&frames[1..]), vec![(0, (1 << 20) - 65_535)]);
    assert_eq!(frames.len(), 2);
}

#[test]
fn extended_connect_is_advertised_only_when_enabled() {
    let mut c = Client::raw({
        let mut config = Config::default();
        config.extended_connect = true;
        config
    });
    let frames = c.frames();
    let Frame::Settings(s) = &frames[0] else {
        panic!("{frames:?}")
    };
    assert!(s.iter().any(|s| s == Setting::EnableConnectProtocol(true)));
    let mut d = Client::raw(Config::default());
    let Frame::Settings(s) = &d.frames()[0] else {
        panic!()
    };
    assert!(!s
        .iter()
        .any(|s| matches!(s, Setting::EnableConnectProtocol(_))));
}

#[test]
fn no_connection_window_update_at_the_protocol_default() {
    let mut c = Client::raw(small_windows());
    let frames = c.frames();
    assert_eq!(frames.len(), 1, "{frames:?}");
    assert!(window_updates(&frames).is_empty());
}

#[test]
fn first_frame_not_settings_is_a_protocol_error() {
    let mut c = Client::raw(Config::default());
    c.frames();
    c.send_bytes(PREFACE);
    c.send(ping([1; 8]));
    c.expect_goaway(0, ErrorCode::ProtocolError);
}

#[test]
fn first_frame_settings_ack_is_a_protocol_error() {
    let mut c = Client::raw(Config::default());
    c.frames();
    c.send_bytes(PREFACE);
    c.send(Frame::Settings(h2ring_frame::Settings::ack()));
    c.expect_goaway(0, ErrorCode::ProtocolError);
}

#[test]
fn preface_timeout_closes_after_ten_seconds_not_before() {
    let mut c = Client::raw(Config::default());
    let start = c.now;
    assert_eq!(c.conn.poll_timeout(), Some(start + Duration::from_secs(10)));
    c.send_bytes(&PREFACE[..10]);
    c.advance(Duration::from_millis(9_999));
    assert_eq!(c.conn.phase(), Phase::Preface);
    c.advance(Duration::from_millis(1));
    assert!(c.conn.is_closed());
    // Not HTTP/2 yet: nothing is said.
    let frames = c.frames();
    assert!(goaway(&frames).is_none(), "{frames:?}");
}

#[test]
fn first_settings_timeout_is_two_seconds_after_the_preface() {
    let mut c = Client::raw(Config::default());
    c.frames();
    c.advance(Duration::from_secs(3));
    c.send_bytes(PREFACE);
    assert_eq!(
        c.conn.poll_timeout(),
        Some(c.now + Duration::from_secs(2)),
        "the preface timer is replaced by the first-SETTINGS one"
    );
    c.advance(Duration::from_millis(1_999));
    assert_eq!(c.conn.phase(), Phase::FirstSettings);
    assert!(c.frames().is_empty());
    c.advance(Duration::from_millis(1));
    c.expect_goaway(0, ErrorCode::SettingsTimeout);
    c.advance(Duration::from_secs(1));
    assert!(c.conn.is_closed());
}
