//! [`Context`]: the per-request handle beside the request.

use std::rc::Rc;

use h2ring_conn::{ErrorCode, SendError};
use http::HeaderMap;

use super::exchange::{StreamIo, StreamSlot};
use super::StreamError;

/// Per-request handle: connection facts, 1xx responses, server push, reset state.
#[derive(Clone)]
pub struct Context {
    pub(crate) shared: Rc<dyn StreamIo>,
    pub(crate) slot: Rc<StreamSlot>,
    pub(crate) received_at: std::time::Instant,
}

impl Context {
    /// When the request's head was received: the clock read of the connection's turn
    /// that decoded it (one read serves every request of that turn). Cheaper than
    /// `Instant::now()` and fixed for the request's life, so a handler may use it as
    /// "now" for anything evaluated at arrival (cache freshness, request age).
    pub fn received_at(&self) -> std::time::Instant {
        self.received_at
    }

    /// The HTTP/2 stream id of this request.
    pub fn stream_id(&self) -> u32 {
        self.slot.id.value()
    }

    /// Facts about the connection (peer address, core, id).
    pub fn conn_info(&self) -> crate::runtime::ConnInfo {
        self.shared.info()
    }

    /// Whether this request was promised by the server (a pushed request).
    pub fn is_pushed(&self) -> bool {
        self.slot.pushed
    }

    /// Sends an informational (1xx) response head, e.g. 103 Early Hints, before the final
    /// response.
    pub fn send_informational(
        &self,
        status: http::StatusCode,
        headers: &HeaderMap,
    ) -> Result<(), StreamError> {
        if !status.is_informational() {
            return Err(StreamError::Send(SendError::InvalidStatus));
        }
        self.shared.send_head(self.slot.id, status, headers, false)
    }

    /// Whether the client currently accepts pushes on this connection.
    pub fn can_push(&self) -> bool {
        self.shared.can_push()
    }

    /// Promises `path` (same scheme and authority as this request) with GET; the pushed
    /// request is then served by the same service like any other request. Refused when
    /// the client does not accept pushes, or did not when this request arrived (the
    /// request's authority is kept only for clients that do).
    pub fn push(&self, path: &str, headers: HeaderMap) -> Result<u32, StreamError> {
        let Some(authority) = self.slot.authority.clone() else {
            return Err(StreamError::Send(SendError::PushRefused(
                if self.can_push() {
                    "no authority to push under"
                } else {
                    "peer disabled push or connection closing"
                },
            )));
        };
        let uri = http::Uri::builder()
            .scheme(self.slot.scheme.clone())
            .authority(authority)
            .path_and_query(path)
            .build()
            .map_err(|_| StreamError::Send(SendError::PushRefused("invalid path")))?;
        self.shared.push(self.slot.id, uri, headers)
    }

    /// The reset that ended this stream, if any.
    pub fn reset_state(&self) -> Option<StreamError> {
        self.slot.error()
    }

    /// Resets the stream (e.g. CANCEL when the handler gives up).
    pub fn reset(&self, code: ErrorCode) {
        self.shared.reset(self.slot.id, code);
    }
}
