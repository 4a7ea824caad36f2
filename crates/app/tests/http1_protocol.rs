//! HTTP/1.1 over raw sockets against the real server: smuggling defences (one test per
//! case, exact status and a closed connection), keep-alive, pipelining in order, chunked
//! bodies both ways, trailers, 100-continue and HEAD.

mod support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use bytes::Bytes;
use h2ring::{service_fn, Body, Context, CoreContext, Request, Response};
use http::{HeaderMap, StatusCode};
use support::{builder, TestServer};

/// Echoes the method, version, path and body; `/stream` answers with a chunked body and
/// trailers.
/// The largest request head the server reads (16 KiB, RFC 9112 §2.3 leaves it to us).
const MAX_HEAD_BYTES: usize = 16 * 1024;

fn start() -> TestServer {
    TestServer::start(builder(1), |_: &CoreContext| service_fn(handle))
}

async fn handle(mut req: Request, cx: Context) -> Response {
    if req.uri().path() == "/stream" {
        let (mut writer, body) = Body::channel();
        cx.spawn(async move {
            let _ = writer.send(Bytes::from_static(b"hello ")).await;
            let _ = writer.send(Bytes::from_static(b"world")).await;
            let mut trailers = HeaderMap::new();
            trailers.insert("x-checksum", "42".parse().unwrap());
            let _ = writer.send_trailers(trailers).await;
        });
        return Response::new(body);
    }
    let body = req.body_mut().collect(1 << 20).await.unwrap_or_default();
    let text = format!(
        "{} {:?} {} {}",
        req.method(),
        req.version(),
        req.uri().path(),
        String::from_utf8_lossy(&body)
    );
    let mut resp = Response::new(Body::from(text));
    *resp.status_mut() = StatusCode::OK;
    resp
}

fn connect(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s
}

/// Sends `raw`, reads until the server closes, returns everything.
fn exchange_until_close(addr: SocketAddr, raw: &[u8]) -> String {
    let mut s = connect(addr);
    s.write_all(raw).unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out)
        .expect("server must close the connection");
    String::from_utf8_lossy(&out).into_owned()
}

fn assert_refused(raw: &str, status: &str) {
    let server = start();
    let addr = server.addr;
    let out = exchange_until_close(addr, raw.as_bytes());
    assert!(
        out.starts_with(&format!("HTTP/1.1 {status}")),
        "{raw:?} -> {out:?}"
    );
    assert!(out.contains("connection: close"), "{out}");
    // Exactly one response: the smuggled part was never served.
    assert_eq!(out.matches("HTTP/1.1").count(), 1, "{out}");
}

#[test]
fn smuggling_content_length_and_transfer_encoding() {
    assert_refused(
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n",
        "400 ",
    );
}

#[test]
fn smuggling_duplicate_content_length() {
    assert_refused(
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 40\r\n\r\nabc",
        "400 ",
    );
}

#[test]
fn smuggling_malformed_content_length() {
    assert_refused(
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3 ,4\r\n\r\nabc",
        "400 ",
    );
    assert_refused(
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
        "400 ",
    );
}

#[test]
fn smuggling_obs_fold() {
    assert_refused(
        "GET / HTTP/1.1\r\nHost: x\r\nX-Folded: a\r\n Transfer-Encoding: chunked\r\n\r\n",
        "400 ",
    );
}

#[test]
fn smuggling_bare_lf() {
    assert_refused("GET / HTTP/1.1\nHost: x\n\n", "400 ");
}

#[test]
fn smuggling_invalid_header_bytes() {
    assert_refused("GET / HTTP/1.1\r\nHost: x\r\nX-Bad: a\0b\r\n\r\n", "400 ");
    assert_refused("GET / HTTP/1.1\r\nHost: x\r\nBad Name: 1\r\n\r\n", "400 ");
}

#[test]
fn smuggling_transfer_encoding_not_chunked_last() {
    assert_refused(
        "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n",
        "400 ",
    );
}

#[test]
fn header_section_over_the_limit_is_431() {
    let raw = format!(
        "GET / HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "a".repeat(MAX_HEAD_BYTES + 10)
    );
    assert_refused(&raw, "431 ");
}

#[test]
fn pipelined_requests_are_answered_in_order_on_one_connection() {
    let server = start();
    let addr = server.addr;
    let out = exchange_until_close(
        addr,
        b"GET /one HTTP/1.1\r\nHost: x\r\n\r\nPOST /two HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabcPOST /three HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nxy\r\n1;ext\r\nz\r\n0\r\nX-T: 1\r\n\r\nGET /four HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    let bodies: Vec<&str> = out
        .split("HTTP/1.1 200 OK\r\n")
        .skip(1)
        .map(|r| r.split("\r\n\r\n").nth(1).unwrap())
        .collect();
    assert_eq!(
        bodies,
        vec![
            "GET HTTP/1.1 /one ",
            "POST HTTP/1.1 /two abc",
            "POST HTTP/1.1 /three xyz",
            "GET HTTP/1.1 /four "
        ],
        "{out}"
    );
    assert!(out.contains("content-length: 18\r\n"), "{out}");
}

#[test]
fn chunked_response_carries_trailers_only_for_te_trailers() {
    let server = start();
    let addr = server.addr;
    let out = exchange_until_close(
        addr,
        b"GET /stream HTTP/1.1\r\nHost: x\r\nTE: trailers\r\nConnection: close\r\n\r\n",
    );
    assert!(out.contains("transfer-encoding: chunked\r\n"), "{out}");
    assert!(
        out.ends_with("\r\n\r\n6\r\nhello \r\n5\r\nworld\r\n0\r\nx-checksum: 42\r\n\r\n"),
        "{out:?}"
    );
    let out = exchange_until_close(
        addr,
        b"GET /stream HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert!(out.ends_with("5\r\nworld\r\n0\r\n\r\n"), "{out:?}");
}

#[test]
fn head_gets_the_length_without_the_body_and_http10_closes() {
    let server = start();
    let addr = server.addr;
    let out = exchange_until_close(
        addr,
        b"HEAD /h HTTP/1.1\r\nHost: x\r\n\r\nGET /g HTTP/1.0\r\n\r\n",
    );
    // `date` and `server` (checked in date_server.rs) left out.
    let out: String = out
        .split_inclusive("\r\n")
        .filter(|line| !line.starts_with("date: ") && !line.starts_with("server: "))
        .collect();
    assert!(
        out.starts_with("HTTP/1.1 200 OK\r\ncontent-length: 17\r\n\r\nHTTP/1.1 200 OK\r\n"),
        "{out:?}"
    );
    assert!(out.ends_with("GET HTTP/1.0 /g "), "{out:?}");
}

#[test]
fn expect_100_continue_is_answered_when_the_body_is_read() {
    let server = start();
    let addr = server.addr;
    let mut s = connect(addr);
    s.write_all(
        b"POST /up HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nConnection: close\r\nContent-Length: 5\r\n\r\n",
    )
    .unwrap();
    let mut buf = [0u8; 25];
    s.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"HTTP/1.1 100 Continue\r\n\r\n");
    s.write_all(b"hello").unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).unwrap();
    let out = String::from_utf8(out).unwrap();
    assert!(out.starts_with("HTTP/1.1 200 OK\r\n"), "{out}");
    assert!(out.ends_with("POST HTTP/1.1 /up hello"), "{out}");
}
