//! The access log with real clients: curl over HTTP/1.1 and HTTP/2 (prior knowledge),
//! nghttp and h2load against the `h2ring` binary and an in-process server. Each format's
//! lines carry the right fields; `-` writes to stdout; SIGUSR1 after a rename starts a new
//! file at the path; an unwritable path fails at start; a writer that cannot keep up costs
//! dropped (and counted) lines, never a blocked core.

mod support;

use std::io::Read;
use std::process::Command;
use std::time::Duration;

use h2ring::{AccessLog, AccessLogFormat};
use support::{curl, run_tool, wait_until, Binary, TempDir, TestServer};

const BIN: &str = env!("CARGO_BIN_EXE_h2ring");

fn read(path: &std::path::Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// Sends `signal` to the binary.
fn kill(binary: &Binary, signal: &str) {
    let status = Command::new("kill")
        .args([signal, &binary.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

/// Starts the binary serving `root` with an access log of `format` at `log`, runs one
/// HTTP/1.1 request (with referer and user agent), one HTTP/2 request for a missing file
/// and a HEAD, fetches a 1 MiB file (a streamed body) over both protocols, stops it with
/// SIGTERM and returns the log's lines.
fn lines_of(format: &str) -> (Vec<String>, String) {
    let dir = TempDir::new("alog");
    let root = dir.path().join("root");
    std::fs::create_dir(&root).unwrap();
    std::fs::write(root.join("index.html"), b"hello\n").unwrap();
    std::fs::write(root.join("big.bin"), vec![7u8; 1 << 20]).unwrap();
    let log = dir.path().join("access.log");
    let binary = Binary::start(&[
        "--cores",
        "1",
        "--root",
        root.to_str().unwrap(),
        "--access-log",
        log.to_str().unwrap(),
        "--access-log-format",
        format,
    ]);
    let base = format!("http://{}", binary.addr);
    curl(&[
        "-o",
        "/dev/null",
        "-H",
        "Referer: https://example.com/\"quoted\"",
        "-A",
        "tester/1.0 \\ end",
        &format!("{base}/index.html"),
    ]);
    curl(&[
        "-o",
        "/dev/null",
        "--http2-prior-knowledge",
        &format!("{base}/missing?q=1"),
    ]);
    curl(&[
        "-I",
        "--http2-prior-knowledge",
        &format!("{base}/index.html"),
    ]);
    curl(&["-o", "/dev/null", &format!("{base}/big.bin")]);
    let (ok, _, err) = run_tool("nghttp", &["-n", "-t", "10", &format!("{base}/big.bin")]);
    assert!(ok, "nghttp: {err}");
    binary.sigterm();
    let (code, _) = binary.wait(Duration::from_secs(30));
    assert_eq!(code, Some(0));
    // Every line was written before the process exited: no waiting for a flush.
    let text = read(&log);
    (text.lines().map(str::to_string).collect(), text)
}

/// `127.0.0.1 - - [08/Dec/2026:05:13:39 +0000] "GET /index.html HTTP/1.1" 200 6`: the
/// fields before and after the time.
fn clf_parts(line: &str) -> (&str, &str) {
    let (head, rest) = line.split_once(" [").unwrap_or_else(|| panic!("{line}"));
    let (time, tail) = rest.split_once("] ").unwrap_or_else(|| panic!("{line}"));
    assert_eq!(time.len(), 26, "{line}");
    assert!(time.ends_with(" +0000"), "{line}");
    (head, tail)
}

#[test]
fn common_lines_carry_request_status_and_size() {
    let (lines, text) = lines_of("common");
    assert_eq!(lines.len(), 5, "{text}");
    let tails: Vec<&str> = lines
        .iter()
        .map(|l| {
            let (head, tail) = clf_parts(l);
            assert_eq!(head, "127.0.0.1 - -");
            tail
        })
        .collect();
    assert_eq!(
        tails,
        [
            "\"GET /index.html HTTP/1.1\" 200 6",
            "\"GET /missing?q=1 HTTP/2.0\" 404 14",
            "\"HEAD /index.html HTTP/2.0\" 200 0",
            "\"GET /big.bin HTTP/1.1\" 200 1048576",
            "\"GET /big.bin HTTP/2.0\" 200 1048576",
        ]
    );
}

#[test]
fn combined_lines_add_escaped_referer_and_user_agent() {
    let (lines, text) = lines_of("combined");
    assert_eq!(lines.len(), 5, "{text}");
    let (_, first) = clf_parts(&lines[0]);
    assert_eq!(
        first,
        "\"GET /index.html HTTP/1.1\" 200 6 \"https://example.com/\\x22quoted\\x22\" \
         \"tester/1.0 \\x5c end\""
    );
    let (_, second) = clf_parts(&lines[1]);
    assert!(
        second.starts_with("\"GET /missing?q=1 HTTP/2.0\" 404 14 \"-\" \"curl/"),
        "{second}"
    );
    let (_, last) = clf_parts(&lines[4]);
    assert!(
        last.starts_with("\"GET /big.bin HTTP/2.0\" 200 1048576 \"-\" \"nghttp2/"),
        "{last}"
    );
}

/// The value of `"key":` in a one-line JSON object written by the server (string values
/// with their escapes, numbers, `null`).
fn json_field<'a>(line: &'a str, key: &str) -> &'a str {
    let at = line
        .find(&format!("\"{key}\":"))
        .unwrap_or_else(|| panic!("no {key} in {line}"));
    let rest = &line[at + key.len() + 3..];
    if let Some(s) = rest.strip_prefix('"') {
        let mut escaped = false;
        for (i, c) in s.char_indices() {
            match c {
                '\\' if !escaped => escaped = true,
                '"' if !escaped => return &s[..i],
                _ => escaped = false,
            }
        }
        panic!("unterminated {key} in {line}");
    }
    rest.split([',', '}']).next().unwrap()
}

#[test]
fn json_lines_are_objects_with_every_field() {
    let (lines, text) = lines_of("json");
    assert_eq!(lines.len(), 5, "{text}");
    for line in &lines {
        assert!(
            line.starts_with("{\"remote_addr\":\"") && line.ends_with('}'),
            "{line}"
        );
        let time = json_field(line, "time");
        assert!(time.len() == 20 && time.ends_with('Z'), "{line}");
        assert_eq!(json_field(line, "remote_addr"), "127.0.0.1");
        let micros: u64 = json_field(line, "duration_us").parse().unwrap();
        assert!(micros < 30_000_000, "{line}");
    }
    let first = &lines[0];
    assert_eq!(json_field(first, "method"), "GET");
    assert_eq!(json_field(first, "target"), "/index.html");
    assert_eq!(json_field(first, "protocol"), "HTTP/1.1");
    assert_eq!(json_field(first, "status"), "200");
    assert_eq!(json_field(first, "body_bytes"), "6");
    assert_eq!(
        json_field(first, "referer"),
        "https://example.com/\\\"quoted\\\""
    );
    assert_eq!(json_field(first, "user_agent"), "tester/1.0 \\\\ end");
    let second = &lines[1];
    assert_eq!(json_field(second, "target"), "/missing?q=1");
    assert_eq!(json_field(second, "protocol"), "HTTP/2.0");
    assert_eq!(json_field(second, "status"), "404");
    assert_eq!(json_field(second, "referer"), "null");
    assert_eq!(json_field(&lines[2], "method"), "HEAD");
    assert_eq!(json_field(&lines[2], "body_bytes"), "0");
    assert_eq!(json_field(&lines[4], "body_bytes"), "1048576");
}

#[test]
fn dash_writes_to_stdout() {
    let binary = Binary::start(&["--cores", "1", "--access-log", "-"]);
    curl(&[
        "-o",
        "/dev/null",
        &format!("http://{}/stdout-probe", binary.addr),
    ]);
    binary.sigterm();
    let (code, rest) = binary.wait(Duration::from_secs(30));
    assert_eq!(code, Some(0));
    let line = rest
        .lines()
        .find(|l| l.contains("/stdout-probe"))
        .unwrap_or_else(|| panic!("no log line on stdout: {rest}"));
    assert!(
        line.starts_with("127.0.0.1 - - [") && line.contains("\"GET /stdout-probe HTTP/1.1\""),
        "{line}"
    );
}

#[test]
fn sigusr1_after_a_rename_starts_a_new_file() {
    let dir = TempDir::new("alog-rotate");
    let log = dir.path().join("access.log");
    let rotated = dir.path().join("access.log.1");
    let binary = Binary::start(&["--cores", "1", "--access-log", log.to_str().unwrap()]);
    let get = |path: &str| curl(&["-o", "/dev/null", &format!("http://{}{path}", binary.addr)]);
    get("/before");
    // A quiet core hands its buffer to the writer once a second.
    assert!(wait_until(Duration::from_secs(10), || read(&log).contains("/before")));
    std::fs::rename(&log, &rotated).unwrap();
    get("/between");
    kill(&binary, "-USR1");
    assert!(wait_until(Duration::from_secs(10), || log.exists()));
    get("/after");
    assert!(wait_until(Duration::from_secs(10), || read(&log).contains("/after")));
    binary.sigterm();
    let (code, _) = binary.wait(Duration::from_secs(30));
    assert_eq!(code, Some(0));
    let (old, new) = (read(&rotated), read(&log));
    assert!(old.contains("/before") && !old.contains("/after"), "{old}");
    assert!(!new.contains("/before") && new.contains("/after"), "{new}");
    // A line buffered before the signal lands in one file or the other, never lost.
    assert_eq!(
        old.matches("/between").count() + new.matches("/between").count(),
        1
    );
}

#[test]
fn an_unopenable_path_fails_at_start() {
    for (path, why) in [
        (
            "/definitely/not/here/access.log",
            "no such file or directory",
        ),
        ("/", "is a directory"),
    ] {
        let out = Command::new(BIN)
            .args([
                "--listen",
                "127.0.0.1:0",
                "--cores",
                "1",
                "--access-log",
                path,
            ])
            .output()
            .unwrap();
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert_eq!(
            stderr,
            format!("h2ring: error: cannot open access log {path}: {why}\n")
        );
    }
    let out = Command::new(BIN)
        .args(["--access-log-format", "xml", "--access-log", "-"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
}

/// The writer's file is a FIFO the test does not read at first: the writer thread blocks
/// in `write(2)` once the pipe is full, the core's queue of full buffers fills, and the
/// core drops lines and counts them instead of waiting. h2load's requests all succeed;
/// every request is either in the file or in `h2ring_access_log_dropped_lines_total`.
#[test]
fn a_stalled_writer_costs_counted_lines_never_a_blocked_core() {
    use std::os::unix::fs::OpenOptionsExt;
    let dir = TempDir::new("alog-fifo");
    let fifo = dir.path().join("access.fifo");
    let (ok, _, err) = run_tool("mkfifo", &[fifo.to_str().unwrap()]);
    assert!(ok, "{err}");
    // Opened for reading first (without waiting for a writer) so the server's open for
    // appending finds a reader.
    let mut reader = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(&fifo)
        .unwrap();
    let log = AccessLog::to_path(&fifo)
        .format(AccessLogFormat::Common)
        .buffer_octets(1024)
        .queued_buffers(2);
    let server = TestServer::start(
        support::builder(1)
            .access_log(log)
            .admin_addr(Some("127.0.0.1:0".parse().unwrap())),
        |_| support::echo_service(),
    );
    let admin = server.admin_addr().unwrap();
    const REQUESTS: u64 = 4000;
    let url = format!("http://{}/", server.addr);
    let (ok, out, err) = run_tool(
        "h2load",
        &[
            "-n",
            &REQUESTS.to_string(),
            "-c",
            "4",
            "-m",
            "8",
            "-T",
            "20",
            &url,
        ],
    );
    assert!(ok, "h2load: {err}");
    assert_eq!(support::parse_h2load(&out).succeeded, REQUESTS, "{out}");
    // Now read: the writer drains, the core's last buffers go through.
    let drain = std::thread::spawn(move || {
        let mut text = Vec::new();
        let mut chunk = [0u8; 65536];
        let end = std::time::Instant::now() + Duration::from_secs(60);
        while std::time::Instant::now() < end {
            match reader.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => text.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    std::thread::sleep(Duration::from_millis(5))
                }
                Err(e) => panic!("{e}"),
            }
        }
        text
    });
    // Past a flush interval or two: every line is either at the writer or counted.
    std::thread::sleep(Duration::from_millis(2500));
    let page = support::scrape(admin);
    let dropped = support::prometheus_value(&page, "h2ring_access_log_dropped_lines_total")
        .unwrap_or_else(|| panic!("no dropped-lines series in {page}"));
    server.stop();
    let text = String::from_utf8(drain.join().unwrap()).unwrap();
    let written = text.lines().count() as u64;
    assert!(dropped > 0, "nothing dropped: the writer never fell behind");
    assert!(written > 0);
    assert_eq!(
        written + dropped,
        REQUESTS,
        "{written} written, {dropped} dropped"
    );
}

/// A handler the client gave up on is logged when it is cancelled, with nginx's 499.
#[test]
fn a_cancelled_handler_is_logged_as_499() {
    let dir = TempDir::new("alog-499");
    let path = dir.path().join("access.log");
    let server = TestServer::start(
        support::builder(1).access_log(AccessLog::to_path(&path).format(AccessLogFormat::Common)),
        |_| {
            h2ring::service_fn(|_req: h2ring::Request, _cx: h2ring::Context| async {
                glommio::timer::sleep(Duration::from_secs(3600)).await;
                support::text(200, "late")
            })
        },
    );
    let url = format!("http://{}/slow", server.addr);
    let (ok, _, _) = run_tool(
        "curl",
        &["-sS", "--max-time", "1", "--http2-prior-knowledge", &url],
    );
    assert!(!ok, "the handler answered");
    assert!(wait_until(Duration::from_secs(10), || read(&path)
        .contains("\"GET /slow HTTP/2.0\" 499 0")));
    server.stop();
}
