//! Model-based property tests: a random but *valid* client must never provoke a GOAWAY, and
//! the server must respect every window the client advertised and never write on a stream
//! it ended or reset; random *invalid* input must never panic the connection, and an error
//! GOAWAY is always the last thing it writes.

mod support;

use std::collections::BTreeMap;

use bytes::Bytes;
use h2ring_conn::{Config, Event};
use h2ring_frame::{ErrorCode, Frame, Setting, MAX_WINDOW_SIZE};
use http::{HeaderMap, StatusCode};
use proptest::prelude::*;
use support::*;

/// One thing the client or the application does.
#[derive(Debug, Clone)]
enum Action {
    Open {
        body: bool,
    },
    Data {
        stream: usize,
        len: usize,
    },
    EndStream {
        stream: usize,
    },
    Consume {
        stream: usize,
        n: usize,
    },
    WindowUpdate {
        stream: Option<usize>,
        inc: u32,
    },
    Ping,
    Settings {
        initial_window: Option<u32>,
        max_frame_size: Option<u32>,
    },
    ClientReset {
        stream: usize,
    },
    Respond {
        stream: usize,
        body: usize,
    },
    AppReset {
        stream: usize,
    },
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        3 => any::<bool>().prop_map(|body| Action::Open { body }),
        4 => (any::<usize>(), 1..40_000usize).prop_map(|(stream, len)| Action::Data { stream, len }),
        1 => any::<usize>().prop_map(|stream| Action::EndStream { stream }),
        3 => (any::<usize>(), 1..70_000usize).prop_map(|(stream, n)| Action::Consume { stream, n }),
        3 => (proptest::option::of(any::<usize>()), 1..100_000u32)
            .prop_map(|(stream, inc)| Action::WindowUpdate { stream, inc }),
        1 => Just(Action::Ping),
        1 => (
            proptest::option::of(0..200_000u32),
            proptest::option::of(16_384..70_000u32)
        )
            .prop_map(|(initial_window, max_frame_size)| Action::Settings {
                initial_window,
                max_frame_size
            }),
        1 => any::<usize>().prop_map(|stream| Action::ClientReset { stream }),
        3 => (any::<usize>(), 0..150_000usize).prop_map(|(stream, body)| Action::Respond { stream, body }),
        1 => any::<usize>().prop_map(|stream| Action::AppReset { stream }),
    ]
}

/// The client's view of one stream.
#[derive(Debug, Default)]
struct Stream {
    client_ended: bool,
    /// Reset by either side.
    reset: bool,
    app_reset: bool,
    /// The server sent END_STREAM or RST_STREAM on it.
    server_done: bool,
    head_sent: bool,
    /// What the client may still send (the server's receive window for it).
    send_allow: i64,
    /// What the server may still send (the window the client advertised).
    recv_credit: i64,
}

struct Model {
    c: Client,
    next_id: u32,
    streams: BTreeMap<u32, Stream>,
    conn_send_allow: i64,
    conn_recv_credit: i64,
    initial_window: i64,
    max_frame_size: usize,
    server_window: i64,
}

impl Model {
    fn new() -> Self {
        let config = small_windows();
        let server_window = i64::from(config.stream_window);
        Model {
            conn_send_allow: i64::from(config.connection_window),
            c: Client::connected(config),
            next_id: 1,
            streams: BTreeMap::new(),
            conn_recv_credit: 65_535,
            initial_window: 65_535,
            max_frame_size: 16_384,
            server_window,
        }
    }

    /// The `i`-th stream (modulo) matching `pred`.
    fn pick(&self, i: usize, pred: impl Fn(&Stream) -> bool) -> Option<u32> {
        let ids: Vec<u32> = self
            .streams
            .iter()
            .filter(|(_, s)| pred(s))
            .map(|(id, _)| *id)
            .collect();
        (!ids.is_empty()).then(|| ids[i % ids.len()])
    }

    /// Streams the server may still hold (and so apply SETTINGS deltas to).
    fn live(s: &Stream) -> bool {
        !(s.reset || (s.client_ended && s.server_done))
    }

    fn can_send(s: &Stream) -> bool {
        !s.reset && !s.client_ended
    }

    fn apply(&mut self, a: &Action) {
        let now = self.c.now;
        match *a {
            Action::Open { body } => {
                if self.streams.values().filter(|s| Self::live(s)).count() >= 20 {
                    return;
                }
                let id = self.next_id;
                self.next_id += 2;
                self.c.request(id, "POST", "/", !body);
                self.streams.insert(
                    id,
                    Stream {
                        client_ended: !body,
                        send_allow: self.server_window,
                        recv_credit: self.initial_window,
                        ..Stream::default()
                    },
                );
            }
            Action::Data { stream, len } => {
                let Some(id) = self.pick(stream, Self::can_send) else {
                    return;
                };
                let s = self.streams.get_mut(&id).unwrap();
                let n = (len as i64)
                    .min(s.send_allow)
                    .min(self.conn_send_allow)
                    .min(16_384);
                if n <= 0 {
                    return;
                }
                s.send_allow -= n;
                self.conn_send_allow -= n;
                self.c.data(id, &vec![7; n as usize], false);
            }
            Action::EndStream { stream } => {
                let Some(id) = self.pick(stream, Self::can_send) else {
                    return;
                };
                self.streams.get_mut(&id).unwrap().client_ended = true;
                self.c.data(id, b"", true);
            }
            Action::Consume { stream, n } => {
                if let Some(id) = self.pick(stream, |_| true) {
                    self.c.conn.consume(sid(id), n);
                }
            }
            Action::WindowUpdate { stream: None, inc } => {
                let inc = i64::from(inc).min(i64::from(MAX_WINDOW_SIZE) - self.conn_recv_credit);
                if inc > 0 {
                    self.conn_recv_credit += inc;
                    self.c.send(window_update(0, inc as u32));
                }
            }
            Action::WindowUpdate {
                stream: Some(i),
                inc,
            } => {
                let Some(id) = self.pick(i, |s| Self::live(s) && !s.server_done) else {
                    return;
                };
                let s = self.streams.get_mut(&id).unwrap();
                let inc = i64::from(inc).min(i64::from(MAX_WINDOW_SIZE) - s.recv_credit);
                if inc > 0 {
                    s.recv_credit += inc;
                    self.c.send(window_update(id, inc as u32));
                }
            }
            Action::Ping => self.c.send(ping(*b"proptest")),
            Action::Settings {
                initial_window,
                max_frame_size,
            } => {
                let mut list = Vec::new();
                if let Some(w) = initial_window {
                    let delta = i64::from(w) - self.initial_window;
                    let overflow = self.streams.values().any(|s| {
                        Self::live(s) && s.recv_credit + delta > i64::from(MAX_WINDOW_SIZE)
                    });
                    if !overflow {
                        for s in self.streams.values_mut() {
                            s.recv_credit += delta;
                        }
                        self.initial_window = i64::from(w);
                        list.push(Setting::InitialWindowSize(w));
                    }
                }
                if let Some(m) = max_frame_size {
                    self.max_frame_size = m as usize;
                    list.push(Setting::MaxFrameSize(m));
                }
                self.c.send(settings(list));
            }
            Action::ClientReset { stream } => {
                let Some(id) = self.pick(stream, Self::live) else {
                    return;
                };
                self.streams.get_mut(&id).unwrap().reset = true;
                self.c.send(rst(id, ErrorCode::Cancel));
            }
            Action::Respond { stream, body } => {
                let Some(id) = self.pick(stream, |s| !s.reset && !s.head_sent) else {
                    return;
                };
                self.streams.get_mut(&id).unwrap().head_sent = true;
                self.c
                    .conn
                    .send_response(sid(id), StatusCode::OK, &HeaderMap::new(), false, now)
                    .expect("live stream accepts a head");
                self.c
                    .conn
                    .send_data(sid(id), Bytes::from(vec![1; body]), true)
                    .expect("live stream accepts a body");
            }
            Action::AppReset { stream } => {
                let Some(id) = self.pick(stream, |s| !s.reset && !s.server_done) else {
                    return;
                };
                let s = self.streams.get_mut(&id).unwrap();
                s.reset = true;
                s.app_reset = true;
                self.c.conn.reset(sid(id), ErrorCode::Cancel, now);
            }
        }
    }

    /// Reads what the server wrote and checks every invariant against the client's view.
    fn check_output(&mut self) {
        for frame in self.c.frames() {
            match &frame {
                Frame::GoAway(g) => panic!("valid client got GOAWAY: {g:?}"),
                Frame::Data(d) => {
                    let id = d.stream_id.value();
                    let len = d.data.len() as i64;
                    assert!(d.data.len() <= self.max_frame_size, "frame too big");
                    let s = self.streams.get_mut(&id).expect("DATA on unknown stream");
                    assert!(!s.server_done, "DATA on {id} after END_STREAM/RST_STREAM");
                    s.recv_credit -= len;
                    self.conn_recv_credit -= len;
                    assert!(s.recv_credit >= 0, "stream {id} window exceeded");
                    assert!(self.conn_recv_credit >= 0, "connection window exceeded");
                    s.server_done |= d.end_stream;
                }
                Frame::Headers(h) => {
                    let id = h.stream_id.value();
                    assert!(h.end_headers, "small heads fit one frame");
                    let s = self
                        .streams
                        .get_mut(&id)
                        .expect("HEADERS on unknown stream");
                    assert!(
                        !s.server_done,
                        "HEADERS on {id} after END_STREAM/RST_STREAM"
                    );
                    s.server_done |= h.end_stream;
                    let block = h.fragment.clone();
                    self.c.decode_block(&block);
                }
                Frame::RstStream(r) => {
                    let id = r.stream_id.value();
                    let s = self
                        .streams
                        .get_mut(&id)
                        .expect("RST_STREAM on unknown stream");
                    assert!(s.app_reset, "unprovoked RST_STREAM {r:?}");
                    assert_eq!(r.code, ErrorCode::Cancel);
                    assert!(!s.server_done, "second RST_STREAM on {id}");
                    s.server_done = true;
                }
                Frame::WindowUpdate(w) => {
                    let inc = i64::from(w.increment);
                    match w.stream_id.value() {
                        0 => self.conn_send_allow += inc,
                        id => {
                            let s = self.streams.get_mut(&id).expect("WINDOW_UPDATE on unknown");
                            s.send_allow += inc;
                        }
                    }
                }
                Frame::Ping(p) => assert!(p.ack && &p.payload == b"proptest"),
                Frame::Settings(s) => assert!(s.ack),
                other => panic!("unexpected frame {other:?}"),
            }
        }
        // Events must be consistent too: no Reset the client did not cause.
        for e in self.c.events() {
            if let Event::Reset { by_peer: false, .. } = e {
                panic!("valid client caused a stream error: {e:?}");
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(192))]

    #[test]
    fn valid_clients_are_served_within_their_windows(actions in prop::collection::vec(action(), 1..80)) {
        let mut m = Model::new();
        for a in &actions {
            m.apply(a);
            m.check_output();
            prop_assert_eq!(m.c.conn.phase(), h2ring_conn::Phase::Open);
        }
    }
}

/// Raw, mostly invalid client input: a frame of any type on a handful of stream ids.
fn raw_input() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        (
            0u8..12,
            any::<u8>(),
            prop::sample::select(vec![0u32, 1, 2, 3, 5, 7, 0x8000_0001]),
            prop::collection::vec(any::<u8>(), 0..24)
        )
            .prop_map(|(kind, flags, id, payload)| raw_frame(kind, flags, id, &payload)),
        // A valid request head on some odd stream.
        prop::sample::select(vec![1u32, 3, 5, 7, 9]).prop_map(|id| raw_frame(
            0x1,
            0x4,
            id,
            b"\x82\x87\x84\x41\x0bexample.com"
        )),
        prop::collection::vec(any::<u8>(), 0..16),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn invalid_input_never_panics_and_goaway_comes_last(
        inputs in prop::collection::vec(raw_input(), 1..40),
        respond in any::<bool>(),
    ) {
        let mut c = Client::connected(Config::default());
        let mut error_goaway = false;
        for input in &inputs {
            c.send_bytes(input);
            for e in c.events() {
                if let Event::Request { stream, .. } = e {
                    if respond {
                        let now = c.now;
                        let _ = c.conn.send_response(stream, StatusCode::OK, &HeaderMap::new(), false, now);
                        let _ = c.conn.send_data(stream, Bytes::from_static(b"ok"), true);
                    }
                }
            }
            let mut out = bytes::BytesMut::new();
            c.conn.poll_transmit(&mut out, c.now);
            let mut decoder = h2ring_frame::Decoder::new();
            decoder.set_max_frame_size(h2ring_frame::MAX_MAX_FRAME_SIZE);
            while !out.is_empty() {
                let frame = decoder.decode(&mut out);
                let Ok(Some(frame)) = frame else {
                    panic!("server wrote garbage: {frame:?}");
                };
                prop_assert!(!error_goaway, "frame after an error GOAWAY: {:?}", frame);
                if let Frame::GoAway(g) = &frame {
                    if g.code != ErrorCode::NoError {
                        error_goaway = true;
                    }
                }
            }
        }
    }
}
