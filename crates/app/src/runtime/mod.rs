//! The thread-per-core runtime: one pinned glommio executor per core, each with its own
//! `SO_REUSEPORT` listener per address, accept loops with a per-core connection cap, the
//! drain deadline, graceful shutdown and signals. It knows nothing of HTTP: every accepted
//! TCP stream goes to the per-core [`ConnectionFn`] the layer above built on that core.
//!
//! Known glommio 0.9 edges this design works around or watches:
//! - `TcpListener::bind` fixes backlog 1024 and panics on an unresolvable
//!   address, so listeners are built with socket2 (see `listener`).
//! - Its `AsyncWrite` has no vectored write: drivers should coalesce frames
//!   into one buffer per write.
//! - Network I/O first tries a plain non-blocking syscall, then io_uring.
//! - DataDog/glommio#592 (open) reports `TcpStream` echo benchmarks hanging;
//!   no root cause upstream. Every test here bounds its time so a hang
//!   surfaces as a failure rather than a stuck run.

mod accept;
mod core;
mod event;
mod executor;
mod listener;
pub(crate) mod shutdown;
pub(crate) mod signals;
#[cfg(test)]
mod tests;

use std::net::SocketAddr;
use std::os::fd::OwnedFd;
use std::sync::mpsc;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

pub use self::core::{ConnInfo, CoreContext};
pub(crate) use self::core::{ConnectionFn, ConnectionFuture};
pub(crate) use self::executor::ConnectionFactory;
pub(crate) use self::listener::{bind_group, into_glommio, Listener};
pub use self::shutdown::{ShutdownHandle, ShutdownSummary};

use self::executor::{run_core, CoreExit, CoreSetup};
use crate::error::StartError;
use crate::metrics::{MetricsHub, MetricsSnapshot};

/// What the runtime needs to start: resolved cores, addresses and per-core limits.
pub(crate) struct RuntimeConfig {
    pub cores: Vec<usize>,
    pub listen: Vec<SocketAddr>,
    pub backlog: u32,
    pub max_connections_per_core: usize,
    pub accept_backoff: Duration,
    pub drain_timeout: Duration,
    pub preempt_timer: Duration,
    pub spin_before_park: Option<Duration>,
    /// Each core but the first publishes its metrics to the hub this often (the first
    /// serves the admin endpoint and publishes on every scrape); `None`: never.
    pub publish_interval: Option<Duration>,
}

/// Binds every listener, starts one executor per core and returns once all cores are
/// accepting. `factory` runs once on each core to build that core's connection callback
/// (which may hold `!Send` state).
pub(crate) fn start(
    config: RuntimeConfig,
    hub: MetricsHub,
    factory: ConnectionFactory,
) -> Result<Runtime, StartError> {
    let cores = config.cores;
    let mut per_core: Vec<Vec<OwnedFd>> = cores.iter().map(|_| Vec::new()).collect();
    let mut local_addrs = Vec::with_capacity(config.listen.len());
    for &addr in &config.listen {
        let (actual, fds) = bind_group(addr, config.backlog, cores.len())?;
        local_addrs.push(actual);
        for (slot, fd) in per_core.iter_mut().zip(fds) {
            slot.push(fd);
        }
    }
    let first_core = cores.first().copied().unwrap_or(0);
    let io_err = |source: std::io::Error| StartError::Executor {
        core: first_core,
        source,
    };
    let (handle, watch) = ShutdownHandle::new().map_err(io_err)?;
    let watch_fds = cores
        .iter()
        .map(|_| watch.for_core())
        .collect::<Result<Vec<_>, _>>()
        .map_err(io_err)?;
    drop(watch);
    let (ready_tx, ready_rx) = mpsc::channel();
    let mut threads = Vec::with_capacity(cores.len());
    for (index, ((&cpu, listeners), shutdown)) in
        cores.iter().zip(per_core).zip(watch_fds).enumerate()
    {
        let setup = CoreSetup {
            index,
            cpu,
            listeners,
            shutdown,
            hub: hub.clone(),
            factory: Arc::clone(&factory),
            max_connections: config.max_connections_per_core,
            accept_backoff: config.accept_backoff,
            drain_timeout: config.drain_timeout,
            preempt_timer: config.preempt_timer,
            spin_before_park: config.spin_before_park,
            publish_interval: config.publish_interval.filter(|_| index != 0),
            stop_all: handle.downgrade(),
        };
        let ready = ready_tx.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("h2ring-core-{cpu}"))
            .spawn(move || run_core(setup, ready));
        match spawned {
            Ok(thread) => threads.push((cpu, thread)),
            Err(source) => {
                let err = StartError::Executor { core: cpu, source };
                return Err(abort(handle, threads, err));
            }
        }
    }
    drop(ready_tx);
    let running = Runtime {
        handle,
        threads,
        local_addrs,
        cores,
    };
    running.await_ready(ready_rx)
}

type CoreThread = (usize, JoinHandle<CoreExit>);

/// Stops already started cores after a startup failure.
fn abort(handle: ShutdownHandle, threads: Vec<CoreThread>, err: StartError) -> StartError {
    handle.shutdown();
    for (_, thread) in threads {
        let _ = thread.join();
    }
    err
}

/// The started cores.
pub(crate) struct Runtime {
    handle: ShutdownHandle,
    threads: Vec<CoreThread>,
    local_addrs: Vec<SocketAddr>,
    cores: Vec<usize>,
}

impl Runtime {
    /// Waits until every core reports that its executor and listeners run.
    fn await_ready(self, ready: mpsc::Receiver<std::io::Result<()>>) -> Result<Self, StartError> {
        for (cpu, _) in &self.threads {
            let source = match ready.recv() {
                Ok(Ok(())) => continue,
                Ok(Err(e)) => e,
                Err(_) => std::io::Error::other("executor thread exited during startup"),
            };
            let err = StartError::Executor { core: *cpu, source };
            return Err(abort(self.handle, self.threads, err));
        }
        Ok(self)
    }

    /// A handle that starts graceful shutdown.
    pub(crate) fn handle(&self) -> ShutdownHandle {
        self.handle.clone()
    }

    /// The bound listen addresses, in the order they were configured.
    pub(crate) fn local_addrs(&self) -> &[SocketAddr] {
        &self.local_addrs
    }

    /// The CPU cores serving, one executor each.
    pub(crate) fn cores(&self) -> &[usize] {
        &self.cores
    }

    /// Blocks until every core has stopped and returns what the server did. A core whose
    /// executor died contributes its id to `failed_cores` and no metrics.
    pub(crate) fn join(self) -> ShutdownSummary {
        let mut merged = MetricsSnapshot::default();
        let mut reported = 0;
        let mut failed = Vec::new();
        for (cpu, thread) in self.threads {
            match thread.join() {
                Ok(CoreExit::Stopped(snapshot)) => {
                    merged.merge(&snapshot);
                    reported += 1;
                }
                Ok(CoreExit::NotStarted) => {}
                Ok(CoreExit::Died) => failed.push(cpu),
                Err(_) => {
                    tracing::error!(core = cpu, "core thread panicked");
                    failed.push(cpu);
                }
            }
        }
        // Keep the trigger open until every core has finished, so dropping
        // this value is not mistaken for a shutdown request mid-join.
        drop(self.handle);
        ShutdownSummary::from_metrics(reported, &merged, failed)
    }
}
