//! Property tests: every frame type survives encode → decode, and decoding is
//! independent of how the input is chunked.

use bytes::{Bytes, BytesMut};
use h2ring_frame::*;
use proptest::prelude::*;

fn stream() -> impl Strategy<Value = StreamId> {
    (1..=StreamId::MAX.value()).prop_map(StreamId::new)
}

fn any_stream() -> impl Strategy<Value = StreamId> {
    (0..=StreamId::MAX.value()).prop_map(StreamId::new)
}

fn payload(max: usize) -> impl Strategy<Value = Bytes> {
    proptest::collection::vec(any::<u8>(), 0..max).prop_map(Bytes::from)
}

fn code() -> impl Strategy<Value = ErrorCode> {
    any::<u32>().prop_map(ErrorCode::from_u32)
}

fn spec() -> impl Strategy<Value = PrioritySpec> {
    (any_stream(), any::<bool>(), any::<u8>()).prop_map(|(dependency, exclusive, weight)| {
        PrioritySpec {
            dependency,
            exclusive,
            weight,
        }
    })
}

fn data() -> impl Strategy<Value = Data> {
    (stream(), payload(200), any::<bool>(), any::<Option<u8>>()).prop_map(
        |(stream_id, data, end_stream, pad_len)| Data {
            stream_id,
            data,
            end_stream,
            pad_len,
        },
    )
}

fn headers() -> impl Strategy<Value = Headers> {
    (
        stream(),
        payload(200),
        any::<(bool, bool)>(),
        proptest::option::of(spec()),
        any::<Option<u8>>(),
    )
        .prop_map(
            |(stream_id, fragment, (end_stream, end_headers), priority, pad_len)| Headers {
                stream_id,
                fragment,
                end_stream,
                end_headers,
                priority,
                pad_len,
            },
        )
}

fn priority() -> impl Strategy<Value = Priority> {
    (stream(), spec())
        .prop_filter("no self-dependency", |(id, s)| s.dependency != *id)
        .prop_map(|(stream_id, spec)| Priority { stream_id, spec })
}

fn rst_stream() -> impl Strategy<Value = RstStream> {
    (stream(), code()).prop_map(|(stream_id, code)| RstStream { stream_id, code })
}

fn setting() -> impl Strategy<Value = Setting> {
    prop_oneof![
        any::<u32>().prop_map(Setting::HeaderTableSize),
        any::<bool>().prop_map(Setting::EnablePush),
        any::<u32>().prop_map(Setting::MaxConcurrentStreams),
        (0..=MAX_WINDOW_SIZE).prop_map(Setting::InitialWindowSize),
        (DEFAULT_MAX_FRAME_SIZE..=MAX_MAX_FRAME_SIZE).prop_map(Setting::MaxFrameSize),
        any::<u32>().prop_map(Setting::MaxHeaderListSize),
        any::<bool>().prop_map(Setting::EnableConnectProtocol),
        any::<bool>().prop_map(Setting::NoRfc7540Priorities),
    ]
}

fn settings() -> impl Strategy<Value = Settings> {
    prop_oneof![
        Just(Settings::ack()),
        proptest::collection::vec(setting(), 0..12).prop_map(Settings::new),
    ]
}

fn push_promise() -> impl Strategy<Value = PushPromise> {
    (
        stream(),
        any_stream(),
        payload(200),
        any::<bool>(),
        any::<Option<u8>>(),
    )
        .prop_map(
            |(stream_id, promised_id, fragment, end_headers, pad_len)| PushPromise {
                stream_id,
                promised_id,
                fragment,
                end_headers,
                pad_len,
            },
        )
}

fn ping() -> impl Strategy<Value = Ping> {
    (any::<bool>(), any::<[u8; 8]>()).prop_map(|(ack, payload)| Ping { ack, payload })
}

fn goaway() -> impl Strategy<Value = GoAway> {
    (any_stream(), code(), payload(100)).prop_map(|(last_stream_id, code, debug_data)| GoAway {
        last_stream_id,
        code,
        debug_data,
    })
}

fn window_update() -> impl Strategy<Value = WindowUpdate> {
    (any_stream(), 1..=MAX_WINDOW_SIZE).prop_map(|(stream_id, increment)| WindowUpdate {
        stream_id,
        increment,
    })
}

fn continuation() -> impl Strategy<Value = Continuation> {
    (stream(), payload(200), any::<bool>()).prop_map(|(stream_id, fragment, end_headers)| {
        Continuation {
            stream_id,
            fragment,
            end_headers,
        }
    })
}

fn priority_update() -> impl Strategy<Value = PriorityUpdate> {
    (stream(), payload(50)).prop_map(|(prioritized_stream_id, field_value)| PriorityUpdate {
        prioritized_stream_id,
        field_value,
    })
}

fn unknown() -> impl Strategy<Value = Unknown> {
    (
        any::<u8>().prop_filter("unknown type", |k| FrameType::from_u8(*k).is_none()),
        any::<u8>(),
        any_stream(),
        0..100u32,
    )
        .prop_map(|(kind, flags, stream_id, length)| Unknown {
            kind,
            flags,
            stream_id,
            length,
        })
}

fn frame() -> impl Strategy<Value = Frame> {
    prop_oneof![
        data().prop_map(Frame::from),
        headers().prop_map(Frame::from),
        priority().prop_map(Frame::from),
        rst_stream().prop_map(Frame::from),
        settings().prop_map(Frame::from),
        push_promise().prop_map(Frame::from),
        ping().prop_map(Frame::from),
        goaway().prop_map(Frame::from),
        window_update().prop_map(Frame::from),
        continuation().prop_map(Frame::from),
        priority_update().prop_map(Frame::from),
        unknown().prop_map(Frame::from),
    ]
}

/// Encodes one frame, decodes it back, and checks equality and full consumption.
fn round_trip(frame: Frame) -> Result<(), TestCaseError> {
    let mut buf = BytesMut::new();
    frame.encode(&mut buf);
    let encoded_len = buf.len();
    let decoded = Decoder::new().decode(&mut buf);
    prop_assert_eq!(decoded, Ok(Some(frame.clone())));
    prop_assert!(
        buf.is_empty(),
        "{} of {} octets left",
        buf.len(),
        encoded_len
    );
    Ok(())
}

/// Decodes frames until the buffer runs dry; any error fails the test.
fn drain(dec: &mut Decoder, buf: &mut BytesMut, out: &mut Vec<Frame>) -> Result<(), TestCaseError> {
    loop {
        match dec.decode(buf) {
            Ok(Some(f)) => out.push(f),
            Ok(None) => return Ok(()),
            Err(e) => return Err(TestCaseError::fail(format!("decode error {e}"))),
        }
    }
}

macro_rules! round_trip_tests {
    ($($name:ident => $strategy:expr),* $(,)?) => {
        proptest! {
            $(#[test]
            fn $name(f in $strategy) {
                round_trip(Frame::from(f))?;
            })*
        }
    };
}

round_trip_tests! {
    round_trip_data => data(),
    round_trip_headers => headers(),
    round_trip_priority => priority(),
    round_trip_rst_stream => rst_stream(),
    round_trip_settings => settings(),
    round_trip_push_promise => push_promise(),
    round_trip_ping => ping(),
    round_trip_goaway => goaway(),
    round_trip_window_update => window_update(),
    round_trip_continuation => continuation(),
    round_trip_priority_update => priority_update(),
    round_trip_unknown => unknown(),
}

proptest! {
    #[test]
    fn byte_at_a_time_equals_all_at_once(frames in proptest::collection::vec(frame(), 1..16)) {
        let mut wire = BytesMut::new();
        for f in &frames {
            f.encode(&mut wire);
        }
        let mut whole = wire.clone();
        let mut at_once = Vec::new();
        drain(&mut Decoder::new(), &mut whole, &mut at_once)?;
        prop_assert!(whole.is_empty());

        let mut dec = Decoder::new();
        let mut trickle = BytesMut::new();
        let mut one_by_one = Vec::new();
        for &octet in wire.iter() {
            trickle.extend_from_slice(&[octet]);
            drain(&mut dec, &mut trickle, &mut one_by_one)?;
        }
        prop_assert!(trickle.is_empty());
        prop_assert_eq!(&at_once, &frames);
        prop_assert_eq!(&one_by_one, &frames);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn header_block_reassembles(
        len in 0usize..50_000,
        max in DEFAULT_MAX_FRAME_SIZE..=40_000u32,
        end_stream in any::<bool>(),
        priority in proptest::option::of(spec()),
    ) {
        let block: Vec<u8> = (0..len).map(|i| (i % 253) as u8).collect();
        let mut wire = BytesMut::new();
        encode_header_block(StreamId::new(1), &block, end_stream, priority, max, &mut wire);
        let mut dec = Decoder::new();
        dec.set_max_frame_size(max);
        let mut frames = Vec::new();
        drain(&mut dec, &mut wire, &mut frames)?;
        prop_assert!(wire.is_empty());
        let Some((Frame::Headers(first), rest)) = frames.split_first() else {
            return Err(TestCaseError::fail("first frame is not HEADERS"));
        };
        prop_assert_eq!(first.end_stream, end_stream);
        prop_assert_eq!(first.priority, priority);
        prop_assert_eq!(first.end_headers, rest.is_empty());
        let mut joined = first.fragment.to_vec();
        for (i, f) in rest.iter().enumerate() {
            let Frame::Continuation(c) = f else {
                return Err(TestCaseError::fail("expected CONTINUATION"));
            };
            prop_assert_eq!(c.end_headers, i + 1 == rest.len());
            joined.extend_from_slice(&c.fragment);
        }
        prop_assert_eq!(joined, block);
    }

    #[test]
    fn push_promise_block_reassembles(len in 0usize..40_000, max in DEFAULT_MAX_FRAME_SIZE..=30_000u32) {
        let block: Vec<u8> = (0..len).map(|i| (i % 241) as u8).collect();
        let mut wire = BytesMut::new();
        encode_push_promise(StreamId::new(3), StreamId::new(8), &block, max, &mut wire);
        let mut dec = Decoder::new();
        dec.set_max_frame_size(max);
        let mut frames = Vec::new();
        drain(&mut dec, &mut wire, &mut frames)?;
        let Some((Frame::PushPromise(first), rest)) = frames.split_first() else {
            return Err(TestCaseError::fail("first frame is not PUSH_PROMISE"));
        };
        prop_assert_eq!(first.promised_id, StreamId::new(8));
        prop_assert_eq!(first.end_headers, rest.is_empty());
        let mut joined = first.fragment.to_vec();
        for f in rest {
            let Frame::Continuation(c) = f else {
                return Err(TestCaseError::fail("expected CONTINUATION"));
            };
            joined.extend_from_slice(&c.fragment);
        }
        prop_assert_eq!(joined, block);
    }
}
