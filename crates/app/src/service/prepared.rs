//! [`PreparedHead`]: response header fields built once and sent with many responses.

use std::sync::Arc;

use h2ring_conn::PreparedFields;
use http::{HeaderMap, StatusCode};

use crate::service::{Body, Response};

/// Response header fields built once and sent with many responses, e.g. a static file's
/// `etag`, `last-modified`, `content-type` and `content-length`.
///
/// Cloning is cheap (a shared reference). A response made by [`PreparedHead::response`]
/// sends these fields without copying them into the response's `HeaderMap`, and an HTTP/2
/// connection encodes them once: while its HPACK table stays unchanged it replays the
/// octets it wrote the last time. Fields put in the response's own headers are sent after
/// the prepared ones.
#[derive(Clone, Debug)]
pub struct PreparedHead(Arc<PreparedFields>);

impl PreparedHead {
    /// Prepares `headers`.
    pub fn new(headers: HeaderMap) -> Self {
        PreparedHead(Arc::new(PreparedFields::new(headers)))
    }

    /// The prepared fields.
    pub fn headers(&self) -> &HeaderMap {
        self.0.headers()
    }

    /// A response with `status`, these fields and `body`; its own header map starts empty.
    pub fn response(&self, status: StatusCode, body: impl Into<Body>) -> Response {
        let mut body = body.into();
        body.head = Some(self.clone());
        let mut response = http::Response::new(body);
        *response.status_mut() = status;
        response
    }

    pub(crate) fn fields(&self) -> &PreparedFields {
        &self.0
    }
}
