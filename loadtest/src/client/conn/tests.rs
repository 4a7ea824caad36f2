//! Per-rule tests of the client connection against a scripted server.

use super::*;
use h2ring_frame::{Continuation, Ping, RstStream, PREFACE};
use h2ring_hpack::hpack::Encoder;

struct Peer {
    enc: Encoder,
    dec: Decoder,
    hdec: hpack::Decoder,
}

impl Peer {
    fn new() -> Peer {
        Peer {
            enc: Encoder::new(),
            dec: Decoder::new(),
            hdec: hpack::Decoder::new(4096),
        }
    }

    fn head(&mut self, id: u32, status: u16, end_stream: bool) -> BytesMut {
        let mut block = BytesMut::new();
        self.enc.begin_block(&mut block);
        self.enc.encode_status(status, &mut block);
        self.enc.encode_field(b"server", b"test", &mut block);
        let mut dst = BytesMut::new();
        encode_header_block(
            StreamId::new(id),
            &block,
            end_stream,
            None,
            16_384,
            &mut dst,
        );
        dst
    }

    /// Decodes what the client wrote (after the preface, which must come first).
    fn frames(&mut self, out: &[u8], skip_preface: bool) -> Vec<Frame> {
        let mut src = BytesMut::from(out);
        if skip_preface {
            assert_eq!(&src[..24], &PREFACE[..]);
            src.advance(24);
        }
        let mut v = Vec::new();
        while let Some(f) = self.dec.decode(&mut src).unwrap() {
            v.push(f);
        }
        assert!(src.is_empty());
        v
    }
}

fn opts(streams: u32, body: &'static [u8]) -> ConnOptions {
    let mut request = RequestSpec::get("localhost", "/");
    request.body = Bytes::from_static(body);
    ConnOptions {
        request,
        streams,
        stream_window: 1 << 30,
        connection_window: 1 << 20,
    }
}

fn window() -> (Instant, RecordWindow) {
    let now = Instant::now();
    (
        now,
        RecordWindow {
            from: now,
            until: None,
        },
    )
}

fn encode(frame: Frame) -> BytesMut {
    let mut dst = BytesMut::new();
    frame.encode(&mut dst);
    dst
}

fn drain(conn: &mut ClientConn) -> Vec<u8> {
    let v = conn.output().to_vec();
    conn.consume_output(v.len());
    v
}

#[test]
fn get_then_200_records_latency_and_frees_the_slot() {
    let (now, win) = window();
    let mut st = Stats::new();
    let mut conn = ClientConn::new(&opts(1, b""));
    let mut peer = Peer::new();
    assert!(conn.can_send());
    conn.send_request(now, now, &win, &mut st);
    assert!(!conn.can_send());
    let sent = peer.frames(&drain(&mut conn), true);
    assert!(matches!(&sent[0], Frame::Settings(s) if !s.ack));
    let Frame::Headers(h) = &sent[2] else {
        panic!("{sent:?}")
    };
    assert_eq!(h.stream_id, StreamId::new(1));
    assert!(h.end_stream && h.end_headers);
    let fields = peer.hdec.decode_block(&h.fragment).unwrap();
    assert_eq!(fields[0], (b":method".to_vec(), b"GET".to_vec()));

    let mut input = encode(Frame::Settings(Settings::new(vec![])));
    input.extend_from_slice(&peer.head(1, 200, true));
    let later = now + Duration::from_millis(20);
    conn.recv(&mut input, later, &win, &mut st).unwrap();
    assert!(input.is_empty());
    assert!(conn.is_established());
    assert_eq!(st.succeeded, 1);
    assert_eq!(st.requests, 1);
    assert_eq!(st.latency.len(), 1);
    assert!(st.latency.equivalent(st.latency.max(), 20_000));
    assert!(conn.can_send());
    // The SETTINGS was acknowledged (RFC 9113 §6.5.3).
    let reply = peer.frames(&drain(&mut conn), false);
    assert_eq!(reply, vec![Frame::Settings(Settings::ack())]);
}

#[test]
fn second_request_replays_an_indexed_block() {
    let (now, win) = window();
    let mut st = Stats::new();
    let mut conn = ClientConn::new(&opts(2, b""));
    conn.send_request(now, now, &win, &mut st);
    conn.send_request(now, now, &win, &mut st);
    let mut peer = Peer::new();
    let sent = peer.frames(&drain(&mut conn), true);
    let (Frame::Headers(a), Frame::Headers(b)) = (&sent[2], &sent[3]) else {
        panic!("{sent:?}")
    };
    assert_eq!(b.stream_id, StreamId::new(3));
    // RFC 7541 §6.1: five fields, one octet each.
    assert_eq!(b.fragment.len(), 5);
    let first = peer.hdec.decode_block(&a.fragment).unwrap();
    assert_eq!(peer.hdec.decode_block(&b.fragment).unwrap(), first);
}

#[test]
fn data_end_stream_completes_and_windows_are_returned() {
    let (now, win) = window();
    let mut st = Stats::new();
    let mut conn = ClientConn::new(&opts(1, b""));
    let mut peer = Peer::new();
    conn.send_request(now, now, &win, &mut st);
    drain(&mut conn);
    let mut input = peer.head(1, 200, false);
    // 600 KiB on a 1 MiB connection window: one connection WINDOW_UPDATE after half.
    for i in 0..40 {
        let end = i == 39;
        let data = Data::new(StreamId::new(1), Bytes::from(vec![7u8; 15_360]), end);
        input.extend_from_slice(&encode(Frame::Data(data)));
    }
    conn.recv(&mut input, now, &win, &mut st).unwrap();
    assert_eq!(st.body_bytes, 40 * 15_360);
    assert_eq!(st.succeeded, 1);
    let sent = peer.frames(&drain(&mut conn), false);
    assert_eq!(
        sent,
        vec![Frame::WindowUpdate(WindowUpdate {
            stream_id: StreamId::ZERO,
            increment: 35 * 15_360
        })]
    );
}

#[test]
fn interim_1xx_then_final_status() {
    let (now, win) = window();
    let mut st = Stats::new();
    let mut conn = ClientConn::new(&opts(1, b""));
    let mut peer = Peer::new();
    conn.send_request(now, now, &win, &mut st);
    let mut input = peer.head(1, 103, false);
    input.extend_from_slice(&peer.head(1, 204, true));
    conn.recv(&mut input, now, &win, &mut st).unwrap();
    assert_eq!(st.succeeded, 1);
    assert_eq!(st.error_total(), 0);
}

#[test]
fn error_status_and_reset_are_counted_by_kind() {
    let (now, win) = window();
    let mut st = Stats::new();
    let mut conn = ClientConn::new(&opts(2, b""));
    let mut peer = Peer::new();
    conn.send_request(now, now, &win, &mut st);
    conn.send_request(now, now, &win, &mut st);
    let mut input = peer.head(1, 503, true);
    input.extend_from_slice(&encode(Frame::RstStream(RstStream {
        stream_id: StreamId::new(3),
        code: ErrorCode::RefusedStream,
    })));
    conn.recv(&mut input, now, &win, &mut st).unwrap();
    assert_eq!(st.succeeded, 0);
    assert_eq!(st.failed_status, 1);
    assert_eq!(st.errors.get(&ErrorKind::Status(503)), Some(&1));
    assert_eq!(st.errors.get(&ErrorKind::Reset(7)), Some(&1));
    assert_eq!(conn.in_flight(), 0);
    // Only the 503 got a latency; the reset stream did not.
    assert_eq!(st.latency.len(), 1);
}

#[test]
fn warm_up_responses_are_not_recorded() {
    let now = Instant::now();
    let win = RecordWindow {
        from: now + Duration::from_secs(1),
        until: None,
    };
    let mut st = Stats::new();
    let mut conn = ClientConn::new(&opts(1, b""));
    let mut peer = Peer::new();
    conn.send_request(now, now, &win, &mut st);
    conn.recv(&mut peer.head(1, 200, true), now, &win, &mut st)
        .unwrap();
    assert_eq!((st.requests, st.succeeded, st.latency.len()), (0, 0, 0));
}

#[test]
fn upload_respects_stream_and_connection_windows() {
    static BODY: [u8; 100_000] = [5u8; 100_000];
    let (now, win) = window();
    let mut st = Stats::new();
    let mut conn = ClientConn::new(&opts(1, &BODY));
    let mut peer = Peer::new();
    conn.send_request(now, now, &win, &mut st);
    let sent = peer.frames(&drain(&mut conn), true);
    let data: Vec<&Data> = sent
        .iter()
        .filter_map(|f| match f {
            Frame::Data(d) => Some(d),
            _ => None,
        })
        .collect();
    // RFC 9113 §6.9.2: 65,535 octets before any WINDOW_UPDATE, frames ≤ 16,384.
    assert_eq!(data.iter().map(|d| d.data.len()).sum::<usize>(), 65_535);
    assert!(data.iter().all(|d| d.data.len() <= 16_384 && !d.end_stream));
    let Frame::Headers(h) = &sent[2] else {
        panic!()
    };
    assert!(!h.end_stream);
    let fields = peer.hdec.decode_block(&h.fragment).unwrap();
    assert!(fields.contains(&(b"content-length".to_vec(), b"100000".to_vec())));

    // Only the stream window grows: still blocked on the connection window.
    let mut input = encode(Frame::WindowUpdate(WindowUpdate {
        stream_id: StreamId::new(1),
        increment: 100_000,
    }));
    conn.recv(&mut input, now, &win, &mut st).unwrap();
    assert!(drain(&mut conn).is_empty());
    let mut input = encode(Frame::WindowUpdate(WindowUpdate {
        stream_id: StreamId::ZERO,
        increment: 100_000,
    }));
    conn.recv(&mut input, now, &win, &mut st).unwrap();
    let sent = peer.frames(&drain(&mut conn), false);
    let rest: usize = sent
        .iter()
        .map(|f| match f {
            Frame::Data(d) => d.data.len(),
            _ => 0,
        })
        .sum();
    assert_eq!(rest, 100_000 - 65_535);
    assert!(matches!(sent.last(), Some(Frame::Data(d)) if d.end_stream));
}

#[test]
fn early_response_cancels_the_rest_of_the_body() {
    static BODY: [u8; 100_000] = [5u8; 100_000];
    let (now, win) = window();
    let mut st = Stats::new();
    let mut conn = ClientConn::new(&opts(1, &BODY));
    let mut peer = Peer::new();
    conn.send_request(now, now, &win, &mut st);
    drain(&mut conn);
    conn.recv(&mut peer.head(1, 405, true), now, &win, &mut st)
        .unwrap();
    let sent = peer.frames(&drain(&mut conn), false);
    assert_eq!(
        sent,
        vec![Frame::RstStream(RstStream {
            stream_id: StreamId::new(1),
            code: ErrorCode::Cancel
        })]
    );
    assert_eq!(st.errors.get(&ErrorKind::Status(405)), Some(&1));
}

#[test]
fn server_max_concurrent_streams_caps_the_pipeline() {
    let (now, win) = window();
    let mut st = Stats::new();
    let mut conn = ClientConn::new(&opts(8, b""));
    let mut input = encode(Frame::Settings(Settings::new(vec![
        Setting::MaxConcurrentStreams(2),
    ])));
    conn.recv(&mut input, now, &win, &mut st).unwrap();
    conn.send_request(now, now, &win, &mut st);
    conn.send_request(now, now, &win, &mut st);
    assert!(!conn.can_send());
}

#[test]
fn goaway_fails_unprocessed_streams_and_stops_new_ones() {
    let (now, win) = window();
    let mut st = Stats::new();
    let mut conn = ClientConn::new(&opts(3, b""));
    for _ in 0..3 {
        conn.send_request(now, now, &win, &mut st);
    }
    let mut input = encode(Frame::GoAway(GoAway::new(
        StreamId::new(3),
        ErrorCode::NoError,
    )));
    conn.recv(&mut input, now, &win, &mut st).unwrap();
    assert_eq!(st.errors.get(&ErrorKind::GoAway(0)), Some(&1));
    assert_eq!(st.errors.get(&ErrorKind::Closed), Some(&1));
    assert_eq!(conn.in_flight(), 2);
    assert!(!conn.can_send());
    assert!(!conn.is_finished());
    let mut peer = Peer::new();
    let mut input = peer.head(1, 200, true);
    input.extend_from_slice(&peer.head(3, 200, true));
    conn.recv(&mut input, now, &win, &mut st).unwrap();
    assert!(conn.is_finished());
}

#[test]
fn ping_is_answered() {
    let (now, win) = window();
    let mut st = Stats::new();
    let mut conn = ClientConn::new(&opts(1, b""));
    drain(&mut conn);
    let mut input = encode(Frame::Ping(Ping::new(*b"12345678")));
    conn.recv(&mut input, now, &win, &mut st).unwrap();
    let mut peer = Peer::new();
    assert_eq!(
        peer.frames(&drain(&mut conn), false),
        vec![Frame::Ping(Ping::pong(*b"12345678"))]
    );
}

#[test]
fn interleaved_header_block_is_a_connection_protocol_error() {
    let (now, win) = window();
    let mut st = Stats::new();
    let mut conn = ClientConn::new(&opts(2, b""));
    conn.send_request(now, now, &win, &mut st);
    conn.send_request(now, now, &win, &mut st);
    drain(&mut conn);
    let mut input = encode(Frame::Headers(Headers {
        stream_id: StreamId::new(1),
        fragment: Bytes::from_static(&[0x88]),
        end_stream: true,
        end_headers: false,
        priority: None,
        pad_len: None,
    }));
    input.extend_from_slice(&encode(Frame::Continuation(Continuation {
        stream_id: StreamId::new(3),
        fragment: Bytes::new(),
        end_headers: true,
    })));
    assert_eq!(conn.recv(&mut input, now, &win, &mut st), Err(ConnFailed));
    assert_eq!(st.errors.get(&ErrorKind::Protocol), Some(&1));
    assert_eq!(st.errors.get(&ErrorKind::Closed), Some(&2));
    let mut peer = Peer::new();
    let sent = peer.frames(&drain(&mut conn), false);
    assert!(matches!(&sent[..], [Frame::GoAway(g)] if g.code == ErrorCode::ProtocolError));
}

#[test]
fn continuation_completes_a_split_head() {
    let (now, win) = window();
    let mut st = Stats::new();
    let mut conn = ClientConn::new(&opts(1, b""));
    conn.send_request(now, now, &win, &mut st);
    let mut input = encode(Frame::Headers(Headers {
        stream_id: StreamId::new(1),
        fragment: Bytes::new(),
        end_stream: true,
        end_headers: false,
        priority: None,
        pad_len: None,
    }));
    // 0x88 = indexed :status 200 (RFC 7541 Appendix A).
    input.extend_from_slice(&encode(Frame::Continuation(Continuation {
        stream_id: StreamId::new(1),
        fragment: Bytes::from_static(&[0x88]),
        end_headers: true,
    })));
    conn.recv(&mut input, now, &win, &mut st).unwrap();
    assert_eq!(st.succeeded, 1);
}

#[test]
fn timeout_cancels_old_requests() {
    let (now, win) = window();
    let mut st = Stats::new();
    let mut conn = ClientConn::new(&opts(2, b""));
    conn.send_request(now, now, &win, &mut st);
    let later = now + Duration::from_millis(500);
    conn.send_request(later, later, &win, &mut st);
    drain(&mut conn);
    conn.expire(later, Duration::from_millis(400), &mut st);
    assert_eq!(conn.in_flight(), 1);
    assert_eq!(st.errors.get(&ErrorKind::Timeout), Some(&1));
    let mut peer = Peer::new();
    assert_eq!(
        peer.frames(&drain(&mut conn), false),
        vec![Frame::RstStream(RstStream {
            stream_id: StreamId::new(1),
            code: ErrorCode::Cancel
        })]
    );
}

#[test]
fn status_parsing() {
    assert_eq!(parse_status(b"200"), 200);
    assert_eq!(parse_status(b"20"), 0);
    assert_eq!(parse_status(b"2x0"), 0);
}

/// A repeated block is only taken from the memo while the HPACK table is unchanged: the
/// same index means something else after an insertion.
#[test]
fn repeated_blocks_reuse_the_status_only_while_the_table_is_unchanged() {
    let (now, win) = window();
    let mut st = Stats::new();
    let mut conn = ClientConn::new(&opts(5, b""));
    for _ in 0..5 {
        conn.send_request(now, now, &win, &mut st);
    }
    // Literal `:status: 503` with incremental indexing (dynamic index 62), then index 62
    // twice, then `:status: 204` inserted (now index 62), then index 62 again.
    let blocks: [&'static [u8]; 5] = [
        &[0x48, 0x03, b'5', b'0', b'3'],
        &[0xbe],
        &[0xbe],
        &[0x48, 0x03, b'2', b'0', b'4'],
        &[0xbe],
    ];
    let mut input = BytesMut::new();
    for (i, block) in blocks.iter().enumerate() {
        input.extend_from_slice(&encode(Frame::Headers(Headers {
            stream_id: StreamId::new(1 + 2 * i as u32),
            fragment: Bytes::from_static(block),
            end_stream: true,
            end_headers: true,
            priority: None,
            pad_len: None,
        })));
    }
    conn.recv(&mut input, now, &win, &mut st).unwrap();
    assert_eq!(st.errors.get(&ErrorKind::Status(503)), Some(&3));
    assert_eq!(st.succeeded, 2);
}
