//! Owns one generator core: its share of the connections, each a task that connects,
//! runs and reconnects until the run ends, and the core's merged counters.

use std::cell::RefCell;
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use glommio::net::TcpStream;

use super::link::{Link, Outcome};
use super::pacer::Pacer;
use crate::client::{ClientConn, ConnOptions, RecordWindow};
use crate::config::{Config, Mode, Stop};
use crate::stats::{ErrorKind, Stats};
use crate::tls::TlsSetup;

/// Pause before reconnecting after a failed or lost connection, so a refusing server is
/// not hammered in a tight loop.
pub const RECONNECT_BACKOFF: Duration = Duration::from_millis(10);

/// What every connection task on one core shares.
pub struct CoreRun {
    /// Server address.
    pub addr: SocketAddr,
    /// Per-connection protocol options.
    pub opts: ConnOptions,
    /// Recording window (warm-up excluded).
    pub window: RecordWindow,
    /// When connections stop (time-bounded runs).
    pub deadline: Option<Instant>,
    /// Per-request timeout.
    pub request_timeout: Option<Duration>,
    /// Connect + handshake limit.
    pub connect_timeout: Duration,
    /// TLS client set-up, when the run is over TLS.
    pub tls: Option<TlsSetup>,
    /// This core's counters.
    pub stats: RefCell<Stats>,
    /// Connections that completed the handshake, over all cores.
    pub established: Arc<AtomicUsize>,
    /// Octets asked of the socket per read.
    pub read_chunk: usize,
}

impl CoreRun {
    /// Counts one more established connection for the whole run.
    pub fn note_established(&self) {
        self.established.fetch_add(1, Ordering::Relaxed);
    }
}

/// Run-wide timing every core derives its schedule from.
#[derive(Clone, Copy, Debug)]
pub struct Timing {
    /// When connections start.
    pub start: Instant,
    /// End of the warm-up.
    pub record_from: Instant,
    /// End of the run, when time-bounded.
    pub deadline: Option<Instant>,
}

/// The pacer of global connection number `index` of `config.connections`.
pub fn pacer_for(config: &Config, index: usize, start: Instant) -> Pacer {
    let conns = config.connections.max(1) as u64;
    match (&config.mode, config.stop) {
        (Mode::Idle, _) => Pacer::Idle,
        (Mode::Closed, Stop::Requests(n)) => {
            let i = index as u64;
            Pacer::Closed {
                quota: Some(n / conns + u64::from(i < n % conns)),
            }
        }
        (Mode::Closed, Stop::Duration(_)) => Pacer::Closed { quota: None },
        (Mode::Open { rate }, _) => {
            // Connection k starts k/rate late and then sends every conns/rate, so the
            // union of all schedules is evenly spaced at 1/rate.
            let gap = Duration::from_secs_f64(1.0 / rate.max(f64::MIN_POSITIVE));
            Pacer::Open {
                next: start + gap.mul_f64(index as f64),
                interval: gap.mul_f64(conns as f64),
            }
        }
    }
}

/// The core's body: runs its connections to the end and returns its counters and when it
/// finished.
pub async fn core_main(core: Rc<CoreRun>, pacers: Vec<Pacer>, start: Instant) -> (Stats, Instant) {
    let now = Instant::now();
    if start > now {
        glommio::timer::sleep(start - now).await;
    }
    let tasks: Vec<_> = pacers
        .into_iter()
        .map(|pacer| glommio::spawn_local(connection_task(core.clone(), pacer)))
        .collect();
    for task in tasks {
        task.await;
    }
    let stats = core.stats.borrow().clone();
    (stats, Instant::now())
}

/// One connection slot: connect, run, and reconnect while the run lasts.
async fn connection_task(core: Rc<CoreRun>, mut pacer: Pacer) {
    loop {
        if core.deadline.is_some_and(|d| Instant::now() >= d) || pacer.exhausted() {
            return;
        }
        let outcome = match connect(&core).await {
            Ok(tcp) => {
                let conn = ClientConn::new(&core.opts);
                match &core.tls {
                    Some(tls) => match tls.wrap(tcp) {
                        Ok(stream) => {
                            Link::new(stream, conn, core.read_chunk, Instant::now())
                                .run(&core, &mut pacer)
                                .await
                        }
                        Err(_) => {
                            core.stats.borrow_mut().error(ErrorKind::Connect);
                            Outcome::Lost
                        }
                    },
                    None => {
                        Link::new(tcp, conn, core.read_chunk, Instant::now())
                            .run(&core, &mut pacer)
                            .await
                    }
                }
            }
            Err(()) => {
                core.stats.borrow_mut().error(ErrorKind::Connect);
                Outcome::Lost
            }
        };
        if outcome == Outcome::Done {
            return;
        }
        glommio::timer::sleep(RECONNECT_BACKOFF).await;
    }
}

async fn connect(core: &CoreRun) -> Result<TcpStream, ()> {
    let tcp = TcpStream::connect_timeout(core.addr, core.connect_timeout)
        .await
        .map_err(|_| ())?;
    // Requests are written in batches; Nagle would only delay them.
    tcp.set_nodelay(true).map_err(|_| ())?;
    Ok(tcp)
}
