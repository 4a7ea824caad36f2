//! Defences against the published HTTP/2 denial-of-service techniques, at the protocol
//! level: rapid reset, cheap-frame floods, stalled header blocks, slow bodies, zero
//! windows, stream-id exhaustion.

mod support;

use std::time::Duration;

use bytes::Bytes;
use h2ring_conn::{Config, Event, Phase, RateBudget};
use h2ring_frame::{Data, ErrorCode, Frame, Setting, StreamId};
use support::*;

#[test]
fn rapid_reset_is_answered_with_enhance_your_calm() {
    let mut c = Client::connected(Config::default());
    let mut id = 1;
    let mut goaway_at = None;
    for i in 0..400 {
        c.request(id, "GET", "/", true);
        c.send(rst(id, ErrorCode::Cancel));
        let frames = c.frames();
        if let Some(g) = goaway(&frames) {
            goaway_at = Some((i, g));
            break;
        }
        id += 2;
    }
    let (i, (_, code)) = goaway_at.expect("rapid reset never stopped");
    assert_eq!(code, ErrorCode::EnhanceYourCalm);
    // The default budget allows a burst of 200 abandoned streams.
    assert_eq!(i, 200);
    assert_eq!(c.conn.phase(), Phase::Lingering);
}

#[test]
fn resets_at_a_sustainable_rate_are_fine() {
    let mut c = Client::connected(Config::default());
    let mut id = 1;
    // 1000 streams reset at 50 per second: under the 100/s budget.
    for _ in 0..1000 {
        c.request(id, "GET", "/", true);
        c.send(rst(id, ErrorCode::Cancel));
        c.advance(Duration::from_millis(20));
        assert!(goaway(&c.frames()).is_none());
        id += 2;
    }
    assert_eq!(c.conn.phase(), Phase::Open);
}

#[test]
fn streams_finished_before_the_reset_are_not_charged() {
    let mut c = Client::connected(Config::default());
    let mut id = 1;
    for _ in 0..500 {
        c.request(id, "GET", "/", false);
        c.respond(id, 200, true);
        c.send(rst(id, ErrorCode::NoError));
        assert!(goaway(&c.frames()).is_none());
        id += 2;
    }
}

#[test]
fn refused_streams_count_as_resets() {
    let mut c = Client::connected({
        let mut config = Config::default();
        config.max_concurrent_streams = 1;
        config
    });
    c.request(1, "GET", "/", true);
    let mut id = 3;
    let mut stopped = false;
    for _ in 0..300 {
        c.request(id, "GET", "/", true);
        id += 2;
        if goaway(&c.frames()).is_some_and(|(_, code)| code == ErrorCode::EnhanceYourCalm) {
            stopped = true;
            break;
        }
    }
    assert!(stopped, "refusing streams forever must end the connection");
}

#[test]
fn priority_flood_is_cut_off() {
    let mut c = Client::connected(Config::default());
    let mut frames = Vec::new();
    for i in 0..10_001u32 {
        frames.push(priority(2 * i + 1, 0));
    }
    c.send_all(frames);
    assert_eq!(goaway(&c.frames()), Some((0, ErrorCode::EnhanceYourCalm)));
}

#[test]
fn ping_flood_from_a_reading_client_is_cut_off_too() {
    let mut c = Client::connected(Config::default());
    let mut result = None;
    for i in 0..10_100u64 {
        c.send(ping(i.to_be_bytes()));
        // The client reads every answer, so the control-frame queue never fills.
        if let Some(g) = goaway(&c.frames()) {
            result = Some(g);
            break;
        }
    }
    assert_eq!(result, Some((0, ErrorCode::EnhanceYourCalm)));
}

#[test]
fn empty_data_flood_is_cut_off() {
    let mut c = Client::connected(Config::default());
    c.request(1, "POST", "/", false);
    let mut frames = Vec::new();
    for _ in 0..10_001 {
        frames.push(Frame::Data(Data {
            stream_id: sid(1),
            data: Bytes::new(),
            end_stream: false,
            pad_len: None,
        }));
    }
    c.send_all(frames);
    assert_eq!(goaway(&c.frames()), Some((1, ErrorCode::EnhanceYourCalm)));
}

#[test]
fn window_updates_that_unblock_data_are_not_charged() {
    let mut c = Client::connected_with(
        {
            let mut config = Config::default();
            config.idle_frame_budget = RateBudget {
                burst: 10,
                per_second: 1,
            };
            config
        },
        vec![Setting::InitialWindowSize(10)],
    );
    c.request(1, "GET", "/", true);
    c.respond(1, 200, false);
    c.conn
        .send_data(StreamId::new(1), Bytes::from(vec![b'x'; 1000]), true)
        .unwrap();
    c.frames();
    // 100 WINDOW_UPDATEs of 10, each moving 10 more octets: useful, never charged.
    for _ in 0..100 {
        c.send(window_update(1, 10));
        let frames = c.frames();
        assert!(goaway(&frames).is_none());
    }
    assert_eq!(c.conn.open_streams(), 0);
}

#[test]
fn a_stalled_header_block_ends_the_connection() {
    let mut c = Client::connected(Config::default());
    let block = c.block(&[(":method", "GET"), (":scheme", "https"), (":path", "/")]);
    c.send(headers(1, block, true, false));
    c.advance(Duration::from_secs(9));
    assert!(goaway(&c.frames()).is_none());
    c.advance(Duration::from_secs(1));
    assert_eq!(
        goaway(&c.frames()).map(|g| g.1),
        Some(ErrorCode::EnhanceYourCalm)
    );
}

#[test]
fn a_body_that_stops_arriving_is_cancelled() {
    let mut c = Client::connected(Config::default());
    c.request(1, "POST", "/upload", false);
    c.data(1, b"first bytes", false);
    c.events();
    for _ in 0..59 {
        c.advance(Duration::from_secs(1));
    }
    assert!(resets(&c.frames()).is_empty());
    c.advance(Duration::from_secs(2));
    assert_eq!(resets(&c.frames()), vec![(1, ErrorCode::Cancel)]);
    let events = c.events();
    assert!(
        events.iter().any(|e| matches!(
            e,
            Event::Reset {
                code: ErrorCode::Cancel,
                ..
            }
        )),
        "{events:?}"
    );
}

#[test]
fn a_body_the_application_does_not_read_is_not_the_clients_fault() {
    let mut c = Client::connected({
        let mut config = Config::default();
        config.stream_window = 65_535;
        config
    });
    c.request(1, "POST", "/upload", false);
    // Fill the stream window; the application never consumes it.
    c.body(1, 65_535, false);
    for _ in 0..120 {
        c.advance(Duration::from_secs(1));
    }
    assert!(resets(&c.frames()).is_empty());
    assert_eq!(c.conn.open_streams(), 1);
}

#[test]
fn a_response_the_client_never_lets_through_is_cancelled() {
    let mut c = Client::connected_with(Config::default(), vec![Setting::InitialWindowSize(0)]);
    c.request(1, "GET", "/big", true);
    c.respond(1, 200, false);
    c.conn
        .send_data(StreamId::new(1), Bytes::from(vec![b'x'; 100_000]), true)
        .unwrap();
    c.frames();
    for _ in 0..59 {
        c.advance(Duration::from_secs(1));
    }
    assert!(resets(&c.frames()).is_empty());
    c.advance(Duration::from_secs(3));
    assert_eq!(resets(&c.frames()), vec![(1, ErrorCode::Cancel)]);
    assert_eq!(c.conn.open_streams(), 0);
}

#[test]
fn the_last_stream_id_gets_a_graceful_goaway() {
    let mut c = Client::connected(Config::default());
    let last = StreamId::MAX.value();
    c.request(last, "GET", "/", true);
    let frames = c.frames();
    assert_eq!(
        goaway(&frames),
        Some((last, ErrorCode::NoError)),
        "{frames:?} {:?}",
        c.events()
    );
    // The last stream is still served.
    assert!(matches!(
        &c.events()[..],
        [Event::Request { .. }, Event::Closing { .. }]
    ));
    c.respond(last, 200, true);
    c.frames();
    assert_eq!(c.conn.open_streams(), 0);
}

fn tight_idle_budget() -> Config {
    let mut config = Config::default();
    config.idle_frame_budget = RateBudget {
        burst: 20,
        per_second: 1,
    };
    config
}

/// Sends `frame` 30 times (more than `tight_idle_budget` allows) and returns the last
/// GOAWAY written.
fn thirty_times(c: &mut Client, frame: Frame) -> Option<(u32, ErrorCode)> {
    c.send_all(vec![frame; 30]);
    c.frames().iter().rev().find_map(|f| match f {
        Frame::GoAway(g) => Some((g.last_stream_id.value(), g.code)),
        _ => None,
    })
}

#[test]
fn connection_window_updates_are_charged_while_a_stream_waits_only_for_its_own_window() {
    // Issue 20: one stream blocked on its own window used to make every connection
    // WINDOW_UPDATE free (and each one scanned every stream).
    let mut c = Client::connected_with(tight_idle_budget(), vec![Setting::InitialWindowSize(0)]);
    c.request(1, "GET", "/", true);
    c.respond(1, 200, false);
    c.conn
        .send_data(StreamId::new(1), Bytes::from(vec![b'x'; 1000]), false)
        .unwrap();
    c.frames();
    assert_eq!(
        thirty_times(&mut c, window_update(0, 1)),
        Some((1, ErrorCode::EnhanceYourCalm))
    );
}

#[test]
fn connection_window_updates_that_let_data_through_are_not_charged() {
    let mut c = Client::connected_with(
        {
            let mut config = tight_idle_budget();
            config.connection_window = 65_535;
            config
        },
        vec![Setting::InitialWindowSize((1 << 31) - 1)],
    );
    c.request(1, "GET", "/", true);
    c.respond(1, 200, false);
    c.conn
        .send_data(StreamId::new(1), Bytes::from(vec![b'x'; 200_000]), true)
        .unwrap();
    assert_eq!(data_total(&c.frames(), 1), 65_535);
    // 100 connection WINDOW_UPDATEs, each moving more of the queued body.
    for _ in 0..100 {
        c.send(window_update(0, 1_000));
        let frames = c.frames();
        assert!(goaway(&frames).is_none());
        assert_eq!(data_total(&frames, 1), 1_000);
    }
}

#[test]
fn a_client_may_open_the_connection_window_before_the_stream_window() {
    // Stream and connection both exhausted: the connection WINDOW_UPDATE arrives first and
    // lets nothing through yet, but the data it is for is waiting; never charged.
    let mut c = Client::connected(tight_idle_budget());
    c.request(1, "GET", "/", true);
    c.respond(1, 200, false);
    c.conn
        .send_data(StreamId::new(1), Bytes::from(vec![b'x'; 200_000]), true)
        .unwrap();
    assert_eq!(data_total(&c.frames(), 1), 65_535);
    for _ in 0..50 {
        c.send(window_update(0, 1_000));
        c.send(window_update(1, 1_000));
        let frames = c.frames();
        assert!(goaway(&frames).is_none());
        assert_eq!(data_total(&frames, 1), 1_000);
    }
}

#[test]
fn unsolicited_ping_acks_are_charged() {
    let mut c = Client::connected(tight_idle_budget());
    let ack = Frame::Ping(h2ring_frame::Ping {
        ack: true,
        payload: [7; 8],
    });
    assert_eq!(
        thirty_times(&mut c, ack),
        Some((0, ErrorCode::EnhanceYourCalm))
    );
}

#[test]
fn repeated_goaways_are_charged() {
    let mut c = Client::connected(tight_idle_budget());
    c.request(1, "GET", "/", false);
    let goaway_frame = Frame::GoAway(h2ring_frame::GoAway {
        last_stream_id: StreamId::new(0),
        code: ErrorCode::NoError,
        debug_data: Bytes::new(),
    });
    assert_eq!(
        thirty_times(&mut c, goaway_frame),
        Some((1, ErrorCode::EnhanceYourCalm))
    );
}

#[test]
fn data_on_a_stream_we_reset_is_charged() {
    let mut c = Client::connected(tight_idle_budget());
    c.request(1, "POST", "/", false);
    c.conn.reset(StreamId::new(1), ErrorCode::Cancel, c.now);
    c.frames();
    let data = Frame::Data(Data {
        stream_id: StreamId::new(1),
        data: Bytes::from_static(b"x"),
        end_stream: false,
        pad_len: None,
    });
    assert_eq!(
        thirty_times(&mut c, data),
        Some((1, ErrorCode::EnhanceYourCalm))
    );
}

/// `response_send_timeout` (Go's WriteTimeout): a response still being sent that long after
/// its request arrived is reset with CANCEL; one finished in time, and the connection, are
/// untouched.
#[test]
fn response_send_timeout_resets_a_response_still_sending() {
    let mut config = Config::default();
    config.response_send_timeout = Some(Duration::from_secs(5));
    let mut c = Client::connected(config);
    c.request(1, "GET", "/stream", true);
    c.request(3, "GET", "/small", true);
    c.respond(1, 200, false);
    c.respond_body(3, 10);
    c.frames();
    c.advance(Duration::from_secs(4));
    assert!(resets(&c.frames()).is_empty());
    c.advance(Duration::from_secs(2));
    c.expect_resets(&[(1, ErrorCode::Cancel)]);
    // The connection goes on serving.
    c.request(5, "GET", "/next", true);
    c.respond_body(5, 10);
    assert_eq!(data_frames(&c.frames()), vec![(5, 10, true)]);
}

/// Off by default: a response may stream for as long as its client reads it.
#[test]
fn response_send_timeout_is_off_by_default() {
    assert_eq!(Config::default().response_send_timeout, None);
    let mut c = Client::connected(Config::default());
    c.request(1, "GET", "/stream", true);
    c.respond(1, 200, false);
    c.frames();
    for _ in 0..10 {
        c.advance(Duration::from_secs(30));
        c.conn
            .send_data(sid(1), Bytes::from_static(b"tick"), false)
            .unwrap();
        assert!(resets(&c.frames()).is_empty());
    }
    assert_eq!(
        c.conn.stream_state(sid(1)),
        Some(h2ring_conn::StreamState::HalfClosedRemote)
    );
}
