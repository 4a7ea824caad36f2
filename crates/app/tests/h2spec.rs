//! h2spec (the HTTP/2 conformance suite h2o and nghttp2 run in CI) in strict mode against
//! the `h2ring` binary: a TLS port, an HTTP/2-only cleartext port (`--protocols h2c`) and
//! the default dual-protocol port (HTTP/1.1 + h2c). Every case must pass on all three.
//!
//! h2spec is found through `H2SPEC` (a path), else at `target/h2spec/h2spec`, where
//! `../shared/tools/h2spec/build.sh` puts it by default (`.ci/run` builds it and exports
//! `H2SPEC`). Without it the test skips with a message, except under `CI=true`, where it
//! fails.

mod support;

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::Binary;

/// Per-case timeout (`h2spec -o`): a case waiting for an answer that never comes fails
/// after this instead of hanging the run.
const CASE_TIMEOUT_SECS: &str = "3";
/// Bound on one whole h2spec run (147 cases take about 1 s when they pass).
const RUN_LIMIT: Duration = Duration::from_secs(180);

fn h2spec() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("H2SPEC").filter(|p| !p.is_empty()) {
        let path = PathBuf::from(path);
        assert!(path.is_file(), "H2SPEC={} is not a file", path.display());
        return Some(path);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"),
        PathBuf::from,
    );
    let path = target.join("h2spec/h2spec");
    path.is_file().then_some(path)
}

/// Runs h2spec strict against `server`; returns its summary line and full output.
fn run(h2spec: &PathBuf, server: &Binary, tls: bool) -> (String, String) {
    let port = server.addr.port().to_string();
    let mut args = vec![
        "-S",
        "-o",
        CASE_TIMEOUT_SECS,
        "-h",
        "127.0.0.1",
        "-p",
        &port,
    ];
    if tls {
        args.extend(["-t", "-k"]);
    }
    let mut child = Command::new(h2spec)
        .args(&args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{}: {e}", h2spec.display()));
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > RUN_LIMIT {
            let _ = child.kill();
            panic!("h2spec {args:?} did not finish within {RUN_LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    let summary = text
        .lines()
        .rev()
        .find(|l| l.contains(" tests, "))
        .unwrap_or("no summary")
        .trim()
        .to_string();
    (summary, text)
}

/// The failed cases' lines (h2spec prints them again under "Failures:").
fn failures(text: &str) -> String {
    match text.find("Failures:") {
        Some(at) => text[at..].to_string(),
        None => String::new(),
    }
}

#[test]
fn h2spec_strict_passes_every_case_on_every_port() {
    let Some(h2spec) = h2spec() else {
        let msg = "h2spec not found: set H2SPEC or run ../shared/tools/h2spec/build.sh \
                   (builds target/h2spec/h2spec)";
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("{msg} (CI=true: .ci/run builds it)");
        }
        eprintln!("skipped: {msg}");
        return;
    };
    let ports: [(&str, &[&str], bool); 3] = [
        ("TLS (h2 by ALPN)", &["--cores", "1", "--self-signed"], true),
        (
            "cleartext, HTTP/2 only",
            &["--cores", "1", "--protocols", "h2c"],
            false,
        ),
        ("cleartext, HTTP/1.1 + h2c", &["--cores", "1"], false),
    ];
    let mut report = String::new();
    let mut failed = false;
    for (name, args, tls) in ports {
        let server = Binary::start(args);
        let (summary, text) = run(&h2spec, &server, tls);
        eprintln!("[h2spec] {name}: {summary}");
        // "147 tests, 147 passed, 0 skipped, 0 failed"
        let clean = summary.ends_with(", 0 skipped, 0 failed") && {
            let mut n = summary.split(' ');
            let total = n.next();
            n.nth(1) == total
        };
        if !clean {
            failed = true;
            report += &format!("\n{name}: {summary}\n{}", failures(&text));
        }
    }
    assert!(!failed, "h2spec -S failures:{report}");
}
