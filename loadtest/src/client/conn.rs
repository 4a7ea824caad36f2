//! Owns one client HTTP/2 connection, sans-IO: it writes requests into an output buffer,
//! consumes response bytes, keeps flow control and records each response in `Stats`.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use bytes::{Buf, Bytes, BytesMut};
use h2ring_frame::{
    encode_data_header, encode_header_block, Data, Decoder, ErrorCode, Frame, FrameError, GoAway,
    Headers, Setting, Settings, StreamId, WindowUpdate, DEFAULT_INITIAL_WINDOW_SIZE,
    DEFAULT_MAX_FRAME_SIZE,
};
use h2ring_hpack::hpack::{self, BlockMemo, DEFAULT_TABLE_SIZE};

use super::frames;
use super::streams::{InFlight, StreamTable};
use super::RecordWindow;
use crate::config::RequestSpec;
use crate::stats::{ErrorKind, Stats};
use crate::template::RequestTemplate;

/// Initial output buffer; it grows when a batch needs more.
const OUT_CAPACITY: usize = 4 * 1024;
/// Largest client stream id (RFC 9113 §5.1.1: 31 bits, odd).
const MAX_STREAM_ID: u32 = (1 << 31) - 1;

/// What a connection is built with.
#[derive(Clone, Debug)]
pub struct ConnOptions {
    /// The request every stream sends.
    pub request: RequestSpec,
    /// Streams we keep open at once (also capped by the server's MAX_CONCURRENT_STREAMS).
    pub streams: u32,
    /// SETTINGS_INITIAL_WINDOW_SIZE we advertise.
    pub stream_window: u32,
    /// Connection receive window we grow to.
    pub connection_window: u32,
}

/// The connection failed for good; the caller closes the socket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnFailed;

/// One client connection's protocol state.
#[derive(Debug)]
pub struct ClientConn {
    frames: Decoder,
    hpack: hpack::Decoder,
    /// The last whole-block HEADERS that left the HPACK table alone, and its status.
    block_memo: Option<BlockMemo<u16>>,
    template: RequestTemplate,
    body: Bytes,
    out: BytesMut,
    streams: StreamTable,
    /// Streams whose body still has octets to send, in send order.
    uploads: VecDeque<u32>,
    next_stream_id: u32,
    /// Our `-m`, lowered by the server's SETTINGS_MAX_CONCURRENT_STREAMS.
    max_streams: u32,
    wanted_streams: u32,
    /// Server's SETTINGS_INITIAL_WINDOW_SIZE: our send window on new streams.
    peer_initial_window: i64,
    peer_max_frame_size: u32,
    /// Our connection send window (§6.9.1).
    send_window: i64,
    stream_window: u32,
    connection_window: u32,
    /// Connection-level response octets not yet returned by WINDOW_UPDATE.
    recv_unacked: u32,
    /// Stream whose header block continues in CONTINUATION frames, and its END_STREAM.
    continuation: Option<(u32, bool)>,
    /// Status decoded from the header block being read.
    block_status: u16,
    settings_received: bool,
    /// GOAWAY's last stream id: no new streams once set (§6.8).
    goaway: Option<u32>,
    failed: bool,
}

impl ClientConn {
    /// A new connection with its preface already in the output buffer.
    pub fn new(opts: &ConnOptions) -> ClientConn {
        let mut out = BytesMut::with_capacity(OUT_CAPACITY);
        frames::write_preface(opts.stream_window, opts.connection_window, &mut out);
        let streams = opts.streams.max(1);
        ClientConn {
            frames: Decoder::new(),
            hpack: hpack::Decoder::new(DEFAULT_TABLE_SIZE),
            block_memo: None,
            template: RequestTemplate::new(&opts.request),
            body: opts.request.body.clone(),
            out,
            streams: StreamTable::default(),
            uploads: VecDeque::new(),
            next_stream_id: 1,
            max_streams: streams,
            wanted_streams: streams,
            peer_initial_window: i64::from(DEFAULT_INITIAL_WINDOW_SIZE),
            peer_max_frame_size: DEFAULT_MAX_FRAME_SIZE,
            send_window: i64::from(DEFAULT_INITIAL_WINDOW_SIZE),
            stream_window: opts.stream_window,
            connection_window: opts.connection_window,
            recv_unacked: 0,
            continuation: None,
            block_status: 0,
            settings_received: false,
            goaway: None,
            failed: false,
        }
    }

    /// Octets waiting to be written.
    pub fn output(&self) -> &[u8] {
        &self.out
    }

    /// Marks `n` octets of [`output`](Self::output) as written.
    pub fn consume_output(&mut self, n: usize) {
        let n = n.min(self.out.len());
        self.out.advance(n);
    }

    /// Requests waiting for their response.
    pub fn in_flight(&self) -> usize {
        self.streams.len()
    }

    /// The server's SETTINGS arrived (the handshake is complete).
    pub fn is_established(&self) -> bool {
        self.settings_received
    }

    /// No more requests will ever be sent on this connection (error or GOAWAY), and
    /// none are outstanding: the caller should close it.
    pub fn is_finished(&self) -> bool {
        self.failed || (self.goaway.is_some() && self.streams.is_empty())
    }

    /// Whether a new request may be sent now.
    pub fn can_send(&self) -> bool {
        !self.failed
            && self.goaway.is_none()
            && self.streams.len() < self.max_streams as usize
            && self.next_stream_id <= MAX_STREAM_ID
    }

    /// Sends one request whose latency counts from `start`.
    pub fn send_request(
        &mut self,
        start: Instant,
        now: Instant,
        win: &RecordWindow,
        st: &mut Stats,
    ) {
        let id = self.next_stream_id;
        self.next_stream_id += 2;
        let block = self.template.next_block();
        let end_stream = self.body.is_empty();
        encode_header_block(
            StreamId::new(id),
            &block,
            end_stream,
            None,
            self.peer_max_frame_size,
            &mut self.out,
        );
        self.streams.insert(
            id,
            InFlight {
                start,
                status: 0,
                body_sent: 0,
                send_window: self.peer_initial_window,
                recv_unacked: 0,
            },
        );
        if win.contains(now) {
            st.requests += 1;
        }
        if !end_stream {
            self.uploads.push_back(id);
            self.pump_uploads();
        }
    }

    /// Sends request body DATA as far as the windows allow (RFC 9113 §6.9), streams in order.
    fn pump_uploads(&mut self) {
        while let Some(&id) = self.uploads.front() {
            if self.send_window <= 0 {
                return;
            }
            let Some(s) = self.streams.get_mut(&id) else {
                self.uploads.pop_front();
                continue;
            };
            let remaining = self.body.len().saturating_sub(s.body_sent);
            let allowed = s.send_window.min(self.send_window).max(0);
            let chunk = remaining
                .min(usize::try_from(allowed).unwrap_or(usize::MAX))
                .min(self.peer_max_frame_size as usize);
            if chunk == 0 && remaining > 0 {
                // This stream is blocked on its own window; let the others go first.
                self.uploads.rotate_left(1);
                if self.uploads.iter().all(|i| self.stream_blocked(*i)) {
                    return;
                }
                continue;
            }
            let end = chunk == remaining;
            let start = s.body_sent;
            s.body_sent += chunk;
            s.send_window -= chunk as i64;
            self.send_window -= chunk as i64;
            encode_data_header(StreamId::new(id), chunk as u32, end, &mut self.out);
            self.out.extend_from_slice(&self.body[start..start + chunk]);
            if end {
                self.uploads.pop_front();
            }
        }
    }

    fn stream_blocked(&self, id: u32) -> bool {
        self.streams.get(&id).is_none_or(|s| s.send_window <= 0)
    }

    /// Cancels every request outstanding since before `now - timeout` (RST_STREAM CANCEL).
    pub fn expire(&mut self, now: Instant, timeout: Duration, st: &mut Stats) {
        let expired: Vec<u32> = self
            .streams
            .iter()
            .filter(|(_, s)| now.saturating_duration_since(s.start) >= timeout)
            .map(|(id, _)| *id)
            .collect();
        for id in expired {
            self.streams.remove(&id);
            frames::rst_stream(StreamId::new(id), ErrorCode::Cancel, &mut self.out);
            st.error(ErrorKind::Timeout);
        }
    }

    /// Fails every outstanding request because the transport is gone.
    pub fn abort(&mut self, st: &mut Stats) {
        for _ in self.streams.drain() {
            st.error(ErrorKind::Closed);
        }
        self.uploads.clear();
        self.failed = true;
    }

    /// Consumes every complete frame at the front of `src` (the caller counts the octets
    /// it read into `Stats::bytes_in`).
    pub fn recv(
        &mut self,
        src: &mut BytesMut,
        now: Instant,
        win: &RecordWindow,
        st: &mut Stats,
    ) -> Result<(), ConnFailed> {
        loop {
            if self.failed {
                return Err(ConnFailed);
            }
            match self.frames.decode(src) {
                Ok(Some(frame)) => self.on_frame(frame, now, win, st),
                Ok(None) => return Ok(()),
                Err(FrameError::Stream {
                    stream_id, code, ..
                }) => self.stream_error(stream_id.value(), code, st),
                Err(FrameError::Connection { code, .. }) => self.connection_error(code, st),
            }
        }
    }

    fn on_frame(&mut self, frame: Frame, now: Instant, win: &RecordWindow, st: &mut Stats) {
        if let Some((id, _)) = self.continuation {
            // RFC 9113 §6.10: nothing may interleave a header block.
            let continues = matches!(&frame, Frame::Continuation(c) if c.stream_id.value() == id);
            if !continues {
                return self.connection_error(ErrorCode::ProtocolError, st);
            }
        }
        match frame {
            Frame::Headers(h) => self.on_headers(h, now, win, st),
            Frame::Continuation(c) => {
                let Some((id, end_stream)) = self.continuation else {
                    return self.connection_error(ErrorCode::ProtocolError, st);
                };
                if self.decode_fragment(&c.fragment, c.end_headers, st) && c.end_headers {
                    self.continuation = None;
                    self.finish_head(id, end_stream, now, win, st);
                }
            }
            Frame::Data(d) => self.on_data(d, now, win, st),
            Frame::Settings(s) => self.on_settings(s),
            Frame::WindowUpdate(w) => self.on_window_update(w, st),
            Frame::Ping(p) if !p.ack => frames::ping_ack(p.payload, &mut self.out),
            Frame::RstStream(r) => {
                if self.streams.remove(&r.stream_id.value()).is_some() {
                    st.error(ErrorKind::Reset(r.code.to_u32()));
                }
            }
            Frame::GoAway(g) => self.on_goaway(g, st),
            // RFC 9113 §8.4: we sent ENABLE_PUSH=0, so a push is a PROTOCOL_ERROR.
            Frame::PushPromise(_) => self.connection_error(ErrorCode::ProtocolError, st),
            Frame::Ping(_) | Frame::Priority(_) | Frame::PriorityUpdate(_) | Frame::Unknown(_) => {}
        }
    }

    fn on_headers(&mut self, h: Headers, now: Instant, win: &RecordWindow, st: &mut Stats) {
        let id = h.stream_id.value();
        self.block_status = 0;
        // Decode every block, even for unknown streams, to keep HPACK state (RFC 7541 §2.2),
        // unless it repeats, byte for byte, a block that did not touch the table.
        if let Some(status) = self.remembered_status(&h) {
            self.block_status = status;
        } else {
            let generation = self.hpack.generation();
            if !self.decode_fragment(&h.fragment, h.end_headers, st) {
                return;
            }
            if h.end_headers && self.hpack.generation() == generation {
                let memo = self.block_memo.get_or_insert_with(BlockMemo::default);
                memo.reset(&h.fragment, generation);
                memo.set_value(self.block_status);
            }
        }
        if h.end_headers {
            self.finish_head(id, h.end_stream, now, win, st);
        } else {
            self.continuation = Some((id, h.end_stream));
        }
    }

    /// The status of `h` if it is a whole block identical to the remembered one and the
    /// table has not changed since: decoding it again would give the same fields.
    fn remembered_status(&self, h: &Headers) -> Option<u16> {
        let memo = self.block_memo.as_ref()?;
        if !h.end_headers || !memo.is_repeat(&h.fragment, self.hpack.generation()) {
            return None;
        }
        memo.value().copied()
    }

    /// Feeds one fragment to HPACK, keeping only `:status`; false on a COMPRESSION_ERROR.
    fn decode_fragment(&mut self, fragment: &[u8], end: bool, st: &mut Stats) -> bool {
        let mut status = self.block_status;
        let result = self.hpack.decode_fragment(fragment, end, |f| {
            if f.name == b":status" {
                status = parse_status(f.value);
            }
        });
        self.block_status = status;
        if result.is_err() {
            // RFC 9113 §4.3: a header block that fails to decode breaks the connection.
            self.connection_error(ErrorCode::CompressionError, st);
            return false;
        }
        true
    }

    fn finish_head(
        &mut self,
        id: u32,
        end_stream: bool,
        now: Instant,
        win: &RecordWindow,
        st: &mut Stats,
    ) {
        let status = self.block_status;
        let Some(s) = self.streams.get_mut(&id) else {
            return;
        };
        // RFC 9113 §8.1: 1xx heads are interim; the final one (or trailers) follows.
        if s.status == 0 && !(100..200).contains(&status) {
            s.status = status;
        }
        if end_stream {
            self.complete(id, now, win, st);
        }
    }

    fn on_data(&mut self, d: Data, now: Instant, win: &RecordWindow, st: &mut Stats) {
        let len = d.flow_controlled_len();
        let id = d.stream_id.value();
        // RFC 9113 §6.9: return the octets promptly so the server never stalls on us.
        self.recv_unacked = self.recv_unacked.saturating_add(len);
        if self.recv_unacked >= self.connection_window / 2 {
            frames::window_update(StreamId::ZERO, self.recv_unacked, &mut self.out);
            self.recv_unacked = 0;
        }
        if win.contains(now) {
            st.body_bytes += d.data.len() as u64;
        }
        let Some(s) = self.streams.get_mut(&id) else {
            return;
        };
        s.recv_unacked = s.recv_unacked.saturating_add(len);
        if d.end_stream {
            self.complete(id, now, win, st);
        } else if s.recv_unacked >= self.stream_window / 2 {
            frames::window_update(d.stream_id, s.recv_unacked, &mut self.out);
            s.recv_unacked = 0;
        }
    }

    /// The response ended: record it and free the stream slot.
    fn complete(&mut self, id: u32, now: Instant, win: &RecordWindow, st: &mut Stats) {
        let Some(s) = self.streams.remove(&id) else {
            return;
        };
        if s.body_sent < self.body.len() {
            // RFC 9113 §8.1: the response ended before our body did; stop sending it.
            frames::rst_stream(StreamId::new(id), ErrorCode::Cancel, &mut self.out);
        }
        if !win.contains(now) {
            return;
        }
        let us = now.saturating_duration_since(s.start).as_micros();
        st.record_latency_us(u64::try_from(us).unwrap_or(u64::MAX));
        if (200..400).contains(&s.status) {
            st.succeeded += 1;
        } else {
            st.failed_status += 1;
            st.error(ErrorKind::Status(s.status));
        }
    }

    fn on_settings(&mut self, s: Settings) {
        if s.ack {
            return;
        }
        for setting in &s {
            match setting {
                Setting::HeaderTableSize(n) => self.template.set_peer_table_size(n),
                Setting::MaxConcurrentStreams(n) => {
                    self.max_streams = self.wanted_streams.min(n);
                }
                Setting::InitialWindowSize(n) => {
                    // RFC 9113 §6.9.2: the change applies to every open stream's window.
                    let delta = i64::from(n) - self.peer_initial_window;
                    self.peer_initial_window = i64::from(n);
                    for s in self.streams.values_mut() {
                        s.send_window += delta;
                    }
                }
                Setting::MaxFrameSize(n) => self.peer_max_frame_size = n,
                _ => {}
            }
        }
        self.settings_received = true;
        frames::settings_ack(&mut self.out);
        self.pump_uploads();
    }

    fn on_window_update(&mut self, w: WindowUpdate, st: &mut Stats) {
        let inc = i64::from(w.increment);
        if w.stream_id.is_zero() {
            self.send_window += inc;
        } else if let Some(s) = self.streams.get_mut(&w.stream_id.value()) {
            s.send_window += inc;
        }
        // RFC 9113 §6.9.1: a window above 2^31-1 is a FLOW_CONTROL_ERROR.
        if self.send_window > i64::from(h2ring_frame::MAX_WINDOW_SIZE) {
            return self.connection_error(ErrorCode::FlowControlError, st);
        }
        self.pump_uploads();
    }

    fn on_goaway(&mut self, g: GoAway, st: &mut Stats) {
        st.error(ErrorKind::GoAway(g.code.to_u32()));
        let last = g.last_stream_id.value();
        self.goaway = Some(last);
        // RFC 9113 §6.8: streams above last_stream_id were not processed.
        let lost: Vec<u32> = self
            .streams
            .keys()
            .copied()
            .filter(|id| *id > last)
            .collect();
        for id in lost {
            self.streams.remove(&id);
            st.error(ErrorKind::Closed);
        }
    }

    fn stream_error(&mut self, id: u32, code: ErrorCode, st: &mut Stats) {
        if self.streams.remove(&id).is_some() {
            st.error(ErrorKind::Protocol);
        }
        frames::rst_stream(StreamId::new(id), code, &mut self.out);
    }

    fn connection_error(&mut self, code: ErrorCode, st: &mut Stats) {
        if self.failed {
            return;
        }
        st.error(ErrorKind::Protocol);
        frames::goaway(code, &mut self.out);
        self.abort(st);
    }
}

/// Parses a 3-digit `:status`; anything else is 0 (counted as a failed status).
fn parse_status(value: &[u8]) -> u16 {
    match value {
        [a, b, c] if value.iter().all(u8::is_ascii_digit) => {
            u16::from(a - b'0') * 100 + u16::from(b - b'0') * 10 + u16::from(c - b'0')
        }
        _ => 0,
    }
}

#[cfg(test)]
mod tests;
