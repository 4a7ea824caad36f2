//! A scripted HTTP/2 client that drives a [`Connection`] in memory: frames in, frames out,
//! no sockets, with a clock the test moves by hand.

#![allow(dead_code)]

use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use h2ring_conn::{Config, Connection, Event};
use h2ring_frame::{
    Continuation, Data, Decoder, ErrorCode, Frame, Headers, Ping, Priority, PrioritySpec,
    RstStream, Setting, Settings, StreamId, WindowUpdate, PREFACE,
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
    /// Client octets the connection has not consumed yet (a partial frame).
    input: BytesMut,
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
            input: BytesMut::new(),
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

    /// Feeds raw octets; whatever the connection leaves (a partial frame) is kept for the
    /// next call, as a driver would.
    pub fn send_bytes(&mut self, bytes: &[u8]) {
        self.input.extend_from_slice(bytes);
        self.conn.recv(&mut self.input, self.now);
    }

    pub fn send(&mut self, frame: Frame) {
        let mut buf = BytesMut::new();
        frame.encode(&mut buf);
        self.send_bytes(&buf);
    }

    pub fn send_all(&mut self, frames: Vec<Frame>) {
        let mut buf = BytesMut::new();
        for f in frames {
            f.encode(&mut buf);
        }
        self.send_bytes(&buf);
    }

    /// Client octets still buffered (not consumed by the connection).
    pub fn unconsumed_input(&self) -> usize {
        self.input.len()
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

    /// Sends a request head with extra fields on `id`, as a HEADERS frame with `end_headers`.
    pub fn request_raw(&mut self, id: u32, fields: &[(&str, &str)], end_stream: bool) {
        let fragment = self.block(fields);
        self.send(headers(id, fragment, end_stream, true));
    }

    /// Sends `len` body octets on `id` in frames of at most 16 384, the last one with
    /// `end_stream`.
    pub fn body(&mut self, id: u32, len: usize, end_stream: bool) {
        let mut left = len;
        loop {
            let n = left.min(16_384);
            left -= n;
            self.data(id, &vec![b'x'; n], end_stream && left == 0);
            if left == 0 {
                break;
            }
        }
    }

    /// The application answers `id` with `status` and no extra fields.
    pub fn respond(&mut self, id: u32, status: u16, end_stream: bool) {
        let now = self.now;
        let status = http::StatusCode::from_u16(status).unwrap();
        self.conn
            .send_response(sid(id), status, &http::HeaderMap::new(), end_stream, now)
            .unwrap();
    }

    /// The application answers `id` with 200 and a body of `len` octets, ended.
    pub fn respond_body(&mut self, id: u32, len: usize) {
        self.respond(id, 200, false);
        self.conn
            .send_data(sid(id), Bytes::from(vec![b'r'; len]), true)
            .unwrap();
    }

    /// Asserts the connection just failed with GOAWAY(`code`, `last`): the GOAWAY is the
    /// last frame written and the connection lingers.
    pub fn expect_goaway(&mut self, last: u32, code: ErrorCode) -> Vec<Frame> {
        let frames = self.frames();
        assert_eq!(goaway(&frames), Some((last, code)), "{}", summary(&frames));
        assert!(
            matches!(frames.last(), Some(Frame::GoAway(_))),
            "GOAWAY must be the last frame: {}",
            summary(&frames)
        );
        assert_eq!(self.conn.phase(), h2ring_conn::Phase::Lingering);
        frames
    }

    /// Asserts nothing but the given RST_STREAMs were written and the connection is open.
    pub fn expect_resets(&mut self, want: &[(u32, ErrorCode)]) -> Vec<Frame> {
        let frames = self.frames();
        assert_eq!(resets(&frames), want, "{}", summary(&frames));
        assert_eq!(goaway(&frames), None, "{}", summary(&frames));
        assert_eq!(self.conn.phase(), h2ring_conn::Phase::Open);
        frames
    }

    /// Stream ids of the `Event::Request`s in `events`.
    pub fn request_ids(events: &[Event]) -> Vec<u32> {
        events
            .iter()
            .filter_map(|e| match e {
                Event::Request { stream, .. } => Some(stream.value()),
                _ => None,
            })
            .collect()
    }

    /// Decodes a HEADERS frame's block into (name, value) pairs.
    pub fn fields_of(&mut self, frame: &Frame) -> Vec<(String, String)> {
        match frame {
            Frame::Headers(h) => {
                let block = h.fragment.clone();
                self.decode_block(&block)
            }
            other => panic!("not HEADERS: {other:?}"),
        }
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

/// A HEADERS frame.
pub fn headers(id: u32, fragment: Bytes, end_stream: bool, end_headers: bool) -> Frame {
    Frame::Headers(Headers {
        stream_id: sid(id),
        fragment,
        end_stream,
        end_headers,
        priority: None,
        pad_len: None,
    })
}

/// A CONTINUATION frame.
pub fn continuation(id: u32, fragment: Bytes, end_headers: bool) -> Frame {
    Frame::Continuation(Continuation {
        stream_id: sid(id),
        fragment,
        end_headers,
    })
}

/// A PRIORITY frame: `id` depends on `dep`, default weight.
pub fn priority(id: u32, dep: u32) -> Frame {
    Frame::Priority(Priority {
        stream_id: sid(id),
        spec: PrioritySpec {
            dependency: sid(dep),
            exclusive: false,
            weight: 15,
        },
    })
}

/// A WINDOW_UPDATE frame.
pub fn window_update(id: u32, increment: u32) -> Frame {
    Frame::WindowUpdate(WindowUpdate {
        stream_id: sid(id),
        increment,
    })
}

/// An RST_STREAM frame.
pub fn rst(id: u32, code: ErrorCode) -> Frame {
    Frame::RstStream(RstStream {
        stream_id: sid(id),
        code,
    })
}

/// A PING frame (not an ACK).
pub fn ping(payload: [u8; 8]) -> Frame {
    Frame::Ping(Ping {
        ack: false,
        payload,
    })
}

/// A SETTINGS frame (not an ACK).
pub fn settings(list: Vec<Setting>) -> Frame {
    Frame::Settings(Settings::new(list))
}

/// Raw frame octets, for frames the codec would refuse to build.
pub fn raw_frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let len = payload.len() as u32;
    let mut v = vec![(len >> 16) as u8, (len >> 8) as u8, len as u8, kind, flags];
    v.extend_from_slice(&stream.to_be_bytes());
    v.extend_from_slice(payload);
    v
}

/// DATA frames in `frames` as (stream id, payload length, END_STREAM).
pub fn data_frames(frames: &[Frame]) -> Vec<(u32, usize, bool)> {
    frames
        .iter()
        .filter_map(|f| match f {
            Frame::Data(d) => Some((d.stream_id.value(), d.data.len(), d.end_stream)),
            _ => None,
        })
        .collect()
}

/// WINDOW_UPDATE frames in `frames` as (stream id, increment).
pub fn window_updates(frames: &[Frame]) -> Vec<(u32, u32)> {
    frames
        .iter()
        .filter_map(|f| match f {
            Frame::WindowUpdate(w) => Some((w.stream_id.value(), w.increment)),
            _ => None,
        })
        .collect()
}

/// Total DATA payload octets per stream id.
pub fn data_total(frames: &[Frame], id: u32) -> usize {
    data_frames(frames)
        .iter()
        .filter(|(s, _, _)| *s == id)
        .map(|(_, n, _)| n)
        .sum()
}

/// A config with the smallest legal windows, so flow-control thresholds are easy to hit.
pub fn small_windows() -> Config {
    {
        let mut config = Config::default();
        config.stream_window = 65_535;
        config.connection_window = 65_535;
        config
    }
}

/// A one-line-per-frame description without payloads, for assertion messages.
pub fn summary(frames: &[Frame]) -> String {
    frames
        .iter()
        .map(|f| match f {
            Frame::Data(d) => format!(
                "DATA({}, {} octets{})",
                d.stream_id.value(),
                d.data.len(),
                if d.end_stream { ", END_STREAM" } else { "" }
            ),
            Frame::Headers(h) => format!(
                "HEADERS({}, {} octets, es={}, eh={})",
                h.stream_id.value(),
                h.fragment.len(),
                h.end_stream,
                h.end_headers
            ),
            Frame::Continuation(k) => format!(
                "CONTINUATION({}, {} octets, eh={})",
                k.stream_id.value(),
                k.fragment.len(),
                k.end_headers
            ),
            other => format!("{other:?}"),
        })
        .collect::<Vec<_>>()
        .join("; ")
}
