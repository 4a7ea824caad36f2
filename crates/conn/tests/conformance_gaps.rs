//! RFC 9113 / RFC 7541 / RFC 9218 requirements that `docs/CONFORMANCE.md` found implemented
//! but not checked through the connection: each test sends the offending octets to a
//! connected server and asserts the exact frame (and code) that comes back.

mod support;

use bytes::Bytes;
use h2ring_conn::{Config, Event, Phase, StreamState};
use h2ring_frame::{ErrorCode, Frame, Headers, PrioritySpec, Setting, MAX_WINDOW_SIZE};
use http::{HeaderMap, Method, Uri};
use support::*;

// Frame type octets (RFC 9113 §6).
const DATA: u8 = 0x0;
const HEADERS: u8 = 0x1;
const PRIORITY: u8 = 0x2;
const RST_STREAM: u8 = 0x3;
const SETTINGS: u8 = 0x4;
const PING: u8 = 0x6;
const GOAWAY: u8 = 0x7;
const WINDOW_UPDATE: u8 = 0x8;
const PRIORITY_UPDATE: u8 = 0x10;

// Flag bits (RFC 9113 §6.1, §6.2).
const END_STREAM: u8 = 0x1;
const END_HEADERS: u8 = 0x4;
const PADDED: u8 = 0x8;
const PRIORITY_FLAG: u8 = 0x20;

/// A minimal GET block with static-table entries only (:method GET, :scheme https, :path /,
/// :authority literal), so it can be placed in hand-made frames.
fn static_get_block() -> Vec<u8> {
    let mut v = vec![0x82, 0x87, 0x84, 0x41, 11];
    v.extend_from_slice(b"example.com");
    v
}

/// One SETTINGS parameter as it travels: 16-bit id, 32-bit value (RFC 9113 §6.5.1).
fn setting(id: u16, value: u32) -> Vec<u8> {
    let mut v = id.to_be_bytes().to_vec();
    v.extend_from_slice(&value.to_be_bytes());
    v
}

// ---- §4.1 frame format -------------------------------------------------------------------

#[test]
fn unknown_flags_on_a_known_frame_are_ignored() {
    // RFC 9113 §4.1: flags with no defined meaning MUST be ignored. 0xfe on PING has ACK clear.
    let mut c = Client::connected(Config::default());
    c.send_bytes(&raw_frame(PING, 0xfe, 0, b"abcdefgh"));
    assert_eq!(
        c.frames(),
        vec![Frame::Ping(h2ring_frame::Ping {
            ack: true,
            payload: *b"abcdefgh"
        })]
    );
}

#[test]
fn reserved_bit_of_the_stream_id_is_ignored() {
    // RFC 9113 §4.1: the R bit MUST be ignored when receiving; 0x8000_0001 is stream 1.
    let mut c = Client::connected(Config::default());
    c.send_bytes(&raw_frame(
        HEADERS,
        END_STREAM | END_HEADERS,
        0x8000_0001,
        &static_get_block(),
    ));
    assert_eq!(Client::request_ids(&c.events()), vec![1]);
    assert!(c.frames().is_empty());
}

// ---- §4.2 frame size -----------------------------------------------------------------------

#[test]
fn oversized_headers_frame_is_a_connection_frame_size_error() {
    // RFC 9113 §4.2: a frame that carries a field block and exceeds SETTINGS_MAX_FRAME_SIZE
    // MUST be a connection error, since the HPACK context can no longer be kept in sync.
    let mut c = Client::connected(Config::default());
    c.send_bytes(&raw_frame(HEADERS, END_HEADERS, 1, &[0; 16_385]));
    let frames = c.expect_goaway(0, ErrorCode::FrameSizeError);
    assert!(resets(&frames).is_empty());
}

#[test]
fn frame_at_exactly_max_frame_size_is_accepted() {
    // RFC 9113 §4.2: 16 384 octets is always a legal payload length.
    let mut c = Client::connected(Config::default());
    c.request(1, "POST", "/", false);
    c.send_bytes(&raw_frame(DATA, 0, 1, &[7; 16_384]));
    assert!(c.frames().is_empty());
    let events = c.events();
    assert!(
        matches!(&events[1], Event::Data { data, .. } if data.len() == 16_384),
        "{events:?}"
    );
}

// ---- §5.1 stream states --------------------------------------------------------------------

#[test]
fn headers_on_a_half_closed_remote_stream_is_stream_closed() {
    // RFC 9113 §5.1 half-closed (remote): frames other than WINDOW_UPDATE, PRIORITY and
    // RST_STREAM MUST get a stream error STREAM_CLOSED.
    let mut c = Client::connected(Config::default());
    c.request(1, "GET", "/", true);
    c.events();
    c.request(1, "GET", "/again", true);
    c.expect_resets(&[(1, ErrorCode::StreamClosed)]);
    assert!(matches!(
        c.events()[..],
        [Event::Reset {
            code: ErrorCode::StreamClosed,
            by_peer: false,
            ..
        }]
    ));
    assert_eq!(c.conn.stream_state(sid(1)), None);
}

#[test]
fn window_update_and_priority_on_a_half_closed_remote_stream_are_allowed() {
    // RFC 9113 §5.1 half-closed (remote): WINDOW_UPDATE, PRIORITY and RST_STREAM are allowed.
    let mut c = Client::connected(Config::default());
    c.request(1, "GET", "/", true);
    c.send(window_update(1, 100));
    c.send(priority(1, 0));
    assert!(c.frames().is_empty());
    assert_eq!(
        c.conn.stream_state(sid(1)),
        Some(StreamState::HalfClosedRemote)
    );
    c.send(rst(1, ErrorCode::Cancel));
    assert!(c.frames().is_empty(), "no RST_STREAM answers RST_STREAM");
    assert_eq!(c.conn.stream_state(sid(1)), None);
}

#[test]
fn window_update_and_rst_stream_after_our_end_stream_are_ignored() {
    // RFC 9113 §5.1 closed: after we sent END_STREAM the peer may still send WINDOW_UPDATE
    // or RST_STREAM before it sees it; they are not errors.
    let mut c = Client::connected(Config::default());
    c.request(1, "GET", "/", true);
    c.respond_body(1, 10);
    c.frames();
    assert_eq!(c.conn.stream_state(sid(1)), None);
    c.send(window_update(1, 1_000));
    c.send(rst(1, ErrorCode::Cancel));
    c.send(priority(1, 0));
    assert!(c.frames().is_empty());
    assert_eq!(c.conn.phase(), Phase::Open);
}

#[test]
fn data_on_a_finished_stream_is_a_stream_closed_stream_error() {
    // RFC 9113 §5.1 closed: other frames MAY be a connection error STREAM_CLOSED; for DATA
    // we choose the stream error (RST_STREAM STREAM_CLOSED) and keep the connection.
    let mut c = Client::connected(Config::default());
    c.request(1, "GET", "/", true);
    c.respond(1, 204, true);
    c.frames();
    c.events();
    c.data(1, b"late", false);
    c.expect_resets(&[(1, ErrorCode::StreamClosed)]);
    c.request(3, "GET", "/", true);
    assert_eq!(Client::request_ids(&c.events()), vec![3]);
}

#[test]
fn rst_stream_is_never_answered_with_rst_stream() {
    // RFC 9113 §5.4.2: an endpoint MUST NOT send RST_STREAM in response to RST_STREAM.
    let mut c = Client::connected(Config::default());
    c.request(1, "POST", "/", false);
    c.events();
    c.send(rst(1, ErrorCode::InternalError));
    assert!(c.frames().is_empty());
    assert!(matches!(
        c.events()[..],
        [Event::Reset {
            code: ErrorCode::InternalError,
            by_peer: true,
            ..
        }]
    ));
    // A second one for the same, now closed, stream is ignored too.
    c.send(rst(1, ErrorCode::Cancel));
    assert!(c.frames().is_empty());
    assert_eq!(c.conn.phase(), Phase::Open);
}

#[test]
fn data_on_a_reserved_local_stream_is_a_protocol_error() {
    // RFC 9113 §5.1 reserved (local): anything but RST_STREAM, PRIORITY, WINDOW_UPDATE
    // MUST be a connection error PROTOCOL_ERROR.
    let mut c = Client::connected(Config::default());
    c.request(1, "GET", "/", true);
    let promised = c
        .conn
        .push_promise(
            sid(1),
            Method::GET,
            Uri::from_static("https://example.com/p"),
            HeaderMap::new(),
        )
        .unwrap();
    assert_eq!(promised, sid(2));
    c.frames();
    c.send(window_update(2, 100));
    c.send(priority(2, 0));
    assert!(c.frames().is_empty());
    c.data(2, b"x", false);
    c.expect_goaway(1, ErrorCode::ProtocolError);
}

#[test]
fn priority_self_dependency_on_an_idle_stream_resets_it() {
    // RFC 9113 §5.3.1: a stream cannot depend on itself (stream error PROTOCOL_ERROR). For an
    // idle stream we answer RST_STREAM like Go's server rather than a connection error.
    let mut c = Client::connected(Config::default());
    c.send(priority(5, 5));
    c.expect_resets(&[(5, ErrorCode::ProtocolError)]);
}

// ---- §5.5 extensions -------------------------------------------------------------------------

#[test]
fn unknown_frame_inside_a_header_block_is_a_protocol_error() {
    // RFC 9113 §5.5, §6.10: an extension frame between HEADERS and its CONTINUATION MUST be
    // a connection error PROTOCOL_ERROR.
    let mut c = Client::connected(Config::default());
    let block = c.block(&[
        (":method", "GET"),
        (":scheme", "https"),
        (":authority", "example.com"),
        (":path", "/"),
    ]);
    c.send(headers(1, block.slice(..2), true, false));
    c.send_bytes(&raw_frame(0xfa, 0, 0, b"extension"));
    c.expect_goaway(1, ErrorCode::ProtocolError);
    assert!(c
        .events()
        .iter()
        .all(|e| !matches!(e, Event::Request { .. })));
}

// ---- §6.1 DATA, §6.2 HEADERS -----------------------------------------------------------------

#[test]
fn data_on_stream_zero_is_a_protocol_error() {
    // RFC 9113 §6.1: DATA on stream 0 MUST be a connection error PROTOCOL_ERROR.
    let mut c = Client::connected(Config::default());
    c.send_bytes(&raw_frame(DATA, 0, 0, b"x"));
    c.expect_goaway(0, ErrorCode::ProtocolError);
}

#[test]
fn data_padding_as_long_as_the_payload_is_a_protocol_error() {
    // RFC 9113 §6.1: padding length ≥ payload length MUST be a connection error PROTOCOL_ERROR.
    let mut c = Client::connected(Config::default());
    c.request(1, "POST", "/", false);
    c.send_bytes(&raw_frame(DATA, PADDED, 1, &[3, b'a', b'b']));
    c.expect_goaway(1, ErrorCode::ProtocolError);
}

#[test]
fn headers_on_stream_zero_is_a_protocol_error() {
    // RFC 9113 §6.2: HEADERS on stream 0 MUST be a connection error PROTOCOL_ERROR.
    let mut c = Client::connected(Config::default());
    c.send_bytes(&raw_frame(
        HEADERS,
        END_STREAM | END_HEADERS,
        0,
        &static_get_block(),
    ));
    c.expect_goaway(0, ErrorCode::ProtocolError);
}

#[test]
fn headers_padding_longer_than_the_block_is_a_protocol_error() {
    // RFC 9113 §6.2: padding that exceeds the remaining payload MUST be a connection error.
    let mut c = Client::connected(Config::default());
    let mut payload = vec![200];
    payload.extend_from_slice(&static_get_block());
    c.send_bytes(&raw_frame(
        HEADERS,
        PADDED | END_STREAM | END_HEADERS,
        1,
        &payload,
    ));
    c.expect_goaway(0, ErrorCode::ProtocolError);
}

#[test]
fn padded_headers_with_priority_make_a_normal_request() {
    // RFC 9113 §6.2: Pad Length, the priority fields and padding are removed before the block
    // is decoded; the RFC 7540 priority itself is ignored (§5.3.2).
    let mut c = Client::connected(Config::default());
    let block = Bytes::from(static_get_block());
    c.send(Frame::Headers(Headers {
        stream_id: sid(3),
        fragment: block,
        end_stream: true,
        end_headers: true,
        priority: Some(PrioritySpec {
            dependency: sid(1),
            exclusive: true,
            weight: 200,
        }),
        pad_len: Some(17),
    }));
    let events = c.events();
    let [Event::Request { stream, head, .. }] = &events[..] else {
        panic!("{events:?}")
    };
    assert_eq!(*stream, sid(3));
    assert_eq!(head.path.as_ref().map(|p| p.as_str()), Some("/"));
    assert!(c.frames().is_empty());
    // The flag bit itself is accepted on a raw frame too.
    let mut payload = vec![0, 0, 0, 0, 16];
    payload.extend_from_slice(&[0x82, 0x87, 0x84, 0xbe]);
    c.send_bytes(&raw_frame(
        HEADERS,
        PRIORITY_FLAG | END_STREAM | END_HEADERS,
        5,
        &payload,
    ));
    assert_eq!(Client::request_ids(&c.events()), vec![5]);
}

// ---- §6.3 PRIORITY, §6.4 RST_STREAM -------------------------------------------------------

#[test]
fn priority_of_the_wrong_length_is_a_stream_frame_size_error() {
    // RFC 9113 §6.3: a PRIORITY frame whose length is not 5 MUST be a stream error
    // FRAME_SIZE_ERROR.
    let mut c = Client::connected(Config::default());
    c.request(1, "POST", "/", false);
    c.send_bytes(&raw_frame(PRIORITY, 0, 1, &[0, 0, 0, 0]));
    c.expect_resets(&[(1, ErrorCode::FrameSizeError)]);
}

#[test]
fn priority_on_stream_zero_is_a_protocol_error() {
    // RFC 9113 §6.3: PRIORITY on stream 0 MUST be a connection error PROTOCOL_ERROR.
    let mut c = Client::connected(Config::default());
    c.send_bytes(&raw_frame(PRIORITY, 0, 0, &[0, 0, 0, 1, 15]));
    c.expect_goaway(0, ErrorCode::ProtocolError);
}

#[test]
fn rst_stream_on_stream_zero_is_a_protocol_error() {
    // RFC 9113 §6.4: RST_STREAM on stream 0 MUST be a connection error PROTOCOL_ERROR.
    let mut c = Client::connected(Config::default());
    c.send_bytes(&raw_frame(RST_STREAM, 0, 0, &[0, 0, 0, 8]));
    c.expect_goaway(0, ErrorCode::ProtocolError);
}

#[test]
fn rst_stream_of_the_wrong_length_is_a_frame_size_error() {
    // RFC 9113 §6.4: length other than 4 MUST be a connection error FRAME_SIZE_ERROR.
    let mut c = Client::connected(Config::default());
    c.request(1, "POST", "/", false);
    c.send_bytes(&raw_frame(RST_STREAM, 0, 1, &[0, 0, 8]));
    c.expect_goaway(1, ErrorCode::FrameSizeError);
}

// ---- §6.5 SETTINGS -------------------------------------------------------------------------

fn settings_error(payload: &[u8], flags: u8, stream: u32, code: ErrorCode) {
    let mut c = Client::connected(Config::default());
    c.send_bytes(&raw_frame(SETTINGS, flags, stream, payload));
    c.expect_goaway(0, code);
}

#[test]
fn settings_on_a_stream_is_a_protocol_error() {
    // RFC 9113 §6.5: SETTINGS with a stream id other than 0 → connection PROTOCOL_ERROR.
    settings_error(&[], 0, 1, ErrorCode::ProtocolError);
}

#[test]
fn settings_length_not_a_multiple_of_six_is_a_frame_size_error() {
    // RFC 9113 §6.5: length not a multiple of 6 → connection FRAME_SIZE_ERROR.
    settings_error(&[0, 3, 0, 0, 0], 0, 0, ErrorCode::FrameSizeError);
}

#[test]
fn settings_ack_with_a_payload_is_a_frame_size_error() {
    // RFC 9113 §6.5: ACK with a non-empty payload → connection FRAME_SIZE_ERROR.
    settings_error(&setting(3, 10), 0x1, 0, ErrorCode::FrameSizeError);
}

#[test]
fn enable_push_other_than_zero_or_one_is_a_protocol_error() {
    // RFC 9113 §6.5.2: SETTINGS_ENABLE_PUSH other than 0 or 1 → PROTOCOL_ERROR.
    settings_error(&setting(2, 2), 0, 0, ErrorCode::ProtocolError);
}

#[test]
fn initial_window_size_above_the_maximum_is_a_flow_control_error() {
    // RFC 9113 §6.5.2: SETTINGS_INITIAL_WINDOW_SIZE above 2^31-1 → FLOW_CONTROL_ERROR.
    settings_error(
        &setting(4, MAX_WINDOW_SIZE + 1),
        0,
        0,
        ErrorCode::FlowControlError,
    );
}

#[test]
fn max_frame_size_out_of_range_is_a_protocol_error() {
    // RFC 9113 §6.5.2: SETTINGS_MAX_FRAME_SIZE outside 2^14..=2^24-1 → PROTOCOL_ERROR.
    settings_error(&setting(5, 16_383), 0, 0, ErrorCode::ProtocolError);
    settings_error(&setting(5, 1 << 24), 0, 0, ErrorCode::ProtocolError);
}

#[test]
fn settings_values_apply_in_order_last_one_wins() {
    // RFC 9113 §6.5.3: values are processed in the order they appear.
    let mut c = Client::connected(Config::default());
    let mut payload = setting(4, 100);
    payload.extend(setting(4, 3_000));
    c.send_bytes(&raw_frame(SETTINGS, 0, 0, &payload));
    c.frames();
    c.request(1, "GET", "/", true);
    c.respond_body(1, 5_000);
    assert_eq!(data_total(&c.frames(), 1), 3_000);
}

#[test]
fn server_never_advertises_enable_push() {
    // RFC 9113 §6.5.2: a server MUST NOT send SETTINGS_ENABLE_PUSH = 1 (we omit it).
    let mut c = Client::raw(Config::default());
    let frames = c.frames();
    let Frame::Settings(s) = &frames[0] else {
        panic!("{frames:?}")
    };
    assert!(!s.iter().any(|s| matches!(s, Setting::EnablePush(_))));
}

// ---- §6.7 PING, §6.8 GOAWAY, §6.9 WINDOW_UPDATE ---------------------------------------------

#[test]
fn ping_of_the_wrong_length_is_a_frame_size_error() {
    // RFC 9113 §6.7: length other than 8 → connection FRAME_SIZE_ERROR.
    let mut c = Client::connected(Config::default());
    c.send_bytes(&raw_frame(PING, 0, 0, &[0; 7]));
    c.expect_goaway(0, ErrorCode::FrameSizeError);
}

#[test]
fn goaway_on_a_stream_is_a_protocol_error() {
    // RFC 9113 §6.8: GOAWAY with a stream id other than 0 → connection PROTOCOL_ERROR.
    let mut c = Client::connected(Config::default());
    c.send_bytes(&raw_frame(GOAWAY, 0, 1, &[0, 0, 0, 0, 0, 0, 0, 0]));
    c.expect_goaway(0, ErrorCode::ProtocolError);
}

#[test]
fn goaway_with_an_unknown_code_is_just_a_goaway() {
    // RFC 9113 §7: unknown error codes MUST NOT trigger special behaviour. A peer GOAWAY of
    // any code starts our graceful shutdown (GOAWAY NO_ERROR back, open streams finish).
    let mut c = Client::connected(Config::default());
    c.request(1, "GET", "/", true);
    c.events();
    c.send_bytes(&raw_frame(
        GOAWAY,
        0,
        0,
        &[0, 0, 0, 1, 0, 0, 0xbe, 0xef, b'd', b'b', b'g'],
    ));
    let events = c.events();
    assert!(
        matches!(
            events[..],
            [
                Event::GoAwayReceived {
                    code: ErrorCode::Unknown(0xbeef),
                    ..
                },
                Event::Closing {
                    code: ErrorCode::NoError
                }
            ]
        ),
        "{events:?}"
    );
    // Our answer is a graceful GOAWAY; the unknown code is not echoed.
    assert_eq!(
        goaway(&c.frames()).map(|(_, code)| code),
        Some(ErrorCode::NoError)
    );
    c.respond_body(1, 4);
    assert_eq!(data_frames(&c.frames()), vec![(1, 4, true)]);
}

#[test]
fn rst_stream_with_an_unknown_code_closes_only_that_stream() {
    // RFC 9113 §7: an unknown code is treated like any other (here: INTERNAL_ERROR is not
    // assumed); the stream is closed and nothing is sent.
    let mut c = Client::connected(Config::default());
    c.request(1, "POST", "/", false);
    c.events();
    c.send_bytes(&raw_frame(RST_STREAM, 0, 1, &[0, 0, 0x12, 0x34]));
    assert!(c.frames().is_empty());
    assert!(matches!(
        c.events()[..],
        [Event::Reset {
            code: ErrorCode::Unknown(0x1234),
            by_peer: true,
            ..
        }]
    ));
    assert_eq!(c.conn.phase(), Phase::Open);
}

#[test]
fn window_update_of_the_wrong_length_is_a_frame_size_error() {
    // RFC 9113 §6.9: length other than 4 → connection FRAME_SIZE_ERROR.
    let mut c = Client::connected(Config::default());
    c.send_bytes(&raw_frame(WINDOW_UPDATE, 0, 0, &[0, 0, 1, 0, 0]));
    c.expect_goaway(0, ErrorCode::FrameSizeError);
}

#[test]
fn window_update_reserved_bit_is_ignored() {
    // RFC 9113 §6.9: the reserved bit of the increment is ignored.
    let mut c = Client::connected(Config::default());
    c.request(1, "GET", "/", true);
    c.respond_body(1, 70_000);
    assert_eq!(data_total(&c.frames(), 1), 65_535);
    c.send(window_update(0, 10_000));
    c.send_bytes(&raw_frame(WINDOW_UPDATE, 0, 1, &[0x80, 0, 0x03, 0xe8]));
    assert_eq!(data_frames(&c.frames()), vec![(1, 1_000, false)]);
}

// ---- RFC 9218 §7.1 PRIORITY_UPDATE ----------------------------------------------------------

#[test]
fn priority_update_on_a_stream_is_a_protocol_error() {
    // RFC 9218 §7.1: PRIORITY_UPDATE with a stream id other than 0 → PROTOCOL_ERROR.
    let mut c = Client::connected(Config::default());
    c.request(1, "GET", "/", false);
    c.send_bytes(&raw_frame(
        PRIORITY_UPDATE,
        0,
        1,
        &[0, 0, 0, 1, b'u', b'=', b'1'],
    ));
    c.expect_goaway(1, ErrorCode::ProtocolError);
}

#[test]
fn priority_update_for_stream_zero_is_a_protocol_error() {
    // RFC 9218 §7.1: Prioritized Stream ID 0 → connection PROTOCOL_ERROR.
    let mut c = Client::connected(Config::default());
    c.send_bytes(&raw_frame(
        PRIORITY_UPDATE,
        0,
        0,
        &[0, 0, 0, 0, b'u', b'=', b'1'],
    ));
    c.expect_goaway(0, ErrorCode::ProtocolError);
}

// ---- RFC 7541 at the connection --------------------------------------------------------------

#[test]
fn table_size_update_above_our_limit_is_a_compression_error() {
    // RFC 7541 §6.3: a size update above SETTINGS_HEADER_TABLE_SIZE (4096) MUST be a decoding
    // error, i.e. connection COMPRESSION_ERROR (RFC 9113 §4.3).
    let mut c = Client::connected(Config::default());
    let mut block = vec![0x3f, 0xe2, 0x1f];
    block.extend_from_slice(&static_get_block());
    c.send_bytes(&raw_frame(HEADERS, END_STREAM | END_HEADERS, 1, &block));
    c.expect_goaway(1, ErrorCode::CompressionError);
}

#[test]
fn table_size_update_after_a_field_is_a_compression_error() {
    // RFC 7541 §4.2: a size update MUST come at the start of a block.
    let mut c = Client::connected(Config::default());
    let mut block = static_get_block();
    block.push(0x20);
    c.send_bytes(&raw_frame(HEADERS, END_STREAM | END_HEADERS, 1, &block));
    c.expect_goaway(1, ErrorCode::CompressionError);
}

#[test]
fn table_size_update_at_the_start_is_accepted() {
    // RFC 7541 §4.2, §6.3: lowering the table at the start of a block is legal.
    let mut c = Client::connected(Config::default());
    let mut block = vec![0x20, 0x3f, 0xe1, 0x1f];
    block.extend_from_slice(&static_get_block());
    c.send_bytes(&raw_frame(HEADERS, END_STREAM | END_HEADERS, 1, &block));
    assert_eq!(Client::request_ids(&c.events()), vec![1]);
    assert!(c.frames().is_empty());
}

#[test]
fn bad_huffman_in_a_request_is_a_compression_error() {
    // RFC 7541 §5.2: padding not made of EOS bits MUST be a decoding error.
    let mut c = Client::connected(Config::default());
    let block = [0x82, 0x87, 0x84, 0x41, 0x81, 0x18];
    c.send_bytes(&raw_frame(HEADERS, END_STREAM | END_HEADERS, 1, &block));
    c.expect_goaway(1, ErrorCode::CompressionError);
}

// ---- RFC 9113 §8 and RFC 8441 at the connection ----------------------------------------------

#[test]
fn connection_specific_response_fields_are_not_sent() {
    // RFC 9113 §8.2.2: an endpoint MUST NOT generate connection-specific fields.
    let mut c = Client::connected(Config::default());
    c.request(1, "GET", "/", true);
    let mut h = HeaderMap::new();
    for (name, value) in [
        ("connection", "close"),
        ("keep-alive", "timeout=5"),
        ("proxy-connection", "keep-alive"),
        ("transfer-encoding", "chunked"),
        ("upgrade", "h2c"),
        ("x-kept", "yes"),
    ] {
        h.insert(name, http::HeaderValue::from_static(value));
    }
    let now = c.now;
    c.conn
        .send_response(sid(1), http::StatusCode::OK, &h, true, now)
        .unwrap();
    let frames = c.frames();
    assert_eq!(
        c.fields_of(&frames[0]),
        vec![
            (":status".to_string(), "200".to_string()),
            ("x-kept".to_string(), "yes".to_string())
        ]
    );
}

fn websocket_request(c: &mut Client, id: u32) {
    c.request_raw(
        id,
        &[
            (":method", "CONNECT"),
            (":protocol", "websocket"),
            (":scheme", "https"),
            (":authority", "example.com"),
            (":path", "/chat"),
        ],
        false,
    );
}

#[test]
fn protocol_pseudo_header_without_our_setting_is_malformed() {
    // RFC 8441 §3: :protocol before SETTINGS_ENABLE_CONNECT_PROTOCOL = 1 was sent is malformed
    // (RFC 9113 §8.1.1: stream error PROTOCOL_ERROR).
    let mut c = Client::connected(Config::default());
    websocket_request(&mut c, 1);
    c.expect_resets(&[(1, ErrorCode::ProtocolError)]);
    assert!(c.events().is_empty());
}

#[test]
fn extended_connect_opens_a_tunnel_stream_when_enabled() {
    // RFC 8441 §4: with the setting sent, CONNECT + :protocol is a request whose DATA frames
    // carry the tunnel in both directions.
    let mut c = Client::connected({
        let mut config = Config::default();
        config.extended_connect = true;
        config
    });
    websocket_request(&mut c, 1);
    c.data(1, b"ping", false);
    let events = c.events();
    let [Event::Request {
        head,
        end_stream: false,
        ..
    }, Event::Data { data, .. }] = &events[..]
    else {
        panic!("{events:?}")
    };
    assert_eq!(head.method, Method::CONNECT);
    assert_eq!(head.protocol.as_deref(), Some("websocket"));
    assert_eq!(&data[..], b"ping");
    c.respond(1, 200, false);
    c.conn
        .send_data(sid(1), Bytes::from_static(b"pong"), false)
        .unwrap();
    let frames = c.frames();
    assert_eq!(data_frames(&frames), vec![(1, 4, false)]);
    assert_eq!(c.conn.stream_state(sid(1)), Some(StreamState::Open));
}

#[test]
fn nothing_more_is_sent_on_a_stream_the_peer_reset() {
    // RFC 9113 §6.4: after RST_STREAM the receiver MUST NOT send more frames on the stream
    // (PRIORITY aside): queued response DATA is dropped even when the window reopens.
    // The connection window (65 535) is what holds the rest of the body back.
    let mut c =
        Client::connected_with(Config::default(), vec![Setting::InitialWindowSize(1 << 20)]);
    c.request(1, "GET", "/", true);
    c.request(3, "GET", "/", true);
    c.respond_body(1, 100_000);
    assert_eq!(data_total(&c.frames(), 1), 65_535);
    c.send(rst(1, ErrorCode::Cancel));
    c.respond_body(3, 10);
    c.send(window_update(0, 100_000));
    let frames = c.frames();
    assert_eq!(
        data_frames(&frames),
        vec![(3, 10, true)],
        "{}",
        summary(&frames)
    );
    assert_eq!(c.conn.stream_state(sid(1)), None);
}
