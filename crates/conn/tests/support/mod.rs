//! A scripted HTTP/2 client that drives a [`Connection`] in memory: frames in, frames out,
//! no sockets, with a clock the test moves by hand.

#![allow(dead_code)]

use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use h2ring_conn::{Config, Connection, Event};
use h2ring_frame::{
    Data, Decoder, ErrorCode, Frame, Headers, Setting, Settings, StreamId, PREFACE,
};
use h2ring_hpack::hpack;

pub struct Client {
    pub conn: Connection,
    pub now: Instant,
    pub encoder: hpack::Encoder,
    pub decoder: hpack::Decoder,
    frames: Decoder,
    /// Server output not yet decoded into frames.
    pending: BytesMut,
}

pub fn sid(n: u32) -> StreamId {
    StreamId::new(n)
}

impl Client {
    /// A connection that has not seen any client byte yet.
    pub fn raw(config: Config) -> Self {
        let now = Instant::now();
        let mut frames = Decoder::new();
        frames.set_max_frame_size(h2ring_frame::MAX_MAX_FRAME_SIZE);
        Client {
            conn: Connection::new(config, now),
            now,
            encoder: hpack::Encoder::new(),
            decoder: hpack::Decoder::new(4096),
            frames,
            pending: BytesMut::new(),
        }
    }

    /// Preface + empty SETTINGS + ACK of the server's SETTINGS; server output drained.
    pub fn connected(config: Config) -> Self {
        Self::connected_with(config, vec![])
    }

    pub fn connected_with(config: Config, settings: Vec<Setting>) -> Self {
        let mut c = Self::raw(config);
        c.send_bytes(PREFACE);
        c.send(Frame::Settings(Settings::new(settings)));
        c.send(Frame::Settings(Settings::ack()));
        let frames = c.frames();
        assert!(
            matches!(frames.first(), Some(Frame::Settings(s)) if !s.ack),
            "server must start with SETTINGS, got {frames:?}"
        );
        assert!(frames
            .iter()
            .any(|f| matches!(f, Frame::Settings(s) if s.ack)));
        c.events();
        c
    }

    pub fn send_bytes(&mut self, bytes: &[u8]) {
        let mut buf = BytesMut::from(bytes);
        self.conn.recv(&mut buf, self.now);
    }

    pub fn send(&mut self, frame: Frame) {
        let mut buf = BytesMut::new();
        frame.encode(&mut buf);
        self.conn.recv(&mut buf, self.now);
        assert!(buf.is_empty() || self.conn.is_closed() || true);
    }

    pub fn send_all(&mut self, frames: Vec<Frame>) {
        let mut buf = BytesMut::new();
        for f in frames {
            f.encode(&mut buf);
        }
        self.conn.recv(&mut buf, self.now);
    }

    /// HPACK-encodes a field list with the client's encoder.
    pub fn block(&mut self, fields: &[(&str, &str)]) -> Bytes {
        let mut dst = BytesMut::new();
        self.encoder.begin_block(&mut dst);
        for (n, v) in fields {
            self.encoder
                .encode_field(n.as_bytes(), v.as_bytes(), &mut dst);
        }
        dst.freeze()
    }

    pub fn get_fields(path: &str) -> Vec<(&'static str, String)> {
        vec![
            (":method", "GET".into()),
            (":scheme", "https".into()),
            (":authority", "example.com".into()),
            (":path", path.into()),
        ]
    }

    /// Sends a request head on `id`.
    pub fn request(&mut self, id: u32, method: &str, path: &str, end_stream: bool) {
        self.request_with(id, method, path, &[], end_stream)
    }

    pub fn request_with(
        &mut self,
        id: u32,
        method: &str,
        path: &str,
        extra: &[(&str, &str)],
        end_stream: bool,
    ) {
        let mut fields: Vec<(&str, &str)> = vec![
            (":method", method),
            (":scheme", "https"),
            (":authority", "example.com"),
            (":path", path),
        ];
        fields.extend_from_slice(extra);
        let fragment = self.block(&fields);
        self.send(Frame::Headers(Headers {
            stream_id: sid(id),
            fragment,
            end_stream,
            end_headers: true,
            priority: None,
            pad_len: None,
        }));
    }

    pub fn data(&mut self, id: u32, data: &[u8], end_stream: bool) {
        self.send(Frame::Data(Data {
            stream_id: sid(id),
            data: Bytes::copy_from_slice(data),
            end_stream,
            pad_len: None,
        }));
    }

    /// Everything the server wants to write now, decoded.
    pub fn frames(&mut self) -> Vec<Frame> {
        let mut out = BytesMut::new();
        self.conn.poll_transmit(&mut out, self.now);
        self.pending.extend_from_slice(&out);
        let mut frames = Vec::new();
        while let Some(f) = self
            .frames
            .decode(&mut self.pending)
            .expect("server wrote an invalid frame")
        {
            frames.push(f);
        }
        frames
    }

    pub fn events(&mut self) -> Vec<Event> {
        let mut v = Vec::new();
        while let Some(e) = self.conn.poll_event() {
            v.push(e);
        }
        v
    }

    /// Decodes a response header block with the client's HPACK decoder.
    pub fn decode_block(&mut self, block: &[u8]) -> Vec<(String, String)> {
        self.decoder
            .decode_block(block)
            .expect("server sent bad HPACK")
            .into_iter()
            .map(|(n, v)| (String::from_utf8(n).unwrap(), String::from_utf8(v).unwrap()))
            .collect()
    }

    pub fn advance(&mut self, d: Duration) {
        self.now += d;
        self.conn.handle_timeout(self.now);
    }
}

/// The GOAWAY in `frames`, if any, as (last stream id, code).
pub fn goaway(frames: &[Frame]) -> Option<(u32, ErrorCode)> {
    frames.iter().find_map(|f| match f {
        Frame::GoAway(g) => Some((g.last_stream_id.value(), g.code)),
        _ => None,
    })
}

/// The RST_STREAM codes in `frames`, as (stream id, code).
pub fn resets(frames: &[Frame]) -> Vec<(u32, ErrorCode)> {
    frames
        .iter()
        .filter_map(|f| match f {
            Frame::RstStream(r) => Some((r.stream_id.value(), r.code)),
            _ => None,
        })
        .collect()
}
