//! Byte-exact wire vectors: hand-written expected octets for encoders, decoded back.

use bytes::{Bytes, BytesMut};
use h2ring_frame::*;

/// Encodes `frame`, compares with `want`, then decodes `want` and compares with `frame`.
fn check(frame: Frame, want: &[u8]) {
    let mut dst = BytesMut::new();
    frame.encode(&mut dst);
    assert_eq!(&dst[..], want, "encoding of {frame:?}");
    let mut src = BytesMut::from(want);
    assert_eq!(Decoder::new().decode(&mut src), Ok(Some(frame)));
    assert!(src.is_empty());
}

#[test]
fn settings() {
    check(
        Frame::Settings(Settings::new(vec![
            Setting::MaxConcurrentStreams(100),
            Setting::InitialWindowSize(65_535),
            Setting::EnablePush(false),
            Setting::EnableConnectProtocol(true),
        ])),
        &[
            0, 0, 24, 0x4, 0x0, 0, 0, 0, 0, //
            0, 0x3, 0, 0, 0, 100, //
            0, 0x4, 0, 0, 0xff, 0xff, //
            0, 0x2, 0, 0, 0, 0, //
            0, 0x8, 0, 0, 0, 1,
        ],
    );
}

#[test]
fn settings_ack() {
    check(
        Frame::Settings(Settings::ack()),
        &[0, 0, 0, 0x4, 0x1, 0, 0, 0, 0],
    );
}

#[test]
fn ping_and_pong() {
    check(
        Frame::Ping(Ping::new(*b"\x01\x02\x03\x04\x05\x06\x07\x08")),
        &[0, 0, 8, 0x6, 0x0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8],
    );
    check(
        Frame::Ping(Ping::pong([0xff; 8])),
        &[
            0, 0, 8, 0x6, 0x1, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        ],
    );
}

#[test]
fn goaway() {
    check(
        Frame::GoAway(GoAway {
            last_stream_id: StreamId::new(7),
            code: ErrorCode::ProtocolError,
            debug_data: Bytes::from_static(b"hi"),
        }),
        &[
            0, 0, 10, 0x7, 0, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 1, b'h', b'i',
        ],
    );
}

#[test]
fn window_update() {
    check(
        Frame::WindowUpdate(WindowUpdate {
            stream_id: StreamId::new(3),
            increment: 0x0001_0000,
        }),
        &[0, 0, 4, 0x8, 0, 0, 0, 0, 3, 0, 1, 0, 0],
    );
}

#[test]
fn rst_stream() {
    check(
        Frame::RstStream(RstStream {
            stream_id: StreamId::new(5),
            code: ErrorCode::Cancel,
        }),
        &[0, 0, 4, 0x3, 0, 0, 0, 0, 5, 0, 0, 0, 8],
    );
}

#[test]
fn headers_with_priority_and_padding() {
    check(
        Frame::Headers(Headers {
            stream_id: StreamId::new(1),
            fragment: Bytes::from_static(&[0x82, 0x86]),
            end_stream: true,
            end_headers: true,
            priority: Some(PrioritySpec {
                dependency: StreamId::new(3),
                exclusive: true,
                weight: 15,
            }),
            pad_len: Some(2),
        }),
        &[
            0, 0, 10, 0x1, 0x2d, 0, 0, 0, 1, // END_STREAM|END_HEADERS|PADDED|PRIORITY
            2, // Pad Length
            0x80, 0, 0, 3, 15, // E + dependency 3, weight 16
            0x82, 0x86, // fragment
            0, 0, // padding
        ],
    );
}

#[test]
fn data_with_padding() {
    check(
        Frame::Data(Data {
            stream_id: StreamId::new(1),
            data: Bytes::from_static(b"abc"),
            end_stream: true,
            pad_len: Some(3),
        }),
        &[0, 0, 7, 0x0, 0x9, 0, 0, 0, 1, 3, b'a', b'b', b'c', 0, 0, 0],
    );
}

#[test]
fn priority_and_priority_update() {
    check(
        Frame::Priority(Priority {
            stream_id: StreamId::new(5),
            spec: PrioritySpec {
                dependency: StreamId::ZERO,
                exclusive: false,
                weight: 255,
            },
        }),
        &[0, 0, 5, 0x2, 0, 0, 0, 0, 5, 0, 0, 0, 0, 255],
    );
    check(
        Frame::PriorityUpdate(PriorityUpdate {
            prioritized_stream_id: StreamId::new(5),
            field_value: Bytes::from_static(b"u=0"),
        }),
        &[0, 0, 7, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 5, b'u', b'=', b'0'],
    );
}

/// Splits encoded frames into (header octets, payload) pairs.
fn split_frames(mut wire: &[u8]) -> Vec<([u8; 9], Vec<u8>)> {
    let mut out = Vec::new();
    while !wire.is_empty() {
        let head: [u8; 9] = wire[..9].try_into().unwrap();
        let len = u32::from_be_bytes([0, head[0], head[1], head[2]]) as usize;
        out.push((head, wire[9..9 + len].to_vec()));
        wire = &wire[9 + len..];
    }
    out
}

#[test]
fn header_block_split_into_continuations() {
    let block: Vec<u8> = (0..40_000u32).map(|i| (i % 251) as u8).collect();
    let mut dst = BytesMut::new();
    encode_header_block(StreamId::new(1), &block, true, None, 16_384, &mut dst);
    let frames = split_frames(&dst);
    assert_eq!(frames.len(), 3);
    // HEADERS 16384, END_STREAM only.
    assert_eq!(frames[0].0, [0x00, 0x40, 0x00, 0x1, 0x1, 0, 0, 0, 1]);
    // CONTINUATION 16384, no flags.
    assert_eq!(frames[1].0, [0x00, 0x40, 0x00, 0x9, 0x0, 0, 0, 0, 1]);
    // CONTINUATION 7232, END_HEADERS.
    assert_eq!(frames[2].0, [0x00, 0x1c, 0x40, 0x9, 0x4, 0, 0, 0, 1]);
    let joined: Vec<u8> = frames.iter().flat_map(|(_, p)| p.clone()).collect();
    assert_eq!(joined, block);
}

#[test]
fn header_block_priority_counts_against_first_frame() {
    let block = vec![0xaa; 16_384];
    let spec = PrioritySpec {
        dependency: StreamId::new(0),
        exclusive: false,
        weight: 15,
    };
    let mut dst = BytesMut::new();
    encode_header_block(
        StreamId::new(3),
        &block,
        false,
        Some(spec),
        16_384,
        &mut dst,
    );
    let frames = split_frames(&dst);
    assert_eq!(frames.len(), 2);
    assert_eq!(frames[0].0, [0x00, 0x40, 0x00, 0x1, 0x20, 0, 0, 0, 3]);
    assert_eq!(&frames[0].1[..5], &[0, 0, 0, 0, 15]);
    assert_eq!(frames[1].0, [0, 0, 5, 0x9, 0x4, 0, 0, 0, 3]);
}

#[test]
fn small_and_empty_header_blocks_fit_one_frame() {
    let mut dst = BytesMut::new();
    encode_header_block(StreamId::new(1), &[], false, None, 16_384, &mut dst);
    assert_eq!(&dst[..], &[0, 0, 0, 0x1, 0x4, 0, 0, 0, 1]);
    let mut dst = BytesMut::new();
    encode_header_block(StreamId::new(1), &[0x88], true, None, 16_384, &mut dst);
    assert_eq!(&dst[..], &[0, 0, 1, 0x1, 0x5, 0, 0, 0, 1, 0x88]);
}

#[test]
fn header_block_max_frame_size_is_clamped() {
    // A bogus limit below 16384 is raised to 16384 instead of looping on tiny frames.
    let mut dst = BytesMut::new();
    encode_header_block(StreamId::new(1), &[7; 16_384], false, None, 0, &mut dst);
    assert_eq!(&dst[..9], &[0x00, 0x40, 0x00, 0x1, 0x4, 0, 0, 0, 1]);
    assert_eq!(dst.len(), 9 + 16_384);
}

#[test]
fn push_promise_split() {
    let block = vec![0x55; 16_384];
    let mut dst = BytesMut::new();
    encode_push_promise(StreamId::new(1), StreamId::new(2), &block, 16_384, &mut dst);
    let frames = split_frames(&dst);
    assert_eq!(frames.len(), 2);
    // PUSH_PROMISE: 4-octet promised id + 16380 fragment octets, no END_HEADERS.
    assert_eq!(frames[0].0, [0x00, 0x40, 0x00, 0x5, 0x0, 0, 0, 0, 1]);
    assert_eq!(&frames[0].1[..4], &[0, 0, 0, 2]);
    assert_eq!(frames[1].0, [0, 0, 4, 0x9, 0x4, 0, 0, 0, 1]);
    let mut dst = BytesMut::new();
    encode_push_promise(
        StreamId::new(1),
        StreamId::new(4),
        b"\x82",
        16_384,
        &mut dst,
    );
    assert_eq!(&dst[..], &[0, 0, 5, 0x5, 0x4, 0, 0, 0, 1, 0, 0, 0, 4, 0x82]);
}

#[test]
fn data_header_for_caller_written_payload() {
    let mut dst = BytesMut::new();
    encode_data_header(StreamId::new(9), 3, false, &mut dst);
    dst.extend_from_slice(b"xyz");
    assert_eq!(&dst[..], &[0, 0, 3, 0x0, 0x0, 0, 0, 0, 9, b'x', b'y', b'z']);
    let mut src = dst;
    assert_eq!(
        Decoder::new().decode(&mut src),
        Ok(Some(Frame::Data(Data::new(
            StreamId::new(9),
            Bytes::from_static(b"xyz"),
            false
        ))))
    );
}

#[test]
fn preface() {
    assert_eq!(
        check_preface(b"PRI * HTTP/2.0\r\n\r\nSM"),
        Ok(PrefaceStatus::Incomplete)
    );
    assert_eq!(check_preface(b"PRI * HTTP/1.1"), Err(BadPreface));
    assert_eq!(
        check_preface(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00"),
        Ok(PrefaceStatus::Matched)
    );
}

#[test]
fn zero_copy_payloads_point_into_source() {
    let mut wire = BytesMut::new();
    Frame::Data(Data {
        stream_id: StreamId::new(1),
        data: Bytes::from_static(b"payload"),
        end_stream: false,
        pad_len: Some(4),
    })
    .encode(&mut wire);
    Frame::GoAway(GoAway {
        last_stream_id: StreamId::new(1),
        code: ErrorCode::NoError,
        debug_data: Bytes::from_static(b"bye"),
    })
    .encode(&mut wire);
    let start = wire.as_ptr() as usize;
    let range = start..start + wire.len();
    let mut dec = Decoder::new();
    let Ok(Some(Frame::Data(d))) = dec.decode(&mut wire) else {
        panic!("expected DATA")
    };
    let Ok(Some(Frame::GoAway(g))) = dec.decode(&mut wire) else {
        panic!("expected GOAWAY")
    };
    assert_eq!(d.data.as_ptr() as usize, start + FRAME_HEADER_LEN + 1);
    assert!(range.contains(&(g.debug_data.as_ptr() as usize)));
    assert_eq!(&g.debug_data[..], b"bye");
}

#[test]
fn header_block_framed_in_place_matches_the_copying_encoder() {
    use bytes::BytesMut;
    use h2ring_frame::{encode_header_block, frame_header_block_in_place, StreamId};
    for (len, end_stream) in [(0usize, true), (5, false), (16_384, true), (40_000, false)] {
        let block: Vec<u8> = (0..len).map(|i| i as u8).collect();
        let mut expected = BytesMut::from(&b"prefix"[..]);
        encode_header_block(
            StreamId::new(7),
            &block,
            end_stream,
            None,
            16_384,
            &mut expected,
        );
        let mut got = BytesMut::from(&b"prefix"[..]);
        let start = got.len();
        got.extend_from_slice(&[0; 9]);
        got.extend_from_slice(&block);
        frame_header_block_in_place(StreamId::new(7), end_stream, 16_384, &mut got, start);
        assert_eq!(got, expected, "block of {len} octets");
    }
}
