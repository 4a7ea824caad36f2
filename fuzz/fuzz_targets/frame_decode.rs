//! Fuzzes the HTTP/2 frame decoder: arbitrary bytes fed in chunks must never panic,
//! must decode the same as when fed all at once, and every decoded frame must
//! survive an encode → decode round trip.
#![no_main]

use bytes::BytesMut;
use h2ring_frame::{Decoder, Frame, FrameError, DEFAULT_MAX_FRAME_SIZE, FRAME_HEADER_LEN};
use libfuzzer_sys::fuzz_target;

/// Step between max frame sizes picked by the first input byte.
const MAX_FRAME_SIZE_STEP: u32 = 257;
/// Largest chunk the second input byte can select.
const MAX_CHUNK: usize = 97;

/// One observable result of `Decoder::decode`.
#[derive(Debug, PartialEq)]
enum Event {
    Frame(Frame),
    Error(FrameError),
}

/// Re-encodes a decoded frame and checks it decodes to itself.
fn check_round_trip(frame: &Frame, consumed: usize, max_frame_size: u32) {
    let mut wire = BytesMut::new();
    frame.encode(&mut wire);
    // Every frame keeps what it needs to re-encode exactly (SETTINGS its unknown entries).
    assert_eq!(wire.len(), consumed, "re-encoded length differs: {frame:?}");
    let mut dec = Decoder::new();
    dec.set_max_frame_size(max_frame_size);
    let again = dec.decode(&mut wire);
    assert_eq!(again, Ok(Some(frame.clone())));
    assert!(wire.is_empty());
}

/// Decodes everything currently decodable from `buf`, recording events.
/// Returns false once a connection error ends the stream.
fn drain(dec: &mut Decoder, buf: &mut BytesMut, events: &mut Vec<Event>) -> bool {
    loop {
        let before = buf.len();
        match dec.decode(buf) {
            Ok(None) => {
                assert_eq!(buf.len(), before, "Ok(None) consumed input");
                return true;
            }
            Ok(Some(frame)) => {
                let consumed = before - buf.len();
                assert!(consumed >= FRAME_HEADER_LEN);
                check_round_trip(&frame, consumed, dec.max_frame_size());
                events.push(Event::Frame(frame));
            }
            Err(e @ FrameError::Stream { .. }) => {
                assert!(buf.len() < before, "stream error consumed nothing");
                events.push(Event::Error(e));
            }
            Err(e) => {
                events.push(Event::Error(e));
                return false;
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let [size_sel, chunk_sel, input @ ..] = data else {
        return;
    };
    let max_frame_size = DEFAULT_MAX_FRAME_SIZE + u32::from(*size_sel) * MAX_FRAME_SIZE_STEP;
    let chunk = 1 + usize::from(*chunk_sel) % MAX_CHUNK;

    let mut dec = Decoder::new();
    dec.set_max_frame_size(max_frame_size);
    let mut buf = BytesMut::new();
    let mut chunked = Vec::new();
    for piece in input.chunks(chunk) {
        buf.extend_from_slice(piece);
        if !drain(&mut dec, &mut buf, &mut chunked) {
            break;
        }
    }

    let mut dec = Decoder::new();
    dec.set_max_frame_size(max_frame_size);
    let mut whole = BytesMut::from(input);
    let mut at_once = Vec::new();
    drain(&mut dec, &mut whole, &mut at_once);
    assert_eq!(chunked, at_once);
});
