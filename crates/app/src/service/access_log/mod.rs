//! The access log: one line per request, in Common, Combined or JSON format, to a file or
//! stdout. Each core formats its lines into its own buffer, with no allocation and the
//! time formatted once a second ([`format`]); full buffers go to one writer thread
//! ([`writer`]), so a core never blocks on the log. A line is written when the response
//! is complete: at once for a body given whole, when the [`BodyWriter`](crate::BodyWriter)
//! ends for a streamed one (its size then counts what was sent), as nginx logs at the end
//! of a request.

mod format;
mod writer;

use std::net::IpAddr;
use std::path::PathBuf;
use std::rc::Rc;
use std::time::Instant;

use http::{header, HeaderValue, Method, Uri, Version};

pub(crate) use self::writer::{CoreLog, Sink};

/// Default size of a core's log buffer: it is handed to the writer thread when full.
const DEFAULT_BUFFER_OCTETS: usize = 64 * 1024;
/// Default number of a core's buffers the writer may hold before the core drops lines.
const DEFAULT_QUEUED_BUFFERS: usize = 16;
/// Status logged for a request whose handler was cancelled before it answered (the
/// client reset the stream or closed the connection): nginx's 499, "client closed
/// request", which no response ever carries.
const CLIENT_CLOSED_REQUEST: u16 = 499;

/// The line format of an access log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum AccessLogFormat {
    /// The Common Log Format: `127.0.0.1 - - [10/Oct/2000:13:55:36 +0000] "GET /a
    /// HTTP/2.0" 200 2326` (time in UTC, size 0 for no body).
    Common,
    /// Common, then the `referer` and `user-agent` fields in quotes (`"-"` when absent),
    /// as Apache's and nginx's `combined` (the default).
    #[default]
    Combined,
    /// One JSON object per line: `remote_addr`, `time` (RFC 3339, UTC), `method`,
    /// `target`, `protocol`, `status`, `body_bytes`, `duration_us`, `referer` and
    /// `user_agent` (`null` when absent).
    Json,
}

/// Where an access log goes.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AccessLogTarget {
    /// Standard output (the binary's `--access-log -`).
    Stdout,
    /// A file, opened for appending (created if missing) and reopened at its path by
    /// [`ServerHandle::reopen_access_log`](crate::ServerHandle::reopen_access_log) (SIGUSR1
    /// under [`Server::serve`](crate::Server::serve)).
    File(PathBuf),
}

/// An access log's settings, for [`ServerBuilder::access_log`](crate::ServerBuilder::access_log).
///
/// ```no_run
/// use h2ring::{AccessLog, AccessLogFormat, Server};
///
/// let server = Server::builder()
///     .access_log(AccessLog::to_path("/var/log/h2ring/access.log").format(AccessLogFormat::Json))
///     .build()?;
/// # Ok::<(), h2ring::StartError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AccessLog {
    /// Where the lines go.
    pub target: AccessLogTarget,
    /// The line format (default [`AccessLogFormat::Combined`]).
    pub format: AccessLogFormat,
    /// Size of each core's buffer, handed to the writer thread when full or once a second
    /// (default 64 KiB).
    pub buffer_octets: usize,
    /// How many of a core's full buffers the writer thread may hold (default 16); while
    /// it holds that many, the core drops further lines and counts them in
    /// `h2ring_access_log_dropped_lines_total` instead of waiting for a slow disk. A
    /// core's log uses at most `(queued_buffers + 1) × buffer_octets` of memory.
    pub queued_buffers: usize,
}

impl AccessLog {
    /// A log appended to the file at `path` (created if missing).
    pub fn to_path(path: impl Into<PathBuf>) -> Self {
        Self::new(AccessLogTarget::File(path.into()))
    }

    /// A log written to standard output.
    pub fn to_stdout() -> Self {
        Self::new(AccessLogTarget::Stdout)
    }

    fn new(target: AccessLogTarget) -> Self {
        AccessLog {
            target,
            format: AccessLogFormat::default(),
            buffer_octets: DEFAULT_BUFFER_OCTETS,
            queued_buffers: DEFAULT_QUEUED_BUFFERS,
        }
    }

    /// Sets the line format.
    pub fn format(mut self, format: AccessLogFormat) -> Self {
        self.format = format;
        self
    }

    /// Sets the size of each core's buffer (see [`AccessLog::buffer_octets`]).
    pub fn buffer_octets(mut self, octets: usize) -> Self {
        self.buffer_octets = octets;
        self
    }

    /// Sets how many full buffers a core may have at the writer (see
    /// [`AccessLog::queued_buffers`]).
    pub fn queued_buffers(mut self, n: usize) -> Self {
        self.queued_buffers = n;
        self
    }
}

/// Where and when a request's line starts: enough to write it from the request itself
/// when the response is complete while the request is still at hand (the usual case: a
/// service that answers at once), or to [`capture`](LogStart::capture) the request's facts
/// when a handler takes the request or the body streams on.
#[derive(Clone)]
pub(crate) struct LogStart {
    log: Rc<CoreLog>,
    peer: IpAddr,
    started: Instant,
}

impl LogStart {
    /// A line for a request from `peer` whose head arrived at `started`.
    pub(crate) fn new(log: &Rc<CoreLog>, peer: IpAddr, started: Instant) -> Self {
        LogStart {
            log: log.clone(),
            peer,
            started,
        }
    }

    /// Writes the line now, from the request: no copy of its fields. For a request
    /// answered within the turn that decoded it, whose clock is `started`: no clock is
    /// read (one per line would be a few percent of a small request), and its duration is
    /// 0, the time its response took to be queued by that clock, as the latency metric
    /// counts it.
    pub(crate) fn write<B>(&self, request: &http::Request<B>, status: u16, body_bytes: u64) {
        let headers = request.headers();
        let wants_fields = self.log.wants_fields();
        let field = |name| {
            wants_fields
                .then(|| headers.get(name).map(HeaderValue::as_bytes))
                .flatten()
        };
        let now = self.started;
        let line = format::Line {
            peer: self.peer,
            method: request.method(),
            target: request.uri(),
            version: request.version(),
            status,
            body_bytes,
            referer: field(header::REFERER),
            user_agent: field(header::USER_AGENT),
            duration: now.saturating_duration_since(self.started),
        };
        self.log.write(&line, now);
    }

    /// Keeps the request's facts for a line written later (clones of shared buffers, not
    /// copies of the octets). Boxed: it is kept only by a handler's task or a streaming
    /// body, each an allocation already, and the box keeps the structs that carry it
    /// small to move.
    pub(crate) fn capture<B>(&self, request: &http::Request<B>) -> Box<Pending> {
        let headers = request.headers();
        let wants_fields = self.log.wants_fields();
        let field = |name| wants_fields.then(|| headers.get(name).cloned()).flatten();
        Box::new(Pending {
            start: self.clone(),
            method: request.method().clone(),
            target: request.uri().clone(),
            version: request.version(),
            referer: field(header::REFERER),
            user_agent: field(header::USER_AGENT),
            status: CLIENT_CLOSED_REQUEST,
        })
    }
}

/// A request whose line is not written yet: what its request said, kept from the start
/// (the handler takes the request), and its status once the response head is out.
pub(crate) struct Pending {
    start: LogStart,
    method: Method,
    target: Uri,
    version: Version,
    referer: Option<HeaderValue>,
    user_agent: Option<HeaderValue>,
    status: u16,
}

impl Pending {
    /// Records the status of the response head that went out.
    pub(crate) fn set_status(&mut self, status: u16) {
        self.status = status;
    }

    /// Writes the line: the response is complete, `body_bytes` of body sent.
    pub(crate) fn complete(&self, body_bytes: u64) {
        let now = Instant::now();
        let line = format::Line {
            peer: self.start.peer,
            method: &self.method,
            target: &self.target,
            version: self.version,
            status: self.status,
            body_bytes,
            referer: self.referer.as_ref().map(HeaderValue::as_bytes),
            user_agent: self.user_agent.as_ref().map(HeaderValue::as_bytes),
            duration: now.saturating_duration_since(self.start.started),
        };
        self.start.log.write(&line, now);
    }
}
