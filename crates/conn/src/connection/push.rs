//! Server push (RFC 9113 §8.4): PUSH_PROMISE on a client stream, then the promised request
//! runs like any other.

use bytes::BytesMut;
use h2ring_frame::{encode_push_promise, StreamId};
use h2ring_hpack::RequestHead;
use http::{HeaderMap, Method, Uri};

use super::{Connection, Phase};
use crate::error::SendError;
use crate::event::Event;
use crate::stream::SendHalf;

/// Fields a promised request cannot carry (Go's `responseWriter.Push` list, plus
/// `content-type`): request-body fields make no sense on a request without a body (§8.4),
/// `host` because the promised URI is absolute (`:authority`), `te` and `expect` ask for
/// things only a real client can (§8.2.2, RFC 9110 §10.1.1), and connection-specific
/// fields are malformed in HTTP/2 (§8.2.2).
const FORBIDDEN_PUSH_FIELDS: [&str; 12] = [
    "content-length",
    "content-type",
    "content-encoding",
    "trailer",
    "te",
    "expect",
    "host",
    "connection",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
    "upgrade",
];

impl Connection {
    /// Whether the peer currently lets us push at all.
    pub fn can_push(&self) -> bool {
        self.config.allow_push
            && self.peer.enable_push
            && !self.goaway_received
            && self.goaway_sent.is_none()
            && self.phase == Phase::Open
    }

    /// Promises `uri` on `parent` (a client stream whose response is not finished) and
    /// returns the promised stream id. The promised request is delivered as an
    /// [`Event::Request`] with `pushed: true`, so it is answered like any other request.
    pub fn push_promise(
        &mut self,
        parent: StreamId,
        method: Method,
        uri: Uri,
        headers: HeaderMap,
    ) -> Result<StreamId, SendError> {
        if !self.can_push() {
            return Err(SendError::PushRefused(
                "peer disabled push or connection closing",
            ));
        }
        // §8.4: promised requests are safe and cacheable and carry no body.
        if method != Method::GET && method != Method::HEAD {
            return Err(SendError::PushRefused("only GET and HEAD can be pushed"));
        }
        if FORBIDDEN_PUSH_FIELDS
            .iter()
            .any(|f| headers.contains_key(*f))
        {
            return Err(SendError::PushRefused(
                "promised request has a field a push cannot carry",
            ));
        }
        let (Some(scheme), Some(authority), Some(path)) =
            (uri.scheme(), uri.authority(), uri.path_and_query())
        else {
            return Err(SendError::PushRefused(
                "promised URI needs scheme, authority and path",
            ));
        };
        let key = self.store.key(parent).ok_or(SendError::UnknownStream)?;
        let Some(stream) = self.store.get(key) else {
            return Err(SendError::UnknownStream);
        };
        // §8.4: push only on a client request whose response is still open (no recursion).
        if stream.pushed || !parent.is_client_initiated() {
            return Err(SendError::PushRefused("cannot push on a pushed stream"));
        }
        if stream.send == SendHalf::Done {
            return Err(SendError::AlreadyEnded);
        }
        let limit = self.peer.max_concurrent_streams.unwrap_or(u32::MAX) as usize;
        if self.store.push_streams() >= limit {
            return Err(SendError::PushRefused(
                "peer's MAX_CONCURRENT_STREAMS reached",
            ));
        }
        let next = u64::from(self.last_pushed_stream.value()) + 2;
        if next > u64::from(StreamId::MAX.value()) {
            return Err(SendError::PushRefused("stream ids exhausted"));
        }
        let promised = StreamId::new(next as u32);
        self.last_pushed_stream = promised;

        let mut block = BytesMut::with_capacity(64);
        self.encoder.encode_request(
            &method,
            scheme.as_str(),
            authority.as_str(),
            path.as_str(),
            &headers,
            &mut block,
        );
        encode_push_promise(
            parent,
            promised,
            &block,
            self.peer.max_frame_size,
            &mut self.out,
        );

        // §5.1: the promised stream is reserved (local); the client sends nothing on it.
        let mut stream = crate::stream::Stream::new(
            promised,
            self.config.stream_window,
            self.peer.initial_window,
            self.clock,
        );
        stream.pushed = true;
        stream.recv_open = false;
        self.store.insert(stream);
        self.stats.requests += 1;
        self.timers.became_active();
        let head = RequestHead {
            method,
            scheme: Some(scheme.clone()),
            authority: Some(authority.clone()),
            path: Some(path.clone()),
            protocol: None,
            headers,
            content_length: None,
            expect_continue: false,
        };
        let head = self.boxed_head(head);
        self.events.push_back(Event::Request {
            stream: promised,
            head,
            end_stream: true,
            pushed: true,
        });
        Ok(promised)
    }
}
