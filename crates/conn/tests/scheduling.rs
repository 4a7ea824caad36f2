//! Write scheduling: RFC 9218 urgency and incremental delivery, PRIORITY_UPDATE, and control
//! frames ahead of DATA.

mod support;

use bytes::Bytes;
use h2ring_conn::Config;
use h2ring_frame::{Data, ErrorCode, Frame, Ping, PriorityUpdate, Settings};
use support::*;

fn data_order(frames: &[Frame]) -> Vec<u32> {
    data_frames(frames)
        .into_iter()
        .map(|(id, _, _)| id)
        .collect()
}

fn open(c: &mut Client, id: u32, priority: Option<&str>) {
    match priority {
        Some(p) => c.request_with(id, "GET", "/", &[("priority", p)], true),
        None => c.request(id, "GET", "/", true),
    }
}

#[test]
fn data_goes_out_in_urgency_order() {
    let mut c = Client::connected(Config::default());
    c.send(window_update(0, 1 << 20));
    open(&mut c, 1, Some("u=7"));
    open(&mut c, 3, None);
    open(&mut c, 5, Some("u=0"));
    for id in [1, 3, 5] {
        c.respond_body(id, 20_000);
    }
    let frames = c.frames();
    assert_eq!(data_order(&frames), vec![5, 5, 3, 3, 1, 1]);
    assert!(frames[..3].iter().all(|f| matches!(f, Frame::Headers(_))));
}

#[test]
fn incremental_streams_of_one_urgency_interleave() {
    let mut c = Client::connected(Config::default());
    c.send(window_update(0, 1 << 20));
    open(&mut c, 1, Some("u=3, i"));
    open(&mut c, 3, Some("u=3, i"));
    c.respond_body(1, 40_000);
    c.respond_body(3, 40_000);
    assert_eq!(data_order(&c.frames()), vec![1, 3, 1, 3, 1, 3]);
}

#[test]
fn non_incremental_streams_of_one_urgency_go_one_after_the_other() {
    let mut c = Client::connected(Config::default());
    c.send(window_update(0, 1 << 20));
    open(&mut c, 1, None);
    open(&mut c, 3, None);
    c.respond_body(3, 40_000);
    c.respond_body(1, 40_000);
    assert_eq!(data_order(&c.frames()), vec![1, 1, 1, 3, 3, 3]);
}

#[test]
fn priority_update_changes_the_order() {
    let mut c = Client::connected(Config::default());
    c.send(window_update(0, 1 << 20));
    open(&mut c, 1, None);
    open(&mut c, 3, None);
    c.respond_body(1, 20_000);
    c.respond_body(3, 20_000);
    c.send(Frame::PriorityUpdate(PriorityUpdate {
        prioritized_stream_id: sid(3),
        field_value: Bytes::from_static(b"u=0"),
    }));
    assert_eq!(data_order(&c.frames()), vec![3, 3, 1, 1]);
}

#[test]
fn priority_update_before_the_stream_opens_applies_to_it() {
    let mut c = Client::connected(Config::default());
    c.send(window_update(0, 1 << 20));
    c.send(Frame::PriorityUpdate(PriorityUpdate {
        prioritized_stream_id: sid(3),
        field_value: Bytes::from_static(b"u=1"),
    }));
    open(&mut c, 1, Some("u=2"));
    open(&mut c, 3, Some("u=5"));
    c.respond_body(1, 20_000);
    c.respond_body(3, 20_000);
    assert_eq!(data_order(&c.frames()), vec![3, 3, 1, 1]);
}

#[test]
fn priority_update_for_a_push_stream_is_a_protocol_error() {
    let mut c = Client::connected(Config::default());
    c.send(Frame::PriorityUpdate(PriorityUpdate {
        prioritized_stream_id: sid(2),
        field_value: Bytes::from_static(b"u=1"),
    }));
    c.expect_goaway(0, ErrorCode::ProtocolError);
}

#[test]
fn control_frames_go_before_queued_data() {
    let mut c = Client::connected(Config::default());
    c.request(1, "GET", "/", true);
    c.respond_body(1, 100_000);
    assert_eq!(data_total(&c.frames(), 1), 65_535);
    c.request_with(3, "POST", "/", &[("content-length", "1")], false);
    c.send_all(vec![
        ping(*b"pingpong"),
        settings(vec![]),
        Frame::Data(Data::new(sid(3), Bytes::from_static(b"xx"), false)),
        window_update(0, 20_000),
        window_update(1, 20_000),
    ]);
    let frames = c.frames();
    assert_eq!(
        frames[..3],
        [
            Frame::Ping(Ping {
                ack: true,
                payload: *b"pingpong"
            }),
            Frame::Settings(Settings::ack()),
            rst(3, ErrorCode::ProtocolError),
        ]
    );
    assert_eq!(
        data_frames(&frames[3..]),
        vec![(1, 16_384, false), (1, 3_616, false)]
    );
    assert_eq!(frames.len(), 5);
}

/// An idle connection may drop its scheduler queues and buffers between bursts; the next
/// burst is scheduled in priority order as before.
#[test]
fn released_idle_memory_does_not_change_the_next_burst() {
    let mut c = Client::connected(Config::default());
    c.send(window_update(0, 1 << 20));
    open(&mut c, 1, Some("u=5"));
    c.respond_body(1, 1_000);
    c.frames();
    c.events();
    // A stream is still open: nothing may be released.
    open(&mut c, 3, Some("u=5"));
    c.conn.release_idle_memory();
    c.respond_body(3, 1_000);
    assert_eq!(data_order(&c.frames()), vec![3]);
    c.events();
    assert!(c.conn.is_idle());
    c.conn.release_idle_memory();
    open(&mut c, 5, Some("u=7"));
    open(&mut c, 7, Some("u=0"));
    c.respond_body(5, 20_000);
    c.respond_body(7, 20_000);
    assert_eq!(data_order(&c.frames()), vec![7, 7, 5, 5]);
}
