//! A blocking, hand-rolled HTTP/2 client for counting the server's allocations: it
//! allocates nothing once connected, so a process-wide allocation count over its requests
//! is the server's.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use crate::first_and_repeated_blocks;

const FRAME_DATA: u8 = 0;
const FRAME_HEADERS: u8 = 1;
const FRAME_RST_STREAM: u8 = 3;
const FRAME_SETTINGS: u8 = 4;
const FRAME_PING: u8 = 6;
const FRAME_GOAWAY: u8 = 7;
const FLAG_END_STREAM: u8 = 0x1;
const FLAG_ACK: u8 = 0x1;
const FLAG_END_HEADERS: u8 = 0x4;

/// A blocking HTTP/2 client that sends the same request over and over: after the first
/// header block every field is a dynamic-table index, as with h2load.
pub struct Client {
    sock: TcpStream,
    out: Vec<u8>,
    buf: Vec<u8>,
    have: usize,
    block: Vec<u8>,
    next_stream: u32,
    data_since_update: usize,
}

impl Client {
    /// Connects, sends the preface and settings, and answers one request.
    pub fn connect(addr: SocketAddr, path: &str) -> Client {
        let sock = TcpStream::connect(addr).expect("connect");
        sock.set_nodelay(true).expect("nodelay");
        sock.set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        let authority = addr.to_string();
        let fields: [(&[u8], &[u8]); 5] = [
            (b":method", b"GET"),
            (b":scheme", b"http"),
            (b":authority", authority.as_bytes()),
            (b":path", path.as_bytes()),
            (b"user-agent", b"h2load nghttp2/1.52.0"),
        ];
        let (first, steady) = first_and_repeated_blocks(&fields);
        let mut client = Client {
            sock,
            out: Vec::with_capacity(64 * 1024),
            buf: vec![0; 1 << 20],
            have: 0,
            block: first.to_vec(),
            next_stream: 1,
            data_since_update: 0,
        };
        client
            .out
            .extend_from_slice(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
        // SETTINGS_INITIAL_WINDOW_SIZE = 2^30: no stream waits for a WINDOW_UPDATE.
        client.frame_header(6, FRAME_SETTINGS, 0, 0);
        client.out.extend_from_slice(&[0, 4, 0x40, 0, 0, 0]);
        client.window_update(1 << 30);
        assert_eq!(client.round(1), 1, "the first request must be answered");
        client.block = steady.to_vec();
        client
    }

    fn frame_header(&mut self, len: usize, kind: u8, flags: u8, stream: u32) {
        let len = u32::try_from(len).expect("frame length");
        self.out.extend_from_slice(&len.to_be_bytes()[1..]);
        self.out.extend_from_slice(&[kind, flags]);
        self.out.extend_from_slice(&stream.to_be_bytes());
    }

    fn window_update(&mut self, increment: u32) {
        self.frame_header(4, 8, 0, 0);
        self.out.extend_from_slice(&increment.to_be_bytes());
    }

    /// Sends `streams` requests at once and reads until each is answered; returns how
    /// many were.
    pub fn round(&mut self, streams: u32) -> u32 {
        for _ in 0..streams {
            let stream = self.next_stream;
            self.next_stream += 2;
            let block_len = self.block.len();
            self.frame_header(
                block_len,
                FRAME_HEADERS,
                FLAG_END_STREAM | FLAG_END_HEADERS,
                stream,
            );
            let (out, block) = (&mut self.out, &self.block);
            out.extend_from_slice(block);
        }
        self.flush();
        let mut answered = 0;
        while answered < streams {
            let n = self.sock.read(&mut self.buf[self.have..]).expect("read");
            assert!(n > 0, "server closed the connection");
            self.have += n;
            answered += self.parse_frames();
            self.flush();
        }
        answered
    }

    /// Consumes every whole frame read so far; returns the streams it saw end.
    fn parse_frames(&mut self) -> u32 {
        let mut ended = 0;
        let mut at = 0;
        while self.have - at >= 9 {
            let head = &self.buf[at..at + 9];
            let len = u32::from_be_bytes([0, head[0], head[1], head[2]]) as usize;
            let (kind, flags) = (head[3], head[4]);
            let stream = u32::from_be_bytes([head[5], head[6], head[7], head[8]]) & !(1 << 31);
            if self.have - at < 9 + len {
                break;
            }
            match kind {
                FRAME_DATA | FRAME_HEADERS if flags & FLAG_END_STREAM != 0 && stream != 0 => {
                    ended += 1
                }
                FRAME_SETTINGS if flags & FLAG_ACK == 0 => {
                    self.frame_header(0, FRAME_SETTINGS, FLAG_ACK, 0)
                }
                FRAME_PING if flags & FLAG_ACK == 0 => {
                    self.frame_header(8, FRAME_PING, FLAG_ACK, 0);
                    let payload: [u8; 8] = self.buf[at + 9..at + 17].try_into().expect("ping");
                    self.out.extend_from_slice(&payload);
                }
                FRAME_RST_STREAM | FRAME_GOAWAY => panic!("server sent frame type {kind}"),
                _ => {}
            }
            if kind == FRAME_DATA {
                self.data_since_update += len;
            }
            at += 9 + len;
        }
        self.buf.copy_within(at..self.have, 0);
        self.have -= at;
        if self.data_since_update > 1 << 29 {
            let increment = u32::try_from(self.data_since_update).expect("increment");
            self.window_update(increment);
            self.data_since_update = 0;
        }
        ended
    }

    fn flush(&mut self) {
        if !self.out.is_empty() {
            self.sock.write_all(&self.out).expect("write");
            self.out.clear();
        }
    }
}
