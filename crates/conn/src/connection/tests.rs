//! Property test: the idle-frame budget bounds the work random frame sequences make a
//! connection do (issue 20). Work is counted as streams visited by passes over all of them
//! (`Stats::stream_visits`, test builds only); the only such pass a frame can cause is a
//! SETTINGS_INITIAL_WINDOW_SIZE change, at most one per frame, and only charged frames
//! may cause one, so the visits stay within streams × budget however the frames are mixed.

use std::time::Instant;

use bytes::{Bytes, BytesMut};
use h2ring_frame::{
    Data, ErrorCode, Frame, GoAway, Headers, Ping, Priority as PriorityFrame, PrioritySpec,
    PriorityUpdate, RstStream, Setting, Settings, StreamId, Unknown, WindowUpdate, PREFACE,
};
use http::{HeaderMap, StatusCode};
use proptest::prelude::*;

use super::{Connection, Phase};
use crate::budget::RateBudget;
use crate::config::Config;
use crate::event::Event;

/// Streams the connection may hold at once in these runs.
const MAX_STREAMS: u32 = 20;
/// The idle-frame burst; the clock never moves, so nothing refills it.
const BURST: u32 = 300;

/// GET / over https, every field from the static table or a literal without indexing, so
/// the block needs no HPACK state.
const GET_BLOCK: &[u8] = &[0x82, 0x87, 0x84, 0x01, 0x01, b'a'];

/// One frame of the random sequence, or the application writing.
#[derive(Debug, Clone)]
enum Step {
    Open,
    Settings(Vec<u32>),
    ConnWindow(u32),
    StreamWindow(u8, u32),
    Ping,
    PingAck,
    Priority(u8),
    PriorityUpdate(u8),
    EmptyData(u8),
    Reset(u8),
    GoAway,
    Unknown,
    Transmit,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        2 => Just(Step::Open),
        3 => proptest::collection::vec(0u32..70_000, 0..120).prop_map(Step::Settings),
        2 => (1u32..100_000).prop_map(Step::ConnWindow),
        2 => (any::<u8>(), 1u32..100_000).prop_map(|(s, n)| Step::StreamWindow(s, n)),
        1 => Just(Step::Ping),
        1 => Just(Step::PingAck),
        1 => any::<u8>().prop_map(Step::Priority),
        1 => any::<u8>().prop_map(Step::PriorityUpdate),
        1 => any::<u8>().prop_map(Step::EmptyData),
        1 => any::<u8>().prop_map(Step::Reset),
        1 => Just(Step::GoAway),
        1 => Just(Step::Unknown),
        1 => Just(Step::Transmit),
    ]
}

struct Run {
    conn: Connection,
    now: Instant,
    next_id: u32,
    out: BytesMut,
}

impl Run {
    fn new() -> Run {
        let now = Instant::now();
        let config = Config {
            max_concurrent_streams: MAX_STREAMS,
            idle_frame_budget: RateBudget {
                burst: BURST,
                per_second: 1,
            },
            max_settings_entries: 200,
            ..Config::default()
        };
        let mut run = Run {
            conn: Connection::new(config, now),
            now,
            next_id: 1,
            out: BytesMut::new(),
        };
        let mut input = BytesMut::from(&PREFACE[..]);
        Frame::Settings(Settings::new(vec![])).encode(&mut input);
        Frame::Settings(Settings::ack()).encode(&mut input);
        run.conn.recv(&mut input, now);
        run
    }

    /// A client stream id seen so far (or the next one), picked by `n`.
    fn some_stream(&self, n: u8) -> StreamId {
        StreamId::new(1 + 2 * (u32::from(n) % self.next_id.div_ceil(2).max(1)))
    }

    fn frame(&mut self, step: &Step) -> Option<Frame> {
        Some(match step {
            Step::Open => {
                let id = StreamId::new(self.next_id);
                self.next_id += 2;
                Frame::Headers(Headers {
                    stream_id: id,
                    fragment: Bytes::from_static(GET_BLOCK),
                    end_stream: true,
                    end_headers: true,
                    priority: None,
                    pad_len: None,
                })
            }
            Step::Settings(values) => Frame::Settings(Settings::new(
                values
                    .iter()
                    .map(|v| Setting::InitialWindowSize(*v))
                    .collect(),
            )),
            Step::ConnWindow(n) => Frame::WindowUpdate(WindowUpdate {
                stream_id: StreamId::ZERO,
                increment: *n,
            }),
            Step::StreamWindow(s, n) => Frame::WindowUpdate(WindowUpdate {
                stream_id: self.some_stream(*s),
                increment: *n,
            }),
            Step::Ping => Frame::Ping(Ping::new([1; 8])),
            Step::PingAck => Frame::Ping(Ping {
                ack: true,
                payload: [2; 8],
            }),
            Step::Priority(s) => Frame::Priority(PriorityFrame {
                stream_id: self.some_stream(*s),
                spec: PrioritySpec {
                    dependency: StreamId::new(101),
                    exclusive: false,
                    weight: 16,
                },
            }),
            Step::PriorityUpdate(s) => Frame::PriorityUpdate(PriorityUpdate {
                prioritized_stream_id: self.some_stream(*s),
                field_value: Bytes::from_static(b"u=1"),
            }),
            Step::EmptyData(s) => Frame::Data(Data {
                stream_id: self.some_stream(*s),
                data: Bytes::new(),
                end_stream: false,
                pad_len: None,
            }),
            Step::Reset(s) => Frame::RstStream(RstStream {
                stream_id: self.some_stream(*s),
                code: ErrorCode::Cancel,
            }),
            Step::GoAway => Frame::GoAway(GoAway {
                last_stream_id: StreamId::ZERO,
                code: ErrorCode::NoError,
                debug_data: Bytes::new(),
            }),
            Step::Unknown => Frame::Unknown(Unknown {
                kind: 0xfa,
                flags: 0,
                stream_id: StreamId::ZERO,
                length: 0,
            }),
            Step::Transmit => return None,
        })
    }

    /// Every request is answered with a body larger than any window, so streams stay
    /// open with data queued: the state in which INITIAL_WINDOW_SIZE changes cost most.
    fn answer_requests(&mut self) {
        while let Some(event) = self.conn.poll_event() {
            if let Event::Request { stream, .. } = event {
                let now = self.now;
                let empty = HeaderMap::new();
                let _ = self
                    .conn
                    .send_response(stream, StatusCode::OK, &empty, false, now);
                let _ = self
                    .conn
                    .send_data(stream, Bytes::from(vec![0; 100_000]), true);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn the_idle_frame_budget_bounds_the_work_per_connection(
        steps in proptest::collection::vec(step(), 1..400),
    ) {
        let mut run = Run::new();
        let mut streams_seen = 0u64;
        for step in &steps {
            let Some(frame) = run.frame(step) else {
                let now = run.now;
                run.conn.poll_transmit(&mut run.out, now);
                run.out.clear();
                continue;
            };
            let (visits, charged) = (run.conn.stats.stream_visits, run.conn.stats.charged);
            let mut input = BytesMut::new();
            frame.encode(&mut input);
            let now = run.now;
            run.conn.recv(&mut input, now);
            run.answer_requests();
            streams_seen = streams_seen.max(run.conn.store.len() as u64);
            let did = run.conn.stats.stream_visits - visits;
            // A frame that was not charged made no pass over the streams ...
            if run.conn.stats.charged == charged {
                prop_assert_eq!(did, 0, "uncharged {:?} visited streams", step);
            }
            // ... and no frame made more than one.
            prop_assert!(did <= u64::from(MAX_STREAMS), "{:?} visited {} streams", step, did);
            // The response-data counter is exact (it is what keeps judging O(1)).
            prop_assert_eq!(run.conn.queued_total, run.conn.store.queued_len_sum());
            if run.conn.phase == Phase::Lingering {
                break;
            }
        }
        let stats = &run.conn.stats;
        // The budget is all the peer can spend, and every visit was paid for.
        prop_assert!(stats.charged <= u64::from(BURST));
        prop_assert!(stats.stream_visits <= u64::from(MAX_STREAMS) * stats.charged);
    }
}
