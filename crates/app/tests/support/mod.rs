//! Shared test harness: an in-process server on 127.0.0.1:0 with a given service on N
//! cores, the `h2` crate as a client on a tokio current-thread runtime, the `h2ring`
//! binary as a child process, temp dirs and SHA-256. Every wait is bounded.

#![allow(dead_code)]

pub mod sha256;

use std::future::Future;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use h2ring::{
    Body, Context, CoreContext, Cores, Request, Response, RunningServer, Server, ServerBuilder,
    Service, ShutdownSummary,
};

/// Upper bound for any single test step that talks to a peer.
pub const STEP_TIMEOUT: Duration = Duration::from_secs(30);
/// Upper bound for a server to stop after `shutdown()`.
pub const STOP_TIMEOUT: Duration = Duration::from_secs(30);

/// A builder listening on 127.0.0.1:0 with `cores` cores and a short drain deadline.
pub fn builder(cores: usize) -> ServerBuilder {
    Server::builder()
        .listen("127.0.0.1:0".parse().unwrap())
        .cores(Cores::Count(cores))
        .drain_timeout(Duration::from_secs(10))
}

/// The first two cores, or `None` on a one-core machine.
pub fn two_cores() -> Option<Vec<usize>> {
    let mut cores: Vec<usize> = core_affinity::get_core_ids()?
        .iter()
        .map(|c| c.id)
        .collect();
    cores.sort_unstable();
    (cores.len() >= 2).then(|| cores[..2].to_vec())
}

/// A running in-process server; stopped (and joined, bounded) on drop.
pub struct TestServer {
    running: Option<RunningServer>,
    pub addr: SocketAddr,
}

impl TestServer {
    /// Starts `builder` serving the service `make` builds on each core: HTTP/2 and
    /// HTTP/1.1 (told apart by the first octets, `Upgrade: h2c` included), or HTTPS with
    /// ALPN when the builder has TLS.
    pub fn start<S, F>(builder: ServerBuilder, make: F) -> TestServer
    where
        S: Service,
        F: Fn(&CoreContext) -> S + Send + Sync + 'static,
    {
        Self::running(builder.build().unwrap().start(make))
    }

    fn running(started: Result<RunningServer, h2ring::StartError>) -> TestServer {
        let running = started.unwrap();
        let addr = running.local_addrs()[0];
        TestServer {
            running: Some(running),
            addr,
        }
    }

    /// The admin address, when enabled.
    pub fn admin_addr(&self) -> Option<SocketAddr> {
        self.running.as_ref().and_then(|r| r.admin_addr())
    }

    /// Starts graceful shutdown and waits (bounded) for the summary.
    pub fn stop(mut self) -> ShutdownSummary {
        let running = self.running.take().unwrap();
        stop_running(running)
    }
}

fn stop_running(running: RunningServer) -> ShutdownSummary {
    running.handle().shutdown();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(running.join());
    });
    rx.recv_timeout(STOP_TIMEOUT)
        .expect("server did not stop within the deadline")
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(running) = self.running.take() {
            if std::thread::panicking() {
                running.handle().shutdown();
            } else {
                stop_running(running);
            }
        }
    }
}

/// Echo: streams the request body back as it arrives (full duplex), then echoes the
/// request trailers as response trailers when there are any.
pub fn echo_service() -> impl Service {
    h2ring::service_fn(|req: Request, cx: Context| async move {
        let mut body = req.into_body();
        let (mut writer, out) = Body::channel();
        cx.spawn(async move {
            while let Some(chunk) = body.data().await {
                let Ok(chunk) = chunk else { return };
                if writer.send(chunk).await.is_err() {
                    return;
                }
            }
            match body.trailers().await {
                Ok(Some(trailers)) => {
                    let _ = writer.send_trailers(trailers).await;
                }
                _ => {
                    let _ = writer.finish().await;
                }
            }
        });
        http::Response::new(out)
    })
}

/// A response with `status` and a full body.
pub fn text(status: u16, body: impl Into<Body>) -> Response {
    let mut r = http::Response::new(body.into());
    *r.status_mut() = http::StatusCode::from_u16(status).unwrap();
    r
}

/// Deterministic pseudo-random bytes (xorshift), so corrupted or reordered data shows.
pub fn pattern(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len);
    out
}

/// Runs `fut` on a fresh tokio current-thread runtime, failing after `limit`.
pub fn block_on<F: Future>(limit: Duration, fut: F) -> F::Output {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        tokio::time::timeout(limit, fut)
            .await
            .expect("test step timed out")
    })
}

/// Opens an HTTP/2 (prior knowledge) connection with the `h2` client; the connection
/// task runs on the current tokio runtime.
pub async fn h2_connect(addr: SocketAddr) -> h2::client::SendRequest<Bytes> {
    h2_connect_with(addr, h2::client::Builder::new()).await
}

/// Like [`h2_connect`] with a configured client builder.
pub async fn h2_connect_with(
    addr: SocketAddr,
    builder: h2::client::Builder,
) -> h2::client::SendRequest<Bytes> {
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    tcp.set_nodelay(true).unwrap();
    let (send, conn) = builder.handshake(tcp).await.unwrap();
    tokio::spawn(async move {
        let _ = conn.await;
    });
    send.ready().await.unwrap()
}

/// A request to `http://127.0.0.1/<path>` with `method`.
pub fn request(method: &str, path: &str) -> http::Request<()> {
    http::Request::builder()
        .method(method)
        .uri(format!("http://127.0.0.1{path}"))
        .body(())
        .unwrap()
}

/// Reads a whole response body, releasing flow-control capacity as it goes.
pub async fn read_body(body: &mut h2::RecvStream) -> Result<Vec<u8>, h2::Error> {
    let mut out = Vec::new();
    while let Some(chunk) = body.data().await {
        let chunk = chunk?;
        let _ = body.flow_control().release_capacity(chunk.len());
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

/// Sends a body-less GET for `path` and returns status and body.
pub async fn get(client: &mut h2::client::SendRequest<Bytes>, path: &str) -> (u16, Vec<u8>) {
    let (resp, _) = client
        .clone()
        .ready()
        .await
        .unwrap()
        .send_request(request("GET", path), true)
        .unwrap();
    let resp = resp.await.unwrap();
    let status = resp.status().as_u16();
    let mut body = resp.into_body();
    (status, read_body(&mut body).await.unwrap())
}

/// Polls `cond` until it holds or `limit` passes; returns whether it held.
pub fn wait_until(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + limit;
    while Instant::now() < end {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    cond()
}

/// A directory under the system temp dir, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "h2ring-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    pub fn file(&self, rel: &str, content: &[u8]) -> PathBuf {
        let p = self.0.join(rel);
        std::fs::write(&p, content).unwrap();
        p
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The first address of the binary's `h2ring: listening on ADDR[, ADDR…] (…)` line.
pub fn listening_addr(line: &str) -> Option<SocketAddr> {
    line.strip_prefix("h2ring: listening on ")?
        .split_whitespace()
        .next()?
        .trim_end_matches(',')
        .parse()
        .ok()
}

/// The `h2ring` binary running as a child process.
pub struct Binary {
    pub child: Child,
    pub stdout: BufReader<ChildStdout>,
    pub addr: SocketAddr,
}

impl Binary {
    /// Starts the binary on 127.0.0.1:0 with `args` and reads its listening line.
    pub fn start(args: &[&str]) -> Binary {
        Self::start_with(args, |_| {})
    }

    /// [`start`](Self::start) with the command adjusted first (environment, say).
    pub fn start_with(args: &[&str], adjust: impl FnOnce(&mut Command)) -> Binary {
        let mut command = Command::new(env!("CARGO_BIN_EXE_h2ring"));
        command
            .args(["--listen", "127.0.0.1:0"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        adjust(&mut command);
        let mut child = command.spawn().unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        // The listening line, after any notice (`--self-signed` prints one first).
        let mut lines = Vec::new();
        let addr = loop {
            let mut line = String::new();
            stdout.read_line(&mut line).unwrap();
            if let Some(addr) = listening_addr(&line) {
                break addr;
            }
            lines.push(line);
            assert!(
                lines.len() < 4 && !lines.last().is_some_and(|l| l.is_empty()),
                "no listening line in {lines:?}"
            );
        };
        Binary {
            child,
            stdout,
            addr,
        }
    }

    /// Sends SIGTERM.
    pub fn sigterm(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits (bounded) for the process to exit; returns its exit code and remaining stdout.
    pub fn wait(mut self, limit: Duration) -> (Option<i32>, String) {
        let end = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                let mut rest = String::new();
                std::io::Read::read_to_string(&mut self.stdout, &mut rest).unwrap();
                return (status.code(), rest);
            }
            if Instant::now() > end {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!("h2ring did not exit within {limit:?}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Binary {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Runs an external tool to completion (bounded by its own flags) and returns
/// (success, stdout, stderr).
pub fn run_tool(program: &str, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program} must be installed (.ci/run installs it): {e}"));
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `curl -sS --max-time 10 <args>`: asserts it succeeded; returns (stdout, stderr).
pub fn curl_output(args: &[&str]) -> (String, String) {
    let (ok, out, err) = run_tool("curl", &[&["-sS", "--max-time", "10"][..], args].concat());
    assert!(ok, "curl {args:?}: {err}");
    (out, err)
}

/// [`curl_output`]'s stdout.
pub fn curl(args: &[&str]) -> String {
    curl_output(args).0
}

/// A boxed handler future, for services that route to differently-typed handlers.
pub type BoxResponse = std::pin::Pin<Box<dyn Future<Output = Response>>>;

/// On a server core: polls `cond` every millisecond until it holds or `limit` passes.
pub async fn core_wait_until(limit: Duration, cond: impl Fn() -> bool) -> bool {
    let end = Instant::now() + limit;
    while !cond() {
        if Instant::now() > end {
            return false;
        }
        glommio::timer::sleep(Duration::from_millis(1)).await;
    }
    true
}

/// Sets its flag when dropped: shows that a handler future was dropped (cancelled).
pub struct DropFlag(pub std::sync::Arc<std::sync::atomic::AtomicBool>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// The `requests:` line of an h2load report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct H2loadRequests {
    pub total: u64,
    pub started: u64,
    pub done: u64,
    pub succeeded: u64,
    pub failed: u64,
    pub errored: u64,
    pub timeout: u64,
}

/// Parses `requests: 20000 total, 20000 started, ... 0 timeout` out of h2load's stdout.
pub fn parse_h2load(stdout: &str) -> H2loadRequests {
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix("requests: "))
        .unwrap_or_else(|| panic!("no requests line in h2load output:\n{stdout}"));
    let field = |name: &str| -> u64 {
        line.split(", ")
            .find_map(|part| part.strip_suffix(name).map(str::trim))
            .unwrap_or_else(|| panic!("no {name} in {line:?}"))
            .parse()
            .unwrap()
    };
    H2loadRequests {
        total: field(" total"),
        started: field(" started"),
        done: field(" done"),
        succeeded: field(" succeeded"),
        failed: field(" failed"),
        errored: field(" errored"),
        timeout: field(" timeout"),
    }
}

/// The number after `metric ` in a Prometheus text page, if present.
pub fn prometheus_value(page: &str, metric: &str) -> Option<u64> {
    page.lines().find_map(|l| {
        l.strip_prefix(metric)?
            .strip_prefix(' ')?
            .trim()
            .parse()
            .ok()
    })
}

/// `GET /metrics` from the admin endpoint over HTTP/1.1 (one request per connection).
pub fn scrape(addr: SocketAddr) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect_timeout(&addr, STEP_TIMEOUT).unwrap();
    s.set_read_timeout(Some(STEP_TIMEOUT)).unwrap();
    s.write_all(b"GET /metrics HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}
