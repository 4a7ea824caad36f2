//! One cleartext port serves HTTP/1.1, h2c with prior knowledge, and `Upgrade: h2c`
//! (curl `--http2` on http://), including an upgrading request with a body.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use h2ring::{service_fn, Body, Context, CoreContext, Request, Response};
use support::{builder, curl, TestServer};

fn start() -> TestServer {
    TestServer::start(builder(1), |_: &CoreContext| service_fn(echo))
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
