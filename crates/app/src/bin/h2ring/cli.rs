//! Command-line interface: clap definitions and their conversion into a
//! validated server configuration.

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use h2ring::static_files::StaticFiles;
use h2ring::{
    AccessLog, AccessLogFormat, Cores, Http2Config, ListenerConfig, Protocols, Server,
    ServerBuilder, ServerConfig, TlsConfig,
};
use http::HeaderValue;

/// Default `--log` filter.
const DEFAULT_LOG: &str = "warn";

/// The library's defaults: every flag's default comes from them (one source of defaults).
fn defaults() -> ServerConfig {
    ServerConfig::default()
}

fn http2_defaults() -> Http2Config {
    Http2Config::default()
}

fn default_server_header() -> String {
    defaults()
        .server_header
        .and_then(|v| v.to_str().ok().map(str::to_string))
        .unwrap_or_default()
}

fn secs(d: Option<Duration>) -> u64 {
    d.map_or(0, |d| d.as_secs())
}

/// A command-line mistake, as one line for `h2ring: error: <message>`.
#[derive(Debug)]
pub struct CliError(String);

impl std::fmt::Display for CliError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CliError {}

fn invalid(message: String) -> CliError {
    CliError(message)
}

/// `h2ring`: a thread-per-core io_uring HTTP/2 and HTTP/1.1 server (HTTPS with ALPN, or
/// cleartext h2c and HTTP/1.1 on one port).
#[derive(Debug, Clone, Parser)]
#[command(name = "h2ring", version, about, long_about = None)]
pub struct Cli {
    /// Address to listen on, IP:PORT; repeat for several.
    #[arg(long = "listen", value_name = "ADDR",
          default_values_t = defaults().listen.iter().map(|l| l.addr.to_string()).collect::<Vec<_>>())]
    pub listen: Vec<String>,
    /// Every connection on the --listen addresses starts with a PROXY protocol header (v1
    /// or v2, as HAProxy `send-proxy`/`send-proxy-v2` or an AWS NLB send it); its source
    /// becomes the client address. A connection without one is closed. Only behind a
    /// balancer you trust: see docs/OPERATIONS.md.
    #[arg(long)]
    pub proxy_protocol: bool,
    /// Cores to run on: a count (`2`), a list (`0,1`, `0-3`) or `all`.
    #[arg(long, value_name = "N|LIST", default_value = "all")]
    pub cores: String,
    /// Serve files from this directory instead of the built-in page.
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// SETTINGS_MAX_CONCURRENT_STREAMS advertised to each client.
    #[arg(long, value_name = "N", default_value_t = http2_defaults().max_concurrent_streams)]
    pub max_concurrent_streams: u32,
    /// Close connections idle for this many seconds.
    #[arg(long, value_name = "SECS", default_value_t = secs(http2_defaults().idle_timeout))]
    pub idle_timeout: u64,
    /// Open connections per core; beyond it, accepting pauses.
    #[arg(long, value_name = "N", default_value_t = defaults().max_connections_per_core)]
    pub max_connections_per_core: usize,
    /// Concurrently running request handlers per core.
    #[arg(long, value_name = "N", default_value_t = defaults().max_handlers_per_core)]
    pub max_handlers_per_core: usize,
    /// Seconds connections get to finish after SIGTERM/SIGINT before being
    /// closed.
    #[arg(long, value_name = "SECS", default_value_t = http2_defaults().drain_timeout.as_secs())]
    pub drain_timeout: u64,
    /// listen(2) backlog of each per-core listener.
    #[arg(long, value_name = "N", default_value_t = defaults().backlog)]
    pub backlog: u32,
    /// Serve the admin endpoint at ADDR: /metrics (Prometheus), /healthz and /readyz (503
    /// once a drain starts) [default: off]. `--metrics-addr` is the old name.
    #[arg(long, value_name = "ADDR", visible_alias = "metrics-addr")]
    pub admin_addr: Option<String>,
    /// Log filter (error, warn, info, debug, trace, or tracing directives such as
    /// `h2ring=debug`). Without it, RUST_LOG applies, and without that `warn`.
    #[arg(long, value_name = "LEVEL")]
    pub log: Option<String>,
    /// Receive window of each stream in octets (request body a client may send unread).
    #[arg(long, value_name = "OCTETS", default_value_t = http2_defaults().stream_window)]
    pub stream_window: u32,
    /// Receive window of each connection in octets.
    #[arg(long, value_name = "OCTETS", default_value_t = http2_defaults().connection_window)]
    pub connection_window: u32,
    /// SETTINGS_MAX_FRAME_SIZE: largest frame payload accepted (16384..16777215).
    #[arg(long, value_name = "OCTETS", default_value_t = http2_defaults().max_frame_size)]
    pub max_frame_size: u32,
    /// SETTINGS_MAX_HEADER_LIST_SIZE: larger request heads get 431.
    #[arg(long, value_name = "OCTETS", default_value_t = http2_defaults().max_header_list_size)]
    pub max_header_list_size: u32,
    /// Control frames queued for a client that does not read before it is disconnected.
    #[arg(long, value_name = "N", default_value_t = http2_defaults().max_queued_control_frames)]
    pub max_queued_control_frames: usize,
    /// Seconds the socket may refuse our bytes (a client that stops reading) before the
    /// connection is closed (slow read, CVE-2019-9517).
    #[arg(long, value_name = "SECS", default_value_t = http2_defaults().write_timeout.as_secs())]
    pub write_timeout: u64,
    /// Octets a client must take per `--min-send-window` while the socket refuses our
    /// bytes, or its connection is closed (a reader that trickles); 0 disables.
    #[arg(long, value_name = "OCTETS", default_value_t = http2_defaults().min_send_bytes)]
    pub min_send_rate: usize,
    /// Seconds of the `--min-send-rate` window.
    #[arg(long, value_name = "SECS", default_value_t = http2_defaults().min_send_window.as_secs())]
    pub min_send_window: u64,
    /// Seconds one response may take from its request's arrival to its last octet (an
    /// HTTP/2 stream is then reset, an HTTP/1.1 connection closed); 0 disables.
    #[arg(long, value_name = "SECS", default_value_t = secs(http2_defaults().response_send_timeout))]
    pub response_send_timeout: u64,
    /// Seconds a stream may stall, its request body unsent or its response blocked by the
    /// client's windows, before it is reset with CANCEL; 0 disables.
    #[arg(long, value_name = "SECS", default_value_t = secs(http2_defaults().stream_recv_timeout))]
    pub stream_timeout: u64,
    /// Seconds a client has to finish a header block (HEADERS + CONTINUATION).
    #[arg(long, value_name = "SECS", default_value_t = http2_defaults().header_block_timeout.as_secs())]
    pub header_block_timeout: u64,
    /// Seconds a new connection has to send the 24-octet HTTP/2 client preface.
    #[arg(long, value_name = "SECS", default_value_t = http2_defaults().preface_timeout.as_secs())]
    pub preface_timeout: u64,
    /// Accept RFC 8441 extended CONNECT (e.g. WebSocket over HTTP/2).
    #[arg(long)]
    pub extended_connect: bool,
    /// Never push, even when a handler asks and the client allows it.
    #[arg(long)]
    pub no_push: bool,
    /// Microseconds an idle core spins before sleeping: lower latency for one request at a
    /// time, at the price of CPU while idle. 0 = sleep at once.
    #[arg(long, value_name = "MICROS", default_value_t = 0)]
    pub spin_before_park_us: u64,
    /// Accept POST and PUT bodies at this path: read them to the end (flow control
    /// reopens as they are read) and answer 200 with the octet count. Off by default;
    /// for upload benchmarks and smoke tests.
    #[arg(long, value_name = "PATH")]
    pub upload_sink: Option<String>,
    /// What a cleartext port speaks: `h1` (HTTP/1.1 only), `h2c` (HTTP/2 with prior
    /// knowledge only) or `h1,h2c` (both; HTTP/1.1 may also `Upgrade: h2c`). TLS ports
    /// negotiate with ALPN.
    #[arg(long, value_name = "LIST", default_value_t = defaults().protocols,
          conflicts_with_all = ["tls_cert", "self_signed"])]
    pub protocols: Protocols,
    /// The `server` field of every final response that has none of its own.
    #[arg(
        long,
        value_name = "VALUE",
        default_value_t = default_server_header(),
        conflicts_with = "no_server_header"
    )]
    pub server_header: String,
    /// Send no `server` field (every final response still carries `date`).
    #[arg(long)]
    pub no_server_header: bool,
    /// Serve HTTPS with this PEM certificate chain (needs --tls-key); ALPN picks h2 or
    /// http/1.1. Without TLS the port serves h2c and HTTP/1.1 in cleartext.
    #[arg(long, value_name = "PATH", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert.
    #[arg(long, value_name = "PATH", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Serve HTTPS with a throwaway self-signed certificate (local trials only).
    #[arg(long, conflicts_with = "tls_cert")]
    pub self_signed: bool,
    /// Extra certificate chosen by SNI, HOST=CERT,KEY; repeatable.
    #[arg(long, value_name = "HOST=CERT,KEY")]
    pub sni_cert: Vec<String>,
    /// Seconds a client gets to complete the TLS handshake.
    #[arg(long, value_name = "SECS", default_value_t = TlsConfig::DEFAULT_HANDSHAKE_TIMEOUT.as_secs())]
    pub tls_handshake_timeout: u64,
    /// Write an access log, a line per request, to this file (appended; reopened on
    /// SIGUSR1 for rotation) or to stdout with `-`.
    #[arg(long, value_name = "PATH|-")]
    pub access_log: Option<PathBuf>,
    /// The access log's line format: `common`, `combined` (adds referer and user agent)
    /// or `json` (adds the duration).
    #[arg(long, value_name = "FORMAT", default_value = "combined",
          value_parser = ["common", "combined", "json"], requires = "access_log")]
    pub access_log_format: String,
}

/// The access log the flags ask for, if any.
fn access_log(path: Option<&std::path::Path>, format: &str) -> Option<AccessLog> {
    let log = match path? {
        p if p.as_os_str() == "-" => AccessLog::to_stdout(),
        p => AccessLog::to_path(p),
    };
    let format = match format {
        "common" => AccessLogFormat::Common,
        "json" => AccessLogFormat::Json,
        _ => AccessLogFormat::Combined,
    };
    Some(log.format(format))
}

/// Everything `main` needs, validated.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The server's settings (TLS goes on when the server is built).
    pub server: ServerBuilder,
    /// What to serve.
    pub files: StaticFiles,
    /// TLS, when serving HTTPS.
    pub tls: Option<TlsConfig>,
    /// Log filter from `--log`, if given (else RUST_LOG, else [`DEFAULT_LOG`]; see
    /// [`log_filter`]).
    pub log: Option<String>,
}

/// The log filter in force and where it came from: `--log` if given, else a non-empty
/// `RUST_LOG`, else [`DEFAULT_LOG`] (an explicit flag beats the environment, as usual).
pub fn log_filter(flag: Option<&str>, rust_log: Option<&str>) -> (String, &'static str) {
    match (flag, rust_log.filter(|v| !v.trim().is_empty())) {
        (Some(flag), _) => (flag.to_string(), "--log"),
        (None, Some(env)) => (env.to_string(), "RUST_LOG"),
        (None, None) => (DEFAULT_LOG.to_string(), "--log"),
    }
}

/// `HOST=CERT,KEY` of `--sni-cert`.
pub fn parse_sni_cert(value: &str) -> Result<(String, PathBuf, PathBuf), CliError> {
    let bad = || {
        invalid(format!(
            "invalid --sni-cert '{value}': expected HOST=CERT,KEY"
        ))
    };
    let (host, files) = value.split_once('=').ok_or_else(bad)?;
    let (cert, key) = files.split_once(',').ok_or_else(bad)?;
    if host.is_empty() || cert.is_empty() || key.is_empty() {
        return Err(bad());
    }
    Ok((host.to_string(), cert.into(), key.into()))
}

/// Parses `--cores`: a bare number is a count; commas or dashes make a list.
pub fn parse_cores(value: &str) -> Result<Cores, CliError> {
    let value = value.trim();
    let bad = || {
        invalid(format!(
            "invalid --cores '{value}': expected a count (2), a list (0,1 or 0-3) or 'all'"
        ))
    };
    if value.eq_ignore_ascii_case("all") {
        return Ok(Cores::All);
    }
    if let Ok(n) = value.parse::<usize>() {
        return Ok(Cores::Count(n));
    }
    let mut list = Vec::new();
    for part in value.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match part.split_once('-') {
            Some((a, b)) => {
                let a: usize = a.trim().parse().map_err(|_| bad())?;
                let b: usize = b.trim().parse().map_err(|_| bad())?;
                if a > b {
                    return Err(bad());
                }
                list.extend(a..=b);
            }
            None => list.push(part.parse().map_err(|_| bad())?),
        }
    }
    if list.is_empty() {
        return Err(bad());
    }
    Ok(Cores::List(list))
}

/// Parses an address: `IP:PORT`, `[IPv6]:PORT` or `localhost:PORT`.
pub fn parse_addr(flag: &str, value: &str) -> Result<SocketAddr, CliError> {
    let bad = || {
        invalid(format!(
            "invalid {flag} address '{value}': expected IP:PORT such as 127.0.0.1:8080"
        ))
    };
    if let Ok(addr) = value.parse() {
        return Ok(addr);
    }
    // Only resolve names that are obviously local; anything else would make
    // startup depend on DNS.
    if value.starts_with("localhost:") {
        return value
            .to_socket_addrs()
            .map_err(|_| bad())?
            .next()
            .ok_or_else(bad);
    }
    Err(bad())
}

impl Cli {
    /// Validates every flag and builds the server settings.
    pub fn into_settings(self) -> Result<Settings, CliError> {
        let mut builder = Server::builder()
            .cores(parse_cores(&self.cores)?)
            .backlog(self.backlog)
            .max_connections_per_core(self.max_connections_per_core)
            .max_handlers_per_core(self.max_handlers_per_core)
            .protocols(self.protocols)
            .spin_before_park(
                (self.spin_before_park_us > 0)
                    .then(|| Duration::from_micros(self.spin_before_park_us)),
            );
        for value in &self.listen {
            let mut listener = ListenerConfig::new(parse_addr("--listen", value)?);
            listener.proxy_protocol = self.proxy_protocol;
            builder = builder.listener(listener);
        }
        let server_header = if self.no_server_header {
            None
        } else {
            Some(HeaderValue::from_str(&self.server_header).map_err(|_| {
                invalid(format!(
                    "--server-header {:?} is not a valid field value",
                    self.server_header
                ))
            })?)
        };
        builder = builder.server_header(server_header);
        if let Some(log) = access_log(self.access_log.as_deref(), &self.access_log_format) {
            builder = builder.access_log(log);
        }
        if let Some(value) = &self.admin_addr {
            builder = builder.admin_addr(Some(parse_addr("--admin-addr", value)?));
        }
        if self.max_concurrent_streams == 0 {
            return Err(invalid(
                "--max-concurrent-streams must be at least 1".to_string(),
            ));
        }
        // 0 disables the stream timeouts.
        let stream_timeout =
            (self.stream_timeout > 0).then(|| Duration::from_secs(self.stream_timeout));
        let mut http2 = Http2Config::default();
        http2.max_concurrent_streams = self.max_concurrent_streams;
        // 0 disables the idle timeout.
        http2.idle_timeout =
            (self.idle_timeout > 0).then(|| Duration::from_secs(self.idle_timeout));
        http2.stream_window = self.stream_window;
        http2.connection_window = self.connection_window;
        http2.max_frame_size = self.max_frame_size;
        http2.max_header_list_size = self.max_header_list_size;
        http2.max_header_block_bytes = 4 * self.max_header_list_size as usize + 16 * 1024;
        http2.max_queued_control_frames = self.max_queued_control_frames;
        http2.extended_connect = self.extended_connect;
        http2.allow_push = !self.no_push;
        // Zero would close every connection at once: at least one second each.
        http2.write_timeout = Duration::from_secs(self.write_timeout.max(1));
        http2.min_send_bytes = self.min_send_rate;
        // Zero would close every connection whose socket is ever full: at least 1 s.
        http2.min_send_window = Duration::from_secs(self.min_send_window.max(1));
        http2.response_send_timeout = (self.response_send_timeout > 0)
            .then(|| Duration::from_secs(self.response_send_timeout));
        http2.stream_recv_timeout = stream_timeout;
        http2.stream_send_timeout = stream_timeout;
        http2.header_block_timeout = Duration::from_secs(self.header_block_timeout.max(1));
        http2.preface_timeout = Duration::from_secs(self.preface_timeout.max(1));
        builder = builder
            .http2(http2)
            .drain_timeout(Duration::from_secs(self.drain_timeout));
        let mut files = match &self.root {
            Some(root) => StaticFiles::new(root).map_err(|e| invalid(e.to_string()))?,
            None => StaticFiles::builtin(),
        };
        if let Some(path) = &self.upload_sink {
            if !path.starts_with('/') {
                return Err(invalid(format!(
                    "--upload-sink must be a path starting with '/', got {path:?}"
                )));
            }
            files = files.upload_sink(path.clone());
        }
        let tls = match (&self.tls_cert, &self.tls_key, self.self_signed) {
            (Some(cert), Some(key), _) => Some(TlsConfig::from_pem_files(cert, key)),
            (_, _, true) => Some(TlsConfig::self_signed()),
            _ => None,
        };
        let tls = match tls {
            Some(mut tls) => {
                tls = tls.handshake_timeout(Duration::from_secs(self.tls_handshake_timeout.max(1)));
                for value in &self.sni_cert {
                    let (host, cert, key) = parse_sni_cert(value)?;
                    tls = tls.sni_cert(host, cert, key);
                }
                Some(tls)
            }
            None if !self.sni_cert.is_empty() => {
                return Err(invalid(
                    "--sni-cert needs --tls-cert/--tls-key or --self-signed".to_string(),
                ));
            }
            None => None,
        };
        Ok(Settings {
            server: builder,
            files,
            tls,
            log: self.log,
        })
    }
}

/// One-line text of a clap parse error, without clap's `error: ` prefix and
/// usage block.
pub fn clap_error_line(err: &clap::Error) -> String {
    let text = err.to_string();
    let first = text.lines().next().unwrap_or_default();
    first.strip_prefix("error: ").unwrap_or(first).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Settings, CliError> {
        let mut argv = vec!["h2ring"];
        argv.extend_from_slice(args);
        Cli::try_parse_from(argv).unwrap().into_settings()
    }

    #[test]
    fn access_log_flags() {
        use h2ring::{AccessLogFormat, AccessLogTarget};
        let log = |args: &[&str]| parse(args).unwrap().server.config().access_log.clone();
        assert_eq!(log(&[]), None);
        let stdout = log(&["--access-log", "-"]).unwrap();
        assert_eq!(stdout.target, AccessLogTarget::Stdout);
        assert_eq!(stdout.format, AccessLogFormat::Combined);
        let file = log(&[
            "--access-log",
            "/var/log/a.log",
            "--access-log-format",
            "json",
        ])
        .unwrap();
        assert_eq!(file.target, AccessLogTarget::File("/var/log/a.log".into()));
        assert_eq!(file.format, AccessLogFormat::Json);
        let common = log(&["--access-log", "a", "--access-log-format", "common"]).unwrap();
        assert_eq!(common.format, AccessLogFormat::Common);
        // A format without a log, or an unknown one, is a mistake.
        let argv = |args: &[&str]| Cli::try_parse_from([&["h2ring"][..], args].concat());
        assert!(argv(&["--access-log-format", "json"]).is_err());
        assert!(argv(&["--access-log", "-", "--access-log-format", "xml"]).is_err());
    }

    #[test]
    fn no_arguments_gives_the_defaults() {
        let s = parse(&[]).unwrap();
        let c = s.server.config();
        assert_eq!(
            c.listen,
            vec![ListenerConfig::new("127.0.0.1:8080".parse().unwrap())]
        );
        assert_eq!(c.cores, Cores::All);
        assert_eq!(c.http2.drain_timeout, Duration::from_secs(30));
        assert_eq!(c.admin_addr, None);
        assert!(s.files.root().is_none());
        assert_eq!(s.server.config().http2.max_concurrent_streams, 100);
        assert_eq!(s.log, None);
    }

    #[test]
    fn proxy_protocol_applies_to_every_listen_address() {
        let s = parse(&[
            "--listen",
            "127.0.0.1:1",
            "--listen",
            "[::1]:2",
            "--proxy-protocol",
        ])
        .unwrap();
        let listen = &s.server.config().listen;
        assert_eq!(listen.len(), 2);
        assert!(listen.iter().all(|l| l.proxy_protocol));
    }

    #[test]
    fn flags_map_onto_the_config() {
        let s = parse(&[
            "--listen",
            "127.0.0.1:1",
            "--listen",
            "[::1]:2",
            "--cores",
            "0,1",
            "--max-connections-per-core",
            "5",
            "--max-handlers-per-core",
            "6",
            "--drain-timeout",
            "7",
            "--metrics-addr",
            "127.0.0.1:9",
            "--idle-timeout",
            "8",
        ])
        .unwrap();
        let c = s.server.config();
        assert_eq!(c.listen.len(), 2);
        assert!(c.listen.iter().all(|l| !l.proxy_protocol));
        assert_eq!(c.cores, Cores::List(vec![0, 1]));
        assert_eq!(c.max_connections_per_core, 5);
        assert_eq!(c.max_handlers_per_core, 6);
        assert_eq!(c.http2.drain_timeout, Duration::from_secs(7));
        assert_eq!(c.admin_addr, Some("127.0.0.1:9".parse().unwrap()));
        assert_eq!(
            s.server.config().http2.idle_timeout,
            Some(Duration::from_secs(8))
        );
    }

    #[test]
    fn timeout_flags_map_onto_the_conn_config() {
        let d = parse(&[]).unwrap().server.config().http2.clone();
        assert_eq!(d.write_timeout, Duration::from_secs(30));
        assert_eq!(d.stream_recv_timeout, Some(Duration::from_secs(60)));
        assert_eq!(d.stream_send_timeout, Some(Duration::from_secs(60)));
        assert_eq!(d.header_block_timeout, Duration::from_secs(10));
        assert_eq!(d.preface_timeout, Duration::from_secs(10));
        assert_eq!(d.min_send_bytes, 16 * 1024);
        assert_eq!(d.min_send_window, Duration::from_secs(30));
        assert_eq!(d.response_send_timeout, None);
        let s = parse(&[
            "--write-timeout",
            "2",
            "--stream-timeout",
            "3",
            "--header-block-timeout",
            "4",
            "--preface-timeout",
            "5",
        ])
        .unwrap();
        let c = &s.server.config().http2;
        assert_eq!(c.write_timeout, Duration::from_secs(2));
        assert_eq!(c.stream_recv_timeout, Some(Duration::from_secs(3)));
        assert_eq!(c.stream_send_timeout, Some(Duration::from_secs(3)));
        assert_eq!(c.header_block_timeout, Duration::from_secs(4));
        assert_eq!(c.preface_timeout, Duration::from_secs(5));
        let s = parse(&[
            "--min-send-rate",
            "4096",
            "--min-send-window",
            "2",
            "--response-send-timeout",
            "9",
        ])
        .unwrap();
        let c = &s.server.config().http2;
        assert_eq!(c.min_send_bytes, 4096);
        assert_eq!(c.min_send_window, Duration::from_secs(2));
        assert_eq!(c.response_send_timeout, Some(Duration::from_secs(9)));
        let s = parse(&[
            "--stream-timeout",
            "0",
            "--write-timeout",
            "0",
            "--min-send-rate",
            "0",
            "--min-send-window",
            "0",
        ])
        .unwrap();
        let c = &s.server.config().http2;
        assert_eq!(c.min_send_bytes, 0);
        assert_eq!(c.min_send_window, Duration::from_secs(1));
        assert_eq!(c.stream_recv_timeout, None);
        assert_eq!(c.stream_send_timeout, None);
        assert_eq!(c.write_timeout, Duration::from_secs(1));
    }

    #[test]
    fn tls_flags() {
        assert!(parse(&[]).unwrap().tls.is_none());
        let s = parse(&["--tls-cert", "c.pem", "--tls-key", "k.pem"]).unwrap();
        let tls = format!("{:?}", s.tls.unwrap());
        assert!(
            tls.contains("\"c.pem\"") && tls.contains("\"k.pem\""),
            "{tls}"
        );
        assert!(tls.contains("handshake_timeout: 10s"), "{tls}");
        let s = parse(&[
            "--self-signed",
            "--sni-cert",
            "a.example=a.pem,a.key",
            "--tls-handshake-timeout",
            "3",
        ])
        .unwrap();
        let tls = s.tls.unwrap();
        assert!(tls.is_self_signed());
        let tls = format!("{tls:?}");
        assert!(
            tls.contains("\"a.example\"") && tls.contains("\"a.key\""),
            "{tls}"
        );
        assert!(tls.contains("handshake_timeout: 3s"), "{tls}");
        assert!(Cli::try_parse_from(["h2ring", "--tls-cert", "c.pem"]).is_err());
        assert_eq!(
            parse(&["--sni-cert", "x=a,b"]).unwrap_err().to_string(),
            "--sni-cert needs --tls-cert/--tls-key or --self-signed"
        );
        assert!(parse_sni_cert("nohost").is_err());
        assert!(parse_sni_cert("=a,b").is_err());
    }

    #[test]
    fn cores_syntax() {
        assert_eq!(parse_cores("2").unwrap(), Cores::Count(2));
        assert_eq!(parse_cores("0,1").unwrap(), Cores::List(vec![0, 1]));
        assert_eq!(parse_cores("0-2,5").unwrap(), Cores::List(vec![0, 1, 2, 5]));
        assert_eq!(parse_cores("ALL").unwrap(), Cores::All);
        for bad in ["", "x", "3-1", "1,,a", "-"] {
            assert!(parse_cores(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn bad_address_is_one_clear_message() {
        let err = parse(&["--listen", "nowhere"]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid --listen address 'nowhere': expected IP:PORT such as 127.0.0.1:8080"
        );
        assert!(parse_addr("--listen", "localhost:80")
            .unwrap()
            .ip()
            .is_loopback());
    }

    #[test]
    fn server_header_defaults_to_h2ring_and_can_be_changed_or_dropped() {
        let header = |args: &[&str]| parse(args).unwrap().server.config().server_header.clone();
        assert_eq!(header(&[]), Some(HeaderValue::from_static("h2ring")));
        assert_eq!(
            header(&["--server-header", "edge/1"]),
            Some(HeaderValue::from_static("edge/1"))
        );
        assert_eq!(header(&["--no-server-header"]), None);
        assert!(parse(&["--server-header", "a\nb"]).is_err());
    }

    #[test]
    fn spin_before_park_is_off_by_default_and_set_in_micros() {
        assert_eq!(parse(&[]).unwrap().server.config().spin_before_park, None);
        let s = parse(&["--spin-before-park-us", "100"]).unwrap();
        assert_eq!(
            s.server.config().spin_before_park,
            Some(Duration::from_micros(100))
        );
    }

    #[test]
    fn clap_errors_become_one_line() {
        let err = Cli::try_parse_from(["h2ring", "--drain-timeout", "soon"]).unwrap_err();
        let line = clap_error_line(&err);
        assert!(
            line.starts_with("invalid value 'soon' for '--drain-timeout <SECS>'"),
            "{line}"
        );
        assert!(!line.contains('\n'));
    }

    #[test]
    fn admin_addr_has_the_old_metrics_addr_as_an_alias() {
        for flag in ["--admin-addr", "--metrics-addr"] {
            let s = parse(&[flag, "127.0.0.1:9"]).unwrap();
            let addr = s.server.config().admin_addr;
            assert_eq!(addr, Some("127.0.0.1:9".parse().unwrap()), "{flag}");
        }
    }

    #[test]
    fn log_flag_beats_rust_log_which_beats_the_default() {
        let f = |flag, env| log_filter(flag, env);
        assert_eq!(f(None, None), ("warn".to_string(), "--log"));
        assert_eq!(f(None, Some("")), ("warn".to_string(), "--log"));
        assert_eq!(
            f(None, Some("h2ring=debug")),
            ("h2ring=debug".to_string(), "RUST_LOG")
        );
        assert_eq!(
            f(Some("error"), Some("debug")),
            ("error".to_string(), "--log")
        );
    }
}
