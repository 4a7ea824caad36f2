//! Owns a whole run: one pinned glommio executor per generator core, the connections
//! spread over them, a common start time, and the merged result.

mod core;
mod link;
mod pacer;

use std::cell::RefCell;
use std::io::Write;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use glommio::{LocalExecutorBuilder, Placement};

use self::core::{core_main, pacer_for, CoreRun, Timing};
pub use self::pacer::Pacer;
use crate::client::{ConnOptions, RecordWindow};
use crate::config::{Config, Cores, Mode, Stop, IDLE_READ_CHUNK, READ_CHUNK};
use crate::report::Report;
use crate::stats::Stats;
use crate::tls::TlsSetup;

/// Time between spawning the executors and the common start, so every core is up
/// before the first intended send.
pub const STARTUP_DELAY: Duration = Duration::from_millis(100);
/// How often the main thread checks on idle-mode connection set-up.
const IDLE_POLL: Duration = Duration::from_millis(20);

/// Why a run could not start.
#[derive(Debug)]
pub enum RunError {
    /// The configuration is unusable.
    Config(String),
    /// An executor could not be created (e.g. io_uring unavailable, bad CPU).
    Executor(String),
}

impl std::fmt::Display for RunError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RunError::Config(m) => write!(f, "invalid configuration: {m}"),
            RunError::Executor(m) => write!(f, "cannot start a generator core: {m}"),
        }
    }
}

impl std::error::Error for RunError {}

/// Runs `config` to completion and returns the merged measurements.
pub fn run(config: &Config) -> Result<Report, RunError> {
    validate(config)?;
    let threads = config.cores.count().min(config.connections.max(1));
    let timing = timing(config, Instant::now() + STARTUP_DELAY);
    let established = Arc::new(AtomicUsize::new(0));
    let tls = match config.tls {
        true => Some(TlsSetup::new(host_of(&config.request.authority)).map_err(RunError::Config)?),
        false => None,
    };
    let mut handles = Vec::with_capacity(threads);
    for t in 0..threads {
        let placement = match &config.cores {
            Cores::Pinned(list) => Placement::Fixed(list[t]),
            Cores::Unpinned(_) => Placement::Unbound,
        };
        let pacers: Vec<Pacer> = (t..config.connections)
            .step_by(threads)
            .map(|i| pacer_for(config, i, timing.start))
            .collect();
        let core = CoreShared {
            config: config.clone(),
            window: RecordWindow {
                from: timing.record_from,
                until: timing.deadline,
            },
            deadline: timing.deadline,
            tls: tls.clone(),
            established: established.clone(),
        };
        let start = timing.start;
        let handle = LocalExecutorBuilder::new(placement)
            .name(&format!("h2ring-loadtest-{t}"))
            // The glommio fork's tuning, as the server runs it (and as the load generator
            // was measured with): third_party/glommio/H2RING_PATCH.md, "policy options".
            .ring_coop_taskrun(true)
            .keep_latency_timer_armed(true)
            .lazy_throughput_timer(true)
            .arm_time_slice_before_sleep(true)
            .spawn(move || async move { core_main(Rc::new(core.into_run()), pacers, start).await })
            .map_err(|e| RunError::Executor(e.to_string()))?;
        handles.push(handle);
    }
    if config.mode == Mode::Idle {
        announce_idle(config.connections, &established, timing.deadline);
    }
    let mut stats = Stats::new();
    let mut finished = timing.start;
    for handle in handles {
        let (core_stats, end) = handle
            .join()
            .map_err(|e| RunError::Executor(e.to_string()))?;
        stats.merge(&core_stats);
        finished = finished.max(end);
    }
    let end = timing.deadline.unwrap_or(finished);
    let elapsed = end.saturating_duration_since(timing.record_from);
    Ok(Report::new(stats, elapsed, config))
}

/// The `Send` part of a core's state, turned into its `Rc` world on the core's thread.
struct CoreShared {
    config: Config,
    window: RecordWindow,
    deadline: Option<Instant>,
    tls: Option<TlsSetup>,
    established: Arc<AtomicUsize>,
}

impl CoreShared {
    fn into_run(self) -> CoreRun {
        CoreRun {
            addr: self.config.addr,
            opts: ConnOptions {
                request: self.config.request.clone(),
                streams: self.config.streams,
                stream_window: self.config.stream_window,
                connection_window: self.config.connection_window,
            },
            window: self.window,
            deadline: self.deadline,
            request_timeout: self.config.request_timeout,
            connect_timeout: self.config.connect_timeout,
            tls: self.tls,
            stats: RefCell::new(Stats::new()),
            established: self.established,
            read_chunk: match self.config.mode {
                Mode::Idle => IDLE_READ_CHUNK,
                _ => READ_CHUNK,
            },
        }
    }
}

fn validate(config: &Config) -> Result<(), RunError> {
    if config.connections == 0 {
        return Err(RunError::Config("need at least one connection".into()));
    }
    if let Mode::Open { rate } = config.mode {
        if !(rate.is_finite() && rate > 0.0) {
            return Err(RunError::Config(format!("bad rate {rate}")));
        }
    }
    if let Cores::Pinned(list) = &config.cores {
        if list.is_empty() {
            return Err(RunError::Config("empty core list".into()));
        }
    }
    if config.mode == Mode::Idle && matches!(config.stop, Stop::Requests(_)) {
        return Err(RunError::Config("idle mode needs a duration".into()));
    }
    Ok(())
}

/// Start, warm-up end and deadline of a run starting at `start`.
fn timing(config: &Config, start: Instant) -> Timing {
    let record_from = start + config.warm_up;
    let deadline = match config.stop {
        Stop::Duration(d) => Some(record_from + d),
        Stop::Requests(_) => None,
    };
    Timing {
        start,
        record_from,
        deadline,
    }
}

/// Idle mode: tells the operator (or the compare script) once every connection is up,
/// so the server's memory can be read while they sit idle.
fn announce_idle(total: usize, established: &AtomicUsize, deadline: Option<Instant>) {
    loop {
        let n = established.load(Ordering::Relaxed);
        let over = deadline.is_some_and(|d| Instant::now() >= d);
        if n >= total || over {
            println!("idle: {n} of {total} connections established");
            let _ = std::io::stdout().flush();
            return;
        }
        std::thread::sleep(IDLE_POLL);
    }
}

/// The host part of an authority (for SNI), without port or IPv6 brackets.
pub fn host_of(authority: &str) -> &str {
    if let Some(rest) = authority.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    authority.split(':').next().unwrap_or(authority)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::RequestSpec;

    #[test]
    fn host_of_strips_port_and_brackets() {
        assert_eq!(host_of("example.com:443"), "example.com");
        assert_eq!(host_of("[::1]:8443"), "::1");
        assert_eq!(host_of("localhost"), "localhost");
    }

    #[test]
    fn timing_excludes_warm_up() {
        let mut c = Config::new("127.0.0.1:1".parse().unwrap(), RequestSpec::get("h", "/"));
        c.warm_up = Duration::from_secs(2);
        c.stop = Stop::Duration(Duration::from_secs(5));
        let t0 = Instant::now();
        let t = timing(&c, t0);
        assert_eq!(t.record_from, t0 + Duration::from_secs(2));
        assert_eq!(t.deadline, Some(t0 + Duration::from_secs(7)));
        c.stop = Stop::Requests(10);
        assert_eq!(timing(&c, t0).deadline, None);
    }

    #[test]
    fn open_loop_schedules_interleave_evenly() {
        let mut c = Config::new("127.0.0.1:1".parse().unwrap(), RequestSpec::get("h", "/"));
        c.connections = 4;
        c.mode = Mode::Open { rate: 1000.0 };
        let t0 = Instant::now();
        let ms = Duration::from_millis(1);
        for i in 0..4 {
            let Pacer::Open { next, interval } = pacer_for(&c, i, t0) else {
                panic!()
            };
            assert_eq!(next, t0 + ms * i as u32);
            assert_eq!(interval, 4 * ms);
        }
    }

    #[test]
    fn request_quota_is_split_exactly() {
        let mut c = Config::new("127.0.0.1:1".parse().unwrap(), RequestSpec::get("h", "/"));
        c.connections = 3;
        c.stop = Stop::Requests(10);
        let quotas: Vec<u64> = (0..3)
            .map(|i| match pacer_for(&c, i, Instant::now()) {
                Pacer::Closed { quota: Some(q) } => q,
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(quotas, vec![4, 3, 3]);
    }

    #[test]
    fn bad_configs_are_refused() {
        let mut c = Config::new("127.0.0.1:1".parse().unwrap(), RequestSpec::get("h", "/"));
        c.mode = Mode::Open { rate: 0.0 };
        assert!(matches!(run(&c), Err(RunError::Config(_))));
        c.mode = Mode::Closed;
        c.connections = 0;
        assert!(matches!(run(&c), Err(RunError::Config(_))));
    }
}
