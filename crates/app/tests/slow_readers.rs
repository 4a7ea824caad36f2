//! Write deadlines for slow readers, against a live `h2ring` binary (one core, loopback):
//! a client that reads its response one octet every 100 ms (through a small receive
//! buffer, so the server's socket fills at once) is cut by the minimum send rate, over
//! HTTP/2 and HTTP/1.1, while a well-behaved client on another connection keeps being
//! served; a client that reads slowly but above the minimum rate is not cut and gets its
//! whole response; `--response-send-timeout` bounds a whole response however fast it is
//! read; over TLS the same trickle is cut and counted in `h2ring_slow_readers_closed_total`.
//! `docs/SECURITY.md` points at these tests.

mod attack_support;
mod support;

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use bytes::BytesMut;
use h2ring_frame::{Frame, Setting, Settings, StreamId, WindowUpdate, PREFACE};

use attack_support::{
    request, tcp_state, wait_until, GoodClient, LiveServer, BIG_FILE_LEN, STEP, TCP_ESTABLISHED,
};

/// The test's minimum send rate: 4 KiB per 1 s window (defaults: 16 KiB per 30 s).
const RATE_FLAGS: [&str; 4] = ["--min-send-rate", "4096", "--min-send-window", "1"];

/// A raw client socket with a 4 KiB receive buffer, so that a client that reads slowly
/// stalls the server's writes after a few dozen KiB.
struct SlowClient {
    tcp: TcpStream,
    received: usize,
    /// Everything received, for the tests that decode it.
    data: Vec<u8>,
    server_port: u16,
}

impl SlowClient {
    fn connect(addr: SocketAddr) -> SlowClient {
        let sock =
            socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
        // Before connect, so the window advertised in the handshake is small too.
        sock.set_recv_buffer_size(4096).unwrap();
        sock.connect_timeout(&addr.into(), STEP).unwrap();
        let tcp: TcpStream = sock.into();
        tcp.set_nodelay(true).unwrap();
        SlowClient {
            tcp,
            received: 0,
            data: Vec::new(),
            server_port: addr.port(),
        }
    }

    /// An h2c connection asking for `/big.bin` with every window opened to the maximum:
    /// HTTP/2 flow control never holds the response back, only the reader does.
    fn h2(addr: SocketAddr) -> SlowClient {
        let mut c = SlowClient::connect(addr);
        c.tcp.write_all(&h2_request("/big.bin")).unwrap();
        c
    }

    /// An HTTP/1.1 connection asking for `/big.bin`.
    fn http1(addr: SocketAddr) -> SlowClient {
        let mut c = SlowClient::connect(addr);
        c.tcp
            .write_all(b"GET /big.bin HTTP/1.1\r\nhost: localhost\r\n\r\n")
            .unwrap();
        c
    }

    fn took(&mut self, bytes: &[u8]) {
        self.received += bytes.len();
        self.data.extend_from_slice(bytes);
    }

    /// Whether the server's end of this connection is still established (`/proc/net/tcp`).
    fn server_state(&self) -> Option<u8> {
        let local = self.tcp.local_addr().unwrap().port();
        tcp_state(self.server_port, local)
    }

    /// Reads `chunk` octets every `gap` for `span`; stops early, returning the elapsed
    /// time, once the server's end has left ESTABLISHED.
    fn read_slowly(&mut self, chunk: usize, gap: Duration, span: Duration) -> Option<Duration> {
        let start = Instant::now();
        let mut buf = vec![0u8; chunk];
        while start.elapsed() < span {
            if self.server_state() != Some(TCP_ESTABLISHED) {
                return Some(start.elapsed());
            }
            self.tcp.set_read_timeout(Some(gap)).unwrap();
            match self.tcp.read(&mut buf) {
                Ok(0) => return Some(start.elapsed()),
                Ok(n) => self.took(&buf[..n]),
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                Err(_) => return Some(start.elapsed()),
            }
            std::thread::sleep(gap);
        }
        None
    }

    /// Reads as fast as possible until the connection ends, `want` octets came, or
    /// nothing came for 2 s.
    fn read_fast(&mut self, want: usize) {
        let mut buf = vec![0u8; 256 * 1024];
        self.tcp
            .set_read_timeout(Some(Duration::from_secs(2)))
            .unwrap();
        while self.received < want {
            match self.tcp.read(&mut buf) {
                Ok(0) | Err(_) => return,
                Ok(n) => self.took(&buf[..n]),
            }
        }
    }
}

/// The client preface, SETTINGS with the largest stream window, the connection window
/// opened as far, and a GET of `path` on stream 1.
fn h2_request(path: &str) -> BytesMut {
    let max = h2ring_frame::MAX_WINDOW_SIZE;
    let mut out = BytesMut::from(&PREFACE[..]);
    Frame::Settings(Settings::new(vec![Setting::InitialWindowSize(max)])).encode(&mut out);
    Frame::Settings(Settings::ack()).encode(&mut out);
    Frame::WindowUpdate(WindowUpdate {
        stream_id: StreamId::ZERO,
        increment: max - 65_535,
    })
    .encode(&mut out);
    request(1, "GET", path, true).encode(&mut out);
    out
}

/// A trickle reader is cut once a window passes with less than the minimum written, long
/// before `--write-timeout` (30 s by default): its reads keep the socket from looking
/// stalled forever. The server's end is then gone at once (RST, not FIN: the kernel does
/// not go on sending it what was queued), and the good client never noticed.
fn trickle_reader_is_cut(tag: &str, connect: fn(SocketAddr) -> SlowClient) {
    let server = LiveServer::start(tag, &RATE_FLAGS);
    server.add_big_file();
    let good = GoodClient::start(server.addr);
    let mut slow = connect(server.addr);
    let ended = slow.read_slowly(1, Duration::from_millis(100), Duration::from_secs(15));
    let elapsed = ended.expect("the server kept a trickle reader for 15 s");
    eprintln!(
        "[{tag}] cut after {elapsed:?}, {} octets read, server end {:?}",
        slow.received,
        slow.server_state()
    );
    // The 1 s window, plus filling the socket buffers and scheduling on a busy machine.
    assert!(
        elapsed >= Duration::from_millis(900) && elapsed < Duration::from_secs(5),
        "{elapsed:?}"
    );
    // Abortive close: no FIN_WAIT socket left sending the rest at the client's pace.
    assert!(
        wait_until(Duration::from_secs(1), || slow.server_state().is_none()),
        "server end still in state {:?}",
        slow.server_state()
    );
    good.assert_all_served(5);
}

#[test]
fn h2_trickle_reader_is_cut_by_the_minimum_send_rate() {
    trickle_reader_is_cut("trickle-h2", SlowClient::h2);
}

#[test]
fn http1_trickle_reader_is_cut_by_the_minimum_send_rate() {
    trickle_reader_is_cut("trickle-h1", SlowClient::http1);
}

/// 32 KiB every 100 ms is slow (the 16 MiB file would take 50 s) but eight times the
/// minimum rate: the connection survives several windows, then gets its whole response.
fn slow_reader_above_the_minimum_is_served(tag: &str, connect: fn(SocketAddr) -> SlowClient) {
    let server = LiveServer::start(tag, &RATE_FLAGS);
    server.add_big_file();
    let mut slow = connect(server.addr);
    let ended = slow.read_slowly(
        32 * 1024,
        Duration::from_millis(100),
        Duration::from_secs(5),
    );
    eprintln!("[{tag}] {} octets read slowly in 5 s", slow.received);
    assert_eq!(ended, None, "a reader above the minimum rate was cut");
    assert_eq!(slow.server_state(), Some(TCP_ESTABLISHED));
    slow.read_fast(BIG_FILE_LEN);
    assert!(
        slow.received >= BIG_FILE_LEN,
        "only {} octets arrived",
        slow.received
    );
}

#[test]
fn h2_slow_reader_above_the_minimum_rate_is_served() {
    slow_reader_above_the_minimum_is_served("above-min-h2", SlowClient::h2);
}

#[test]
fn http1_slow_reader_above_the_minimum_rate_is_served() {
    slow_reader_above_the_minimum_is_served("above-min-h1", SlowClient::http1);
}

/// The hole the minimum rate closes: a client that takes 6 KiB every 500 ms makes the
/// socket take some octets often enough that `--write-timeout` (2 s here) never sees it
/// stalled, so with the rate rule off it keeps its response for as long as it likes (the
/// 16 MiB file would take 23 minutes); with the rule on at 32 KiB per 1 s window (under
/// three times what it reads) it is cut.
#[test]
fn a_reader_that_defeats_the_write_timeout_is_cut_by_the_minimum_rate() {
    let chunk = 6 * 1024;
    let gap = Duration::from_millis(500);
    let off = LiveServer::start(
        "under-min-off",
        &["--write-timeout", "2", "--min-send-rate", "0"],
    );
    off.add_big_file();
    let mut slow = SlowClient::h2(off.addr);
    let ended = slow.read_slowly(chunk, gap, Duration::from_secs(8));
    eprintln!(
        "[under-min-off] {} octets read in 8 s: {ended:?}",
        slow.received
    );
    assert_eq!(
        ended, None,
        "write_timeout alone cut a reader that makes progress"
    );
    drop(off);
    let on = LiveServer::start(
        "under-min-on",
        &[
            "--write-timeout",
            "2",
            "--min-send-rate",
            "32768",
            "--min-send-window",
            "1",
        ],
    );
    on.add_big_file();
    let mut slow = SlowClient::h2(on.addr);
    let ended = slow.read_slowly(chunk, gap, Duration::from_secs(8));
    eprintln!(
        "[under-min-on] {} octets read: cut after {ended:?}",
        slow.received
    );
    let elapsed = ended.expect("a reader below the minimum rate was kept for 8 s");
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
}

/// `--response-send-timeout` (Go's WriteTimeout) bounds a whole response however steadily
/// it is read: this client reads well above the minimum rate, but the 16 MiB file would
/// take minutes at its pace. HTTP/2: the stream is reset with CANCEL (after 2 s; the
/// stream scan runs once a second) and the connection goes on serving.
#[test]
fn h2_response_send_timeout_resets_the_stream_and_keeps_the_connection() {
    let server = LiveServer::start("response-timeout-h2", &["--response-send-timeout", "2"]);
    server.add_big_file();
    let mut slow = SlowClient::h2(server.addr);
    let ended = slow.read_slowly(
        32 * 1024,
        Duration::from_millis(100),
        Duration::from_secs(4),
    );
    assert_eq!(ended, None, "the connection was closed");
    let mut out = BytesMut::new();
    request(3, "GET", "/index.html", true).encode(&mut out);
    slow.tcp.write_all(&out).unwrap();
    slow.read_fast(BIG_FILE_LEN);
    let mut decoder = h2ring_frame::Decoder::new();
    let mut input = BytesMut::from(&slow.data[..]);
    let (mut data_1, mut reset_1, mut page) = (0, None, Vec::new());
    while let Ok(Some(frame)) = decoder.decode(&mut input) {
        match frame {
            Frame::Data(d) if d.stream_id.value() == 1 => data_1 += d.data.len(),
            Frame::Data(d) if d.stream_id.value() == 3 => page.extend_from_slice(&d.data),
            Frame::RstStream(r) if r.stream_id.value() == 1 => reset_1 = Some(r.code),
            _ => {}
        }
        if !page.is_empty() {
            break;
        }
    }
    eprintln!("[response-timeout-h2] {data_1} octets of stream 1, then {reset_1:?}");
    assert_eq!(reset_1, Some(h2ring_frame::ErrorCode::Cancel));
    assert!(data_1 < BIG_FILE_LEN, "{data_1}");
    assert_eq!(page, attack_support::PAGE);
}

/// HTTP/1.1 cannot end one response and keep the connection: it is closed at the deadline.
#[test]
fn http1_response_send_timeout_closes_the_connection() {
    let server = LiveServer::start("response-timeout-h1", &["--response-send-timeout", "2"]);
    server.add_big_file();
    let mut slow = SlowClient::http1(server.addr);
    let ended = slow.read_slowly(
        32 * 1024,
        Duration::from_millis(100),
        Duration::from_secs(10),
    );
    let elapsed = ended.expect("the response outlived --response-send-timeout");
    eprintln!(
        "[response-timeout-h1] closed after {elapsed:?}, {} octets read",
        slow.received
    );
    assert!(
        elapsed >= Duration::from_millis(1900) && elapsed < Duration::from_secs(4),
        "{elapsed:?}"
    );
    assert!(slow.received < BIG_FILE_LEN);
}

/// A self-signed certificate for `app.test`: the server's TLS config and a client config
/// that trusts it, offering `alpn`.
fn tls_pair(alpn: &[u8]) -> (h2ring::TlsConfig, std::sync::Arc<rustls::ClientConfig>) {
    let params = rcgen::CertificateParams::new(vec!["app.test".to_string()]).unwrap();
    let signing_key = rcgen::KeyPair::generate().unwrap();
    let cert = params.self_signed(&signing_key).unwrap();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(signing_key.serialize_der().into());
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let server = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.der().clone()], key)
        .unwrap();
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert.der().clone()).unwrap();
    let mut client = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    client.alpn_protocols = vec![alpn.to_vec()];
    (
        h2ring::TlsConfig::from_rustls(std::sync::Arc::new(server)),
        std::sync::Arc::new(client),
    )
}

/// Over TLS the server writes into the session's ciphertext buffer (up to 256 KiB) before
/// the socket refuses, and the abortive close goes through the TLS stream to its socket
/// (a graceful close would wait forever to flush its close_notify to a client that does
/// not read): the trickle reader (raw TCP reads of one octet every 100 ms once the
/// request is out) is cut as in cleartext, and the admin endpoint counts it.
fn tls_trickle_reader_is_cut_and_counted(alpn: &[u8], request: &[u8]) {
    let (tls, client) = tls_pair(alpn);
    let mut http2 = h2ring::Http2Config::default();
    http2.min_send_bytes = 4096;
    http2.min_send_window = Duration::from_secs(1);
    let big = bytes::Bytes::from(vec![0x5a; BIG_FILE_LEN]);
    let builder = support::builder(1)
        .tls(tls)
        .http2(http2)
        .admin_addr(Some("127.0.0.1:0".parse().unwrap()));
    let server = support::TestServer::start(builder, move |_: &h2ring::CoreContext| {
        let big = big.clone();
        h2ring::service_fn(move |_req: h2ring::Request, _cx: h2ring::Context| {
            let big = big.clone();
            async move { h2ring::Response::new(h2ring::Body::from(big)) }
        })
    });
    let mut slow = SlowClient::connect(server.addr);
    let mut session =
        rustls::ClientConnection::new(client, "app.test".try_into().unwrap()).unwrap();
    let mut tls_stream = rustls::Stream::new(&mut session, &mut slow.tcp);
    tls_stream.write_all(request).unwrap();
    tls_stream.flush().unwrap();
    let ended = slow.read_slowly(1, Duration::from_millis(100), Duration::from_secs(15));
    let elapsed = ended.expect("the server kept a trickle reader over TLS for 15 s");
    eprintln!("[trickle-tls] cut after {elapsed:?}");
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
    assert!(wait_until(Duration::from_secs(1), || slow
        .server_state()
        .is_none()));
    let admin = server.admin_addr().unwrap();
    let counted = wait_until(Duration::from_secs(5), || {
        support::prometheus_value(&support::scrape(admin), "h2ring_slow_readers_closed_total")
            == Some(1)
    });
    assert!(counted, "{}", support::scrape(admin));
}

#[test]
fn tls_http1_trickle_reader_is_cut_and_counted() {
    tls_trickle_reader_is_cut_and_counted(b"http/1.1", b"GET / HTTP/1.1\r\nhost: app.test\r\n\r\n");
}

#[test]
fn tls_h2_trickle_reader_is_cut_and_counted() {
    tls_trickle_reader_is_cut_and_counted(b"h2", &h2_request("/"));
}
