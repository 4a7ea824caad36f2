//! Fuzzes the sans-IO server connection: arbitrary client bytes, fed in chunks, must never
//! panic it, and everything it writes must decode as valid HTTP/2 frames.
//!
//! Input layout: byte 0 picks the mode — bit 0 set: a valid preface + SETTINGS + SETTINGS
//! ACK is fed first so the fuzzer starts in the open state; bits 1..=7 pick the chunk size
//! (1..=128) the rest of the input is fed in. The application answers every request with a
//! small response and consumes all request data.
#![no_main]

use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use h2ring_conn::{Config, Connection, Event};
use h2ring_frame::{Decoder, MAX_MAX_FRAME_SIZE};
use http::{HeaderMap, StatusCode};
use libfuzzer_sys::fuzz_target;

/// Client preface, an empty SETTINGS and an ACK of the server's SETTINGS.
const OPEN_PREFIX: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\
    \x00\x00\x00\x04\x00\x00\x00\x00\x00\
    \x00\x00\x00\x04\x01\x00\x00\x00\x00";

/// Virtual time that passes between chunks, so timers fire now and then.
const TICK: Duration = Duration::from_millis(700);

/// Decodes one `poll_transmit` output with a fresh decoder: whole, valid frames only.
fn check_output(out: &mut BytesMut) {
    let mut decoder = Decoder::new();
    decoder.set_max_frame_size(MAX_MAX_FRAME_SIZE);
    while !out.is_empty() {
        match decoder.decode(out) {
            Ok(Some(_)) => {}
            Ok(None) => panic!("server output ends in a partial frame: {out:?}"),
            Err(e) => panic!("server wrote an invalid frame: {e:?}"),
        }
    }
}

/// The application: answer requests (small whole bodies, the connection's short path),
/// consume bodies.
fn run_app(conn: &mut Connection, now: Instant) {
    while let Some(event) = conn.poll_event() {
        match event {
            Event::Request { stream, head, .. } => {
                // Handed back whole, as the server does: the next repeated request is
                // refilled in place over this one's leftovers.
                conn.recycle_request_head(head);
                let _ = conn.send_response(stream, StatusCode::OK, &HeaderMap::new(), false, now);
                let _ = conn.send_data(stream, Bytes::from_static(b"hello"), true);
            }
            Event::Data { stream, data, .. } => conn.consume(stream, data.len()),
            _ => {}
        }
    }
}

fn step(conn: &mut Connection, input: &mut BytesMut, now: Instant) {
    conn.recv(input, now);
    run_app(conn, now);
    let mut out = BytesMut::new();
    conn.poll_transmit(&mut out, now);
    check_output(&mut out);
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let chunk = usize::from(mode >> 1) + 1;
    let mut now = Instant::now();
    let mut conn = Connection::new(Config::default(), now);
    let mut input = BytesMut::new();
    if mode & 1 == 1 {
        input.extend_from_slice(OPEN_PREFIX);
        step(&mut conn, &mut input, now);
    }
    for piece in rest.chunks(chunk) {
        input.extend_from_slice(piece);
        step(&mut conn, &mut input, now);
        now += TICK;
        conn.handle_timeout(now);
        if conn.is_closed() {
            break;
        }
    }
    // Let every timer run out; output must stay valid throughout.
    for _ in 0..4 {
        now += Duration::from_secs(40);
        conn.handle_timeout(now);
        step(&mut conn, &mut input, now);
    }
});
