//! The binary over TLS with real peers: curl (ALPN h2 and http/1.1), nghttp, h2load with
//! zero failures; openssl clients offering TLS 1.1 or only RFC 9113-prohibited suites are
//! refused; SNI picks the certificate; SIGHUP reloads certificates without dropping
//! connections; bad certificate paths are one error line.

mod support;

use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::Duration;

use support::curl_output;

const BIN: &str = env!("CARGO_BIN_EXE_h2ring");

struct Running {
    child: Child,
    addr: SocketAddr,
    _stdout: Option<BufReader<ChildStdout>>,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the binary; returns it with its address and the lines printed before it.
fn start(args: &[&str]) -> (Running, Vec<String>) {
    let mut server = Running {
        child: Command::new(BIN)
            .args(["--listen", "127.0.0.1:0", "--cores", "1"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
        addr: SocketAddr::from(([0, 0, 0, 0], 0)),
        _stdout: None,
    };
    let mut stdout = BufReader::new(server.child.stdout.take().unwrap());
    let mut lines = Vec::new();
    loop {
        let mut line = String::new();
        assert!(
            stdout.read_line(&mut line).unwrap_or(0) > 0,
            "server exited: {lines:?}"
        );
        if let Some(addr) = support::listening_addr(&line) {
            server.addr = addr;
            server._stdout = Some(stdout);
            lines.push(line);
            return (server, lines);
        }
        lines.push(line);
    }
}

/// `openssl s_client` with extra arguments; returns (success, all output).
fn s_client(addr: SocketAddr, args: &[&str]) -> (bool, String) {
    let mut child = Command::new("openssl")
        .args(["s_client", "-connect", &addr.to_string()])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("openssl must be installed (.ci/run installs it)");
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn self_signed_https_speaks_h2_and_http11_by_alpn() {
    let (server, lines) = start(&["--self-signed"]);
    assert!(
        lines[0].starts_with("h2ring: generated a throwaway self-signed certificate"),
        "{lines:?}"
    );
    let url = format!("https://{}/", server.addr);
    let (body, _) = curl_output(&["-k", "--http2", "-w", "\n%{http_version}", &url]);
    assert!(body.contains("h2ring"), "{body}");
    assert!(body.ends_with("\n2"), "{body}");
    let (body, _) = curl_output(&["-k", "--http1.1", "-w", "\n%{http_version}", &url]);
    assert!(body.ends_with("\n1.1"), "{body}");
    let (_, verbose) = curl_output(&["-kv", "--http2", "-o", "/dev/null", &url]);
    assert!(verbose.contains("ALPN: server accepted h2"), "{verbose}");
}

#[test]
fn nghttp_and_h2load_over_tls() {
    let (server, _) = start(&["--self-signed"]);
    let url = format!("https://{}/", server.addr);
    let out = Command::new("nghttp")
        .args(["-nv", &url])
        .output()
        .expect("nghttp must be installed");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains(":status: 200"), "{text}");
    assert!(text.contains("The negotiated protocol: h2"), "{text}");
    let out = Command::new("h2load")
        .args(["-n", "400", "-c", "4", "-m", "10", &url])
        .output()
        .expect("h2load must be installed");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("400 succeeded, 0 failed, 0 errored, 0 timeout"),
        "{text}"
    );
    assert!(text.contains("Application protocol: h2"), "{text}");
}

#[test]
fn tls11_and_prohibited_suites_are_refused() {
    let (server, _) = start(&["--self-signed"]);
    let (ok, text) = s_client(server.addr, &["-tls1_1"]);
    assert!(!ok, "{text}");
    assert!(text.contains("Cipher is (NONE)"), "{text}");
    // TLS 1.2 offering only suites on the RFC 9113 Appendix A block list.
    let (ok, text) = s_client(
        server.addr,
        &[
            "-tls1_2",
            "-cipher",
            "AES128-SHA:AES256-GCM-SHA384:ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES256-SHA384:DHE-RSA-AES128-GCM-SHA256",
        ],
    );
    assert!(!ok, "{text}");
    assert!(text.contains("Cipher is (NONE)"), "{text}");
    // A permitted TLS 1.2 suite works, with ALPN h2.
    let (ok, text) = s_client(
        server.addr,
        &[
            "-tls1_2",
            "-cipher",
            "ECDHE-ECDSA-AES128-GCM-SHA256",
            "-alpn",
            "h2",
        ],
    );
    assert!(ok, "{text}");
    assert!(text.contains("ECDHE-ECDSA-AES128-GCM-SHA256"), "{text}");
    assert!(text.contains("ALPN protocol: h2"), "{text}");
}

fn make_cert(dir: &Path, name: &str) -> (String, String) {
    let cert = dir.join(format!("{name}.pem"));
    let key = dir.join(format!("{name}.key"));
    let status = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
        ])
        .args(["-nodes", "-days", "2", "-subj", &format!("/CN={name}")])
        .args(["-addext", &format!("subjectAltName=DNS:{name}")])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    (
        cert.to_string_lossy().into_owned(),
        key.to_string_lossy().into_owned(),
    )
}

fn temp_dir(tag: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("h2ring-tls-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn sni_picks_the_certificate_and_sighup_reloads_without_dropping() {
    let dir = temp_dir("sni");
    let (cert, key) = make_cert(&dir, "default.test");
    let (b_cert, b_key) = make_cert(&dir, "b.test");
    let sni = format!("b.test={b_cert},{b_key}");
    let (mut server, _) = start(&["--tls-cert", &cert, "--tls-key", &key, "--sni-cert", &sni]);
    let (_, text) = s_client(server.addr, &["-servername", "b.test"]);
    assert!(text.contains("CN = b.test"), "{text}");
    let (_, text) = s_client(server.addr, &["-servername", "other.test"]);
    assert!(text.contains("CN = default.test"), "{text}");

    // An open connection survives a reload that swaps the default certificate.
    let mut open = Command::new("openssl")
        .args([
            "s_client",
            "-quiet",
            "-connect",
            &server.addr.to_string(),
            "-alpn",
            "http/1.1",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let _ = make_cert(&dir, "default.test");
    std::fs::copy(dir.join("b.test.pem"), &cert).unwrap();
    std::fs::copy(dir.join("b.test.key"), &key).unwrap();
    let status = Command::new("kill")
        .args(["-HUP", &server.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let mut stderr = BufReader::new(server.child.stderr.take().unwrap());
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    assert_eq!(line.trim_end(), "h2ring: reloaded TLS certificates");
    let (_, text) = s_client(server.addr, &["-servername", "other.test"]);
    assert!(text.contains("CN = b.test"), "{text}");
    let mut stdin = open.stdin.take().unwrap();
    stdin
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    drop(stdin);
    let out = open.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_certificate_paths_are_one_error_line() {
    let out = Command::new(BIN)
        .args(["--listen", "127.0.0.1:0", "--cores", "1"])
        .args([
            "--tls-cert",
            "/nonexistent/c.pem",
            "--tls-key",
            "/nonexistent/k.pem",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("h2ring: error: cannot read certificate /nonexistent/c.pem"),
        "{stderr}"
    );
}
