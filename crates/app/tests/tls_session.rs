//! TLS facts reach handlers (`TlsInfo` in the request extensions), and sessions resume
//! (the per-core session cache / tickets), checked with real clients.

mod support;

use std::process::{Command, Stdio};

use h2ring::{service_fn, Body, Context, CoreContext, Request, Response, TlsConfig, TlsInfo};
use support::{builder, curl, TestServer};

fn start() -> TestServer {
    TestServer::start(
        builder(1).tls(TlsConfig::self_signed()),
        |_: &CoreContext| {
            service_fn(|req: Request, _cx: Context| async move {
                let text = match req.extensions().get::<TlsInfo>() {
                    Some(tls) => format!(
                        "alpn={} sni={} version={} cipher={}",
                        tls.alpn.as_deref().unwrap_or("-"),
                        tls.sni.as_deref().unwrap_or("-"),
                        tls.version,
                        tls.cipher
                    ),
                    None => "no tls".to_string(),
                };
                Response::new(Body::from(text))
            })
        },
    )
}

#[test]
fn handlers_see_the_negotiated_tls_facts() {
    let server = start();
    let addr = server.addr;
    let url = format!("https://localhost:{}/", addr.port());
    let resolve = format!("localhost:{}:127.0.0.1", addr.port());
    let body = curl(&["-k", "--http2", "--resolve", &resolve, &url]);
    assert!(
        body.starts_with("alpn=h2 sni=localhost version=TLSv1_3"),
        "{body}"
    );
    assert!(body.contains("cipher=TLS13_"), "{body}");
}

/// `openssl s_client` once to save a session, once to offer it back.
fn s_client(addr: std::net::SocketAddr, extra: &[&str]) -> String {
    let mut child = Command::new("openssl")
        .args(["s_client", "-connect", &addr.to_string(), "-alpn", "h2"])
        .args(extra)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("openssl must be installed (.ci/run installs it)");
    // Give the server time to send its session ticket before closing stdin.
    std::thread::sleep(std::time::Duration::from_millis(300));
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn sessions_resume() {
    let server = start();
    let addr = server.addr;
    let dir = std::env::temp_dir().join(format!("h2ring-sess-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let sess = dir.join("session.pem");
    let sess = sess.to_str().unwrap();
    for (version, flag) in [("TLSv1.3", "-tls1_3"), ("TLSv1.2", "-tls1_2")] {
        let first = s_client(addr, &[flag, "-sess_out", sess]);
        assert!(first.contains("New, "), "{version}: {first}");
        let second = s_client(addr, &[flag, "-sess_in", sess]);
        assert!(
            second.contains("Reused, "),
            "{version} session not resumed: {second}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
