//! The `h2ring` binary: startup mistakes are one `h2ring: error:` line and
//! exit status 1; SIGTERM drains and prints one summary line.

mod support;

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_h2ring");

fn run_failing(args: &[&str]) -> String {
    let out = Command::new(BIN).args(args).output().unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(1), "args {args:?}, stderr {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("h2ring: error: "), "{stderr}");
    stderr.trim_end().to_string()
}

#[test]
fn busy_port_exits_1_with_one_error_line() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let line = run_failing(&["--listen", &addr, "--cores", "1"]);
    assert_eq!(
        line,
        format!("h2ring: error: cannot listen on {addr}: address already in use")
    );
}

/// SO_REUSEPORT must not let a second server share a port another one (here a second
/// h2ring, which also uses SO_REUSEPORT) already listens on.
#[test]
fn second_h2ring_on_the_same_port_exits_1() {
    let mut first = Command::new(BIN)
        .args(["--listen", "127.0.0.1:0", "--cores", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(first.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let addr = support::listening_addr(&line)
        .unwrap_or_else(|| panic!("{line}"))
        .to_string();
    // Bounded: if the second server started (the bug), it would serve forever.
    let mut second = Command::new(BIN)
        .args(["--listen", &addr, "--cores", "1"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = second.try_wait().unwrap() {
            break Some(status);
        }
        if Instant::now() > deadline {
            let _ = second.kill();
            let _ = second.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let _ = first.kill();
    let _ = first.wait();
    let status = status.expect("a second h2ring started on a port already in use");
    assert_eq!(status.code(), Some(1));
    let mut err = String::new();
    second
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert_eq!(
        err,
        format!("h2ring: error: cannot listen on {addr}: address already in use\n")
    );
}

#[test]
fn invalid_core_exits_1() {
    let line = run_failing(&["--listen", "127.0.0.1:0", "--cores", "0,4096"]);
    assert!(
        line.starts_with("h2ring: error: core 4096 does not exist (this machine has cores "),
        "{line}"
    );
    let line = run_failing(&["--listen", "127.0.0.1:0", "--cores", "4096"]);
    assert!(
        line.starts_with("h2ring: error: 4096 cores requested"),
        "{line}"
    );
}

#[test]
fn other_startup_mistakes_exit_1() {
    let line = run_failing(&["--root", "/definitely/not/here"]);
    assert_eq!(
        line,
        "h2ring: error: cannot serve root /definitely/not/here: no such file or directory"
    );
    let line = run_failing(&["--listen", "localhost"]);
    assert_eq!(
        line,
        "h2ring: error: invalid --listen address 'localhost': expected IP:PORT such as 127.0.0.1:8080"
    );
    run_failing(&["--drain-timeout", "soon"]);
    run_failing(&["--no-such-flag"]);
    run_failing(&["--listen", "127.0.0.1:0", "--log", "[[["]);
    let line = run_failing(&["--listen", "127.0.0.1:0", "--upload-sink", "upload"]);
    assert_eq!(
        line,
        "h2ring: error: --upload-sink must be a path starting with '/', got \"upload\""
    );
}

#[test]
fn serves_then_sigterm_prints_one_summary_and_exits_0() {
    let mut child = Command::new(BIN)
        .args([
            "--listen",
            "127.0.0.1:0",
            "--cores",
            "1",
            "--drain-timeout",
            "5",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    assert!(
        first.starts_with("h2ring: listening on 127.0.0.1:"),
        "{first}"
    );
    let addr = support::listening_addr(&first).unwrap();
    // A real HTTP/2 client (prior knowledge) gets the built-in page.
    let reply = support::curl(&["--http2-prior-knowledge", &format!("http://{addr}/")]);
    assert!(reply.contains("h2ring"), "{reply}");

    let started = Instant::now();
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    let status = child.wait().unwrap();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(status.code(), Some(0));
    assert_eq!(
        rest,
        "h2ring: stopped after serving 1 connections (0 force-closed), 1 streams, 1 requests on 1 cores\n"
    );
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert_eq!(stderr, "");
}

/// `--admin-addr` (and its old name `--metrics-addr`) serves the probes and the scrape;
/// the binary says where on its second line.
#[test]
fn admin_addr_serves_probes_and_metrics_to_curl() {
    for flag in ["--admin-addr", "--metrics-addr"] {
        let mut bin = support::Binary::start(&["--cores", "1", flag, "127.0.0.1:0"]);
        let mut line = String::new();
        bin.stdout.read_line(&mut line).unwrap();
        let admin = line
            .strip_prefix("h2ring: admin endpoint on http://")
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap_or_else(|| panic!("{line}"))
            .to_string();
        support::curl(&["--http2-prior-knowledge", &format!("http://{}/", bin.addr)]);
        assert_eq!(support::curl(&[&format!("http://{admin}/healthz")]), "ok\n");
        assert_eq!(
            support::curl(&[&format!("http://{admin}/readyz")]),
            "ready\n"
        );
        let page = support::curl(&[&format!("http://{admin}/metrics")]);
        let count = "h2ring_request_duration_seconds_count{core=\"";
        let h2_count = page
            .lines()
            .find(|l| l.starts_with(count) && l.contains("protocol=\"h2\""))
            .unwrap_or_else(|| panic!("{page}"));
        assert!(h2_count.ends_with("} 1"), "{h2_count}");
        bin.sigterm();
        assert_eq!(bin.wait(Duration::from_secs(20)).0, Some(0));
    }
}

/// Starts the binary with `args` and `env` (RUST_LOG and NO_COLOR otherwise unset), stops
/// it with SIGTERM and returns its stderr, a pipe here.
fn stderr_of_a_run(args: &[&str], env: &[(&str, &str)]) -> String {
    let mut bin = support::Binary::start_with(&[&["--cores", "1"][..], args].concat(), |c| {
        c.env_remove("RUST_LOG").env_remove("NO_COLOR");
        for (k, v) in env {
            c.env(k, v);
        }
    });
    let mut stderr = bin.child.stderr.take().unwrap();
    bin.sigterm();
    assert_eq!(bin.wait(Duration::from_secs(20)).0, Some(0));
    let mut text = String::new();
    stderr.read_to_string(&mut text).unwrap();
    text
}

/// SIGTERM logs `shutting down gracefully` at info: shown when RUST_LOG asks for info,
/// hidden under the default `warn` and under an explicit `--log`, which beats RUST_LOG.
/// Stderr is a pipe, so the line carries no ANSI colour codes.
#[test]
fn rust_log_is_honoured_and_piped_stderr_has_no_ansi() {
    let info = stderr_of_a_run(&[], &[("RUST_LOG", "info")]);
    assert!(info.contains("shutting down gracefully"), "{info:?}");
    assert!(!info.contains('\u{1b}'), "ANSI escape in {info:?}");
    let directive = stderr_of_a_run(&[], &[("RUST_LOG", "h2ring=info")]);
    assert!(
        directive.contains("shutting down gracefully"),
        "{directive:?}"
    );
    let default = stderr_of_a_run(&[], &[]);
    assert!(!default.contains("shutting down"), "{default:?}");
    let flag = stderr_of_a_run(&["--log", "warn"], &[("RUST_LOG", "info")]);
    assert!(!flag.contains("shutting down"), "{flag:?}");
}

#[test]
fn invalid_rust_log_exits_1_naming_it() {
    let out = Command::new(BIN)
        .args(["--listen", "127.0.0.1:0", "--cores", "1"])
        .env("RUST_LOG", "[[[")
        .output()
        .unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.starts_with("h2ring: error: invalid RUST_LOG '[[[': "),
        "{stderr}"
    );
}

/// The content types curl sees for the extensions the old 31-entry table lacked or got
/// wrong, and a few it had.
#[test]
fn content_types_come_from_the_full_mime_table() {
    let dir = support::TempDir::new("mime");
    let cases = [
        ("site.webmanifest", "application/manifest+json"),
        ("app.js.map", "application/json"),
        ("live.m3u8", "application/vnd.apple.mpegurl"),
        ("seg-1.m4s", "video/iso.segment"),
        ("module.wasm", "application/wasm"),
        ("photo.avif", "image/avif"),
        ("app.mjs", "text/javascript; charset=utf-8"),
        ("index.html", "text/html; charset=utf-8"),
        ("event.ics", "text/calendar; charset=utf-8"),
        ("blob.unknown-ext", "application/octet-stream"),
    ];
    for (name, _) in cases {
        dir.file(name, b"x");
    }
    let root = dir.path().to_str().unwrap();
    let bin = support::Binary::start(&["--cores", "1", "--root", root]);
    for (name, expected) in cases {
        let url = format!("http://{}/{name}", bin.addr);
        let ty = support::curl(&[
            "--http2-prior-knowledge",
            "-o",
            "/dev/null",
            "-w",
            "%{content_type}",
            &url,
        ]);
        assert_eq!(ty, expected, "{name}");
    }
    bin.sigterm();
    assert_eq!(bin.wait(Duration::from_secs(20)).0, Some(0));
}
