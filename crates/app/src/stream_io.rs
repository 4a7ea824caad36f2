//! `StreamIo`: what a request's body, its response writer and its `Context` need from the
//! protocol carrying it, so one `Service` answers HTTP/2 streams and HTTP/1.1 exchanges.

use bytes::Bytes;
use h2ring_conn::{ErrorCode, StreamId};
use http::{HeaderMap, StatusCode};

use crate::h2::shared::ConnShared;
use crate::respond::merged_head;
use crate::runtime::ConnInfo;
use crate::service::StreamError;
use crate::PreparedHead;

/// One request/response exchange's transport, seen from the handler side. Implemented by
/// the HTTP/2 connection state (per stream id) and by the HTTP/1.1 connection.
pub(crate) trait StreamIo {
    /// Facts about the connection.
    fn info(&self) -> ConnInfo;
    /// Queues a response head (final or 1xx); `end` when no body follows.
    fn send_head(
        &self,
        id: StreamId,
        status: StatusCode,
        headers: &HeaderMap,
        end: bool,
    ) -> Result<(), StreamError>;
    /// Queues a final response head of `headers` and `content-length: content_length`
    /// (not in the map: adding it there costs a field map's allocations per response);
    /// a 1xx status is refused.
    fn send_sized_head(
        &self,
        id: StreamId,
        status: StatusCode,
        headers: &HeaderMap,
        content_length: u64,
        end: bool,
    ) -> Result<(), StreamError>;
    /// Queues a response head of `prepared` fields followed by `extra` ones.
    fn send_prepared_head(
        &self,
        id: StreamId,
        status: StatusCode,
        prepared: &PreparedHead,
        extra: &HeaderMap,
        end: bool,
    ) -> Result<(), StreamError> {
        self.send_head(id, status, &merged_head(prepared, extra), end)
    }
    /// Queues body octets; `end` ends the body.
    fn send_data(&self, id: StreamId, data: Bytes, end: bool) -> Result<(), StreamError>;
    /// Ends the body with trailers.
    fn send_trailers(&self, id: StreamId, trailers: HeaderMap) -> Result<(), StreamError>;
    /// Octets the writer may queue now (0: wait for `wake_sender`).
    fn send_capacity(&self, id: StreamId) -> Result<usize, StreamError>;
    /// The handler took `n` octets of request body.
    fn consume(&self, id: StreamId, n: usize);
    /// The handler started reading the body (`100 Continue` time).
    fn body_wanted(&self, id: StreamId);
    /// The handler dropped the body unread.
    fn discard_body(&self, id: StreamId);
    /// Abandons the exchange.
    fn reset(&self, id: StreamId, code: ErrorCode);
    /// Whether server push is possible now.
    fn can_push(&self) -> bool;
    /// Promises a pushed GET of `uri`.
    fn push(
        &self,
        parent: StreamId,
        uri: http::Uri,
        headers: HeaderMap,
    ) -> Result<u32, StreamError>;
}

impl StreamIo for ConnShared {
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
        ConnShared::send_head(self, id, status, headers, end)
    }
    fn send_sized_head(
        &self,
        id: StreamId,
        status: StatusCode,
        headers: &HeaderMap,
        content_length: u64,
        end: bool,
    ) -> Result<(), StreamError> {
        ConnShared::send_sized_head(self, id, status, headers, content_length, end)
    }
    fn send_prepared_head(
        &self,
        id: StreamId,
        status: StatusCode,
        prepared: &PreparedHead,
        extra: &HeaderMap,
        end: bool,
    ) -> Result<(), StreamError> {
        ConnShared::send_prepared_head(self, id, status, prepared, extra, end)
    }
    fn send_data(&self, id: StreamId, data: Bytes, end: bool) -> Result<(), StreamError> {
        ConnShared::send_data(self, id, data, end)
    }
    fn send_trailers(&self, id: StreamId, trailers: HeaderMap) -> Result<(), StreamError> {
        ConnShared::send_trailers(self, id, trailers)
    }
    fn send_capacity(&self, id: StreamId) -> Result<usize, StreamError> {
        ConnShared::send_capacity(self, id)
    }
    fn consume(&self, id: StreamId, n: usize) {
        ConnShared::consume(self, id, n)
    }
    fn body_wanted(&self, id: StreamId) {
        ConnShared::body_wanted(self, id)
    }
    fn discard_body(&self, id: StreamId) {
        ConnShared::discard_body(self, id)
    }
    fn reset(&self, id: StreamId, code: ErrorCode) {
        ConnShared::reset(self, id, code)
    }
    fn can_push(&self) -> bool {
        ConnShared::can_push(self)
    }
    fn push(
        &self,
        parent: StreamId,
        uri: http::Uri,
        headers: HeaderMap,
    ) -> Result<u32, StreamError> {
        ConnShared::push(self, parent, uri, headers)
    }
}
