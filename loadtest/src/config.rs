//! Owns the run configuration: what to request, how hard, where, and the limits every run uses.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;

/// Default connections (`-c`).
pub const DEFAULT_CONNECTIONS: usize = 1;
/// Default concurrent streams per connection (`-m`).
pub const DEFAULT_STREAMS: u32 = 1;
/// Stream receive window we advertise (SETTINGS_INITIAL_WINDOW_SIZE): 2^30-1, like
/// `h2load -w 30`, so responses are never held back by our window.
pub const DEFAULT_STREAM_WINDOW: u32 = (1 << 30) - 1;
/// Connection receive window we grow to right after the preface: 2^30-1 (`h2load -W 30`).
pub const DEFAULT_CONNECTION_WINDOW: u32 = (1 << 30) - 1;
/// Time allowed to establish a TCP connection and receive the server's SETTINGS.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How often outstanding requests are checked against `request_timeout`.
pub const TIMEOUT_CHECK_INTERVAL: Duration = Duration::from_millis(50);
/// Octets asked of the socket per read.
pub const READ_CHUNK: usize = 64 * 1024;
/// Octets asked per read in idle mode, where thousands of connections each keep a read
/// pending and only small control frames arrive.
pub const IDLE_READ_CHUNK: usize = 1024;
/// After the run's end, how long in-flight requests of a `-n` run may take to finish.
pub const DEFAULT_DRAIN: Duration = Duration::from_secs(10);
/// Highest latency the histogram tracks, in µs (1 hour); longer ones are clamped.
pub const MAX_TRACKED_LATENCY_US: u64 = 3_600_000_000;
/// Significant decimal digits the latency histogram keeps.
pub const HISTOGRAM_SIGFIG: u8 = 3;

/// How requests are issued.
#[derive(Clone, Debug, PartialEq)]
pub enum Mode {
    /// Closed loop (like h2load): every free stream slot immediately sends the next
    /// request; latency runs from the actual send.
    Closed,
    /// Open loop: `rate` requests per second in total, spread evenly over the
    /// connections, whatever the server's speed; latency runs from the *intended*
    /// send time, which corrects for coordinated omission.
    Open {
        /// Requests per second over all connections.
        rate: f64,
    },
    /// Open connections, finish the handshake, then hold them idle for the run's
    /// duration (measures a server's memory per idle connection).
    Idle,
}

/// When the run stops.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// After this many requests in total (each connection takes its share).
    Requests(u64),
    /// After this long (measured after the warm-up).
    Duration(Duration),
}

/// What one request looks like.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestSpec {
    /// `:method`.
    pub method: String,
    /// `:scheme` (`http` for h2c, `https` for TLS).
    pub scheme: String,
    /// `:authority`.
    pub authority: String,
    /// `:path`.
    pub path: String,
    /// Extra header fields, lowercase names.
    pub headers: Vec<(String, String)>,
    /// Request body (sent as DATA frames under flow control); empty means none.
    pub body: Bytes,
}

impl RequestSpec {
    /// A body-less GET of `path` at `authority` over h2c.
    pub fn get(authority: &str, path: &str) -> RequestSpec {
        RequestSpec {
            method: "GET".into(),
            scheme: "http".into(),
            authority: authority.into(),
            path: path.into(),
            headers: Vec::new(),
            body: Bytes::new(),
        }
    }
}

/// Which cores run the generator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cores {
    /// This many threads, not pinned (tests, laptops).
    Unpinned(usize),
    /// One thread pinned to each listed CPU.
    Pinned(Vec<usize>),
}

impl Cores {
    /// Number of generator threads.
    pub fn count(&self) -> usize {
        match self {
            Cores::Unpinned(n) => (*n).max(1),
            Cores::Pinned(list) => list.len().max(1),
        }
    }
}

/// A whole run.
#[derive(Clone, Debug)]
pub struct Config {
    /// Server address.
    pub addr: SocketAddr,
    /// The request every stream sends.
    pub request: RequestSpec,
    /// Connections in total (`-c`).
    pub connections: usize,
    /// Concurrent streams per connection (`-m`); also capped by the server's
    /// SETTINGS_MAX_CONCURRENT_STREAMS.
    pub streams: u32,
    /// Closed or open loop, or idle connections.
    pub mode: Mode,
    /// When to stop.
    pub stop: Stop,
    /// Responses completing during this initial period are not recorded.
    pub warm_up: Duration,
    /// A request outstanding longer than this is cancelled and counted as a timeout
    /// (`None`: never).
    pub request_timeout: Option<Duration>,
    /// Limit on connect + handshake.
    pub connect_timeout: Duration,
    /// Generator threads and their placement.
    pub cores: Cores,
    /// Stream receive window advertised.
    pub stream_window: u32,
    /// Connection receive window.
    pub connection_window: u32,
    /// Connect over TLS (h2 via ALPN) instead of h2c.
    pub tls: bool,
}

impl Config {
    /// A closed-loop h2c run against `addr` with defaults for everything else.
    pub fn new(addr: SocketAddr, request: RequestSpec) -> Config {
        Config {
            addr,
            request,
            connections: DEFAULT_CONNECTIONS,
            streams: DEFAULT_STREAMS,
            mode: Mode::Closed,
            stop: Stop::Duration(Duration::from_secs(1)),
            warm_up: Duration::ZERO,
            request_timeout: None,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            cores: Cores::Unpinned(1),
            stream_window: DEFAULT_STREAM_WINDOW,
            connection_window: DEFAULT_CONNECTION_WINDOW,
            tls: false,
        }
    }
}
