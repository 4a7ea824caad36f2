//! The server: the builder and its settings, and the wiring that puts a [`Service`] on
//! every core — the runtime's accepted streams go through TLS or protocol sniffing to the
//! HTTP/2 or HTTP/1.1 driver.

mod admin;
pub(crate) mod builder;
mod connect;
mod listener;
mod protocols;

use std::net::SocketAddr;
use std::os::fd::OwnedFd;
use std::rc::Rc;
use std::sync::{Arc, Mutex};

use signal_hook::consts::SIGUSR1;
use signal_hook::iterator::Signals;

pub use self::builder::{Cores, ServerBuilder, ServerConfig};
pub use self::listener::ListenerConfig;
pub use self::protocols::{ParseProtocolsError, Protocols};

use self::builder::available_cores;
use self::connect::connection_fns;
use crate::error::{StartError, TlsError};
use crate::metrics::MetricsHub;
use crate::runtime::{self, CoreContext, Runtime, ShutdownHandle, ShutdownSummary};
use crate::service::access_log::{CoreLog, Sink};
use crate::service::exchange::CoreSettings;
use crate::service::Service;
use crate::service::{AccessLog, AccessLogTarget};
use crate::transport::tls::TlsAcceptor;

/// A configured, not yet started server. Build it with [`Server::builder`], then
/// [`serve`](Server::serve) (blocks until SIGINT/SIGTERM) or [`start`](Server::start)
/// (returns a [`RunningServer`] to stop yourself).
///
/// Every listener speaks HTTP/2 and HTTP/1.1: over TLS, ALPN picks; in cleartext, the first
/// octets do (the HTTP/2 preface means h2c with prior knowledge, anything else HTTP/1.1,
/// which may `Upgrade: h2c`).
#[derive(Debug, Clone)]
pub struct Server {
    config: ServerConfig,
    tls: Option<Arc<TlsAcceptor>>,
}

impl Server {
    /// Starts configuring a server.
    pub fn builder() -> ServerBuilder {
        ServerBuilder::new()
    }

    pub(crate) fn from_config(config: ServerConfig, tls: Option<Arc<TlsAcceptor>>) -> Self {
        Server { config, tls }
    }

    /// The validated settings.
    pub fn config(&self) -> &ServerConfig {
        &self.config
    }

    /// Binds every listener, starts one executor per core and returns once all cores are
    /// accepting. `factory` runs once on each core, on that core, and returns the core's
    /// service, which may be `!Send` and hold per-core state.
    ///
    /// ```no_run
    /// use h2ring::{service_fn, Body, Context, Request, Response, Server};
    ///
    /// let running = Server::builder()
    ///     .listen("127.0.0.1:0".parse().unwrap())
    ///     .build()?
    ///     .start(|_core| service_fn(|_req: Request, _cx: Context| async {
    ///         Response::new(Body::from("hello\n"))
    ///     }))?;
    /// println!("listening on {}", running.local_addrs()[0]);
    /// running.handle().shutdown();
    /// println!("{}", running.join());
    /// # Ok::<(), h2ring::StartError>(())
    /// ```
    pub fn start<F, S>(self, factory: F) -> Result<RunningServer, StartError>
    where
        F: Fn(&CoreContext) -> S + Send + Sync + 'static,
        S: Service,
    {
        // Validated by `ServerBuilder::build`, the only way to a `Server`.
        let config = self.config;
        let cores = config.cores.resolve(&available_cores()?)?;
        let hub = MetricsHub::new(cores.len());
        let (admin_fd, admin_addr) = match config.admin_addr {
            Some(addr) => {
                let (actual, mut fds) = runtime::bind_group(addr, config.backlog, 1)?;
                (fds.pop(), Some(actual))
            }
            None => (None, None),
        };
        // Core 0 takes the admin listener when it starts; the factory is shared by threads.
        let admin_fd: Mutex<Option<OwnedFd>> = Mutex::new(admin_fd);
        let admin_hub = hub.clone();
        let admin_limits = admin::Limits {
            max_connections: config.admin_max_connections,
            header_timeout: config.admin_header_timeout,
        };
        let access_log = match config.access_log.clone() {
            Some(log) => Some(Arc::new(start_access_log(log)?)),
            None => None,
        };
        let log_sink = access_log.clone();
        let http2 = config.http2.clone().normalized();
        let max_handlers = config.max_handlers_per_core;
        let protocols = config.protocols;
        let server_header = config.server_header.clone();
        let tls = self.tls.clone();
        let listeners = config.listen.clone();
        let per_core = move |core: &CoreContext| {
            if core.index() == 0 {
                let fd = admin_fd.lock().unwrap_or_else(|p| p.into_inner()).take();
                if let Some(fd) = fd {
                    spawn_admin(core, fd, admin_hub.clone(), admin_limits);
                }
            }
            let settings = CoreSettings {
                http2: Rc::new(http2.clone()),
                max_handlers,
                server_header: server_header.clone(),
                access_log: log_sink.as_ref().map(|sink| core_access_log(core, sink)),
            };
            let service = factory(core);
            connection_fns(
                core,
                service,
                settings,
                protocols,
                tls.as_deref(),
                &listeners,
            )
        };
        let publish_interval = admin_addr.map(|_| config.metrics_publish_interval);
        let runtime = runtime::start(
            config.runtime_config(cores, publish_interval),
            hub,
            Arc::new(per_core),
        );
        let runtime = match runtime {
            Ok(runtime) => runtime,
            Err(e) => {
                if let Some(sink) = &access_log {
                    sink.close();
                }
                return Err(e);
            }
        };
        Ok(RunningServer {
            runtime,
            admin_addr,
            tls: self.tls,
            access_log,
        })
    }

    /// [`start`](Server::start), then [`RunningServer::run_until_signal`]: serves until
    /// SIGINT or SIGTERM, drains, and returns what the server did.
    ///
    /// ```no_run
    /// use h2ring::{service_fn, Body, Context, Request, Response, Server};
    ///
    /// let summary = Server::builder().build()?.serve(|_core| {
    ///     service_fn(|_req: Request, _cx: Context| async { Response::new(Body::from("hi\n")) })
    /// })?;
    /// println!("{summary}");
    /// # Ok::<(), h2ring::StartError>(())
    /// ```
    pub fn serve<F, S>(self, factory: F) -> Result<ShutdownSummary, StartError>
    where
        F: Fn(&CoreContext) -> S + Send + Sync + 'static,
        S: Service,
    {
        self.start(factory)?.run_until_signal()
    }
}

/// Opens the access log and starts its writer thread.
fn start_access_log(log: AccessLog) -> Result<Sink, StartError> {
    let path = match &log.target {
        AccessLogTarget::File(path) => Some(path.clone()),
        _ => None,
    };
    Sink::start(log).map_err(|source| StartError::AccessLog { path, source })
}

/// This core's end of the access log, with the task that hands its buffer over once a
/// second and at the end.
fn core_access_log(core: &CoreContext, sink: &Sink) -> Rc<CoreLog> {
    let log = Rc::new(sink.core_log(core));
    if let Err(e) = core.spawn_service_task(log.clone().flush_until_stopped()) {
        tracing::error!("cannot start the access log's flush task: {e}");
    }
    log
}

/// Serves the admin endpoint on this core until it has drained.
fn spawn_admin(core: &CoreContext, fd: OwnedFd, hub: MetricsHub, limits: admin::Limits) {
    match runtime::into_glommio(fd) {
        Ok(listener) => {
            let job = admin::serve(listener, core.clone(), hub, limits);
            if let Err(e) = core.spawn_service_task(job) {
                tracing::error!("cannot start the admin endpoint: {e}");
            }
        }
        Err(e) => tracing::error!("admin listener unusable: {e}"),
    }
}

/// A started server: where it listens, a [`ServerHandle`] to stop it or reload its
/// certificates from any thread, and [`join`](RunningServer::join) to wait for the end.
pub struct RunningServer {
    runtime: Runtime,
    admin_addr: Option<SocketAddr>,
    tls: Option<Arc<TlsAcceptor>>,
    access_log: Option<Arc<Sink>>,
}

impl std::fmt::Debug for RunningServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningServer")
            .field("local_addrs", &self.local_addrs())
            .field("admin_addr", &self.admin_addr)
            .field("cores", &self.cores())
            .finish_non_exhaustive()
    }
}

impl RunningServer {
    /// A handle that stops the server or reloads its certificates, from any thread.
    pub fn handle(&self) -> ServerHandle {
        ServerHandle {
            shutdown: self.runtime.handle(),
            tls: self.tls.clone(),
            access_log: self.access_log.clone(),
        }
    }

    /// The bound listen addresses (ephemeral ports resolved), in the order they were
    /// configured.
    pub fn local_addrs(&self) -> &[SocketAddr] {
        self.runtime.local_addrs()
    }

    /// The bound admin address (`/metrics`, `/healthz`, `/readyz`), if enabled.
    pub fn admin_addr(&self) -> Option<SocketAddr> {
        self.admin_addr
    }

    /// The CPU cores serving, one executor each.
    pub fn cores(&self) -> &[usize] {
        self.runtime.cores()
    }

    /// Blocks until every core has stopped (after [`ServerHandle::shutdown`]) and returns
    /// what the server did, once the access log, if any, has written every line. A core
    /// whose thread panicked contributes nothing.
    pub fn join(self) -> ShutdownSummary {
        let summary = self.runtime.join();
        if let Some(sink) = &self.access_log {
            sink.close();
        }
        summary
    }

    /// Turns SIGINT and SIGTERM into a graceful shutdown (a second signal exits the process
    /// at once, with status 1) and SIGUSR1 into [`ServerHandle::reopen_access_log`] when
    /// the access log is a file, and blocks until the server has stopped.
    pub fn run_until_signal(self) -> Result<ShutdownSummary, StartError> {
        let reopen = match &self.access_log {
            Some(sink) if sink.is_file() => access_log_signal(sink.clone()),
            _ => Ok(()),
        };
        if let Err(e) = reopen.and_then(|()| runtime::signals::install(self.runtime.handle())) {
            self.runtime.handle().shutdown();
            self.join();
            return Err(StartError::Signals(e));
        }
        Ok(self.join())
    }
}

/// Reopens the access log file on every SIGUSR1 (log rotation: rename the file, then
/// signal), from a thread of its own: signal-hook's handler only writes to a pipe.
fn access_log_signal(sink: Arc<Sink>) -> std::io::Result<()> {
    let mut signals = Signals::new([SIGUSR1])?;
    std::thread::Builder::new()
        .name("h2ring-log-reopen".to_string())
        .spawn(move || {
            for _ in signals.forever() {
                sink.reopen();
            }
        })?;
    Ok(())
}

/// Stops a running server or reloads its TLS certificates, from any thread. Cheap to
/// clone. Dropping it does nothing; dropping the [`RunningServer`] and every handle
/// starts a shutdown.
#[derive(Debug, Clone)]
pub struct ServerHandle {
    shutdown: ShutdownHandle,
    tls: Option<Arc<TlsAcceptor>>,
    access_log: Option<Arc<Sink>>,
}

impl ServerHandle {
    /// Begins graceful shutdown on every core: listeners close at once, HTTP/2 connections
    /// get GOAWAY and HTTP/1.1 ones close after their current exchange, and after the
    /// drain timeout the rest are closed. Idempotent; returns immediately.
    pub fn shutdown(&self) {
        self.shutdown.shutdown();
    }

    /// Whether [`shutdown`](ServerHandle::shutdown) has been called.
    pub fn is_shutting_down(&self) -> bool {
        self.shutdown.is_started()
    }

    /// Reads the TLS certificate files again (for example on SIGHUP, after a renewal) and
    /// presents them to new handshakes; established sessions keep theirs, so no connection
    /// is dropped. On error the old certificates stay in force. Without TLS, or with an
    /// application's own rustls configuration, there is nothing to reload: `Ok(false)`.
    pub fn reload_tls(&self) -> Result<bool, TlsError> {
        match &self.tls {
            Some(tls) if tls.reloads_files() => tls.reload().map(|()| true),
            _ => Ok(false),
        }
    }

    /// Reopens the access log file at its path, after the lines handed to its writer so
    /// far: for log rotation, rename the file, then call this (SIGUSR1 under
    /// [`Server::serve`] and [`RunningServer::run_until_signal`]). Returns at once, `false`
    /// when there is no access log file. If the path cannot be opened the log goes on
    /// into the old file, and an error is logged.
    pub fn reopen_access_log(&self) -> bool {
        match &self.access_log {
            Some(sink) if sink.is_file() => {
                sink.reopen();
                true
            }
            _ => false,
        }
    }
}
