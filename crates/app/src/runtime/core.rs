//! Per-core state: the connection registry (counts, ids, limits), the local
//! shutdown and force-close signals, and the `CoreContext` handed to the
//! per-core connection factory.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::rc::Rc;
use std::time::Duration;

use glommio::TaskQueueHandle;

use super::event::{LocalEvent, Notify};
use super::shutdown::WeakShutdown;
use crate::metrics::{CoreMetrics, Counter, Histogram};

/// Bits of a `conn_id` reserved for the per-core sequence number; the core's
/// index fills the bits above, so ids are unique server-wide without any
/// cross-core coordination.
pub(crate) const CONN_ID_SEQUENCE_BITS: u32 = 48;

/// Facts about one accepted connection: the one place handlers, logs and the access log
/// read the client's address from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConnInfo {
    /// The client's address: the TCP peer, or on a listener with the PROXY protocol
    /// on, the source address its header named (when it named one: v2's LOCAL command
    /// and v1's `UNKNOWN` leave the TCP peer).
    pub peer: SocketAddr,
    /// On a listener with the PROXY protocol on, the TCP peer (the balancer) whose header
    /// gave `peer`; `None` when `peer` is the TCP peer itself.
    pub proxy: Option<SocketAddr>,
    /// The local address the client connected to.
    pub local: SocketAddr,
    /// The CPU core serving the connection (its executor is pinned there).
    pub core: usize,
    /// Server-wide unique id: `(core index << 48) | per-core sequence`.
    pub conn_id: u64,
}

/// A connection-serving future. Not `Send`: it lives and dies on its core.
pub(crate) type ConnectionFuture = Pin<Box<dyn Future<Output = ()>>>;

/// The per-core connection callback: called once per accepted connection,
/// on the accepting core, with the stream (TCP_NODELAY already set).
pub(crate) type ConnectionFn = Rc<dyn Fn(glommio::net::TcpStream, ConnInfo) -> ConnectionFuture>;

/// Limits and identity a core is started with.
pub(crate) struct CoreParams {
    pub index: usize,
    pub cpu: usize,
    pub max_connections: usize,
    pub accept_backoff: Duration,
    pub conn_queue: TaskQueueHandle,
    pub handler_queue: TaskQueueHandle,
}

/// The registry of one core. Shared by `Rc` between the accept loops, the
/// connection tasks and the core's main task.
pub(crate) struct CoreState {
    pub params: CoreParams,
    pub shutdown: Rc<LocalEvent>,
    pub force: Rc<LocalEvent>,
    /// Fires once the core has drained, just before it stops: the end of its service tasks.
    pub stopped: Rc<LocalEvent>,
    /// Tasks that run until `stopped` (the admin endpoint, metrics publication); the core
    /// waits for them after draining.
    pub service_tasks: RefCell<Vec<glommio::Task<()>>>,
    /// The server-wide shutdown, which is set the moment it is asked for, before this
    /// core's `shutdown` event (woken through io_uring) fires.
    pub server_shutdown: WeakShutdown,
    pub active: Cell<usize>,
    pub changed: Notify,
    next_seq: Cell<u64>,
    pub metrics: CoreMetrics,
}

impl CoreState {
    pub fn new(params: CoreParams, server_shutdown: WeakShutdown) -> Rc<Self> {
        let metrics = CoreMetrics::new(params.cpu);
        Rc::new(CoreState {
            params,
            shutdown: LocalEvent::new(),
            force: LocalEvent::new(),
            stopped: LocalEvent::new(),
            service_tasks: RefCell::new(Vec::new()),
            server_shutdown,
            active: Cell::new(0),
            changed: Notify::default(),
            next_seq: Cell::new(0),
            metrics,
        })
    }

    /// Registers a newly accepted connection and returns its id.
    pub fn connection_opened(&self) -> u64 {
        let seq = self.next_seq.get();
        self.next_seq.set(seq.wrapping_add(1));
        self.active.set(self.active.get() + 1);
        self.metrics.connection_opened();
        let index = self.params.index as u64;
        (index << CONN_ID_SEQUENCE_BITS) | (seq & ((1 << CONN_ID_SEQUENCE_BITS) - 1))
    }

    /// Unregisters a connection and wakes the accept loops and drain waiter.
    pub fn connection_closed(&self, forced: bool) {
        self.active.set(self.active.get().saturating_sub(1));
        self.metrics.connection_closed(forced);
        self.changed.notify_all();
    }

    pub fn at_capacity(&self) -> bool {
        self.active.get() >= self.params.max_connections
    }

    /// Waits until no connection is open.
    pub async fn all_closed(&self) {
        while self.active.get() > 0 {
            self.changed.notified().await;
        }
    }
}

/// What a service factory gets on each core: which core it is, and the shutdown signal.
/// Cheap to clone; `!Send` (it belongs to its core).
///
/// ```no_run
/// use h2ring::{service_fn, Body, Context, CoreContext, Request, Response, Server};
///
/// let server = Server::builder().build().expect("valid configuration");
/// server
///     .serve(|core: &CoreContext| {
///         let name = format!("core {} (#{})", core.core(), core.index());
///         service_fn(move |_req: Request, _cx: Context| {
///             let name = name.clone();
///             async move { Response::new(Body::from(name)) }
///         })
///     })
///     .expect("server ran");
/// ```
#[derive(Clone)]
pub struct CoreContext {
    pub(crate) state: Rc<CoreState>,
}

impl CoreContext {
    /// The CPU core this executor is pinned to.
    pub fn core(&self) -> usize {
        self.state.params.cpu
    }

    /// This core's position (0-based) among the server's cores.
    pub fn index(&self) -> usize {
        self.state.params.index
    }

    /// Task queue (`Latency::NotImportant`) where request handlers should be
    /// spawned with `glommio::spawn_local_into`, so a slow handler does not
    /// delay connection I/O, which runs in a `Latency::Matters` queue.
    pub(crate) fn handler_queue(&self) -> TaskQueueHandle {
        self.state.params.handler_queue
    }

    /// Whether graceful shutdown has begun: true from the moment
    /// [`ServerHandle::shutdown`](crate::ServerHandle::shutdown) (or SIGTERM) asks for it,
    /// even before this core's listeners have closed.
    pub fn is_shutting_down(&self) -> bool {
        self.state.shutdown.is_fired() || self.state.server_shutdown.is_started()
    }

    /// Completes when graceful shutdown begins: the listeners are closed
    /// and connections should send GOAWAY and finish in-flight streams.
    pub fn shutdown_started(&self) -> impl Future<Output = ()> + 'static {
        self.state.shutdown.wait()
    }

    /// This core's metrics counters.
    pub(crate) fn metrics(&self) -> &CoreMetrics {
        &self.state.metrics
    }

    /// Registers the counter `name` on this core (or returns the one registered under it
    /// before) for `/metrics` to render as `name{core="…"}`. Call it in the service
    /// factory, once per core, and clone the [`Counter`] into the service: incrementing it
    /// is a plain write to a per-core cell. See [`crate::metrics`] for an example.
    ///
    /// # Panics
    ///
    /// If `name` is not a Prometheus metric name (`[a-zA-Z_:][a-zA-Z0-9_:]*`), starts with
    /// the server's own `h2ring_` prefix, or names a histogram: a programming error, like
    /// `HeaderName::from_static` with a bad name.
    pub fn counter(&self, name: &'static str, help: &'static str) -> Counter {
        match self.state.metrics.custom().counter(name, help) {
            Ok(counter) => counter,
            Err(refusal) => panic!("{refusal}"),
        }
    }

    /// Registers the histogram `name` on this core with the finite, strictly increasing
    /// bucket upper bounds `buckets` (`+Inf` is implicit), or returns the one registered
    /// under it before (whose buckets stay). `/metrics` renders `name_bucket{core="…",
    /// le="…"}`, `name_sum` and `name_count`. See [`crate::metrics`] for an example.
    ///
    /// # Panics
    ///
    /// As [`counter`](Self::counter) for the name, and if `buckets` is not finite and
    /// strictly increasing.
    pub fn histogram(&self, name: &'static str, help: &'static str, buckets: &[f64]) -> Histogram {
        match self.state.metrics.custom().histogram(name, help, buckets) {
            Ok(histogram) => histogram,
            Err(refusal) => panic!("{refusal}"),
        }
    }

    /// Completes once this core has drained and is about to stop.
    pub(crate) fn stopped(&self) -> impl Future<Output = ()> + 'static {
        self.state.stopped.wait()
    }

    /// Runs `job` in the handler queue; the core waits for it after draining, so `job`
    /// must end on [`stopped`](Self::stopped). It may outlive the listeners (the admin
    /// endpoint answers `/readyz` with 503 during the drain).
    pub(crate) fn spawn_service_task(
        &self,
        job: impl Future<Output = ()> + 'static,
    ) -> glommio::Result<(), ()> {
        let task = glommio::spawn_local_into(job, self.state.params.handler_queue)?;
        self.state.service_tasks.borrow_mut().push(task);
        Ok(())
    }

    /// Connections currently open on this core.
    pub fn active_connections(&self) -> usize {
        self.state.active.get()
    }
}
