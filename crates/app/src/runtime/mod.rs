//! The thread-per-core runtime: `Server` starts one pinned glommio executor
//! per core, each with its own `SO_REUSEPORT` listener per address, and
//! `RunningServer` waits for them to stop.
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
mod admin;
mod core;
mod event;
mod executor;
mod listener;

use std::net::SocketAddr;
use std::os::fd::OwnedFd;
use std::sync::mpsc;
use std::sync::Arc;
use std::thread::JoinHandle;

pub use self::admin::{ADMIN_MAX_REQUEST, ADMIN_READ_TIMEOUT};
pub use self::core::{
    ConnInfo, ConnectionFn, ConnectionFuture, CoreContext, CONN_ID_SEQUENCE_BITS,
};
pub use self::event::{EventWait, LocalEvent};
pub use self::executor::{
    ConnectionFactory, CONN_QUEUE_LATENCY, CONN_QUEUE_SHARES, HANDLER_QUEUE_SHARES,
};

use self::executor::{run_core, CoreSetup};
use crate::config::{available_cores, ServerBuilder, ServerConfig};
use crate::error::StartError;
use crate::metrics::{MetricsHub, MetricsSnapshot};
use crate::shutdown::{ShutdownHandle, ShutdownSummary};

/// A configured, not yet started server.
#[derive(Debug, Clone)]
pub struct Server {
    config: ServerConfig,
}

impl Server {
    /// Starts configuring a server.
    pub fn builder() -> ServerBuilder {
        ServerBuilder::new()
    }

    pub(crate) fn from_config(config: ServerConfig) -> Self {
        Server { config }
    }

    /// The validated configuration.
    pub fn config(&self) -> &ServerConfig {
        &self.config
    }

    /// Binds every listener, starts one executor per core and returns once
    /// all cores are accepting. `factory` runs once on each core to build
    /// that core's connection callback (which may hold `!Send` state).
    pub fn start<F>(self, factory: F) -> Result<RunningServer, StartError>
    where
        F: Fn(&CoreContext) -> ConnectionFn + Send + Sync + 'static,
    {
        self.config.validate()?;
        let cores = self.config.cores.resolve(&available_cores()?)?;
        let mut per_core: Vec<Vec<OwnedFd>> = cores.iter().map(|_| Vec::new()).collect();
        let mut local_addrs = Vec::with_capacity(self.config.listen.len());
        for &addr in &self.config.listen {
            let (actual, fds) = listener::bind_group(addr, self.config.backlog, cores.len())?;
            local_addrs.push(actual);
            for (slot, fd) in per_core.iter_mut().zip(fds) {
                slot.push(fd);
            }
        }
        let (admin, metrics_addr) = match self.config.metrics_addr {
            Some(addr) => {
                let (actual, mut fds) = listener::bind_group(addr, self.config.backlog, 1)?;
                (fds.pop(), Some(actual))
            }
            None => (None, None),
        };
        let io_err = |e: std::io::Error| StartError::Executor {
            core: cores.first().copied().unwrap_or(0),
            reason: crate::error::describe_io_error(&e),
        };
        let (handle, watch) = ShutdownHandle::new().map_err(io_err)?;
        let watch_fds = cores
            .iter()
            .map(|_| watch.for_core())
            .collect::<Result<Vec<_>, _>>()
            .map_err(io_err)?;
        drop(watch);
        let hub = MetricsHub::new(cores.len());
        let factory: ConnectionFactory = Arc::new(factory);
        let mut admin = admin;
        let (ready_tx, ready_rx) = mpsc::channel();
        let mut threads = Vec::with_capacity(cores.len());
        for (index, ((&cpu, listeners), shutdown)) in
            cores.iter().zip(per_core).zip(watch_fds).enumerate()
        {
            let setup = CoreSetup {
                index,
                cpu,
                listeners,
                admin: if index == 0 { admin.take() } else { None },
                shutdown,
                hub: hub.clone(),
                factory: Arc::clone(&factory),
                max_connections: self.config.max_connections_per_core,
                max_handlers: self.config.max_handlers_per_core,
                accept_backoff: self.config.accept_backoff,
                drain_timeout: self.config.drain_timeout,
                preempt_timer: self.config.preempt_timer,
                spin_before_park: self.config.spin_before_park,
                publish_interval: self.config.metrics_publish_interval,
                metrics_enabled: metrics_addr.is_some(),
                conn_config: self.config.conn.clone(),
            };
            let ready = ready_tx.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("h2ring-core-{cpu}"))
                .spawn(move || run_core(setup, ready));
            match spawned {
                Ok(thread) => threads.push((cpu, thread)),
                Err(e) => {
                    let err = StartError::Executor {
                        core: cpu,
                        reason: crate::error::describe_io_error(&e),
                    };
                    return Err(abort(handle, threads, err));
                }
            }
        }
        drop(ready_tx);
        let running = RunningServer {
            handle,
            threads,
            local_addrs,
            metrics_addr,
            cores,
        };
        running.await_ready(ready_rx)
    }

    /// Starts serving `Service`s: `factory` runs once on each core and returns that core's
    /// service (which may be `!Send` and hold per-core state). Every port speaks HTTP/2
    /// with prior knowledge and HTTP/1.1 (with `Upgrade: h2c`), told apart by the first
    /// octets. For TLS, build the callback with [`crate::serve::connection_fn`] and use
    /// [`Server::start`].
    pub fn start_service<F, S>(self, factory: F) -> Result<RunningServer, StartError>
    where
        F: Fn(&CoreContext) -> S + Send + Sync + 'static,
        S: crate::Service,
    {
        self.start(move |core: &CoreContext| crate::serve::connection_fn(core, factory(core), None))
    }

    /// [`Server::start_service`], then SIGINT/SIGTERM handling, blocking until stopped.
    pub fn serve<F, S>(self, factory: F) -> Result<ShutdownSummary, StartError>
    where
        F: Fn(&CoreContext) -> S + Send + Sync + 'static,
        S: crate::Service,
    {
        self.run(move |core: &CoreContext| crate::serve::connection_fn(core, factory(core), None))
    }

    /// Starts the server, turns SIGINT/SIGTERM into graceful shutdown (a
    /// second signal exits at once), and blocks until it has stopped.
    pub fn run<F>(self, factory: F) -> Result<ShutdownSummary, StartError>
    where
        F: Fn(&CoreContext) -> ConnectionFn + Send + Sync + 'static,
    {
        let running = self.start(factory)?;
        crate::signals::install(running.handle()).map_err(|e| {
            StartError::InvalidConfig(format!(
                "cannot install signal handlers: {}",
                crate::error::describe_io_error(&e)
            ))
        })?;
        Ok(running.join())
    }
}

type CoreThread = (usize, JoinHandle<Option<MetricsSnapshot>>);

/// Stops already started cores after a startup failure.
fn abort(handle: ShutdownHandle, threads: Vec<CoreThread>, err: StartError) -> StartError {
    handle.shutdown();
    for (_, thread) in threads {
        let _ = thread.join();
    }
    err
}

/// A started server. Call [`RunningServer::handle`] to stop it from anywhere
/// and [`RunningServer::join`] to wait for the summary.
pub struct RunningServer {
    handle: ShutdownHandle,
    threads: Vec<CoreThread>,
    local_addrs: Vec<SocketAddr>,
    metrics_addr: Option<SocketAddr>,
    cores: Vec<usize>,
}

impl RunningServer {
    /// Waits until every core reports that its executor and listeners run.
    fn await_ready(self, ready: mpsc::Receiver<Result<(), String>>) -> Result<Self, StartError> {
        for (cpu, _) in &self.threads {
            let failure = match ready.recv() {
                Ok(Ok(())) => continue,
                Ok(Err(reason)) => reason,
                Err(_) => "executor thread exited during startup".to_string(),
            };
            let err = StartError::Executor {
                core: *cpu,
                reason: failure,
            };
            return Err(abort(self.handle, self.threads, err));
        }
        Ok(self)
    }

    /// A handle that starts graceful shutdown.
    pub fn handle(&self) -> ShutdownHandle {
        self.handle.clone()
    }

    /// The bound listen addresses (ephemeral ports resolved), in the order
    /// they were configured.
    pub fn local_addrs(&self) -> &[SocketAddr] {
        &self.local_addrs
    }

    /// The bound metrics admin address, if enabled.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_addr
    }

    /// The CPU cores serving, one executor each.
    pub fn cores(&self) -> &[usize] {
        &self.cores
    }

    /// Blocks until every core has stopped (after `shutdown()`), and returns
    /// what the server did. A core whose thread panicked contributes nothing.
    pub fn join(self) -> ShutdownSummary {
        let mut merged = MetricsSnapshot::default();
        let mut reported = 0;
        for (cpu, thread) in self.threads {
            match thread.join() {
                Ok(Some(snapshot)) => {
                    merged.merge(&snapshot);
                    reported += 1;
                }
                Ok(None) => {}
                Err(_) => tracing::error!(core = cpu, "core thread panicked"),
            }
        }
        // Keep the trigger open until every core has finished, so dropping
        // this value is not mistaken for a shutdown request mid-join.
        drop(self.handle);
        ShutdownSummary::from_metrics(reported, &merged)
    }
}
