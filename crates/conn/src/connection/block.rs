//! Header blocks: HEADERS + CONTINUATION (RFC 9113 §4.3, §6.2, §6.10), turned into new
//! requests or trailers, decoded fragment by fragment as they arrive.

use std::time::Instant;

use h2ring_frame::{Continuation, ErrorCode, Headers, StreamId};
use h2ring_hpack::{BlockKind, DecodedBlock, HeadError, RequestHead};
use http::{HeaderMap, HeaderValue, StatusCode};

use super::frames::Lookup;
use super::Connection;
use crate::closed::HowClosed;
use crate::event::Event;
use crate::priority::Priority;
use crate::store::StreamKey;
use crate::stream::Stream;

/// What a header block in progress will become once END_HEADERS arrives.
#[derive(Debug, Clone, Copy)]
pub(super) enum Target {
    /// Opens a new stream.
    NewRequest,
    /// Ends an open stream's request with trailers.
    Trailers(StreamKey),
    /// Decoded only to keep the HPACK table in step (§4.3), then dropped; the stream error,
    /// if any, is sent once the block is complete.
    Discard(Option<ErrorCode>),
}

#[derive(Debug)]
pub(super) struct HeaderBlock {
    stream_id: StreamId,
    end_stream: bool,
    target: Target,
    /// Compressed octets received so far (CONTINUATION flood bound).
    raw_len: usize,
}

impl Connection {
    pub(super) fn on_headers(&mut self, f: Headers, now: Instant) {
        let id = f.stream_id;
        if !id.is_client_initiated() {
            // §5.1.1: clients open odd-numbered streams only; an even id is either idle or
            // one of our pushed streams, which are reserved (local) or half-closed (remote)
            // for the client — HEADERS on a reserved (local) stream is a connection
            // PROTOCOL_ERROR (§5.1), and so is any unexpected stream identifier (§5.1.1).
            return self.connection_error(
                ErrorCode::ProtocolError,
                "HEADERS on a server stream id",
                now,
            );
        }
        let target = match self.lookup(id) {
            Lookup::Active(key) => match self.store.get(key) {
                // §5.1 half-closed (remote): HEADERS is a STREAM_CLOSED stream error.
                Some(stream) if !stream.recv_open => Target::Discard(Some(ErrorCode::StreamClosed)),
                // §8.1: trailers must carry END_STREAM.
                Some(_) if !f.end_stream => Target::Discard(Some(ErrorCode::ProtocolError)),
                Some(_) => Target::Trailers(key),
                None => return,
            },
            Lookup::Closed(Some(HowClosed::ResetByUs)) => Target::Discard(None),
            Lookup::Closed(Some(HowClosed::Finished)) => {
                // §5.1 closed: HEADERS on a finished stream.
                return self.connection_error(
                    ErrorCode::StreamClosed,
                    "HEADERS on closed stream",
                    now,
                );
            }
            Lookup::Closed(None) => {
                // §5.1.1: new stream ids must increase.
                return self.connection_error(
                    ErrorCode::ProtocolError,
                    "stream id not increasing",
                    now,
                );
            }
            Lookup::Idle => self.new_stream_target(&f),
        };
        let kind = match target {
            Target::Trailers(_) => BlockKind::Trailers,
            Target::NewRequest | Target::Discard(_) => BlockKind::Request,
        };
        self.heads.begin(kind);
        self.block = Some(HeaderBlock {
            stream_id: id,
            end_stream: f.end_stream,
            target,
            raw_len: 0,
        });
        if !f.end_headers {
            self.timers.header_block_started(now, &self.config);
        }
        self.feed_block(&f.fragment, f.end_headers, now);
    }

    /// Decides what a HEADERS frame on an idle client stream opens.
    fn new_stream_target(&mut self, f: &Headers) -> Target {
        // Opening a stream implicitly closes every idle stream with a lower id (§5.1.1).
        self.last_client_stream = f.stream_id;
        if !self.accepts_frames_on(f.stream_id) {
            // §6.8: streams initiated after our GOAWAY are not processed; the client
            // retries them elsewhere.
            return Target::Discard(None);
        }
        self.last_processed_stream = f.stream_id;
        if f.priority.is_some_and(|p| p.dependency == f.stream_id) {
            // §5.3.1: a stream cannot depend on itself.
            return Target::Discard(Some(ErrorCode::ProtocolError));
        }
        if self.store.client_streams() >= self.config.max_concurrent_streams as usize {
            // §5.1.2: over our limit → REFUSED_STREAM; the client may retry it.
            self.stats.streams_refused += 1;
            return Target::Discard(Some(ErrorCode::RefusedStream));
        }
        Target::NewRequest
    }

    pub(super) fn on_continuation(&mut self, c: Continuation, now: Instant) {
        match &self.block {
            Some(block) if block.stream_id == c.stream_id => {
                self.feed_block(&c.fragment, c.end_headers, now)
            }
            // §6.10: CONTINUATION must follow on the same stream.
            _ => self.connection_error(
                ErrorCode::ProtocolError,
                "CONTINUATION on wrong stream",
                now,
            ),
        }
    }

    fn feed_block(&mut self, fragment: &[u8], end_headers: bool, now: Instant) {
        let Some(block) = self.block.as_mut() else {
            return;
        };
        block.raw_len += fragment.len();
        if block.raw_len > self.config.max_header_block_bytes {
            // A CONTINUATION flood: stop without waiting for END_HEADERS (§10.5.1 allows
            // closing instead of decoding the rest).
            return self.connection_error(
                ErrorCode::EnhanceYourCalm,
                "header block too large",
                now,
            );
        }
        let result = match self.heads.decode(fragment, end_headers) {
            Ok(None) => return,
            Ok(Some(decoded)) => Ok(decoded),
            Err(HeadError::Compression(_)) => {
                // §4.3: a decoding error leaves the HPACK state unknown: connection error.
                return self.connection_error(
                    ErrorCode::CompressionError,
                    "HPACK decoding failed",
                    now,
                );
            }
            Err(other) => Err(other),
        };
        self.timers.header_block_done();
        if let Some(block) = self.block.take() {
            self.finish_block(block, result, now);
        }
        self.maybe_finish_draining(now);
    }

    fn finish_block(
        &mut self,
        block: HeaderBlock,
        result: Result<DecodedBlock, HeadError>,
        now: Instant,
    ) {
        let id = block.stream_id;
        match block.target {
            Target::Discard(None) => {}
            Target::Discard(Some(code)) => self.stream_error(id, code, now),
            Target::Trailers(key) => match result {
                Ok(DecodedBlock::Trailers(trailers)) => self.deliver_trailers(key, trailers, now),
                _ => self.reset_key(key, ErrorCode::ProtocolError, now),
            },
            Target::NewRequest => match result {
                Ok(DecodedBlock::Request(head)) => {
                    self.open_stream(id, head, block.end_stream, now);
                    if id == StreamId::MAX {
                        // §5.1.1: the client cannot open another stream here; tell it to
                        // go elsewhere while this last one finishes.
                        self.start_shutdown(now);
                    }
                }
                Err(HeadError::TooLarge) => self.answer_431(id, block.end_stream, now),
                // §8.1.1: a malformed request is a stream PROTOCOL_ERROR.
                _ => self.stream_error(id, ErrorCode::ProtocolError, now),
            },
        }
    }

    fn deliver_trailers(&mut self, key: StreamKey, trailers: HeaderMap, now: Instant) {
        let Some(stream) = self.store.get(key) else {
            return;
        };
        // §8.1.1: the body ended here, so its length must match content-length.
        if stream
            .content_length
            .is_some_and(|cl| cl != stream.body_received)
        {
            return self.reset_key(key, ErrorCode::ProtocolError, now);
        }
        if !stream.body_discarded {
            self.events.push_back(Event::Trailers {
                stream: stream.id,
                trailers: Box::new(trailers),
            });
        }
        self.recv_end_stream(key, now);
    }

    fn new_stream(&self, id: StreamId, now: Instant) -> Stream {
        Stream::new(id, self.config.stream_window, self.peer.initial_window, now)
    }

    fn open_stream(
        &mut self,
        id: StreamId,
        head: Box<RequestHead>,
        end_stream: bool,
        now: Instant,
    ) {
        // §8.1.1: END_STREAM on the head means an empty body; a non-zero content-length
        // contradicts it.
        if end_stream && head.content_length.is_some_and(|cl| cl != 0) {
            return self.stream_error(id, ErrorCode::ProtocolError, now);
        }
        let mut stream = self.new_stream(id, now);
        stream.recv_open = !end_stream;
        stream.content_length = head.content_length;
        stream.expect_continue = head.expect_continue && !end_stream;
        stream.priority = Priority::of_request(&head.headers);
        if let Some(update) = self.take_early_priority(id) {
            stream.priority = update;
        }
        self.store.insert(stream);
        self.stats.requests += 1;
        self.timers.became_active();
        self.timers.streams_open(now);
        self.events.push_back(Event::Request {
            stream: id,
            head,
            end_stream,
            pushed: false,
        });
    }

    /// RFC 9113 §10.5.1 / RFC 6585: the header list was over our limit; we answer 431
    /// ourselves and never bother the application (Go's handleHeaderListTooLong).
    fn answer_431(&mut self, id: StreamId, end_stream: bool, now: Instant) {
        let mut stream = self.new_stream(id, now);
        stream.recv_open = !end_stream;
        stream.body_discarded = true;
        let key = self.store.insert(stream);
        self.stats.responses_431 += 1;
        self.timers.became_active();
        self.timers.streams_open(now);
        let mut headers = HeaderMap::new();
        headers.insert(http::header::CONTENT_LENGTH, HeaderValue::from_static("0"));
        let _ = self.send_head(
            key,
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            super::send::HeadFields::Plain(&headers),
            true,
            now,
        );
        // The stream ended right there (END_STREAM both ways, or RST_STREAM(NO_ERROR) for a
        // body nobody reads). The application never saw a Request for it, so it must not
        // get the StreamClosed that closing queued either.
        if matches!(self.events.back(), Some(Event::StreamClosed { stream }) if *stream == id) {
            self.events.pop_back();
        }
    }
}
