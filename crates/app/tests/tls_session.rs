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

/// `TlsConfig::from_rustls`: an application's own rustls configuration (here a certificate
/// made in memory, TLS 1.2 only, no ALPN list) is used as given, with `h2` and `http/1.1`
/// added because its ALPN list was empty; its certificate is what clients see.
#[test]
fn an_applications_own_rustls_config_is_served() {
    let mut params = rcgen::CertificateParams::new(vec!["app.test".to_string()]).unwrap();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "h2ring from_rustls test");
    let signing_key = rcgen::KeyPair::generate().unwrap();
    let cert = params.self_signed(&signing_key).unwrap();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(signing_key.serialize_der().into());
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS12])
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.der().clone()], key)
        .unwrap();
    let tls = TlsConfig::from_rustls(std::sync::Arc::new(config));
    let server = TestServer::start(builder(1).tls(tls), |_: &CoreContext| {
        service_fn(|req: Request, _cx: Context| async move {
            let tls = req.extensions().get::<TlsInfo>().cloned();
            let text = match tls {
                Some(tls) => format!(
                    "alpn={} version={}",
                    tls.alpn.unwrap_or_default(),
                    tls.version
                ),
                None => "no tls".to_string(),
            };
            Response::new(Body::from(text))
        })
    });
    let port = server.addr.port();
    let url = format!("https://app.test:{port}/");
    let resolve = format!("app.test:{port}:127.0.0.1");
    let body = curl(&["-k", "--http2", "--resolve", &resolve, &url]);
    assert_eq!(body, "alpn=h2 version=TLSv1_2");
    let body = curl(&["-k", "--http1.1", "--resolve", &resolve, &url]);
    assert_eq!(body, "alpn=http/1.1 version=TLSv1_2");
    // The certificate presented is the application's.
    let (_, err) = support::curl_output(&["-kv", "--resolve", &resolve, &url]);
    assert!(err.contains("CN=h2ring from_rustls test"), "{err}");
}
