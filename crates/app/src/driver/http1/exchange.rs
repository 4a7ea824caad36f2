//! The HTTP/1.1 side of the handler API: `Exchange` implements `StreamIo` for the one
//! request in progress, turning response heads and body pieces into HTTP/1.1 octets
//! (Content-Length, chunked or close-delimited framing) in an output buffer the
//! connection task writes out.

use std::cell::{Cell, RefCell};
use std::fmt::Write as _;
use std::task::Waker;
use std::time::Instant;

use bytes::{BufMut, Bytes, BytesMut};
use h2ring_conn::{ErrorCode, SendError, StreamId};
use http::header::{self, HeaderMap};
use http::{StatusCode, Version};

use super::chunked::{encode_chunk, encode_last};
use crate::runtime::ConnInfo;
use crate::service::exchange::StreamIo;
use crate::service::{stamp, StreamError};

/// Response octets buffered before a streaming writer must wait for the socket.
pub const MAX_BUFFERED_RESPONSE: usize = 64 * 1024;

/// How the response body in progress is framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Out {
    /// No final head yet.
    Head,
    /// `Content-Length` octets still to come.
    Length(u64),
    /// Chunked.
    Chunked,
    /// Ends when the connection closes (HTTP/1.0 peer, unknown length).
    UntilClose,
    /// Head-only response (HEAD, 204, 304): body writes are dropped.
    Discard,
    /// Complete.
    Done,
}

/// Per-request facts the response writer needs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RequestFacts {
    pub(crate) id: StreamId,
    pub(crate) version: Version,
    pub(crate) is_head: bool,
    pub(crate) te_trailers: bool,
    pub(crate) keep_alive: bool,
    pub(crate) expect_continue: bool,
}

/// The exchange in progress.
pub(crate) struct State {
    pub(crate) facts: RequestFacts,
    pub(crate) out: Out,
    /// Octets for the socket.
    pub(crate) wbuf: BytesMut,
    /// When the request's head arrived: the clock read the response's `date` is for.
    pub(crate) received_at: Instant,
    /// Request body octets delivered to the handler but not yet read.
    pub(crate) unread: usize,
    pub(crate) discard_body: bool,
    /// The handler gave up (`reset`): close the connection.
    pub(crate) aborted: bool,
}

/// One HTTP/1.1 connection's handler-facing state.
pub(crate) struct Exchange {
    pub(crate) info: ConnInfo,
    /// The `server` field of final responses without one (`None`: not sent).
    server_header: Option<http::HeaderValue>,
    pub(crate) state: RefCell<State>,
    io_waker: Cell<Option<Waker>>,
}

impl Exchange {
    pub(crate) fn new(
        info: ConnInfo,
        facts: RequestFacts,
        server_header: Option<http::HeaderValue>,
    ) -> Self {
        Exchange {
            info,
            server_header,
            state: RefCell::new(State {
                facts,
                out: Out::Head,
                wbuf: BytesMut::new(),
                received_at: Instant::now(),
                unread: 0,
                discard_body: false,
                aborted: false,
            }),
            io_waker: Cell::new(None),
        }
    }

    /// Starts the next request on the same connection (output already flushed), whose
    /// head arrived at `received_at`.
    pub(crate) fn restart(&self, facts: RequestFacts, received_at: Instant) {
        let mut s = self.state.borrow_mut();
        s.facts = facts;
        s.received_at = received_at;
        s.out = Out::Head;
        s.unread = 0;
        s.discard_body = false;
        s.aborted = false;
    }

    pub(crate) fn set_io_waker(&self, waker: &Waker) {
        self.io_waker.set(Some(waker.clone()));
    }

    fn wake_io(&self) {
        if let Some(w) = self.io_waker.take() {
            w.wake();
        }
    }

    /// Runs `f` on the state of request `id`; a stale id (an earlier request's handler
    /// still writing) is refused.
    fn with<T>(
        &self,
        id: StreamId,
        f: impl FnOnce(&mut State) -> Result<T, StreamError>,
    ) -> Result<T, StreamError> {
        let out = {
            let mut s = self
                .state
                .try_borrow_mut()
                .map_err(|_| StreamError::ConnectionClosed)?;
            if s.facts.id != id || s.aborted {
                return Err(StreamError::ConnectionClosed);
            }
            f(&mut s)
        };
        self.wake_io();
        out
    }
}

fn put_fields(out: &mut BytesMut, headers: &HeaderMap) {
    for (name, value) in headers {
        // Framing and connection management are ours (RFC 9112 §6, §9.6).
        if matches!(
            *name,
            header::CONNECTION | header::TRANSFER_ENCODING | header::UPGRADE
        ) || name.as_str() == "keep-alive"
        {
            continue;
        }
        out.put_slice(name.as_str().as_bytes());
        out.put_slice(b": ");
        out.put_slice(value.as_bytes());
        out.put_slice(b"\r\n");
    }
}

fn put_status_line(out: &mut BytesMut, status: StatusCode) {
    out.put_slice(b"HTTP/1.1 ");
    out.put_slice(status.as_str().as_bytes());
    out.put_u8(b' ');
    out.put_slice(status.canonical_reason().unwrap_or("Status").as_bytes());
    out.put_slice(b"\r\n");
}

/// Serialises a final head and decides the body framing (RFC 9112 §6.3).
/// Writes the final head: `headers`, then `content-length: sized` when given (the
/// handler's body length, not in the map), then the framing fields this exchange needs.
fn write_final_head(
    s: &mut State,
    server_header: Option<&http::HeaderValue>,
    status: StatusCode,
    headers: &HeaderMap,
    sized: Option<u64>,
    end: bool,
) {
    let f = s.facts;
    // RFC 9110 §10.1.1: a final answer sent without reading an expected body leaves the
    // client unsure whether to send it; closing afterwards keeps the framing safe.
    if f.expect_continue {
        s.facts.keep_alive = false;
    }
    let no_body =
        f.is_head || status == StatusCode::NO_CONTENT || status == StatusCode::NOT_MODIFIED;
    let length = sized.or_else(|| {
        headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok())
    });
    let mut extra: Vec<(&str, &str)> = Vec::new();
    s.out = if no_body {
        Out::Discard
    } else if let Some(n) = length {
        Out::Length(n)
    } else if end {
        extra.push(("content-length", "0"));
        Out::Length(0)
    } else if f.version == Version::HTTP_11 {
        extra.push(("transfer-encoding", "chunked"));
        Out::Chunked
    } else {
        s.facts.keep_alive = false;
        Out::UntilClose
    };
    if !s.facts.keep_alive {
        extra.push(("connection", "close"));
    } else if f.version == Version::HTTP_10 {
        extra.push(("connection", "keep-alive"));
    }
    put_status_line(&mut s.wbuf, status);
    put_fields(&mut s.wbuf, headers);
    // RFC 9110 §6.6.1: `date` on every final response, unless the handler set its own.
    if headers.is_empty() || !headers.contains_key(header::DATE) {
        stamp::with_date(s.received_at, |_, date| {
            s.wbuf.put_slice(b"date: ");
            s.wbuf.put_slice(date.as_bytes());
            s.wbuf.put_slice(b"\r\n");
        });
    }
    if let Some(server) = server_header {
        if headers.is_empty() || !headers.contains_key(header::SERVER) {
            s.wbuf.put_slice(b"server: ");
            s.wbuf.put_slice(server.as_bytes());
            s.wbuf.put_slice(b"\r\n");
        }
    }
    if let Some(n) = sized {
        // Formatting into the buffer allocates nothing.
        let _ = write!(s.wbuf, "content-length: {n}\r\n");
    }
    for (name, value) in extra {
        s.wbuf.put_slice(name.as_bytes());
        s.wbuf.put_slice(b": ");
        s.wbuf.put_slice(value.as_bytes());
        s.wbuf.put_slice(b"\r\n");
    }
    s.wbuf.put_slice(b"\r\n");
    if end {
        finish(s, None);
    }
}

/// Ends the body as its framing requires.
fn finish(s: &mut State, trailers: Option<&HeaderMap>) {
    match s.out {
        // RFC 9110 §6.5.1: trailers only when the client said `TE: trailers`.
        Out::Chunked => encode_last(&mut s.wbuf, trailers.filter(|_| s.facts.te_trailers)),
        Out::Length(n) if n > 0 => {
            // The handler ended short of its Content-Length: the framing is broken, only
            // closing tells the client.
            s.aborted = true;
        }
        _ => {}
    }
    s.out = Out::Done;
}

impl StreamIo for Exchange {
    fn info(&self) -> ConnInfo {
        self.info
    }

    fn send_head(
        &self,
        id: StreamId,
        status: StatusCode,
        headers: &HeaderMap,
        end: bool,
    ) -> Result<(), StreamError> {
        self.with(id, |s| {
            if s.out != Out::Head {
                return Err(StreamError::Send(SendError::HeadAlreadySent));
            }
            if status.is_informational() {
                // 101 belongs to the connection (upgrades); HTTP/1.0 knows no 1xx.
                if status == StatusCode::SWITCHING_PROTOCOLS {
                    return Err(StreamError::Send(SendError::InvalidStatus));
                }
                if s.facts.version == Version::HTTP_11 {
                    put_status_line(&mut s.wbuf, status);
                    put_fields(&mut s.wbuf, headers);
                    s.wbuf.put_slice(b"\r\n");
                }
                return Ok(());
            }
            write_final_head(s, self.server_header.as_ref(), status, headers, None, end);
            Ok(())
        })
    }

    fn send_sized_head(
        &self,
        id: StreamId,
        status: StatusCode,
        headers: &HeaderMap,
        content_length: u64,
        end: bool,
    ) -> Result<(), StreamError> {
        if status.is_informational() {
            return Err(StreamError::Send(SendError::InvalidStatus));
        }
        self.with(id, |s| {
            if s.out != Out::Head {
                return Err(StreamError::Send(SendError::HeadAlreadySent));
            }
            write_final_head(
                s,
                self.server_header.as_ref(),
                status,
                headers,
                Some(content_length),
                end,
            );
            Ok(())
        })
    }

    fn send_data(&self, id: StreamId, data: Bytes, end: bool) -> Result<(), StreamError> {
        self.with(id, |s| {
            match s.out {
                Out::Head => return Err(StreamError::Send(SendError::HeadNotSent)),
                Out::Done => return Err(StreamError::Send(SendError::AlreadyEnded)),
                Out::Discard => {}
                Out::Chunked if !data.is_empty() => encode_chunk(&mut s.wbuf, &data),
                Out::Chunked => {}
                Out::UntilClose => s.wbuf.put_slice(&data),
                Out::Length(left) => {
                    let n = data.len() as u64;
                    if n > left {
                        s.aborted = true;
                        return Err(StreamError::Send(SendError::AlreadyEnded));
                    }
                    s.wbuf.put_slice(&data);
                    s.out = Out::Length(left - n);
                }
            }
            if end {
                finish(s, None);
            }
            Ok(())
        })
    }

    fn send_trailers(&self, id: StreamId, trailers: HeaderMap) -> Result<(), StreamError> {
        self.with(id, |s| match s.out {
            Out::Head => Err(StreamError::Send(SendError::HeadNotSent)),
            Out::Done => Err(StreamError::Send(SendError::AlreadyEnded)),
            _ => {
                finish(s, Some(&trailers));
                Ok(())
            }
        })
    }

    fn send_capacity(&self, id: StreamId) -> Result<usize, StreamError> {
        let s = self
            .state
            .try_borrow()
            .map_err(|_| StreamError::ConnectionClosed)?;
        if s.facts.id != id || s.aborted {
            return Err(StreamError::ConnectionClosed);
        }
        Ok(MAX_BUFFERED_RESPONSE.saturating_sub(s.wbuf.len()))
    }

    fn consume(&self, id: StreamId, n: usize) {
        let _ = self.with(id, |s| {
            s.unread = s.unread.saturating_sub(n);
            Ok(())
        });
    }

    fn body_wanted(&self, id: StreamId) {
        let _ = self.with(id, |s| {
            // RFC 9110 §10.1.1: 100 Continue once the handler asks for the body.
            if s.facts.expect_continue && s.out == Out::Head {
                s.facts.expect_continue = false;
                s.wbuf.put_slice(b"HTTP/1.1 100 Continue\r\n\r\n");
            }
            Ok(())
        });
    }

    fn discard_body(&self, id: StreamId) {
        let _ = self.with(id, |s| {
            s.discard_body = true;
            Ok(())
        });
    }

    fn reset(&self, id: StreamId, _code: ErrorCode) {
        let _ = self.with(id, |s| {
            s.aborted = true;
            Ok(())
        });
    }

    fn can_push(&self) -> bool {
        false
    }

    fn push(
        &self,
        _parent: StreamId,
        _uri: http::Uri,
        _headers: HeaderMap,
    ) -> Result<u32, StreamError> {
        Err(StreamError::Send(SendError::PushRefused(
            "HTTP/1.1 has no server push",
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exchange(version: Version, is_head: bool, te_trailers: bool) -> Exchange {
        let info = ConnInfo {
            peer: "127.0.0.1:1".parse().unwrap(),
            proxy: None,
            local: "127.0.0.1:2".parse().unwrap(),
            core: 0,
            conn_id: 1,
        };
        Exchange::new(
            info,
            RequestFacts {
                id: StreamId::new(1),
                version,
                is_head,
                te_trailers,
                keep_alive: true,
                expect_continue: false,
            },
            None,
        )
    }

    /// The octets written, with the `date` field of a final head (checked for form)
    /// taken out.
    fn take(x: &Exchange) -> String {
        let out = String::from_utf8(x.state.borrow_mut().wbuf.split().to_vec()).unwrap();
        match out.split_once("date: ") {
            Some((before, after)) => {
                let (date, rest) = after.split_at(29);
                assert!(httpdate::parse_http_date(date).is_ok(), "{date}");
                assert!(rest.starts_with("\r\n"), "{out}");
                format!("{before}{}", &rest[2..])
            }
            None => out,
        }
    }

    /// RFC 9110 §6.6.1: `date` on final heads only, the handler's own kept; `server` as
    /// configured.
    #[test]
    fn final_heads_get_date_and_server_unless_the_handler_set_them() {
        let mut x = exchange(Version::HTTP_11, false, false);
        x.server_header = Some(http::HeaderValue::from_static("h2ring"));
        let raw =
            |x: &Exchange| String::from_utf8(x.state.borrow_mut().wbuf.split().to_vec()).unwrap();
        x.send_head(ID, StatusCode::EARLY_HINTS, &HeaderMap::new(), false)
            .unwrap();
        assert_eq!(raw(&x), "HTTP/1.1 103 Early Hints\r\n\r\n");
        x.send_head(ID, StatusCode::OK, &HeaderMap::new(), true)
            .unwrap();
        let out = raw(&x);
        assert_eq!(out.matches("date: ").count(), 1, "{out}");
        assert!(out.contains(" GMT\r\nserver: h2ring\r\n"), "{out}");
        let x = exchange(Version::HTTP_11, false, false);
        let mut own = HeaderMap::new();
        own.insert(
            header::DATE,
            "Sun, 06 Nov 1994 08:49:37 GMT".parse().unwrap(),
        );
        x.send_head(ID, StatusCode::OK, &own, true).unwrap();
        assert_eq!(
            raw(&x),
            "HTTP/1.1 200 OK\r\ndate: Sun, 06 Nov 1994 08:49:37 GMT\r\ncontent-length: 0\r\n\r\n"
        );
    }

    const ID: StreamId = StreamId::new(1);

    #[test]
    fn unknown_length_is_chunked_with_trailers_only_when_asked() {
        for (te, expect) in [(true, "0\r\nx-sum: 5\r\n\r\n"), (false, "0\r\n\r\n")] {
            let x = exchange(Version::HTTP_11, false, te);
            x.send_head(ID, StatusCode::OK, &HeaderMap::new(), false)
                .unwrap();
            x.send_data(ID, Bytes::from_static(b"hello"), false)
                .unwrap();
            let mut t = HeaderMap::new();
            t.insert("x-sum", "5".parse().unwrap());
            x.send_trailers(ID, t).unwrap();
            assert_eq!(
                take(&x),
                format!(
                    "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n{expect}"
                )
            );
        }
    }

    #[test]
    fn empty_body_gets_content_length_zero_and_head_keeps_the_handlers_length() {
        let x = exchange(Version::HTTP_11, false, false);
        x.send_head(ID, StatusCode::NOT_FOUND, &HeaderMap::new(), true)
            .unwrap();
        assert_eq!(
            take(&x),
            "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n"
        );
        let x = exchange(Version::HTTP_11, true, false);
        let mut h = HeaderMap::new();
        h.insert(header::CONTENT_LENGTH, "42".parse().unwrap());
        x.send_head(ID, StatusCode::OK, &h, true).unwrap();
        assert_eq!(take(&x), "HTTP/1.1 200 OK\r\ncontent-length: 42\r\n\r\n");
        assert_eq!(x.state.borrow().out, Out::Done);
    }

    #[test]
    fn http10_unknown_length_is_close_delimited() {
        let x = exchange(Version::HTTP_10, false, false);
        x.send_head(ID, StatusCode::OK, &HeaderMap::new(), false)
            .unwrap();
        x.send_data(ID, Bytes::from_static(b"abc"), true).unwrap();
        assert_eq!(take(&x), "HTTP/1.1 200 OK\r\nconnection: close\r\n\r\nabc");
        assert!(!x.state.borrow().facts.keep_alive);
    }

    #[test]
    fn stale_ids_and_overlong_bodies_are_refused() {
        let x = exchange(Version::HTTP_11, false, false);
        assert_eq!(
            x.send_head(StreamId::new(3), StatusCode::OK, &HeaderMap::new(), true),
            Err(StreamError::ConnectionClosed)
        );
        let mut h = HeaderMap::new();
        h.insert(header::CONTENT_LENGTH, "2".parse().unwrap());
        x.send_head(ID, StatusCode::OK, &h, false).unwrap();
        assert!(x.send_data(ID, Bytes::from_static(b"abc"), true).is_err());
        assert!(x.state.borrow().aborted);
    }

    #[test]
    fn continue_is_sent_when_the_body_is_wanted() {
        let x = exchange(Version::HTTP_11, false, false);
        x.state.borrow_mut().facts.expect_continue = true;
        x.body_wanted(ID);
        x.body_wanted(ID);
        assert_eq!(take(&x), "HTTP/1.1 100 Continue\r\n\r\n");
    }
}
