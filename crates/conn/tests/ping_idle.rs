//! PING (RFC 9113 §6.7) and the idle timeout.

mod support;

use std::time::Duration;

use h2ring_conn::{Config, Phase};
use h2ring_frame::{ErrorCode, Frame, Ping};
use support::*;

#[test]
fn ping_is_answered_with_the_same_payload() {
    let mut c = Client::connected(Config::default());
    c.send(ping(*b"12345678"));
    assert_eq!(
        c.frames(),
        vec![Frame::Ping(Ping {
            ack: true,
            payload: *b"12345678"
        })]
    );
}

#[test]
fn ping_ack_is_not_answered() {
    let mut c = Client::connected(Config::default());
    c.send(Frame::Ping(Ping {
        ack: true,
        payload: [1; 8],
    }));
    assert!(c.frames().is_empty());
    assert_eq!(c.conn.phase(), Phase::Open);
}

#[test]
fn ping_on_a_stream_is_a_protocol_error() {
    let mut c = Client::connected(Config::default());
    c.send_bytes(&raw_frame(0x6, 0, 1, &[0; 8]));
    c.expect_goaway(0, ErrorCode::ProtocolError);
}

#[test]
fn idle_connection_gets_goaway_no_error() {
    let mut c = Client::connected(Config::default());
    assert_eq!(c.conn.poll_timeout(), Some(c.now + Duration::from_secs(60)));
    c.advance(Duration::from_secs(59));
    assert!(c.frames().is_empty());
    c.advance(Duration::from_secs(1));
    // A graceful GOAWAY (RFC 9113 §6.8: largest id first, the real one a round trip later).
    assert_eq!(goaway(&c.frames()), Some((MAX_ID, ErrorCode::NoError)));
    assert_eq!(c.conn.phase(), Phase::Draining);
    c.advance(Duration::from_secs(1));
    assert_eq!(goaway(&c.frames()), Some((0, ErrorCode::NoError)));
    assert_eq!(c.conn.phase(), Phase::Lingering);
}

const MAX_ID: u32 = (1 << 31) - 1;

#[test]
fn pings_do_not_reset_the_idle_timer() {
    let mut c = Client::connected(Config::default());
    c.advance(Duration::from_secs(30));
    c.send(ping([0; 8]));
    c.frames();
    c.advance(Duration::from_secs(30));
    assert_eq!(goaway(&c.frames()), Some((MAX_ID, ErrorCode::NoError)));
}

#[test]
fn an_open_stream_prevents_the_idle_timeout_and_closing_it_restarts_it() {
    let mut c = Client::connected(Config::default());
    c.advance(Duration::from_secs(50));
    c.request(1, "GET", "/", true);
    c.advance(Duration::from_secs(200));
    assert!(c.frames().is_empty());
    assert_eq!(c.conn.phase(), Phase::Open);
    c.respond(1, 200, true);
    c.frames();
    assert_eq!(c.conn.poll_timeout(), Some(c.now + Duration::from_secs(60)));
    c.advance(Duration::from_secs(60));
    assert_eq!(goaway(&c.frames()), Some((MAX_ID, ErrorCode::NoError)));
    c.advance(Duration::from_secs(1));
    assert_eq!(goaway(&c.frames()), Some((1, ErrorCode::NoError)));
}

#[test]
fn idle_timeout_can_be_disabled() {
    let mut c = Client::connected({
        let mut config = Config::default();
        config.idle_timeout = None;
        config
    });
    c.advance(Duration::from_secs(10_000));
    assert_eq!(c.conn.phase(), Phase::Open);
}
