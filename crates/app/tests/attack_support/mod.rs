//! Live-attack harness: the `h2ring` binary as a child process (so its RSS can be read
//! from `/proc`), a raw-frame attacker over a plain `TcpStream`, a well-behaved `h2`
//! client that keeps requesting during the attack, and an RSS sampler. Every wait is
//! bounded; everything runs on loopback.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use h2ring_frame::{
    Continuation, Decoder, ErrorCode, Frame, GoAway, Headers, Setting, Settings, StreamId, PREFACE,
};
use h2ring_hpack::hpack;

/// Size of the large file every server serves as `/big.bin` (slow-read attacks).
pub const BIG_FILE_LEN: usize = 16 << 20;
/// The small page the well-behaved client fetches.
pub const PAGE: &[u8] = b"<h1>still serving</h1>\n";
/// Upper bound for any single step that waits on the server.
pub const STEP: Duration = Duration::from_secs(10);

/// `h2ring --cores 1 --root <tmp>` as a child process; killed on drop.
pub struct LiveServer {
    child: Child,
    root: PathBuf,
    /// Where it listens.
    pub addr: SocketAddr,
}

impl LiveServer {
    /// Starts the binary on one core with `extra` flags; the root holds `/index.html`
    /// ([`PAGE`]).
    ///
    /// For measurements: `H2RING_ATTACK_BIN` runs another build of the binary (to compare
    /// before and after a change), and `H2RING_ATTACK_SERVER_CPU=N` pins the server to CPU
    /// `N` (`taskset`, which execs it: the child's pid is still the server's).
    pub fn start(tag: &str, extra: &[&str]) -> LiveServer {
        let root = std::env::temp_dir().join(format!("h2ring-attack-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&root).unwrap();
        std::fs::write(root.join("index.html"), PAGE).unwrap();
        let bin = std::env::var_os("H2RING_ATTACK_BIN")
            .unwrap_or_else(|| env!("CARGO_BIN_EXE_h2ring").into());
        let mut command = match std::env::var("H2RING_ATTACK_SERVER_CPU") {
            Ok(cpu) => {
                let mut c = Command::new("taskset");
                c.args(["-c", &cpu]).arg(bin);
                c
            }
            Err(_) => Command::new(bin),
        };
        let mut child = command
            .args(["--listen", "127.0.0.1:0", "--cores", "1", "--log", "error"])
            .arg("--root")
            .arg(&root)
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        stdout.read_line(&mut first).unwrap();
        let addr = super::support::listening_addr(&first)
            .unwrap_or_else(|| panic!("unexpected first line {first:?}"));
        // Keep draining stdout so the child never blocks on a full pipe.
        std::thread::spawn(move || {
            let mut sink = Vec::new();
            let _ = stdout.read_to_end(&mut sink);
        });
        LiveServer { child, root, addr }
    }

    /// Adds `/big.bin` ([`BIG_FILE_LEN`] octets) to the served root.
    pub fn add_big_file(&self) {
        std::fs::write(self.root.join("big.bin"), vec![0x5a; BIG_FILE_LEN]).unwrap();
    }

    /// The server's resident set size in KiB (`VmRSS` of `/proc/PID/status`).
    pub fn rss_kib(&self) -> u64 {
        rss_kib(self.child.id())
    }

    /// Whether the process is still running (it must never crash under attack).
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for LiveServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Samples a process's RSS every few milliseconds and keeps the peak.
pub struct RssSampler {
    peak: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    /// RSS when sampling started, KiB.
    pub before: u64,
}

impl RssSampler {
    /// Starts sampling `server`.
    pub fn start(server: &LiveServer) -> RssSampler {
        let pid = server.child.id();
        let before = rss_kib(pid);
        let peak = Arc::new(AtomicU64::new(before));
        let stop = Arc::new(AtomicBool::new(false));
        let (p, s) = (peak.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::SeqCst) {
                p.fetch_max(rss_kib(pid), Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(5));
            }
        });
        RssSampler {
            peak,
            stop,
            thread: Some(thread),
            before,
        }
    }

    /// Stops sampling; returns (before, peak) in KiB and prints them for the record.
    pub fn finish(mut self, what: &str) -> (u64, u64) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            t.join().unwrap();
        }
        let peak = self.peak.load(Ordering::SeqCst);
        eprintln!(
            "[rss] {what}: before {} KiB, peak {} KiB, growth {} KiB",
            self.before,
            peak,
            peak.saturating_sub(self.before)
        );
        (self.before, peak)
    }
}

/// Asserts that the peak RSS grew by less than `bound_kib` over `before`.
pub fn assert_rss_growth_below(what: &str, (before, peak): (u64, u64), bound_kib: u64) {
    assert!(before > 0, "{what}: could not read RSS");
    let growth = peak.saturating_sub(before);
    assert!(
        growth < bound_kib,
        "{what}: RSS grew {growth} KiB (before {before}, peak {peak}), bound {bound_kib} KiB"
    );
}

/// The good client's tally.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    /// Requests answered 200 with exactly [`PAGE`].
    pub ok: u64,
    /// Anything else (errors, other statuses, wrong bodies, timeouts).
    pub failed: u64,
}

/// When each of the good client's requests started, and how long it took.
pub type Samples = Arc<std::sync::Mutex<Vec<(Instant, Duration)>>>;

/// A well-behaved `h2` client on its own connection, requesting `/index.html` in a loop
/// (one request at a time, 10 ms apart) until stopped.
pub struct GoodClient {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<Tally>>,
    samples: Samples,
}

impl GoodClient {
    /// Connects and starts requesting; returns once the first request succeeded.
    pub fn start(addr: SocketAddr) -> GoodClient {
        GoodClient::start_every(addr, Duration::from_millis(10))
    }

    /// Same, with `gap` between one response and the next request.
    pub fn start_every(addr: SocketAddr, gap: Duration) -> GoodClient {
        let stop = Arc::new(AtomicBool::new(false));
        let s = stop.clone();
        let samples = Samples::default();
        let record = samples.clone();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(good_loop(addr, s, ready_tx, gap, record))
        });
        ready_rx
            .recv_timeout(STEP)
            .expect("the good client could not get its first response");
        GoodClient {
            stop,
            thread: Some(thread),
            samples,
        }
    }

    /// Latencies of the successful requests that started within `from..to`, sorted.
    pub fn latencies(&self, from: Instant, to: Instant) -> Vec<Duration> {
        let mut v: Vec<Duration> = self
            .samples
            .lock()
            .unwrap()
            .iter()
            .filter(|(at, _)| (from..to).contains(at))
            .map(|(_, took)| *took)
            .collect();
        v.sort();
        v
    }

    /// Stops the loop and returns the tally.
    pub fn finish(mut self) -> Tally {
        self.stop.store(true, Ordering::SeqCst);
        self.thread.take().unwrap().join().unwrap()
    }

    /// Asserts every request succeeded and at least `min_ok` were made.
    pub fn assert_all_served(self, min_ok: u64) -> Tally {
        let tally = self.finish();
        eprintln!("[good client] {tally:?}");
        assert_eq!(tally.failed, 0, "good client saw failures: {tally:?}");
        assert!(
            tally.ok >= min_ok,
            "good client served too little: {tally:?}"
        );
        tally
    }
}

impl Drop for GoodClient {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

async fn good_loop(
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    ready: std::sync::mpsc::Sender<()>,
    gap: Duration,
    samples: Samples,
) -> Tally {
    let mut tally = Tally { ok: 0, failed: 0 };
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (client, conn) = h2::client::handshake(tcp).await.unwrap();
    tokio::spawn(async move {
        let _ = conn.await;
    });
    while !stop.load(Ordering::SeqCst) {
        let started = Instant::now();
        let one = tokio::time::timeout(STEP, good_request(client.clone())).await;
        if matches!(one, Ok(true)) {
            samples.lock().unwrap().push((started, started.elapsed()));
            tally.ok += 1;
            if tally.ok == 1 {
                let _ = ready.send(());
            }
        } else {
            tally.failed += 1;
        }
        tokio::time::sleep(gap).await;
    }
    tally
}

async fn good_request(client: h2::client::SendRequest<Bytes>) -> bool {
    let req = http::Request::get("http://127.0.0.1/index.html")
        .body(())
        .unwrap();
    let Ok(mut client) = client.ready().await else {
        return false;
    };
    let Ok((resp, _)) = client.send_request(req, true) else {
        return false;
    };
    let Ok(resp) = resp.await else {
        return false;
    };
    if resp.status() != 200 {
        return false;
    }
    let mut body = resp.into_body();
    let mut got = Vec::new();
    while let Some(chunk) = body.data().await {
        let Ok(chunk) = chunk else { return false };
        let _ = body.flow_control().release_capacity(chunk.len());
        got.extend_from_slice(&chunk);
    }
    got == PAGE
}

/// How a raw connection ended, as seen by the attacker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ending {
    /// The server sent this GOAWAY (and possibly closed afterwards).
    GoAway(GoAway),
    /// The server closed (FIN or RST) without a GOAWAY.
    Closed,
}

/// A hand-driven HTTP/2 client: writes any frame or raw bytes, decodes what comes back.
pub struct Attacker {
    tcp: TcpStream,
    decoder: Decoder,
    rbuf: BytesMut,
    /// Every frame received so far, in order.
    pub seen: Vec<Frame>,
    /// The server closed the connection.
    pub eof: bool,
    /// Octets received so far.
    pub received: usize,
    /// `(stream, :status)` of every response head received, in order.
    pub statuses: Vec<(u32, u16)>,
    hpack_in: hpack::Decoder,
    /// A response head waiting for its CONTINUATION frames.
    head_in: Option<(u32, Vec<u8>)>,
}

impl Attacker {
    /// Connects without sending anything.
    pub fn connect(addr: SocketAddr) -> Attacker {
        let tcp = TcpStream::connect_timeout(&addr, STEP).unwrap();
        tcp.set_nodelay(true).unwrap();
        Attacker {
            tcp,
            decoder: Decoder::new(),
            rbuf: BytesMut::new(),
            seen: Vec::new(),
            eof: false,
            received: 0,
            statuses: Vec::new(),
            hpack_in: hpack::Decoder::new(4096),
            head_in: None,
        }
    }

    /// Connects and sends the preface and an empty SETTINGS.
    pub fn open(addr: SocketAddr) -> Attacker {
        Attacker::open_with(addr, Vec::new())
    }

    /// Connects and sends the preface and SETTINGS with `settings`.
    pub fn open_with(addr: SocketAddr, settings: Vec<Setting>) -> Attacker {
        let mut a = Attacker::connect(addr);
        let mut out = BytesMut::from(&PREFACE[..]);
        Frame::Settings(Settings::new(settings)).encode(&mut out);
        Frame::Settings(Settings::ack()).encode(&mut out);
        a.write(&out).unwrap();
        a
    }

    /// Writes raw octets.
    pub fn write(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.tcp.set_write_timeout(Some(STEP))?;
        self.tcp.write_all(bytes)
    }

    /// Encodes and writes one frame.
    pub fn send(&mut self, frame: Frame) -> std::io::Result<()> {
        let mut out = BytesMut::new();
        frame.encode(&mut out);
        self.write(&out)
    }

    /// Writes `frames` in batches, reading what the server sent between batches, until
    /// all are written, a GOAWAY arrived, or the socket broke. Returns how many frames
    /// were written.
    pub fn flood(&mut self, frames: impl IntoIterator<Item = Frame>, batch: usize) -> usize {
        let mut out = BytesMut::new();
        let mut written = 0;
        let mut pending = 0;
        for frame in frames {
            frame.encode(&mut out);
            pending += 1;
            if pending == batch {
                if self.write(&out).is_err() {
                    return written;
                }
                written += pending;
                pending = 0;
                out.clear();
                self.pump(Duration::from_millis(1));
                if self.goaway().is_some() || self.eof {
                    return written;
                }
            }
        }
        if pending > 0 && self.write(&out).is_ok() {
            written += pending;
        }
        written
    }

    /// Reads whatever arrives within `wait`, decoding frames into [`Attacker::seen`].
    pub fn pump(&mut self, wait: Duration) {
        let end = Instant::now() + wait;
        while !self.eof {
            let left = end.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return;
            }
            if !self.read_some(left) {
                return;
            }
        }
    }

    /// One read with a timeout; `false` when nothing came.
    fn read_some(&mut self, wait: Duration) -> bool {
        let _ = self
            .tcp
            .set_read_timeout(Some(wait.max(Duration::from_millis(1))));
        let mut chunk = [0u8; 64 * 1024];
        match self.tcp.read(&mut chunk) {
            Ok(0) => {
                self.eof = true;
                false
            }
            Ok(n) => {
                self.received += n;
                self.rbuf.extend_from_slice(&chunk[..n]);
                while let Some(frame) = self.decoder.decode(&mut self.rbuf).unwrap() {
                    self.observe_head(&frame);
                    self.seen.push(frame);
                }
                true
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => false,
            Err(_) => {
                self.eof = true;
                false
            }
        }
    }

    /// Decodes response heads (in order: the HPACK table depends on it) into
    /// [`Attacker::statuses`].
    fn observe_head(&mut self, frame: &Frame) {
        let (id, fragment, end) = match frame {
            Frame::Headers(h) => (h.stream_id.value(), &h.fragment, h.end_headers),
            Frame::Continuation(c) => (c.stream_id.value(), &c.fragment, c.end_headers),
            _ => return,
        };
        let (_, block) = self.head_in.get_or_insert_with(|| (id, Vec::new()));
        block.extend_from_slice(fragment);
        if !end {
            return;
        }
        let Some((id, block)) = self.head_in.take() else {
            return;
        };
        let fields = self.hpack_in.decode_block(&block).unwrap();
        if let Some((_, v)) = fields.iter().find(|(n, _)| n == b":status") {
            let status = std::str::from_utf8(v).unwrap().parse().unwrap();
            self.statuses.push((id, status));
        }
    }

    /// The `:status` of the response on `id`, once received.
    pub fn status(&self, id: u32) -> Option<u16> {
        self.statuses
            .iter()
            .find(|(s, _)| *s == id)
            .map(|(_, status)| *status)
    }

    /// The first GOAWAY received, if any.
    pub fn goaway(&self) -> Option<&GoAway> {
        self.seen.iter().find_map(|f| match f {
            Frame::GoAway(g) => Some(g),
            _ => None,
        })
    }

    /// Reads until a GOAWAY or the end of the connection, at most `within`; `None` if
    /// neither came in time.
    pub fn ending(&mut self, within: Duration) -> Option<Ending> {
        let end = Instant::now() + within;
        loop {
            if let Some(g) = self.goaway() {
                return Some(Ending::GoAway(g.clone()));
            }
            if self.eof {
                return Some(Ending::Closed);
            }
            let left = end.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return None;
            }
            self.read_some(left.min(Duration::from_millis(100)));
        }
    }

    /// Asserts a GOAWAY with `code` arrives within `within`; returns it and the elapsed
    /// time.
    pub fn expect_goaway(&mut self, code: ErrorCode, within: Duration) -> (GoAway, Duration) {
        let start = Instant::now();
        match self.ending(within) {
            Some(Ending::GoAway(g)) => {
                assert_eq!(g.code, code, "GOAWAY {g:?}");
                (g, start.elapsed())
            }
            other => panic!("expected GOAWAY({code:?}) within {within:?}, got {other:?}"),
        }
    }

    /// Asserts the server closes the connection (EOF or reset) within `within`, reading
    /// and discarding everything until then; returns the elapsed time.
    pub fn expect_closed(&mut self, within: Duration) -> Duration {
        let start = Instant::now();
        let end = start + within;
        while !self.eof {
            let left = end.saturating_duration_since(Instant::now());
            assert!(!left.is_zero(), "connection still open after {within:?}");
            self.read_some(left.min(Duration::from_millis(100)));
        }
        start.elapsed()
    }

    /// Reads until `pred` matches a received frame, at most `within`.
    pub fn wait_for(&mut self, within: Duration, pred: impl Fn(&Frame) -> bool) -> Option<Frame> {
        let end = Instant::now() + within;
        loop {
            if let Some(f) = self.seen.iter().find(|f| pred(f)) {
                return Some(f.clone());
            }
            let left = end.saturating_duration_since(Instant::now());
            if left.is_zero() || self.eof {
                return None;
            }
            self.read_some(left.min(Duration::from_millis(100)));
        }
    }

    /// The local port of the attacker's socket.
    pub fn local_port(&self) -> u16 {
        self.tcp.local_addr().unwrap().port()
    }

    /// Shrinks the kernel receive buffer (so a client that does not read stalls the
    /// server's writes sooner).
    pub fn small_receive_buffer(&self) {
        let sock = socket2::SockRef::from(&self.tcp);
        sock.set_recv_buffer_size(4096).unwrap();
    }
}

/// The value at quantile `q` (0..=1) of sorted `v`, or zero for an empty `v`.
pub fn quantile(v: &[Duration], q: f64) -> Duration {
    if v.is_empty() {
        return Duration::ZERO;
    }
    let i = ((v.len() - 1) as f64 * q).round() as usize;
    v[i.min(v.len() - 1)]
}

/// A HEADERS frame.
pub fn headers(id: u32, fragment: Bytes, end_stream: bool, end_headers: bool) -> Frame {
    Frame::Headers(Headers {
        stream_id: StreamId::new(id),
        fragment,
        end_stream,
        end_headers,
        priority: None,
        pad_len: None,
    })
}

/// HEADERS (END_HEADERS) opening `id` with a request for `path`.
pub fn request(id: u32, method: &str, path: &str, end_stream: bool) -> Frame {
    headers(id, request_block(method, path), end_stream, true)
}

/// A CONTINUATION frame.
pub fn continuation(id: u32, fragment: Bytes, end_headers: bool) -> Frame {
    Frame::Continuation(Continuation {
        stream_id: StreamId::new(id),
        fragment,
        end_headers,
    })
}

/// An HPACK integer (RFC 7541 §5.1) with an `n`-bit prefix and the high `flags` bits.
pub fn hpack_int(value: usize, n: u32, flags: u8, dst: &mut Vec<u8>) {
    let max = (1usize << n) - 1;
    if value < max {
        dst.push(flags | value as u8);
        return;
    }
    dst.push(flags | max as u8);
    let mut rest = value - max;
    while rest >= 128 {
        dst.push((rest % 128) as u8 | 0x80);
        rest /= 128;
    }
    dst.push(rest as u8);
}

/// A request head using only the static table and literals without indexing, so the
/// attacker never has to track the server's dynamic table (RFC 7541 §6.1, §6.2.2).
pub fn request_block(method: &str, path: &str) -> Bytes {
    let mut out = Vec::new();
    match method {
        // Static indices 2 and 3.
        "GET" => out.push(0x82),
        "POST" => out.push(0x83),
        other => literal_indexed_name(2, other.as_bytes(), &mut out),
    }
    // Static index 6: `:scheme http`.
    out.push(0x86);
    literal_indexed_name(1, b"127.0.0.1", &mut out);
    literal_indexed_name(4, path.as_bytes(), &mut out);
    Bytes::from(out)
}

/// A literal without indexing whose name is static entry `index` (RFC 7541 §6.2.2).
pub fn literal_indexed_name(index: usize, value: &[u8], dst: &mut Vec<u8>) {
    hpack_int(index, 4, 0x00, dst);
    hpack_int(value.len(), 7, 0, dst);
    dst.extend_from_slice(value);
}

/// `TCP_ESTABLISHED` in `/proc/net/tcp`'s `st` column.
pub const TCP_ESTABLISHED: u8 = 1;

/// The kernel state of the IPv4 socket whose local port is `local` and remote port is
/// `remote` (the server's end of a connection), from `/proc/net/tcp`; `None` once gone.
pub fn tcp_state(local: u16, remote: u16) -> Option<u8> {
    let table = std::fs::read_to_string("/proc/net/tcp").ok()?;
    let port = |addr: &str| {
        addr.rsplit(':')
            .next()
            .and_then(|p| u16::from_str_radix(p, 16).ok())
    };
    table.lines().skip(1).find_map(|line| {
        let cols: Vec<&str> = line.split_whitespace().collect();
        let (l, r, st) = (cols.get(1)?, cols.get(2)?, cols.get(3)?);
        (port(l)? == local && port(r)? == remote)
            .then(|| u8::from_str_radix(st, 16).ok())
            .flatten()
    })
}

/// Polls `cond` every 10 ms until it holds or `limit` passes; returns whether it held.
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
