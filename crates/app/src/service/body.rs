//! Bodies: the streamed [`RequestBody`] a handler reads, and the [`Body`] it answers with
//! (empty, whole, or written through a [`BodyWriter`] with backpressure).

use std::cell::{Cell, RefCell};
use std::fmt;
use std::future::poll_fn;
use std::rc::Rc;
use std::task::{Poll, Waker};

use bytes::Bytes;
use h2ring_conn::ErrorCode;
use http::HeaderMap;

use super::access_log::Pending;
use super::exchange::{StreamIo, StreamSlot};
use super::StreamError;

/// The request body: a stream of `Bytes` chunks, then maybe trailers. Reading it opens the
/// HTTP/2 flow-control window again (backpressure: an unread body stops the client).
/// Dropping it tells the client, once the response is complete, that the rest is not wanted.
pub struct RequestBody {
    pub(crate) link: Option<(Rc<dyn StreamIo>, Rc<StreamSlot>)>,
    pub(crate) wanted: bool,
}

impl RequestBody {
    /// A body with nothing in it.
    pub fn empty() -> Self {
        RequestBody {
            link: None,
            wanted: false,
        }
    }

    /// The next chunk of the body, `None` at its end.
    pub async fn data(&mut self) -> Option<Result<Bytes, StreamError>> {
        let (shared, slot) = self.link.clone()?;
        if !self.wanted {
            // `expect: 100-continue` is answered when the body is first read.
            self.wanted = true;
            shared.body_wanted(slot.id);
        }
        let item = poll_fn(|cx| slot.poll_body(cx.waker())).await;
        if let Some(Ok(chunk)) = &item {
            shared.consume(slot.id, chunk.len());
        }
        item
    }

    /// The request trailers, after the body has been read to its end.
    pub async fn trailers(&mut self) -> Result<Option<HeaderMap>, StreamError> {
        let Some((_, slot)) = self.link.clone() else {
            return Ok(None);
        };
        while let Some(chunk) = self.data().await {
            chunk?;
        }
        Ok(slot.take_trailers())
    }

    /// Reads the whole body, failing if it exceeds `limit` octets.
    pub async fn collect(&mut self, limit: usize) -> Result<Bytes, CollectError> {
        let mut buf = bytes::BytesMut::new();
        while let Some(chunk) = self.data().await {
            let chunk = chunk.map_err(CollectError::Stream)?;
            if buf.len() + chunk.len() > limit {
                return Err(CollectError::TooLarge);
            }
            buf.extend_from_slice(&chunk);
        }
        Ok(buf.freeze())
    }

    /// True when the body is known to be over.
    pub fn is_end_stream(&self) -> bool {
        self.link
            .as_ref()
            .is_none_or(|(_, slot)| slot.body_finished())
    }
}

impl Drop for RequestBody {
    fn drop(&mut self) {
        if let Some((shared, slot)) = self.link.take() {
            if !slot.body_finished() {
                shared.discard_body(slot.id);
            }
        }
    }
}

impl fmt::Debug for RequestBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestBody").finish_non_exhaustive()
    }
}

/// Why [`RequestBody::collect`] failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CollectError {
    /// The body is longer than the limit.
    TooLarge,
    /// Reading failed: the stream was reset or the connection is gone.
    Stream(StreamError),
}

impl fmt::Display for CollectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CollectError::TooLarge => f.write_str("body larger than the limit"),
            CollectError::Stream(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for CollectError {}

/// A response body: empty, complete in memory (zero-copy `Bytes`), or streamed through a
/// [`BodyWriter`].
pub struct Body {
    pub(crate) kind: BodyKind,
    /// Prepared header fields sent ahead of the response's own ones (set by
    /// [`PreparedHead::response`](crate::service::PreparedHead::response)); carried here because
    /// `http::Response` has no field for them that does not allocate.
    pub(crate) head: Option<crate::service::PreparedHead>,
}

pub(crate) enum BodyKind {
    Empty,
    Full(Bytes),
    Channel(Rc<Channel>),
}

impl Body {
    /// No body.
    pub fn empty() -> Self {
        Body {
            kind: BodyKind::Empty,
            head: None,
        }
    }

    /// A body written piece by piece through the returned [`BodyWriter`], from a task the
    /// handler starts with [`Context::spawn`](crate::Context::spawn) (which isolates its
    /// panics), after the head has been returned.
    pub fn channel() -> (BodyWriter, Body) {
        let channel = Rc::new(Channel::default());
        (
            BodyWriter {
                channel: channel.clone(),
                finished: false,
            },
            Body {
                kind: BodyKind::Channel(channel),
                head: None,
            },
        )
    }

    /// The body's length when it is known up front.
    pub fn len(&self) -> Option<usize> {
        match &self.kind {
            BodyKind::Empty => Some(0),
            BodyKind::Full(b) => Some(b.len()),
            BodyKind::Channel(_) => None,
        }
    }

    /// True for a body known to be empty.
    pub fn is_empty(&self) -> bool {
        self.len() == Some(0)
    }
}

impl Default for Body {
    fn default() -> Self {
        Body::empty()
    }
}

impl From<Bytes> for Body {
    fn from(b: Bytes) -> Self {
        Body {
            kind: BodyKind::Full(b),
            head: None,
        }
    }
}
impl From<&'static str> for Body {
    fn from(s: &'static str) -> Self {
        Bytes::from_static(s.as_bytes()).into()
    }
}
impl From<&'static [u8]> for Body {
    fn from(s: &'static [u8]) -> Self {
        Bytes::from_static(s).into()
    }
}
impl From<String> for Body {
    fn from(s: String) -> Self {
        Bytes::from(s).into()
    }
}
impl From<Vec<u8>> for Body {
    fn from(v: Vec<u8>) -> Self {
        Bytes::from(v).into()
    }
}

impl fmt::Debug for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            BodyKind::Empty => f.write_str("Body::Empty"),
            BodyKind::Full(b) => write!(f, "Body::Full({} bytes)", b.len()),
            BodyKind::Channel(_) => f.write_str("Body::Channel"),
        }
    }
}

/// Where a channel body is bound once its response head was sent.
pub(crate) enum Binding {
    Unbound,
    Stream(Rc<dyn StreamIo>, Rc<StreamSlot>),
    /// A HEAD response or a response that could not be sent: writes are accepted and
    /// dropped, or refused.
    Discard,
    Failed(StreamError),
    /// The writer was dropped before the head went out: the body ends empty, or, if it
    /// was dropped by a panic, the response becomes a 500.
    WriterGone {
        panicked: bool,
    },
}

pub(crate) struct Channel {
    pub(crate) binding: RefCell<Binding>,
    waker: Cell<Option<Waker>>,
    /// The access-log line of a response whose body streams: written when the writer
    /// ends, with the octets it sent.
    log: RefCell<Option<Box<Pending>>>,
    sent: Cell<u64>,
}

impl Default for Channel {
    fn default() -> Self {
        Channel {
            binding: RefCell::new(Binding::Unbound),
            waker: Cell::new(None),
            log: RefCell::new(None),
            sent: Cell::new(0),
        }
    }
}

impl Channel {
    /// `Some(panicked)` when the writer is gone before the head went out.
    pub(crate) fn writer_gone(&self) -> Option<bool> {
        match &*self.binding.borrow() {
            Binding::WriterGone { panicked } => Some(*panicked),
            _ => None,
        }
    }

    /// Leaves the access-log line for the writer to complete when the body ends.
    pub(crate) fn defer_log(&self, pending: Box<Pending>) {
        *self.log.borrow_mut() = Some(pending);
    }

    fn complete_log(&self) {
        let pending = self.log.borrow_mut().take();
        if let Some(pending) = pending {
            pending.complete(self.sent.get());
        }
    }

    pub(crate) fn bind(&self, binding: Binding) {
        *self.binding.borrow_mut() = binding;
        if let Some(w) = self.waker.take() {
            w.wake();
        }
    }
}

/// Writes a streamed response body with backpressure: `send` waits while the stream's
/// buffer is full (HTTP/2 flow control), so a slow client slows the writer instead of
/// growing memory. Dropping it without [`BodyWriter::finish`] ends the body normally,
/// unless the thread is panicking, in which case the stream is reset (INTERNAL_ERROR).
pub struct BodyWriter {
    channel: Rc<Channel>,
    finished: bool,
}

impl BodyWriter {
    /// Waits until the response head is out and there is room, then queues `data`.
    pub async fn send(&mut self, data: Bytes) -> Result<(), StreamError> {
        let channel = self.channel.clone();
        let mut data = Some(data);
        poll_fn(move |cx| {
            let binding = channel.binding.borrow();
            match &*binding {
                Binding::Unbound => {
                    channel.waker.set(Some(cx.waker().clone()));
                    Poll::Pending
                }
                Binding::Discard => Poll::Ready(Ok(())),
                Binding::Failed(e) => Poll::Ready(Err(*e)),
                Binding::WriterGone { .. } => Poll::Ready(Err(StreamError::BodyDropped)),
                Binding::Stream(shared, slot) => {
                    if let Some(err) = slot.error() {
                        return Poll::Ready(Err(err));
                    }
                    match shared.send_capacity(slot.id) {
                        Err(e) => Poll::Ready(Err(e)),
                        Ok(0) => {
                            slot.set_send_waker(cx.waker());
                            Poll::Pending
                        }
                        Ok(_) => {
                            let chunk = data.take().unwrap_or_default();
                            let len = chunk.len() as u64;
                            let sent = shared.send_data(slot.id, chunk, false);
                            if sent.is_ok() {
                                channel.sent.set(channel.sent.get() + len);
                            }
                            Poll::Ready(sent)
                        }
                    }
                }
            }
        })
        .await
    }

    /// Ends the body with trailers.
    pub async fn send_trailers(mut self, trailers: HeaderMap) -> Result<(), StreamError> {
        self.wait_bound().await?;
        self.finished = true;
        let binding = self.channel.binding.borrow();
        match &*binding {
            Binding::Stream(shared, slot) => shared.send_trailers(slot.id, trailers),
            Binding::Discard => Ok(()),
            Binding::Failed(e) => Err(*e),
            Binding::Unbound | Binding::WriterGone { .. } => Err(StreamError::BodyDropped),
        }
    }

    /// Ends the body.
    pub async fn finish(mut self) -> Result<(), StreamError> {
        self.wait_bound().await?;
        self.finished = true;
        self.end()
    }

    /// Gives up on the body after its head went out (a file that could not be read to
    /// the length its `content-length` promised): the stream is reset with
    /// INTERNAL_ERROR (RFC 9113 §8.1) rather than ended short as if it were complete.
    /// Before the head went out, the response becomes a 500, as for a panic.
    pub(crate) fn abort(mut self) {
        self.finished = true;
        let binding = std::mem::replace(
            &mut *self.channel.binding.borrow_mut(),
            Binding::Failed(StreamError::BodyDropped),
        );
        match binding {
            Binding::Stream(shared, slot) => shared.reset(slot.id, ErrorCode::InternalError),
            Binding::Unbound => {
                *self.channel.binding.borrow_mut() = Binding::WriterGone { panicked: true };
            }
            _ => {}
        }
    }

    async fn wait_bound(&self) -> Result<(), StreamError> {
        let channel = self.channel.clone();
        poll_fn(move |cx| match &*channel.binding.borrow() {
            Binding::Unbound => {
                channel.waker.set(Some(cx.waker().clone()));
                Poll::Pending
            }
            Binding::Failed(e) => Poll::Ready(Err(*e)),
            _ => Poll::Ready(Ok(())),
        })
        .await
    }

    fn end(&self) -> Result<(), StreamError> {
        match &*self.channel.binding.borrow() {
            Binding::Stream(shared, slot) => shared.send_data(slot.id, Bytes::new(), true),
            Binding::Discard => Ok(()),
            Binding::Failed(e) => Err(*e),
            Binding::Unbound | Binding::WriterGone { .. } => Err(StreamError::BodyDropped),
        }
    }
}

/// Completes the channel's access-log line when dropped, after the body's end was sent.
struct LogOnDrop<'a>(&'a Channel);

impl Drop for LogOnDrop<'_> {
    fn drop(&mut self) {
        self.0.complete_log();
    }
}

impl Drop for BodyWriter {
    fn drop(&mut self) {
        // However the body ended (finished, with trailers, aborted, dropped), the response
        // is as complete as it will be once this is done: its log line goes now.
        let _log = LogOnDrop(&self.channel);
        if self.finished {
            return;
        }
        let panicked = std::thread::panicking();
        let binding = std::mem::replace(
            &mut *self.channel.binding.borrow_mut(),
            Binding::Failed(StreamError::BodyDropped),
        );
        match binding {
            Binding::Stream(shared, slot) if panicked => {
                shared.reset(slot.id, ErrorCode::InternalError);
            }
            Binding::Stream(shared, slot) => {
                let _ = shared.send_data(slot.id, Bytes::new(), true);
            }
            Binding::Unbound => {
                *self.channel.binding.borrow_mut() = Binding::WriterGone { panicked };
            }
            _ => {}
        }
    }
}
