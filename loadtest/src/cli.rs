//! Owns the command line: clap definitions (h2load-like flags) and their conversion into
//! a validated [`Config`].

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::time::Duration;

use bytes::Bytes;
use clap::Parser;

use crate::config::{
    Config, Cores, Mode, RequestSpec, Stop, DEFAULT_CONNECTIONS, DEFAULT_CONNECTION_WINDOW,
    DEFAULT_CONNECT_TIMEOUT, DEFAULT_STREAMS, DEFAULT_STREAM_WINDOW,
};

/// `h2ring-loadtest`: HTTP/2 load generator (closed loop like h2load, or open loop).
#[derive(Debug, Clone, Parser)]
#[command(name = "h2ring-loadtest", version, about, long_about = None)]
pub struct Args {
    /// Target URL: http://HOST:PORT/PATH (h2c, prior knowledge) or https://... (h2 over TLS).
    pub url: String,
    /// Connections in total.
    #[arg(short = 'c', long = "clients", default_value_t = DEFAULT_CONNECTIONS)]
    pub clients: usize,
    /// Concurrent streams per connection.
    #[arg(short = 'm', long = "max-concurrent-streams", default_value_t = DEFAULT_STREAMS)]
    pub streams: u32,
    /// Stop after this many requests (closed loop only).
    #[arg(short = 'n', long = "requests", conflicts_with = "duration")]
    pub requests: Option<u64>,
    /// Run for this many seconds after the warm-up [default: 10 unless -n].
    #[arg(short = 'D', long = "duration")]
    pub duration: Option<f64>,
    /// Seconds at the start whose responses are not recorded.
    #[arg(long = "warm-up-time", default_value_t = 0.0)]
    pub warm_up: f64,
    /// Open loop: this many requests per second in total, latency from intended send time.
    #[arg(long = "rate", conflicts_with = "requests")]
    pub rate: Option<f64>,
    /// Open the connections, finish the handshake, and hold them idle for --duration.
    #[arg(long = "idle", conflicts_with_all = ["rate", "requests"])]
    pub idle: bool,
    /// Generator threads, not pinned.
    #[arg(short = 't', long = "threads", default_value_t = 1)]
    pub threads: usize,
    /// Pin one generator thread to each of these CPUs (e.g. `1`, `2,3`, `4-7`); overrides -t.
    #[arg(long = "cores", value_name = "LIST")]
    pub cores: Option<String>,
    /// Cancel and count as a timeout any request outstanding this many seconds.
    #[arg(short = 'T', long = "timeout")]
    pub timeout: Option<f64>,
    /// Connect + handshake timeout in seconds.
    #[arg(long = "connect-timeout", default_value_t = DEFAULT_CONNECT_TIMEOUT.as_secs_f64())]
    pub connect_timeout: f64,
    /// Request method [default: GET, or POST with a body].
    #[arg(long = "method")]
    pub method: Option<String>,
    /// Upload this file as each request's body.
    #[arg(short = 'd', long = "data", conflicts_with = "body_size")]
    pub data: Option<PathBuf>,
    /// Upload a body of this many octets with each request.
    #[arg(long = "body-size")]
    pub body_size: Option<usize>,
    /// Extra header `name: value`; repeatable.
    #[arg(short = 'H', long = "header")]
    pub headers: Vec<String>,
    /// Stream receive window we advertise, in octets.
    #[arg(long = "stream-window", default_value_t = DEFAULT_STREAM_WINDOW)]
    pub stream_window: u32,
    /// Connection receive window, in octets.
    #[arg(long = "connection-window", default_value_t = DEFAULT_CONNECTION_WINDOW)]
    pub connection_window: u32,
    /// Write the latency percentile distribution (HdrHistogram text format, ms) here.
    #[arg(long = "hist-file")]
    pub hist_file: Option<PathBuf>,
}

/// A parsed target URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Over TLS.
    pub tls: bool,
    /// `host[:port]` as written.
    pub authority: String,
    /// Path and query, `/` if absent.
    pub path: String,
    /// Port (default 80 / 443).
    pub port: u16,
}

/// Splits `http[s]://authority/path`.
pub fn parse_url(url: &str) -> Result<Target, String> {
    let (tls, rest) = if let Some(r) = url.strip_prefix("http://") {
        (false, r)
    } else if let Some(r) = url.strip_prefix("https://") {
        (true, r)
    } else {
        return Err(format!("unsupported URL '{url}': use http:// or https://"));
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    if authority.is_empty() {
        return Err(format!("URL '{url}' has no host"));
    }
    let port_part = match authority.rfind(']') {
        Some(i) => authority[i + 1..].strip_prefix(':'),
        None => authority.rsplit_once(':').map(|(_, p)| p),
    };
    let port = match port_part {
        Some(p) => p.parse().map_err(|_| format!("bad port in '{url}'"))?,
        None if tls => 443,
        None => 80,
    };
    Ok(Target {
        tls,
        authority: authority.to_string(),
        path: path.to_string(),
        port,
    })
}

/// Parses a CPU list: `3`, `0,2`, `4-7`.
pub fn parse_cpu_list(s: &str) -> Result<Vec<usize>, String> {
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let bad = || format!("bad CPU list '{s}'");
        match part.split_once('-') {
            Some((a, b)) => {
                let a: usize = a.trim().parse().map_err(|_| bad())?;
                let b: usize = b.trim().parse().map_err(|_| bad())?;
                if a > b {
                    return Err(bad());
                }
                out.extend(a..=b);
            }
            None => out.push(part.parse().map_err(|_| bad())?),
        }
    }
    if out.is_empty() {
        return Err(format!("empty CPU list '{s}'"));
    }
    Ok(out)
}

fn secs(v: f64, what: &str) -> Result<Duration, String> {
    Duration::try_from_secs_f64(v).map_err(|_| format!("bad {what} '{v}'"))
}

impl Args {
    /// Validates the flags into a run configuration.
    pub fn to_config(&self) -> Result<Config, String> {
        let target = parse_url(&self.url)?;
        let host = crate::driver::host_of(&target.authority);
        let addr: SocketAddr = (host, target.port)
            .to_socket_addrs()
            .map_err(|e| format!("cannot resolve '{host}': {e}"))?
            .next()
            .ok_or_else(|| format!("'{host}' has no address"))?;
        let body = match (&self.data, self.body_size) {
            (Some(path), _) => Bytes::from(
                std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?,
            ),
            (None, Some(n)) => Bytes::from(vec![b'x'; n]),
            (None, None) => Bytes::new(),
        };
        let method = match &self.method {
            Some(m) => m.clone(),
            None if body.is_empty() => "GET".into(),
            None => "POST".into(),
        };
        let mut headers = Vec::new();
        for h in &self.headers {
            let (n, v) = h
                .split_once(':')
                .ok_or_else(|| format!("bad header '{h}': expected 'name: value'"))?;
            headers.push((n.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
        let request = RequestSpec {
            method,
            scheme: if target.tls { "https" } else { "http" }.into(),
            authority: target.authority.clone(),
            path: target.path.clone(),
            headers,
            body,
        };
        let mut config = Config::new(addr, request);
        config.tls = target.tls;
        config.connections = self.clients;
        config.streams = self.streams;
        config.mode = match (self.idle, self.rate) {
            (true, _) => Mode::Idle,
            (false, Some(rate)) => Mode::Open { rate },
            (false, None) => Mode::Closed,
        };
        config.stop = match (self.requests, self.duration) {
            (Some(n), _) => Stop::Requests(n),
            (None, Some(d)) => Stop::Duration(secs(d, "duration")?),
            (None, None) => Stop::Duration(Duration::from_secs(10)),
        };
        config.warm_up = secs(self.warm_up, "warm-up")?;
        config.request_timeout = self.timeout.map(|t| secs(t, "timeout")).transpose()?;
        config.connect_timeout = secs(self.connect_timeout, "connect timeout")?;
        config.cores = match &self.cores {
            Some(list) => Cores::Pinned(parse_cpu_list(list)?),
            None => Cores::Unpinned(self.threads.max(1)),
        };
        config.stream_window = self.stream_window;
        config.connection_window = self.connection_window;
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(
            parse_url("http://127.0.0.1:8080/a/b?c").unwrap(),
            Target {
                tls: false,
                authority: "127.0.0.1:8080".into(),
                path: "/a/b?c".into(),
                port: 8080
            }
        );
        let t = parse_url("https://localhost").unwrap();
        assert_eq!((t.tls, t.port, t.path.as_str()), (true, 443, "/"));
        assert_eq!(parse_url("https://[::1]:9/").unwrap().port, 9);
        assert!(parse_url("ftp://x").is_err());
        assert!(parse_url("http://x:port/").is_err());
    }

    #[test]
    fn cpu_lists() {
        assert_eq!(parse_cpu_list("1").unwrap(), vec![1]);
        assert_eq!(parse_cpu_list("0,2-4").unwrap(), vec![0, 2, 3, 4]);
        assert!(parse_cpu_list("3-1").is_err());
        assert!(parse_cpu_list("").is_err());
    }

    #[test]
    fn flags_to_config() {
        let args = Args::parse_from([
            "h2ring-loadtest",
            "http://127.0.0.1:8080/up",
            "-c",
            "4",
            "-m",
            "8",
            "--rate",
            "1000",
            "-D",
            "2.5",
            "--body-size",
            "10",
            "-H",
            "X-A: b",
            "--cores",
            "1",
        ]);
        let c = args.to_config().unwrap();
        assert_eq!(c.connections, 4);
        assert_eq!(c.streams, 8);
        assert_eq!(c.mode, Mode::Open { rate: 1000.0 });
        assert_eq!(c.stop, Stop::Duration(Duration::from_millis(2500)));
        assert_eq!(c.request.method, "POST");
        assert_eq!(c.request.body.len(), 10);
        assert_eq!(c.request.headers, vec![("x-a".into(), "b".into())]);
        assert_eq!(c.cores, Cores::Pinned(vec![1]));
        assert!(!c.tls);
        let n = Args::parse_from(["x", "https://localhost:8443/", "-n", "100"]);
        let c = n.to_config().unwrap();
        assert_eq!((c.stop, c.tls), (Stop::Requests(100), true));
        assert_eq!(c.request.scheme, "https");
    }
}
