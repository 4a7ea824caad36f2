//! [`Context`]: the per-request handle beside the request.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::rc::Rc;

use futures_lite::FutureExt;
use h2ring_conn::{ErrorCode, SendError};
use http::HeaderMap;

use super::exchange::{StreamIo, StreamSlot};
use super::respond::abandon;
use super::StreamError;
use crate::runtime::CoreContext;

/// Per-request handle: connection facts, 1xx responses, server push, reset state.
#[derive(Clone)]
pub struct Context {
    pub(crate) shared: Rc<dyn StreamIo>,
    pub(crate) slot: Rc<StreamSlot>,
    pub(crate) core: CoreContext,
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

    /// Runs `task` on this request's core, in the handler task queue, beside the handler:
    /// the way to stream a response body through a [`BodyWriter`](crate::BodyWriter) or to
    /// send trailers after the handler has returned the head.
    ///
    /// A panic in `task` costs this stream only: it is answered with 500 if no response
    /// head went out yet, else reset with INTERNAL_ERROR; it is counted in the metrics
    /// (`h2ring_handler_panics_total`), and the connection and the core carry on. (A task
    /// spawned with glommio directly has no such guard: its panic takes the core's
    /// executor down, and the server stops, see
    /// [`ShutdownSummary::failed_cores`](crate::ShutdownSummary::failed_cores).)
    ///
    /// ```no_run
    /// use bytes::Bytes;
    /// use h2ring::{Body, Context, Request, Response};
    ///
    /// async fn countdown(_req: Request, cx: Context) -> Response {
    ///     let (mut writer, body) = Body::channel();
    ///     cx.spawn(async move {
    ///         for n in (1..=3).rev() {
    ///             // Waits while the client does not read (backpressure).
    ///             if writer.send(Bytes::from(format!("{n}\n"))).await.is_err() {
    ///                 return; // the client went away
    ///             }
    ///         }
    ///         let _ = writer.finish().await;
    ///     });
    ///     Response::new(body)
    /// }
    /// ```
    pub fn spawn<F>(&self, task: F)
    where
        F: Future<Output = ()> + 'static,
    {
        let io = self.shared.clone();
        let id = self.slot.id;
        let core = self.core.clone();
        let queue = core.handler_queue();
        let guarded = async move {
            if AssertUnwindSafe(task).catch_unwind().await.is_err() {
                core.metrics().handler_panicked();
                tracing::error!(
                    core = core.core(),
                    stream = id.value(),
                    "a task spawned for a request panicked; its stream is abandoned"
                );
                abandon(&*io, id);
            }
        };
        if let Ok(task) = glommio::spawn_local_into(guarded, queue) {
            task.detach();
        } else {
            // The queue is gone (the core is stopping): the body will never come.
            self.shared.reset(id, ErrorCode::InternalError);
        }
    }
}
