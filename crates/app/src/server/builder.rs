//! Server configuration: the [`ServerConfig`] values, their defaults (the one source the
//! library and the binary share), and the [`ServerBuilder`] that validates them.

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::sync::Arc;
use std::time::Duration;

use super::listener::ListenerConfig;
use super::protocols::Protocols;
use crate::error::{ConfigError, StartError};
use crate::runtime::RuntimeConfig;
use crate::service::AccessLog;
use crate::transport::tls::{TlsAcceptor, TlsConfig};
use crate::Http2Config;
use http::HeaderValue;

/// Default listen address when none is given.
const DEFAULT_LISTEN: SocketAddr = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 8080));
/// Default `listen(2)` backlog per per-core listener.
const DEFAULT_BACKLOG: u32 = 1024;
/// Default cap on open connections per core; at the cap the core stops
/// accepting until one closes (the kernel queues the rest in the backlog).
const DEFAULT_MAX_CONNECTIONS_PER_CORE: usize = 10_000;
/// Default cap on concurrently running request handlers per core.
const DEFAULT_MAX_HANDLERS_PER_CORE: usize = 16_384;
/// Default pause before retrying `accept` after a resource error such as
/// EMFILE/ENFILE, so a full fd table does not turn into a busy loop.
const DEFAULT_ACCEPT_BACKOFF: Duration = Duration::from_millis(100);
/// Default glommio preemption timer: how long a task queue may run before
/// `need_preempt()` asks it to yield to the other queues (glommio's own
/// default is 100 ms, too long for connection I/O behind a busy handler).
const DEFAULT_PREEMPT_TIMER: Duration = Duration::from_millis(10);
/// Default `server` response field.
const DEFAULT_SERVER_HEADER: &str = "h2ring";
/// How often each core publishes its metrics snapshot for the admin endpoint.
const DEFAULT_METRICS_PUBLISH_INTERVAL: Duration = Duration::from_secs(1);
/// Default cap on open admin connections: scrapers and probes are few, so a handful
/// served at once is plenty, and a flood cannot take more than this from core 0.
const DEFAULT_ADMIN_MAX_CONNECTIONS: usize = 16;
/// Default time an admin client has to send its whole request head.
const DEFAULT_ADMIN_HEADER_TIMEOUT: Duration = Duration::from_secs(5);

/// Which CPU cores get an executor.
///
/// ```
/// use h2ring::{Cores, Server};
///
/// let server = Server::builder().cores(Cores::Count(1)).build().unwrap();
/// assert_eq!(server.config().cores, Cores::Count(1));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Cores {
    /// Every core this process is allowed to run on.
    #[default]
    All,
    /// The first `n` allowed cores.
    Count(usize),
    /// Exactly these core ids.
    List(Vec<usize>),
}

impl Cores {
    /// Turns the choice into concrete core ids, checked against `available`
    /// (the cores this process may run on).
    pub(crate) fn resolve(&self, available: &[usize]) -> Result<Vec<usize>, StartError> {
        let chosen = match self {
            Cores::All => available.to_vec(),
            Cores::Count(n) if *n > available.len() => {
                return Err(StartError::TooManyCores {
                    requested: *n,
                    available: available.to_vec(),
                })
            }
            Cores::Count(n) => available.iter().copied().take(*n).collect(),
            Cores::List(list) => {
                let mut seen = Vec::with_capacity(list.len());
                for &core in list {
                    if !available.contains(&core) {
                        return Err(StartError::InvalidCore {
                            core,
                            available: available.to_vec(),
                        });
                    }
                    if seen.contains(&core) {
                        return Err(StartError::DuplicateCore(core));
                    }
                    seen.push(core);
                }
                seen
            }
        };
        if chosen.is_empty() {
            return Err(StartError::InvalidConfig(ConfigError::NoCores));
        }
        Ok(chosen)
    }
}

/// The cores this process may run on (its affinity mask), sorted.
pub(crate) fn available_cores() -> Result<Vec<usize>, StartError> {
    let ids = core_affinity::get_core_ids().ok_or(StartError::CoreDetection)?;
    let mut cores: Vec<usize> = ids.into_iter().map(|c| c.id).collect();
    cores.sort_unstable();
    if cores.is_empty() {
        return Err(StartError::CoreDetection);
    }
    Ok(cores)
}

/// A server's settings, as [`ServerBuilder`] set them; read them back with
/// [`Server::config`](crate::Server::config). `ServerConfig::default()` holds every default,
/// the ones the `h2ring` binary's flags start from.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ServerConfig {
    /// Cores to run on (default [`Cores::All`]).
    pub cores: Cores,
    /// Listeners, each an address and its settings; each core binds its own
    /// `SO_REUSEPORT` socket for each (default one, `127.0.0.1:8080`).
    pub listen: Vec<ListenerConfig>,
    /// `listen(2)` backlog (default 1024).
    pub backlog: u32,
    /// Open-connection cap per core (default 10 000).
    pub max_connections_per_core: usize,
    /// Concurrent-handler cap per core (default 16 384).
    pub max_handlers_per_core: usize,
    /// Back-off after EMFILE/ENFILE on accept (default 100 ms).
    pub accept_backoff: Duration,
    /// glommio preemption timer (default 10 ms).
    pub preempt_timer: Duration,
    /// How long an idle core spins before it sleeps in the kernel (default `None`: sleeps
    /// at once). Spinning trades CPU for latency: a request that arrives within the spin
    /// skips a wake-up, which is most of one-request-at-a-time latency on loopback.
    pub spin_before_park: Option<Duration>,
    /// Admin address serving `GET /metrics`, `/healthz` and `/readyz` on core 0 (default
    /// `None`: off). See `docs/OPERATIONS.md`.
    pub admin_addr: Option<SocketAddr>,
    /// Admin connections served at once (default 16); one more is answered 503 and
    /// closed.
    pub admin_max_connections: usize,
    /// How long an admin client may take to send its request head (default 5 s); then its
    /// connection is closed.
    pub admin_header_timeout: Duration,
    /// Metrics snapshot publication period (default 1 s).
    pub metrics_publish_interval: Duration,
    /// HTTP/2 connection settings (limits, windows, timeouts), including the one drain
    /// timeout: how long a graceful shutdown lets open streams and connections finish,
    /// HTTP/1.1 ones too (default 30 s).
    pub http2: Http2Config,
    /// TLS for every listener; `None` serves cleartext (HTTP/1.1 and h2c).
    pub tls: Option<TlsConfig>,
    /// What the cleartext listeners speak (default [`Protocols::ALL`]: HTTP/1.1 and h2c);
    /// TLS listeners negotiate with ALPN.
    pub protocols: Protocols,
    /// The `server` field of every final response that has none of its own (default
    /// `h2ring`; `None` sends none). Every final response also gets a `date` (RFC 9110
    /// §6.6.1), which is not configurable.
    pub server_header: Option<HeaderValue>,
    /// The access log (default `None`: off): one line per request, buffered per core and
    /// written by a writer thread. See `docs/OPERATIONS.md`.
    pub access_log: Option<AccessLog>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            cores: Cores::All,
            listen: vec![ListenerConfig::new(DEFAULT_LISTEN)],
            backlog: DEFAULT_BACKLOG,
            max_connections_per_core: DEFAULT_MAX_CONNECTIONS_PER_CORE,
            max_handlers_per_core: DEFAULT_MAX_HANDLERS_PER_CORE,
            accept_backoff: DEFAULT_ACCEPT_BACKOFF,
            preempt_timer: DEFAULT_PREEMPT_TIMER,
            spin_before_park: None,
            admin_addr: None,
            admin_max_connections: DEFAULT_ADMIN_MAX_CONNECTIONS,
            admin_header_timeout: DEFAULT_ADMIN_HEADER_TIMEOUT,
            metrics_publish_interval: DEFAULT_METRICS_PUBLISH_INTERVAL,
            http2: Http2Config::default(),
            tls: None,
            protocols: Protocols::ALL,
            server_header: Some(HeaderValue::from_static(DEFAULT_SERVER_HEADER)),
            access_log: None,
        }
    }
}

impl ServerConfig {
    /// Checks value ranges that cannot be expressed in the types.
    pub(crate) fn validate(&self) -> Result<(), StartError> {
        let bad = |e| Err(StartError::InvalidConfig(e));
        if self.listen.is_empty() {
            return bad(ConfigError::NoListenAddress);
        }
        if self.max_connections_per_core == 0 {
            return bad(ConfigError::ZeroMaxConnections);
        }
        if self.max_handlers_per_core == 0 {
            return bad(ConfigError::ZeroMaxHandlers);
        }
        if self.backlog == 0 || self.backlog > i32::MAX as u32 {
            return bad(ConfigError::Backlog);
        }
        if self.preempt_timer.is_zero() {
            return bad(ConfigError::ZeroPreemptTimer);
        }
        if self.http2.max_concurrent_streams == 0 {
            return bad(ConfigError::ZeroMaxConcurrentStreams);
        }
        if self.admin_max_connections == 0 {
            return bad(ConfigError::ZeroAdminConnections);
        }
        if self.http2.min_send_bytes > 0 && self.http2.min_send_window.is_zero() {
            return bad(ConfigError::ZeroMinSendWindow);
        }
        if let Some(log) = &self.access_log {
            if log.buffer_octets == 0 || log.queued_buffers == 0 {
                return bad(ConfigError::ZeroAccessLogBuffer);
            }
        }
        Ok(())
    }

    /// What the runtime gets of these settings, on `cores` (resolved).
    pub(crate) fn runtime_config(
        &self,
        cores: Vec<usize>,
        publish_interval: Option<Duration>,
    ) -> RuntimeConfig {
        RuntimeConfig {
            cores,
            listen: self.listen.iter().map(|l| l.addr).collect(),
            backlog: self.backlog,
            max_connections_per_core: self.max_connections_per_core,
            accept_backoff: self.accept_backoff,
            drain_timeout: self.http2.drain_timeout,
            preempt_timer: self.preempt_timer,
            spin_before_park: self.spin_before_park,
            publish_interval,
        }
    }
}

/// Builder for [`crate::Server`]; start with [`Server::builder`](crate::Server::builder).
/// Every setting has a default; [`ServerBuilder::build`] validates them and loads the TLS
/// certificates, so a mistake shows before any core starts.
///
/// ```no_run
/// use std::time::Duration;
/// use h2ring::{Cores, Http2Config, Server, TlsConfig};
///
/// let mut http2 = Http2Config::default();
/// http2.max_concurrent_streams = 250;
/// let server = Server::builder()
///     .listen("0.0.0.0:8443".parse().unwrap())
///     .cores(Cores::Count(4))
///     .tls(TlsConfig::from_pem_files("cert.pem", "key.pem"))
///     .http2(http2)
///     .drain_timeout(Duration::from_secs(10))
///     .build()?;
/// # Ok::<(), h2ring::StartError>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct ServerBuilder {
    config: ServerConfig,
    listen_set: bool,
}

impl ServerBuilder {
    /// A builder holding all defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Chooses the cores (default all).
    pub fn cores(mut self, cores: Cores) -> Self {
        self.config.cores = cores;
        self
    }

    /// Adds a listen address with default [`ListenerConfig`] settings; the first listener
    /// added replaces the default one. Short for
    /// `.listener(ListenerConfig::new(addr))`.
    pub fn listen(self, addr: SocketAddr) -> Self {
        self.listener(ListenerConfig::new(addr))
    }

    /// Adds a listener with its own settings (for example the PROXY protocol); the first
    /// listener added replaces the default one.
    pub fn listener(mut self, listener: ListenerConfig) -> Self {
        if !self.listen_set {
            self.config.listen.clear();
            self.listen_set = true;
        }
        self.config.listen.push(listener);
        self
    }

    /// Sets the listen backlog.
    pub fn backlog(mut self, backlog: u32) -> Self {
        self.config.backlog = backlog;
        self
    }

    /// Sets the per-core connection cap.
    pub fn max_connections_per_core(mut self, n: usize) -> Self {
        self.config.max_connections_per_core = n;
        self
    }

    /// Sets the per-core concurrent-handler cap.
    pub fn max_handlers_per_core(mut self, n: usize) -> Self {
        self.config.max_handlers_per_core = n;
        self
    }

    /// Sets the graceful-shutdown drain deadline: after GOAWAY (HTTP/2) or at the end of
    /// the current exchange (HTTP/1.1), open requests get this long before their
    /// connections are closed. The same value as `Http2Config::drain_timeout`: setting one
    /// sets the other.
    pub fn drain_timeout(mut self, timeout: Duration) -> Self {
        self.config.http2.drain_timeout = timeout;
        self
    }

    /// Sets the accept back-off used after EMFILE/ENFILE.
    pub fn accept_backoff(mut self, backoff: Duration) -> Self {
        self.config.accept_backoff = backoff;
        self
    }

    /// Lets idle cores spin this long before sleeping (see
    /// [`ServerConfig::spin_before_park`]).
    pub fn spin_before_park(mut self, spin: Option<Duration>) -> Self {
        self.config.spin_before_park = spin;
        self
    }

    /// Sets the glommio preemption timer.
    pub fn preempt_timer(mut self, timer: Duration) -> Self {
        self.config.preempt_timer = timer;
        self
    }

    /// Serves the admin endpoint on `addr` (`None`: off, the default): `GET /metrics`
    /// (Prometheus text), `/healthz` (200 while the process serves) and `/readyz` (200,
    /// then 503 from the moment a graceful shutdown starts). It runs on the first core,
    /// through the drain.
    pub fn admin_addr(mut self, addr: Option<SocketAddr>) -> Self {
        self.config.admin_addr = addr;
        self
    }

    /// Sets how many admin connections are served at once (default 16).
    pub fn admin_max_connections(mut self, n: usize) -> Self {
        self.config.admin_max_connections = n;
        self
    }

    /// Sets how long an admin client may take to send its request head (default 5 s).
    pub fn admin_header_timeout(mut self, timeout: Duration) -> Self {
        self.config.admin_header_timeout = timeout;
        self
    }

    /// Sets the HTTP/2 connection settings.
    pub fn http2(mut self, http2: Http2Config) -> Self {
        self.config.http2 = http2;
        self
    }

    /// Serves every listener over TLS (ALPN picks HTTP/2 or HTTP/1.1); without it the
    /// listeners speak cleartext HTTP/1.1 and h2c.
    pub fn tls(mut self, tls: TlsConfig) -> Self {
        self.config.tls = Some(tls);
        self
    }

    /// Chooses what the cleartext listeners speak: [`Protocols::H2C`] makes them HTTP/2
    /// only, [`Protocols::HTTP1`] HTTP/1.1 only (default both). TLS listeners negotiate
    /// with ALPN and ignore it.
    pub fn protocols(mut self, protocols: Protocols) -> Self {
        self.config.protocols = protocols;
        self
    }

    /// Sets the `server` field sent on every final response that has none of its own
    /// (default `h2ring`), or turns it off with `None`.
    pub fn server_header(mut self, value: Option<HeaderValue>) -> Self {
        self.config.server_header = value;
        self
    }

    /// Writes an access log (default none): a line per request, in
    /// [`AccessLogFormat`](crate::AccessLogFormat) Common, Combined or JSON, to a file or
    /// stdout. Each core buffers its lines and a writer thread writes them, so a core never
    /// waits on the disk. The file is opened when the server starts (an unwritable path
    /// fails [`Server::start`](crate::Server::start)) and reopened by
    /// [`ServerHandle::reopen_access_log`](crate::ServerHandle::reopen_access_log), which
    /// [`Server::serve`](crate::Server::serve) calls on SIGUSR1.
    pub fn access_log(mut self, log: AccessLog) -> Self {
        self.config.access_log = Some(log);
        self
    }

    /// Validates the settings, loads the TLS certificates and produces the server.
    pub fn build(self) -> Result<crate::Server, StartError> {
        self.config.validate()?;
        let tls = match &self.config.tls {
            Some(tls) => Some(Arc::new(TlsAcceptor::new(tls.clone())?)),
            None => None,
        };
        Ok(crate::Server::from_config(self.config, tls))
    }

    /// The settings as set so far.
    pub fn config(&self) -> &ServerConfig {
        &self.config
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_documented_ones() {
        let c = ServerConfig::default();
        assert_eq!(
            c.listen,
            vec![ListenerConfig::new("127.0.0.1:8080".parse().unwrap())]
        );
        assert!(!c.listen[0].proxy_protocol);
        assert_eq!(c.cores, Cores::All);
        assert_eq!(c.max_connections_per_core, 10_000);
        assert_eq!(c.max_handlers_per_core, 16_384);
        assert_eq!(c.http2.drain_timeout, Duration::from_secs(30));
        assert_eq!(c.admin_addr, None);
        assert_eq!(c.admin_max_connections, 16);
        assert_eq!(c.admin_header_timeout, Duration::from_secs(5));
        assert!(c.validate().is_ok());
    }

    #[test]
    fn first_listen_replaces_default_then_appends() {
        let a: SocketAddr = "127.0.0.1:1".parse().unwrap();
        let b: SocketAddr = "[::1]:2".parse().unwrap();
        let mut proxied = ListenerConfig::new(b);
        proxied.proxy_protocol = true;
        let builder = ServerBuilder::new().listen(a).listener(proxied.clone());
        assert_eq!(
            builder.config().listen,
            vec![ListenerConfig::new(a), proxied]
        );
    }

    #[test]
    fn cores_resolve_against_available() {
        let avail = [0, 1];
        assert_eq!(Cores::All.resolve(&avail).unwrap(), vec![0, 1]);
        assert_eq!(Cores::Count(1).resolve(&avail).unwrap(), vec![0]);
        assert_eq!(Cores::List(vec![1]).resolve(&avail).unwrap(), vec![1]);
        let err = Cores::List(vec![7]).resolve(&avail).unwrap_err();
        assert_eq!(
            err.to_string(),
            "core 7 does not exist (this machine has cores 0-1)"
        );
        let err = Cores::Count(3).resolve(&avail).unwrap_err();
        assert_eq!(
            err.to_string(),
            "3 cores requested but this machine has only 2 (cores 0-1)"
        );
        let err = Cores::List(vec![1, 1]).resolve(&avail).unwrap_err();
        assert_eq!(err.to_string(), "core 1 is listed more than once");
        let err = Cores::Count(0).resolve(&avail).unwrap_err();
        assert_eq!(err.to_string(), "at least one core is required");
    }

    #[test]
    fn zero_limits_are_rejected() {
        let c = ServerConfig {
            max_connections_per_core: 0,
            ..ServerConfig::default()
        };
        assert_eq!(
            c.validate().unwrap_err().to_string(),
            "max connections per core must be at least 1"
        );
        let c = ServerConfig {
            admin_max_connections: 0,
            ..ServerConfig::default()
        };
        assert_eq!(
            c.validate().unwrap_err().to_string(),
            "max admin connections must be at least 1"
        );
    }

    #[test]
    fn an_access_log_needs_a_buffer_and_a_queue() {
        use crate::service::AccessLog;
        let log = AccessLog::to_stdout();
        assert_eq!((log.buffer_octets, log.queued_buffers), (64 * 1024, 16));
        for log in [log.clone().buffer_octets(0), log.clone().queued_buffers(0)] {
            let c = ServerConfig {
                access_log: Some(log),
                ..ServerConfig::default()
            };
            assert!(matches!(
                c.validate(),
                Err(StartError::InvalidConfig(ConfigError::ZeroAccessLogBuffer))
            ));
        }
        let c = ServerConfig {
            access_log: Some(log),
            ..ServerConfig::default()
        };
        assert!(c.validate().is_ok());
    }

    #[test]
    fn a_zero_min_send_window_is_rejected_unless_the_rule_is_off() {
        let mut c = ServerConfig::default();
        c.http2.min_send_window = Duration::ZERO;
        assert!(matches!(
            c.validate(),
            Err(StartError::InvalidConfig(ConfigError::ZeroMinSendWindow))
        ));
        c.http2.min_send_bytes = 0;
        assert!(c.validate().is_ok());
    }
}
