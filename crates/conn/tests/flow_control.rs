//! Flow control (RFC 9113 §5.2, §6.9) in both directions.

mod support;

use bytes::Bytes;
use h2ring_conn::Config;
use h2ring_frame::{Data, ErrorCode, Frame, MAX_WINDOW_SIZE};
use support::*;

#[test]
fn data_beyond_the_connection_window_is_a_connection_error() {
    let mut c = Client::connected({
        let mut config = Config::default();
        config.connection_window = 65_535;
        config
    });
    c.request(1, "POST", "/", false);
    c.body(1, 65_535, false);
    assert!(c.frames().is_empty());
    c.data(1, b"x", false);
    c.expect_goaway(1, ErrorCode::FlowControlError);
}

#[test]
fn data_beyond_a_stream_window_resets_the_stream() {
    let mut c = Client::connected({
        let mut config = Config::default();
        config.stream_window = 65_535;
        config
    });
    c.request(1, "POST", "/", false);
    c.request(3, "POST", "/", false);
    c.body(1, 65_535, false);
    c.data(1, b"x", false);
    c.expect_resets(&[(1, ErrorCode::FlowControlError)]);
    // Stream 3 is unaffected.
    c.data(3, b"ok", true);
    assert!(c
        .events()
        .iter()
        .any(|e| matches!(e, h2ring_conn::Event::Data { stream, .. } if *stream == sid(3))));
}

#[test]
fn window_updates_follow_consumption_and_are_batched() {
    let mut c = Client::connected(small_windows());
    c.request(1, "POST", "/", false);
    c.body(1, 49_152, false);
    assert!(c.frames().is_empty(), "nothing on arrival");
    c.conn.consume(sid(1), 10_000);
    assert!(c.frames().is_empty());
    c.conn.consume(sid(1), 10_000);
    assert!(c.frames().is_empty());
    // 33 000 owed ≥ half of 65 535: one update per window, exact increments.
    c.conn.consume(sid(1), 13_000);
    assert_eq!(
        c.frames(),
        vec![window_update(1, 33_000), window_update(0, 33_000)]
    );
    // Consuming more than was delivered is clamped to what is owed.
    c.conn.consume(sid(1), 1 << 20);
    assert!(c.frames().is_empty(), "16 152 owed < half the window");
}

#[test]
fn padding_is_refunded_without_consumption() {
    let mut c = Client::connected(small_windows());
    c.request(1, "POST", "/", false);
    let padded = Frame::Data(Data {
        stream_id: sid(1),
        data: Bytes::new(),
        end_stream: false,
        pad_len: Some(255),
    });
    // Each frame is 256 flow-controlled octets (Pad Length + 255 padding), all refunded.
    for _ in 0..127 {
        c.send(padded.clone());
    }
    assert!(
        c.frames().is_empty(),
        "32 512 owed: below the batching threshold"
    );
    c.send(padded);
    assert_eq!(
        c.frames(),
        vec![window_update(1, 32_768), window_update(0, 32_768)]
    );
    assert!(c
        .events()
        .iter()
        .all(|e| !matches!(e, h2ring_conn::Event::Data { .. })));
}

#[test]
fn padding_with_data_refunds_only_the_padding() {
    let mut c = Client::connected(small_windows());
    c.request(1, "POST", "/", false);
    for _ in 0..3 {
        c.send(Frame::Data(Data {
            stream_id: sid(1),
            data: Bytes::from(vec![1; 16_000]),
            end_stream: false,
            pad_len: Some(255),
        }));
    }
    assert!(c.frames().is_empty());
    c.conn.consume(sid(1), 48_000);
    // 48 000 consumed + 3 × 256 padding.
    assert_eq!(
        c.frames(),
        vec![window_update(1, 48_768), window_update(0, 48_768)]
    );
}

#[test]
fn zero_window_update_on_a_stream_resets_it() {
    let mut c = Client::connected(Config::default());
    c.request(1, "GET", "/", false);
    c.send_bytes(&raw_frame(0x8, 0, 1, &[0, 0, 0, 0]));
    c.expect_resets(&[(1, ErrorCode::ProtocolError)]);
}

#[test]
fn zero_window_update_on_the_connection_is_a_connection_error() {
    let mut c = Client::connected(Config::default());
    c.request(1, "GET", "/", false);
    c.send_bytes(&raw_frame(0x8, 0, 0, &[0, 0, 0, 0]));
    c.expect_goaway(1, ErrorCode::ProtocolError);
}

#[test]
fn response_stops_at_the_stream_window_and_resumes_on_window_update() {
    let mut c = Client::connected(Config::default());
    c.send(window_update(0, 1 << 20));
    c.request(1, "GET", "/", true);
    c.respond_body(1, 70_000);
    let frames = c.frames();
    assert_eq!(data_total(&frames, 1), 65_535);
    assert!(data_frames(&frames).iter().all(|(_, _, end)| !end));
    assert!(c.frames().is_empty());
    c.send(window_update(1, 4_000));
    assert_eq!(data_frames(&c.frames()), vec![(1, 4_000, false)]);
    c.send(window_update(1, 1_000));
    assert_eq!(data_frames(&c.frames()), vec![(1, 465, true)]);
}

#[test]
fn connection_send_window_is_shared_across_streams() {
    let mut c = Client::connected(Config::default());
    c.request(1, "GET", "/", true);
    c.request(3, "GET", "/", true);
    c.respond_body(1, 40_000);
    c.respond_body(3, 40_000);
    // Stream windows are 65 535 each; the connection window (65 535) is what limits.
    let frames = c.frames();
    assert_eq!(data_total(&frames, 1), 40_000);
    assert_eq!(data_total(&frames, 3), 25_535);
    assert!(c.frames().is_empty());
    c.send(window_update(0, 14_465));
    let frames = c.frames();
    assert_eq!(
        data_frames(&frames),
        vec![(3, 14_465, true)],
        "{}",
        summary(&frames)
    );
}

#[test]
fn stream_window_overflow_resets_the_stream() {
    let mut c = Client::connected(Config::default());
    c.request(1, "GET", "/", true);
    c.send(window_update(1, MAX_WINDOW_SIZE - 65_535));
    assert!(c.frames().is_empty());
    c.send(window_update(1, 1));
    c.expect_resets(&[(1, ErrorCode::FlowControlError)]);
}

#[test]
fn connection_window_overflow_is_a_connection_error() {
    let mut c = Client::connected(Config::default());
    c.send(window_update(0, MAX_WINDOW_SIZE - 65_535));
    assert!(c.frames().is_empty());
    c.send(window_update(0, 1));
    c.expect_goaway(0, ErrorCode::FlowControlError);
}

#[test]
fn unconsumed_body_of_a_peer_reset_stream_is_refunded() {
    let mut c = Client::connected(small_windows());
    c.request(1, "POST", "/", false);
    c.body(1, 40_000, false);
    c.conn.consume(sid(1), 1_000);
    assert!(c.frames().is_empty());
    c.send(rst(1, ErrorCode::Cancel));
    assert_eq!(c.frames(), vec![window_update(0, 40_000)]);
}

#[test]
fn unconsumed_body_of_an_app_reset_stream_is_refunded() {
    let mut c = Client::connected(small_windows());
    c.request(1, "POST", "/", false);
    c.body(1, 40_000, false);
    let now = c.now;
    c.conn.reset(sid(1), ErrorCode::Cancel, now);
    assert_eq!(
        c.frames(),
        vec![rst(1, ErrorCode::Cancel), window_update(0, 40_000)]
    );
    // The whole connection window is usable again.
    c.request(3, "POST", "/", false);
    c.body(3, 65_535, false);
    assert!(c.frames().is_empty());
    assert_eq!(c.conn.phase(), h2ring_conn::Phase::Open);
}

#[test]
fn send_capacity_signals_backpressure_and_send_ready() {
    let mut c = Client::connected({
        let mut config = Config::default();
        config.stream_send_buffer = 1_000;
        config
    });
    c.request(1, "GET", "/", true);
    c.respond(1, 200, false);
    assert_eq!(c.conn.send_capacity(sid(1)), Ok(1_000));
    c.conn
        .send_data(sid(1), Bytes::from(vec![0; 100_000]), false)
        .unwrap();
    assert_eq!(c.conn.send_capacity(sid(1)), Ok(0));
    assert_eq!(data_total(&c.frames(), 1), 65_535);
    c.events();
    c.send(window_update(0, 10_000));
    c.send(window_update(1, 10_000));
    assert_eq!(data_total(&c.frames(), 1), 10_000);
    assert!(
        c.events().is_empty(),
        "24 465 still queued, over the buffer"
    );
    c.send(window_update(0, 30_000));
    c.send(window_update(1, 30_000));
    assert_eq!(
        data_frames(&c.frames()),
        vec![(1, 16_384, false), (1, 8_081, false)]
    );
    assert!(matches!(
        c.events()[..],
        [h2ring_conn::Event::SendReady { .. }]
    ));
    assert_eq!(c.conn.send_capacity(sid(1)), Ok(1_000));
}
