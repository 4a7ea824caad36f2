//! The PROXY protocol (v1 and v2) on a listener that has it on, over real TCP: the
//! client address the header names is what handlers see in `ConnInfo`, over HTTP/1.1,
//! h2c (the `h2` crate) and TLS (curl through a small balancer that sends v2 with TLVs,
//! and curl's own `--haproxy-protocol`); LOCAL keeps the socket's address; a header split
//! across reads still counts; connections without a valid header, with one over the size
//! bound, or with none in time are closed and counted while others are served; a listener
//! without the setting is untouched.

mod support;

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::time::Duration;

use h2ring::{
    service_fn, Context, CoreContext, Http2Config, ListenerConfig, Request, Service, TlsConfig,
    TlsInfo,
};
use ppp::v2::{Builder, Command, Protocol, Type, Version};
use support::*;

/// A listener on 127.0.0.1:0 with the PROXY protocol on.
fn proxied() -> ListenerConfig {
    let mut listener = ListenerConfig::new("127.0.0.1:0".parse().unwrap());
    listener.proxy_protocol = true;
    listener
}

/// A one-core server whose only listener expects the header; the first-octets deadline
/// (the preface timeout in cleartext) is short so the timeout test is quick.
fn proxy_builder() -> h2ring::ServerBuilder {
    let mut http2 = Http2Config::default();
    http2.preface_timeout = Duration::from_secs(1);
    h2ring::Server::builder()
        .listener(proxied())
        .cores(h2ring::Cores::Count(1))
        .http2(http2)
        .drain_timeout(Duration::from_secs(5))
}

/// Answers with the connection's addresses as the server sees them, and whether TLS.
fn whoami(_: &CoreContext) -> impl Service {
    service_fn(|req: Request, cx: Context| async move {
        let info = cx.conn_info();
        let proxy = info.proxy.map_or("-".to_string(), |p| p.to_string());
        let tls = req.extensions().get::<TlsInfo>().is_some();
        text(200, format!("peer={} proxy={proxy} tls={tls}", info.peer))
    })
}

fn connect(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect_timeout(&addr, STEP_TIMEOUT).unwrap();
    s.set_read_timeout(Some(STEP_TIMEOUT)).unwrap();
    s.set_nodelay(true).unwrap();
    s
}

const GET: &[u8] = b"GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n";

/// Reads the whole HTTP/1.1 response and returns its body.
fn response_body(mut s: TcpStream) -> String {
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    assert!(out.starts_with("HTTP/1.1 200 OK\r\n"), "{out}");
    out.split_once("\r\n\r\n").unwrap().1.to_string()
}

/// A GET on a kept-alive HTTP/1.1 connection; the body (sized by content-length).
fn keep_alive_get(s: &mut TcpStream) -> String {
    s.write_all(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n").unwrap();
    let mut head = Vec::new();
    let mut octet = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        s.read_exact(&mut octet).unwrap();
        head.push(octet[0]);
    }
    let head = String::from_utf8(head).unwrap();
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length: "))
        .unwrap()
        .parse()
        .unwrap();
    let mut body = vec![0; length];
    s.read_exact(&mut body).unwrap();
    String::from_utf8(body).unwrap()
}

/// `head` then a GET in one write, over HTTP/1.1; the response body.
fn get_after(addr: SocketAddr, head: &[u8]) -> String {
    let mut s = connect(addr);
    s.write_all(&[head, GET].concat()).unwrap();
    response_body(s)
}

/// The connection was closed without an answer: EOF, or a reset (we sent octets the
/// server never read).
fn assert_closed_unanswered(mut s: TcpStream) {
    let mut buf = [0u8; 256];
    match s.read(&mut buf) {
        Ok(0) => {}
        Ok(n) => panic!("answered: {:?}", String::from_utf8_lossy(&buf[..n])),
        Err(e) => assert_eq!(e.kind(), ErrorKind::ConnectionReset, "{e}"),
    }
}

fn v2(command: Command, from: &str, to: &str, tlvs: &[(u8, &[u8])]) -> Vec<u8> {
    let addrs: (SocketAddr, SocketAddr) = (from.parse().unwrap(), to.parse().unwrap());
    let mut builder = Builder::with_addresses(Version::Two | command, Protocol::Stream, addrs);
    for &(kind, value) in tlvs {
        builder = builder.write_tlv(kind, value).unwrap();
    }
    builder.build().unwrap()
}

/// AWS's VPC endpoint id TLV type (PP2_TYPE_AWS), as an NLB sends it.
const PP2_TYPE_AWS: u8 = 0xEA;

#[test]
fn v1_tcp4_and_tcp6_name_the_client() {
    let server = TestServer::start(proxy_builder(), whoami);
    let body = get_after(
        server.addr,
        b"PROXY TCP4 192.0.2.7 198.51.100.1 56324 443\r\n",
    );
    assert!(
        body.starts_with("peer=192.0.2.7:56324 proxy=127.0.0.1:"),
        "{body}"
    );
    let body = get_after(
        server.addr,
        b"PROXY TCP6 2001:db8::7 2001:db8::1 40000 443\r\n",
    );
    assert!(
        body.starts_with("peer=[2001:db8::7]:40000 proxy=127.0.0.1:"),
        "{body}"
    );
    // UNKNOWN names no client: the socket's address stands.
    let mut s = connect(server.addr);
    let local = s.local_addr().unwrap();
    s.write_all(&[&b"PROXY UNKNOWN\r\n"[..], GET].concat())
        .unwrap();
    assert_eq!(response_body(s), format!("peer={local} proxy=- tls=false"));
}

#[test]
fn v2_with_tlvs_then_h2c_with_the_h2_crate() {
    let server = TestServer::start(proxy_builder(), whoami);
    let header = v2(
        Command::Proxy,
        "203.0.113.9:4711",
        "10.0.0.1:80",
        &[
            (Type::ALPN as u8, b"h2"),
            (Type::Authority as u8, b"example.com"),
            (PP2_TYPE_AWS, b"\x01vpce-0123456789abcdef0"),
            (Type::NoOp as u8, &[0; 100]),
        ],
    );
    let body = block_on(STEP_TIMEOUT, async move {
        use tokio::io::AsyncWriteExt;
        let mut tcp = tokio::net::TcpStream::connect(server.addr).await.unwrap();
        tcp.write_all(&header).await.unwrap();
        let (client, conn) = h2::client::handshake(tcp).await.unwrap();
        tokio::spawn(async move {
            let _ = conn.await;
        });
        let mut client = client.ready().await.unwrap();
        let (status, body) = get(&mut client, "/").await;
        assert_eq!(status, 200);
        // A second request on the same connection: the address is the connection's.
        let (_, again) = get(&mut client, "/again").await;
        assert_eq!(body, again);
        String::from_utf8(body).unwrap()
    });
    assert!(
        body.starts_with("peer=203.0.113.9:4711 proxy=127.0.0.1:"),
        "{body}"
    );
}

#[test]
fn v2_local_keeps_the_socket_address() {
    let server = TestServer::start(proxy_builder(), whoami);
    let mut s = connect(server.addr);
    let local = s.local_addr().unwrap();
    // A balancer's own health check: LOCAL, with addresses and a TLV to discard.
    let header = v2(
        Command::Local,
        "203.0.113.9:1",
        "10.0.0.1:2",
        &[(Type::NoOp as u8, b"x")],
    );
    s.write_all(&[&header[..], GET].concat()).unwrap();
    assert_eq!(response_body(s), format!("peer={local} proxy=- tls=false"));
}

#[test]
fn a_header_split_across_reads_is_put_together() {
    let server = TestServer::start(proxy_builder(), whoami);
    let v1 = b"PROXY TCP4 192.0.2.7 198.51.100.1 56324 443\r\n".to_vec();
    let v2 = v2(
        Command::Proxy,
        "[2001:db8::9]:8000",
        "[2001:db8::1]:443",
        &[(Type::Authority as u8, b"example.com")],
    );
    for (header, client) in [(v1, "192.0.2.7:56324"), (v2, "[2001:db8::9]:8000")] {
        let mut s = connect(server.addr);
        // One octet per segment (TCP_NODELAY, a pause between), then the request.
        for octet in &header {
            s.write_all(&[*octet]).unwrap();
            std::thread::sleep(Duration::from_millis(2));
        }
        s.write_all(GET).unwrap();
        let body = response_body(s);
        assert!(
            body.starts_with(&format!("peer={client} proxy=127.0.0.1:")),
            "{body}"
        );
    }
}

#[test]
fn connections_without_a_valid_header_are_refused_and_counted_while_others_are_served() {
    let server = TestServer::start(
        proxy_builder().admin_addr(Some("127.0.0.1:0".parse().unwrap())),
        whoami,
    );
    // A good connection, kept alive and used again at the end: served throughout.
    let mut good = connect(server.addr);
    good.write_all(b"PROXY TCP4 192.0.2.1 198.51.100.1 1000 443\r\n")
        .unwrap();
    let first = keep_alive_get(&mut good);
    assert!(first.starts_with("peer=192.0.2.1:1000 "), "{first}");
    // No header: an HTTP request straight away, and TLS's first octets.
    let mut plain = connect(server.addr);
    plain.write_all(GET).unwrap();
    assert_closed_unanswered(plain);
    let mut tls_hello = connect(server.addr);
    tls_hello
        .write_all(&[0x16, 0x03, 0x01, 0x02, 0x00])
        .unwrap();
    assert_closed_unanswered(tls_hello);
    // Malformed: v1 without its CRLF within 107 octets; v1 with a bad port; v2 declaring
    // more than the 4 KiB bound; v2 whose TLV overruns the block.
    let mut long = b"PROXY TCP4 ".to_vec();
    long.resize(120, b'1');
    let mut over = b"\r\n\r\n\0\r\nQUIT\n\x21\x11".to_vec();
    over.extend_from_slice(&5000u16.to_be_bytes());
    let mut overrun = v2(
        Command::Proxy,
        "1.1.1.1:1",
        "2.2.2.2:2",
        &[(Type::ALPN as u8, b"h2")],
    );
    let tlv_length = overrun.len() - 3;
    overrun[tlv_length] = 200;
    for bad in [
        long,
        b"PROXY TCP4 1.2.3.4 5.6.7.8 99999 443\r\n".to_vec(),
        over,
        overrun,
    ] {
        let mut s = connect(server.addr);
        s.write_all(&bad).unwrap();
        assert_closed_unanswered(s);
    }
    // Silent: closed at the first-octets deadline (1 s here).
    let silent = connect(server.addr);
    let started = std::time::Instant::now();
    assert_closed_unanswered(silent);
    assert!(started.elapsed() < Duration::from_secs(10));
    // The good connection is still served.
    assert_eq!(keep_alive_get(&mut good), first);
    let page = scrape(server.admin_addr().unwrap());
    assert_eq!(
        prometheus_value(&page, "h2ring_proxy_refused_total{reason=\"invalid\"}"),
        Some(6),
        "{page}"
    );
    assert_eq!(
        prometheus_value(&page, "h2ring_proxy_refused_total{reason=\"timeout\"}"),
        Some(1),
        "{page}"
    );
}

#[test]
fn only_the_listener_with_the_setting_expects_a_header() {
    let running = proxy_builder()
        .listen("127.0.0.1:0".parse().unwrap())
        .build()
        .unwrap()
        .start(whoami)
        .unwrap();
    let [with, without] = [running.local_addrs()[0], running.local_addrs()[1]];
    let body = get_after(with, b"PROXY TCP4 192.0.2.7 198.51.100.1 1 2\r\n");
    assert!(body.starts_with("peer=192.0.2.7:1 "), "{body}");
    let mut s = connect(without);
    let local = s.local_addr().unwrap();
    s.write_all(GET).unwrap();
    assert_eq!(response_body(s), format!("peer={local} proxy=- tls=false"));
    // There a header is just a first line that is neither HTTP/1.x nor the HTTP/2
    // preface: an empty SETTINGS, then GOAWAY(PROTOCOL_ERROR) (RFC 9113 §3.4).
    let mut s = connect(without);
    s.write_all(&[&b"PROXY TCP4 192.0.2.7 198.51.100.1 1 2\r\n"[..], GET].concat())
        .unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    assert_eq!(out.len(), 26, "{out:?}");
    assert_eq!((out[12], &out[22..]), (0x7, &[0, 0, 0, 1][..]), "{out:?}");
    running.handle().shutdown();
    running.join();
}

#[test]
fn curl_haproxy_protocol_over_h2c_and_http11() {
    let server = TestServer::start(proxy_builder(), whoami);
    let url = format!("http://{}/", server.addr);
    for version in ["--http2-prior-knowledge", "--http1.1"] {
        let out = curl(&[
            "--haproxy-protocol",
            version,
            "-w",
            "\n%{local_port} %{http_version}",
            &url,
        ]);
        let (body, facts) = out.rsplit_once('\n').unwrap();
        let (port, http) = facts.split_once(' ').unwrap();
        // curl names its own socket, so peer and proxy agree; the header was read.
        assert_eq!(
            body,
            format!("peer=127.0.0.1:{port} proxy=127.0.0.1:{port} tls=false"),
            "{version}"
        );
        assert_eq!(http, if version == "--http1.1" { "1.1" } else { "2" });
    }
    // Without the header curl gets no answer.
    let (ok, _, err) = run_tool("curl", &["-sS", "--max-time", "10", &url]);
    assert!(!ok, "{err}");
}

/// A one-connection TCP balancer: accepts, connects to `upstream`, sends `header` and
/// the client's first read (a TLS ClientHello) in one write, so the server reads both at
/// once, then relays both ways until either side closes.
fn balancer(upstream: SocketAddr, header: Vec<u8>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let (mut client, _) = listener.accept().unwrap();
        let mut server = connect(upstream);
        let mut first = vec![0u8; 16 * 1024];
        let n = client.read(&mut first).unwrap();
        server
            .write_all(&[&header[..], &first[..n]].concat())
            .unwrap();
        let (mut client_rx, mut server_tx) =
            (client.try_clone().unwrap(), server.try_clone().unwrap());
        let up = std::thread::spawn(move || {
            let _ = std::io::copy(&mut client_rx, &mut server_tx);
            let _ = server_tx.shutdown(Shutdown::Write);
        });
        let _ = std::io::copy(&mut server, &mut client);
        let _ = client.shutdown(Shutdown::Write);
        let _ = up.join();
    });
    addr
}

#[test]
fn tls_after_a_v2_header_from_a_balancer() {
    let server = TestServer::start(
        h2ring::Server::builder()
            .listener(proxied())
            .cores(h2ring::Cores::Count(1))
            .tls(TlsConfig::self_signed()),
        whoami,
    );
    for version in ["--http2", "--http1.1"] {
        let header = v2(
            Command::Proxy,
            "198.51.100.23:50000",
            "10.0.0.1:443",
            &[(Type::ALPN as u8, b"h2"), (PP2_TYPE_AWS, b"\x01vpce-1")],
        );
        let front = balancer(server.addr, header);
        let body = curl(&["-k", version, &format!("https://{front}/")]);
        assert!(
            body.starts_with("peer=198.51.100.23:50000 proxy=127.0.0.1:")
                && body.ends_with(" tls=true"),
            "{version}: {body}"
        );
    }
}

#[test]
fn the_binary_with_proxy_protocol_and_tls_serves_curl_haproxy_protocol() {
    let server = Binary::start(&["--proxy-protocol", "--self-signed", "--cores", "1"]);
    let url = format!("https://{}/", server.addr);
    let out = curl(&[
        "-k",
        "--haproxy-protocol",
        "--http2",
        "-w",
        "\n%{http_version}",
        &url,
    ]);
    assert!(out.contains("h2ring") && out.ends_with("\n2"), "{out}");
    let (ok, _, err) = run_tool("curl", &["-k", "-sS", "--max-time", "10", &url]);
    assert!(!ok, "{err}");
}
