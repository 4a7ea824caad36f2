//! Graceful shutdown: the cross-thread `ShutdownHandle`, the per-core
//! listener for it, and the `ShutdownSummary` reported at the end.
//!
//! Wake-up mechanism: a Unix socket pair. The handle owns one end; every
//! core reads a duplicate of the other end through glommio (so the read sits
//! in io_uring like any other socket). `shutdown()` closes the handle's end,
//! which makes every pending read return EOF at once — one syscall wakes all
//! cores, with no polling and no per-core bookkeeping.

use std::fmt;
use std::io;
use std::os::fd::{FromRawFd, IntoRawFd, OwnedFd};
use std::os::unix::net::UnixStream as StdUnixStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};

use futures_lite::AsyncReadExt;

use crate::metrics::MetricsSnapshot;

/// Starts graceful shutdown of a running server from any thread.
///
/// Dropping every handle (including the one inside `RunningServer`) also
/// starts shutdown, because the trigger socket closes.
#[derive(Clone)]
pub struct ShutdownHandle {
    inner: Arc<Inner>,
}

struct Inner {
    trigger: Mutex<Option<StdUnixStream>>,
    started: AtomicBool,
}

impl fmt::Debug for ShutdownHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ShutdownHandle")
            .field("started", &self.is_started())
            .finish()
    }
}

impl ShutdownHandle {
    /// Creates a handle and the socket each core will watch.
    pub(crate) fn new() -> io::Result<(ShutdownHandle, ShutdownWatch)> {
        let (trigger, watch) = StdUnixStream::pair()?;
        let handle = ShutdownHandle {
            inner: Arc::new(Inner {
                trigger: Mutex::new(Some(trigger)),
                started: AtomicBool::new(false),
            }),
        };
        Ok((handle, ShutdownWatch { socket: watch }))
    }

    /// Begins graceful shutdown on every core: listeners close at once,
    /// connections are signalled, and after the drain deadline the rest are
    /// force-closed. Idempotent; returns immediately.
    pub fn shutdown(&self) {
        self.inner.started.store(true, Ordering::SeqCst);
        let mut trigger = self
            .inner
            .trigger
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        // Closing our end delivers EOF to every core's read.
        drop(trigger.take());
    }

    /// Whether `shutdown()` has been called.
    pub fn is_started(&self) -> bool {
        self.inner.started.load(Ordering::SeqCst)
    }

    /// A handle that can start the shutdown but does not keep the server running (the
    /// trigger still closes when every strong handle is gone).
    pub(crate) fn downgrade(&self) -> WeakShutdown {
        WeakShutdown(Arc::downgrade(&self.inner))
    }
}

/// See [`ShutdownHandle::downgrade`].
#[derive(Clone)]
pub(crate) struct WeakShutdown(Weak<Inner>);

impl WeakShutdown {
    /// Whether shutdown was asked for; also true once every strong handle is gone (which
    /// closes the trigger, so shutdown is under way).
    pub(crate) fn is_started(&self) -> bool {
        self.0
            .upgrade()
            .is_none_or(|inner| inner.started.load(Ordering::SeqCst))
    }

    /// Starts graceful shutdown, unless it already happened.
    pub(crate) fn shutdown(&self) {
        if let Some(inner) = self.0.upgrade() {
            (ShutdownHandle { inner }).shutdown();
        }
    }
}

/// The cores' side of the shutdown socket pair.
pub(crate) struct ShutdownWatch {
    socket: StdUnixStream,
}

impl ShutdownWatch {
    /// A duplicate descriptor for one core.
    pub fn for_core(&self) -> io::Result<OwnedFd> {
        Ok(OwnedFd::from(self.socket.try_clone()?))
    }
}

/// Completes when the handle's end closes (or the socket fails, which is
/// treated the same: a core that cannot hear shutdown must not run forever).
pub(crate) async fn wait_for_trigger(fd: OwnedFd) {
    // SAFETY: `fd` is an owned, open Unix stream socket (a dup of our
    // socket pair end); ownership moves into the glommio stream, which
    // closes it on drop. glommio 0.9 has no safe constructor for a
    // pre-existing Unix socket.
    let mut stream = unsafe { glommio::net::UnixStream::from_raw_fd(fd.into_raw_fd()) };
    let mut byte = [0u8; 1];
    loop {
        match stream.read(&mut byte).await {
            Ok(0) | Err(_) => return,
            // Nobody writes to the trigger; ignore stray bytes.
            Ok(_) => continue,
        }
    }
}

/// What the server did, reported once every core has stopped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ShutdownSummary {
    /// Cores that reported.
    pub cores: usize,
    /// Connections accepted and finished over the server's life.
    pub connections_served: u64,
    /// Of those, connections force-closed at the drain deadline.
    pub connections_forced: u64,
    /// HTTP/2 streams opened.
    pub streams: u64,
    /// Requests completed.
    pub requests: u64,
    /// Tasks spawned for requests that panicked (each cost its stream only).
    pub handler_panics: u64,
    /// Cores whose executor died (a panic no guard caught). The server stops when one
    /// does; a process that sees any should exit non-zero so its supervisor restarts it
    /// (the `h2ring` binary exits with status 70).
    pub failed_cores: Vec<usize>,
}

impl ShutdownSummary {
    /// Builds the summary from the merged final metrics.
    pub(crate) fn from_metrics(cores: usize, m: &MetricsSnapshot, failed: Vec<usize>) -> Self {
        ShutdownSummary {
            cores,
            connections_served: m.connections_closed,
            connections_forced: m.connections_forced,
            streams: m.streams_opened,
            requests: m.requests_total(),
            handler_panics: m.handler_panics,
            failed_cores: failed,
        }
    }
}

impl fmt::Display for ShutdownSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "h2ring: stopped after serving {} connections ({} force-closed), {} streams, {} requests on {} cores",
            self.connections_served,
            self.connections_forced,
            self.streams,
            self.requests,
            self.cores
        )?;
        if !self.failed_cores.is_empty() {
            write!(f, "; the executor of cores {:?} died", self.failed_cores)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn shutdown_closes_trigger_so_watchers_see_eof() {
        let (handle, watch) = ShutdownHandle::new().unwrap();
        let mut a = StdUnixStream::from(watch.for_core().unwrap());
        let mut b = StdUnixStream::from(watch.for_core().unwrap());
        assert!(!handle.is_started());
        let clone = handle.clone();
        clone.shutdown();
        clone.shutdown();
        assert!(handle.is_started());
        let mut buf = [0u8; 1];
        assert_eq!(a.read(&mut buf).unwrap(), 0);
        assert_eq!(b.read(&mut buf).unwrap(), 0);
    }

    #[test]
    fn summary_line_is_one_line() {
        let s = ShutdownSummary {
            cores: 2,
            connections_served: 5,
            connections_forced: 1,
            streams: 9,
            requests: 8,
            ..ShutdownSummary::default()
        };
        assert_eq!(
            s.to_string(),
            "h2ring: stopped after serving 5 connections (1 force-closed), 9 streams, 8 requests on 2 cores"
        );
    }
}
