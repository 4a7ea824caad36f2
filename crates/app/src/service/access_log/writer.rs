//! Where the lines go: each core fills its own buffer and hands full ones to one plain OS
//! writer thread over a channel, so no core's thread ever waits on a `write(2)`. A core
//! has at most `queued_buffers` buffers at the writer; when the writer falls that far
//! behind (a slow disk, a stalled pipe on stdout) the core drops its next buffer's lines
//! and counts them in `h2ring_access_log_dropped_lines_total` rather than wait. Buffers
//! come back to their core for reuse, so a core's log costs no allocation once warm and
//! at most `(queued_buffers + 1) × buffer_octets` of memory.

use std::cell::RefCell;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::Mutex;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::format::{write_line, Clock, Line};
use super::{AccessLog, AccessLogFormat, AccessLogTarget};
use crate::runtime::CoreContext;

/// How often a core hands over a buffer that is not full, so a quiet server's lines reach
/// the file within about a second (nginx's `flush=` of a buffered log).
const FLUSH_INTERVAL: Duration = Duration::from_secs(1);

enum Msg {
    /// Lines to write; the emptied buffer goes back on the sender.
    Lines(Vec<u8>, Sender<Vec<u8>>),
    /// Reopen the file at its path (log rotation).
    Reopen,
    /// Write nothing more and end: every core has handed over its last lines.
    Stop,
}

/// The server-wide end of the access log: the writer thread and the way to it. Shared by
/// the cores (each takes a sender once, at start), the server handle and the SIGUSR1
/// thread.
pub(crate) struct Sink {
    config: AccessLog,
    tx: Mutex<Option<Sender<Msg>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl std::fmt::Debug for Sink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sink")
            .field("config", &self.config)
            .finish()
    }
}

/// Where the writer thread writes.
enum Output {
    Stdout,
    File(File),
}

fn open(path: &Path) -> io::Result<File> {
    OpenOptions::new().append(true).create(true).open(path)
}

impl Sink {
    /// Opens the log (a path that cannot be opened for appending fails here, before any
    /// core starts) and starts the writer thread.
    pub(crate) fn start(config: AccessLog) -> io::Result<Sink> {
        let output = match &config.target {
            AccessLogTarget::Stdout => Output::Stdout,
            AccessLogTarget::File(path) => Output::File(open(path)?),
        };
        let (tx, rx) = mpsc::channel();
        let path = match &config.target {
            AccessLogTarget::File(path) => Some(path.clone()),
            AccessLogTarget::Stdout => None,
        };
        let thread = std::thread::Builder::new()
            .name("h2ring-access-log".to_string())
            .spawn(move || run_writer(rx, output, path))?;
        Ok(Sink {
            config,
            tx: Mutex::new(Some(tx)),
            thread: Mutex::new(Some(thread)),
        })
    }

    fn sender(&self) -> Option<Sender<Msg>> {
        self.tx.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Whether the log goes to a file (which [`reopen`](Self::reopen) can reopen).
    pub(crate) fn is_file(&self) -> bool {
        matches!(self.config.target, AccessLogTarget::File(_))
    }

    /// Asks the writer to reopen the file at its path, after the lines handed to it so
    /// far (for log rotation: rename the file, then reopen). Returns at once.
    pub(crate) fn reopen(&self) {
        if let Some(tx) = self.sender() {
            let _ = tx.send(Msg::Reopen);
        }
    }

    /// Writes what the cores handed over and stops the writer. Called once every core has
    /// stopped (and so flushed its buffer).
    pub(crate) fn close(&self) {
        if let Some(tx) = self.tx.lock().unwrap_or_else(|p| p.into_inner()).take() {
            let _ = tx.send(Msg::Stop);
        }
        let thread = self.thread.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(thread) = thread {
            let _ = thread.join();
        }
    }

    /// This core's end of the log.
    pub(crate) fn core_log(&self, core: &CoreContext) -> CoreLog {
        let (back_tx, back_rx) = mpsc::channel();
        CoreLog {
            format: self.config.format,
            buffer_octets: self.config.buffer_octets,
            queued_buffers: self.config.queued_buffers,
            tx: self.sender(),
            back_tx,
            back_rx,
            core: core.clone(),
            state: RefCell::new(CoreBuffer {
                buf: Vec::new(),
                lines: 0,
                clock: Clock::new(),
                spares: Vec::new(),
                at_writer: 0,
            }),
        }
    }
}

fn run_writer(rx: Receiver<Msg>, mut output: Output, path: Option<PathBuf>) {
    // Says the first failure of a run of them, not every one (a full disk would repeat).
    let mut failing = false;
    for msg in rx {
        match msg {
            Msg::Lines(mut buf, back) => {
                let written = match &mut output {
                    Output::Stdout => {
                        let mut out = io::stdout().lock();
                        out.write_all(&buf).and_then(|()| out.flush())
                    }
                    Output::File(file) => file.write_all(&buf),
                };
                match written {
                    Err(e) if !failing => {
                        failing = true;
                        tracing::error!("access log write failed: {e}");
                    }
                    Err(_) => {}
                    Ok(()) => failing = false,
                }
                buf.clear();
                let _ = back.send(buf);
            }
            Msg::Reopen => {
                let Some(path) = &path else { continue };
                match open(path) {
                    Ok(file) => output = Output::File(file),
                    Err(e) => tracing::error!(
                        "cannot reopen access log {}, writing on to the old file: {e}",
                        path.display()
                    ),
                }
            }
            Msg::Stop => break,
        }
    }
}

struct CoreBuffer {
    /// The lines not yet handed over.
    buf: Vec<u8>,
    /// How many lines `buf` holds (what is counted if they are dropped).
    lines: u64,
    clock: Clock,
    /// Emptied buffers back from the writer.
    spares: Vec<Vec<u8>>,
    /// Buffers handed over and not yet back.
    at_writer: usize,
}

/// One core's end of the access log: its buffer, its clock, its way to the writer.
pub(crate) struct CoreLog {
    format: AccessLogFormat,
    buffer_octets: usize,
    queued_buffers: usize,
    /// `None` once the server's log was closed.
    tx: Option<Sender<Msg>>,
    back_tx: Sender<Vec<u8>>,
    back_rx: Receiver<Vec<u8>>,
    core: CoreContext,
    state: RefCell<CoreBuffer>,
}

impl CoreLog {
    /// Appends `line`, handing the buffer over first if the line might not fit in it.
    pub(crate) fn write(&self, line: &Line<'_>, now: Instant) {
        let mut state = self.state.borrow_mut();
        let state = &mut *state;
        if state.buf.capacity() == 0 {
            state.buf.reserve_exact(self.buffer_octets);
        }
        if !state.buf.is_empty() && state.buf.len() + line.max_len() > self.buffer_octets {
            self.hand_off(state);
        }
        write_line(&mut state.buf, &mut state.clock, now, self.format, line);
        state.lines += 1;
    }

    /// Whether lines carry request fields (`referer`, `user-agent`).
    pub(crate) fn wants_fields(&self) -> bool {
        self.format != AccessLogFormat::Common
    }

    /// Hands over the lines buffered so far, if any (the periodic flush, and the last one).
    pub(crate) fn flush(&self) {
        let mut state = self.state.borrow_mut();
        if !state.buf.is_empty() {
            self.hand_off(&mut state);
        }
    }

    /// Sends the buffer to the writer and takes an empty one, or, with `queued_buffers`
    /// already at the writer, drops its lines and counts them: the core does not wait.
    fn hand_off(&self, state: &mut CoreBuffer) {
        while let Ok(back) = self.back_rx.try_recv() {
            state.at_writer = state.at_writer.saturating_sub(1);
            state.spares.push(back);
        }
        let Some(tx) = self
            .tx
            .as_ref()
            .filter(|_| state.at_writer < self.queued_buffers)
        else {
            self.core.metrics().access_log_dropped(state.lines);
            state.buf.clear();
            state.lines = 0;
            return;
        };
        let next = state
            .spares
            .pop()
            .unwrap_or_else(|| Vec::with_capacity(self.buffer_octets));
        let full = std::mem::replace(&mut state.buf, next);
        match tx.send(Msg::Lines(full, self.back_tx.clone())) {
            Ok(()) => state.at_writer += 1,
            Err(_) => self.core.metrics().access_log_dropped(state.lines),
        }
        state.lines = 0;
    }

    /// Hands over a buffer that is not full every [`FLUSH_INTERVAL`], and the last lines
    /// when the core stops.
    pub(crate) async fn flush_until_stopped(self: std::rc::Rc<Self>) {
        use futures_lite::FutureExt;
        let stopped = self.core.stopped();
        let mut stopped = std::pin::pin!(stopped);
        loop {
            let tick = async {
                glommio::timer::sleep(FLUSH_INTERVAL).await;
                false
            };
            let done = tick
                .or(async {
                    (&mut stopped).await;
                    true
                })
                .await;
            self.flush();
            if done {
                return;
            }
        }
    }
}

impl Drop for CoreLog {
    fn drop(&mut self) {
        // Lines written after the core's last flush (a body that ended during the stop).
        let mut state = self.state.borrow_mut();
        if !state.buf.is_empty() {
            let full = std::mem::take(&mut state.buf);
            if let Some(tx) = &self.tx {
                let _ = tx.send(Msg::Lines(full, self.back_tx.clone()));
            }
        }
    }
}
