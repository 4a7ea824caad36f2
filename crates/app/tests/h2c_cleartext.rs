//! One cleartext port serves HTTP/1.1, h2c with prior knowledge, and `Upgrade: h2c`
//! (curl `--http2` on http://), including an upgrading request with a body; a first line
//! that is neither gets GOAWAY(PROTOCOL_ERROR). `ServerBuilder::protocols` makes a port
//! HTTP/2-only or HTTP/1.1-only.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use h2ring::{service_fn, Body, Context, CoreContext, Protocols, Request, Response};
use support::{builder, curl, run_tool, TestServer};

fn start() -> TestServer {
    TestServer::start(builder(1), |_: &CoreContext| service_fn(echo))
}

fn start_with(protocols: Protocols) -> TestServer {
    TestServer::start(builder(1).protocols(protocols), |_: &CoreContext| {
        service_fn(echo)
    })
}

/// What the server writes back to `first` before it closes (at most 4 KiB, 5 s).
fn answer_to(addr: std::net::SocketAddr, first: &[u8]) -> Vec<u8> {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(first).unwrap();
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    while out.len() < 4096 {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
        }
    }
    out
}

/// The GOAWAY frame's error code in `octets` (a sequence of frames), if there is one.
fn goaway_code(octets: &[u8]) -> Option<u32> {
    let mut at = 0;
    while at + 9 <= octets.len() {
        let len = u32::from_be_bytes([0, octets[at], octets[at + 1], octets[at + 2]]) as usize;
        if octets[at + 3] == 0x7 && at + 9 + 8 <= octets.len() {
            let p = &octets[at + 9 + 4..at + 9 + 8];
            return Some(u32::from_be_bytes([p[0], p[1], p[2], p[3]]));
        }
        at += 9 + len;
    }
    None
}

/// A first line that is neither the HTTP/2 preface nor an HTTP/1.x request line (h2spec
/// http2/3.5/2) gets HTTP/2's answer to an invalid preface on the dual port:
/// SETTINGS, then GOAWAY(PROTOCOL_ERROR), then the close (RFC 9113 §3.4).
#[test]
fn dual_port_answers_a_non_http_first_line_with_goaway() {
    let server = start();
    for first in [
        &b"INVALID CONNECTION PREFACE\r\n\r\n"[..],
        b"PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n",
    ] {
        let out = answer_to(server.addr, first);
        assert_eq!(goaway_code(&out), Some(1), "{out:?}");
    }
    // An HTTP/1.x request line is still HTTP/1.1's.
    let out = answer_to(
        server.addr,
        b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert!(out.starts_with(b"HTTP/1.1 200 OK\r\n"), "{out:?}");
}

/// `Protocols::H2C`: HTTP/2 with prior knowledge only. curl's HTTP/1.1 (plain or with
/// `Upgrade: h2c`) gets no HTTP/1.1 answer; `--http2-prior-knowledge` is served.
#[test]
fn h2c_only_port_refuses_http11() {
    let server = start_with(Protocols::H2C);
    let url = format!("http://{}/p", server.addr);
    assert_eq!(
        curl(&["--http2-prior-knowledge", &url]),
        "HTTP/2.0 stream=1 /p "
    );
    for flag in ["--http1.1", "--http2"] {
        let (ok, out, err) = run_tool("curl", &["-sS", "--max-time", "10", flag, &url]);
        assert!(!ok, "curl {flag} was served: {out}");
        assert!(!err.is_empty());
    }
    // No HTTP/1.1 status line, ever: our SETTINGS at most, then the close.
    let out = answer_to(server.addr, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(!out.starts_with(b"HTTP/"), "{out:?}");
}

/// `Protocols::HTTP1`: no h2c, neither by prior knowledge nor by `Upgrade: h2c` (which
/// is served as plain HTTP/1.1).
#[test]
fn http1_only_port_serves_no_h2c() {
    let server = start_with(Protocols::HTTP1);
    let url = format!("http://{}/p", server.addr);
    assert_eq!(curl(&["--http1.1", &url]), "HTTP/1.1 stream=1 /p ");
    let out = curl(&["--http2", "-w", " %{http_version}", &url]);
    assert_eq!(out, "HTTP/1.1 stream=1 /p  1.1");
    let (ok, out, _) = run_tool(
        "curl",
        &["-sS", "--max-time", "10", "--http2-prior-knowledge", &url],
    );
    assert!(!ok, "prior knowledge was served: {out}");
}

/// Answers with the version the handler saw, the stream id, and the request body.
async fn echo(mut req: Request, cx: Context) -> Response {
    let body = req.body_mut().collect(1 << 20).await.unwrap_or_default();
    Response::new(Body::from(format!(
        "{:?} stream={} {} {}",
        req.version(),
        cx.stream_id(),
        req.uri().path(),
        String::from_utf8_lossy(&body)
    )))
}

#[test]
fn one_port_serves_http11_prior_knowledge_and_upgrade() {
    let server = start();
    let addr = server.addr;
    let url = format!("http://{addr}/p");
    assert_eq!(curl(&["--http1.1", &url]), "HTTP/1.1 stream=1 /p ");
    assert_eq!(
        curl(&["--http2-prior-knowledge", &url]),
        "HTTP/2.0 stream=1 /p "
    );
    // Upgrade: the request is served as stream 1 over HTTP/2 after the 101.
    let out = curl(&["--http2", "-w", " %{http_version}", &url]);
    assert_eq!(out, "HTTP/2.0 stream=1 /p  2");
    let out = curl(&["--http2", "-d", "posted=1", "-w", " %{http_version}", &url]);
    assert_eq!(out, "HTTP/2.0 stream=1 /p posted=1 2");
}

#[test]
fn upgrade_answers_101_then_the_server_preface() {
    let server = start();
    let addr = server.addr;
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n\r\n").unwrap();
    let expect = b"HTTP/1.1 101 Switching Protocols\r\nconnection: Upgrade\r\nupgrade: h2c\r\n\r\n";
    let mut got = vec![0u8; expect.len() + 9];
    s.read_exact(&mut got).unwrap();
    assert_eq!(&got[..expect.len()], expect);
    // Then a SETTINGS frame (type 4) on stream 0: the server preface.
    assert_eq!(got[expect.len() + 3], 4);
    assert_eq!(&got[expect.len() + 5..], &[0, 0, 0, 0]);
}

#[test]
fn broken_http2_settings_is_400() {
    let server = start();
    let addr = server.addr;
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: !!!\r\n\r\n").unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    assert!(out.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{out}");
}

/// `Context::received_at` is fixed when the head arrives: a handler that waits sees it
/// fall behind the clock by at least its wait, over HTTP/2 and HTTP/1.1 alike.
#[test]
fn received_at_is_when_the_request_arrived() {
    const WAIT: Duration = Duration::from_millis(150);
    let before_start = std::time::Instant::now();
    let server = TestServer::start(builder(1), move |_: &CoreContext| {
        service_fn(move |_req: Request, cx: Context| async move {
            let at = cx.received_at();
            glommio::timer::sleep(WAIT).await;
            let waited = at.elapsed();
            Response::new(Body::from(format!(
                "after-start={} waited-enough={}",
                at >= before_start,
                waited >= WAIT
            )))
        })
    });
    let url = format!("http://{}/", server.addr);
    for version in ["--http2-prior-knowledge", "--http1.1"] {
        assert_eq!(
            curl(&[version, &url]),
            "after-start=true waited-enough=true",
            "{version}"
        );
    }
}
