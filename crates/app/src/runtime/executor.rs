//! One core's life: build the pinned glommio executor, create the task
//! queues, run the accept loops, then on shutdown drain and force-close.
//!
//! Scheduling choice: connection I/O (accept loops and connection tasks)
//! runs in a `Latency::Matters` queue, request handlers in a separate
//! `Latency::NotImportant` queue (see `CoreContext::handler_queue`), and the
//! executor's preempt timer is shortened (`ServerConfig::preempt_timer`). A
//! handler that yields (`glommio::yield_if_needed().await`) therefore cannot
//! hold connection I/O back for more than about one timer period; glommio is
//! cooperative, so a handler that never awaits still blocks its core.

use std::os::fd::OwnedFd;
use std::panic::AssertUnwindSafe;
use std::rc::Rc;
use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;

use futures_lite::future;
use glommio::{Latency, LocalExecutorBuilder, Placement, Shares};

use super::accept::accept_loop;
use super::core::{ConnectionFn, CoreContext, CoreParams, CoreState};
use super::listener::into_glommio;
use super::shutdown::{wait_for_trigger, WeakShutdown};
use crate::metrics::{MetricsHub, MetricsSnapshot};

/// Scheduler shares of the connection I/O queue relative to the handler
/// queue: I/O gets twice the CPU time when both are busy.
const CONN_QUEUE_SHARES: usize = 2000;
/// Scheduler shares of the handler queue.
const HANDLER_QUEUE_SHARES: usize = 1000;
/// Latency target for the connection I/O queue.
const CONN_QUEUE_LATENCY: Duration = Duration::from_millis(5);

/// The per-core connection factory, called once on each core: one connection callback
/// per listener, in the order of `RuntimeConfig::listen` (listeners may differ, e.g. in
/// whether a PROXY protocol header comes first).
pub(crate) type ConnectionFactory = Arc<dyn Fn(&CoreContext) -> Vec<ConnectionFn> + Send + Sync>;

/// Everything one core thread needs; `Send`, built on the starting thread.
pub(crate) struct CoreSetup {
    pub index: usize,
    pub cpu: usize,
    pub listeners: Vec<OwnedFd>,
    pub shutdown: OwnedFd,
    pub hub: MetricsHub,
    pub factory: ConnectionFactory,
    pub max_connections: usize,
    pub accept_backoff: Duration,
    pub drain_timeout: Duration,
    pub preempt_timer: Duration,
    pub spin_before_park: Option<Duration>,
    pub publish_interval: Option<Duration>,
    /// Starts the server-wide shutdown if this core dies.
    pub stop_all: WeakShutdown,
}

/// How a core's thread ended.
pub(crate) enum CoreExit {
    /// Drained and stopped; its final metrics.
    Stopped(Box<MetricsSnapshot>),
    /// The executor could not be created (the error went to `ready`).
    NotStarted,
    /// The executor died: a panic escaped every guard (a task spawned with glommio
    /// directly, or a bug). The rest of the server was told to stop.
    Died,
}

/// Thread body.
pub(crate) fn run_core(setup: CoreSetup, ready: mpsc::Sender<std::io::Result<()>>) -> CoreExit {
    let mut builder = LocalExecutorBuilder::new(Placement::Fixed(setup.cpu))
        .name(&format!("h2ring-core-{}", setup.cpu))
        .preempt_timer(setup.preempt_timer)
        // The fork's latency tuning (third_party/glommio/H2RING_PATCH.md, "policy options").
        .ring_coop_taskrun(true)
        .keep_latency_timer_armed(true)
        .lazy_throughput_timer(true)
        .arm_time_slice_before_sleep(true);
    if let Some(spin) = setup.spin_before_park {
        builder = builder.spin_before_park(spin);
    }
    let executor = match builder.make() {
        Ok(executor) => executor,
        Err(e) => {
            let _ = ready.send(Err(std::io::Error::from(e)));
            return CoreExit::NotStarted;
        }
    };
    let cpu = setup.cpu;
    let stop_all = setup.stop_all.clone();
    // A core that died must not leave the process serving on fewer cores without a word:
    // the whole server stops (gracefully on the other cores), and `join` reports the core,
    // so a supervisor sees the process end (the binary exits non-zero) and restarts it.
    match std::panic::catch_unwind(AssertUnwindSafe(|| executor.run(core_main(setup, ready)))) {
        Ok(snapshot) => CoreExit::Stopped(Box::new(snapshot)),
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic".to_string());
            tracing::error!(
                core = cpu,
                "the core's executor died ({what}); stopping the server"
            );
            stop_all.shutdown();
            CoreExit::Died
        }
    }
}

async fn core_main(setup: CoreSetup, ready: mpsc::Sender<std::io::Result<()>>) -> MetricsSnapshot {
    let ex = glommio::executor();
    let conn_queue = ex.create_task_queue(
        Shares::Static(CONN_QUEUE_SHARES),
        Latency::Matters(CONN_QUEUE_LATENCY),
        "h2ring-conn",
    );
    let handler_queue = ex.create_task_queue(
        Shares::Static(HANDLER_QUEUE_SHARES),
        Latency::NotImportant,
        "h2ring-handlers",
    );
    let state = CoreState::new(
        CoreParams {
            index: setup.index,
            cpu: setup.cpu,
            max_connections: setup.max_connections,
            accept_backoff: setup.accept_backoff,
            conn_queue,
            handler_queue,
        },
        setup.stop_all.clone(),
    );
    let callbacks = (setup.factory)(&CoreContext {
        state: Rc::clone(&state),
    });
    let mut tasks = Vec::new();
    for (fd, on_conn) in setup.listeners.into_iter().zip(callbacks) {
        let listener = match into_glommio(fd) {
            Ok(listener) => listener,
            Err(e) => {
                let _ = ready.send(Err(e));
                return state.metrics.snapshot();
            }
        };
        let job = accept_loop(listener, Rc::clone(&state), on_conn);
        match glommio::spawn_local_into(job, conn_queue) {
            Ok(task) => tasks.push(task),
            Err(e) => {
                let _ = ready.send(Err(std::io::Error::from(e)));
                return state.metrics.snapshot();
            }
        }
    }
    if let Some(every) = setup.publish_interval {
        let job = publish_periodically(Rc::clone(&state), setup.hub.clone(), every);
        if let Ok(task) = glommio::spawn_local_into(job, handler_queue) {
            state.service_tasks.borrow_mut().push(task);
        }
    }
    let _ = ready.send(Ok(()));
    drop(ready);

    wait_for_trigger(setup.shutdown).await;
    state.shutdown.fire();
    for task in tasks {
        task.await;
    }
    drain(&state, setup.drain_timeout).await;
    // Service tasks (the admin endpoint, publication) ran through the drain; end them.
    state.stopped.fire();
    let service_tasks = std::mem::take(&mut *state.service_tasks.borrow_mut());
    for task in service_tasks {
        task.await;
    }
    let snapshot = state.metrics.snapshot();
    setup.hub.publish(setup.index, snapshot.clone());
    snapshot
}

/// RFC 9113 §6.8: after GOAWAY, in-flight streams may complete; we give
/// them until the deadline, then drop whatever is left.
async fn drain(state: &CoreState, deadline: Duration) {
    let drained = async {
        state.all_closed().await;
        true
    };
    let timeout = async {
        glommio::timer::sleep(deadline).await;
        false
    };
    if !future::or(drained, timeout).await {
        tracing::info!(
            core = state.params.cpu,
            remaining = state.active.get(),
            "drain deadline reached; force-closing"
        );
        state.force.fire();
        state.all_closed().await;
    }
}

/// Keeps this core's slot in the hub fresh for the admin endpoint, through the drain.
async fn publish_periodically(state: Rc<CoreState>, hub: MetricsHub, every: Duration) {
    loop {
        let stop = async {
            state.stopped.wait().await;
            true
        };
        let tick = async {
            glommio::timer::sleep(every).await;
            false
        };
        if future::or(stop, tick).await {
            return;
        }
        hub.publish(state.params.index, state.metrics.snapshot());
    }
}
