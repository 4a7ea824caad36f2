//! `Server::start`: a per-core service factory serving HTTP/2 and HTTP/1.1 on one port,
//! as the crate docs show; typed start errors; the metrics admin endpoint.

mod support;

use std::cell::Cell;
use std::rc::Rc;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use h2ring::{service_fn, Body, Context, Cores, Request, Response, Server, StartError};
use support::{block_on, builder, curl, two_cores};

#[test]
fn start_serves_a_per_core_service_over_h2_and_http1() {
    let server = builder(1).build().unwrap();
    let running = server
        .start(|_core| {
            let hits = Rc::new(Cell::new(0u64));
            service_fn(move |req: Request, _cx: Context| {
                let hits = hits.clone();
                async move {
                    hits.set(hits.get() + 1);
                    let text = format!("{:?} #{}", req.version(), hits.get());
                    Response::new(Body::from(text))
                }
            })
        })
        .unwrap();
    let url = format!("http://{}/", running.local_addrs()[0]);
    assert_eq!(curl(&["--http2-prior-knowledge", &url]), "HTTP/2.0 #1");
    assert_eq!(curl(&["--http1.1", &url]), "HTTP/1.1 #2");
    // The same per-core state answers the upgrade path too.
    assert_eq!(curl(&["--http2", &url]), "HTTP/2.0 #3");
    running.handle().shutdown();
    let summary = running.join();
    assert!(summary.to_string().contains("3 requests"), "{summary}");
}

/// `PreparedHead`: fields built once per core, sent with every response that uses them
/// (after HTTP/2's first encoding, from the connection's replay memo), followed by the
/// response's own fields; a 204 made from one still carries no content.
#[test]
fn prepared_heads_are_sent_over_h2_and_http1() {
    let server = builder(1).build().unwrap();
    let running = server
        .start(|_core| {
            let mut fields = http::HeaderMap::new();
            fields.insert("etag", http::HeaderValue::from_static("\"prepared-1\""));
            fields.insert("content-type", http::HeaderValue::from_static("text/plain"));
            let head = h2ring::PreparedHead::new(fields);
            service_fn(move |req: Request, _cx: Context| {
                let head = head.clone();
                async move {
                    match req.uri().path() {
                        "/extra" => {
                            let mut r = head.response(http::StatusCode::OK, "with extra");
                            r.headers_mut()
                                .insert("x-extra", http::HeaderValue::from_static("1"));
                            r
                        }
                        "/none" => head.response(http::StatusCode::NO_CONTENT, "dropped"),
                        _ => head.response(http::StatusCode::OK, "prepared"),
                    }
                }
            })
        })
        .unwrap();
    let addr = running.local_addrs()[0];
    // (path, status, body, whether x-extra is sent)
    let expected = [
        ("/", 200, "prepared", false),
        ("/", 200, "prepared", false),
        ("/", 200, "prepared", false),
        ("/extra", 200, "with extra", true),
        ("/", 200, "prepared", false),
        ("/none", 204, "", false),
    ];
    let check = |what: &str,
                 status: u16,
                 headers: &http::HeaderMap,
                 body: &[u8],
                 want: (&str, u16, &str, bool)| {
        let (path, want_status, want_body, extra) = want;
        assert_eq!(status, want_status, "{what} {path}");
        assert_eq!(headers["etag"], "\"prepared-1\"", "{what} {path}");
        assert_eq!(body, want_body.as_bytes(), "{what} {path}");
        assert_eq!(headers.contains_key("x-extra"), extra, "{what} {path}");
        if want_status == 204 {
            assert!(
                !headers.contains_key("content-length"),
                "{what}: {headers:?}"
            );
        } else {
            assert_eq!(headers["content-type"], "text/plain");
            assert_eq!(
                headers["content-length"],
                want_body.len().to_string().as_str()
            );
        }
    };
    // HTTP/2, one connection: the first response inserts the fields into the HPACK table,
    // later ones reference them and are replayed from the memo; the h2 crate decodes them.
    block_on(support::STEP_TIMEOUT, async {
        let client = support::h2_connect(addr).await;
        for want in expected {
            let (resp, _) = client
                .clone()
                .ready()
                .await
                .unwrap()
                .send_request(support::request("GET", want.0), true)
                .unwrap();
            let resp = resp.await.unwrap();
            let (parts, mut body) = resp.into_parts();
            let body = support::read_body(&mut body).await.unwrap();
            check("h2", parts.status.as_u16(), &parts.headers, &body, want);
        }
    });
    // HTTP/1.1, one keep-alive connection.
    let urls: Vec<String> = expected
        .iter()
        .map(|(path, ..)| format!("http://{addr}{path}"))
        .collect();
    let mut args = vec!["-si", "--http1.1"];
    args.extend(urls.iter().map(String::as_str));
    let out = curl(&args);
    let responses: Vec<&str> = out.split("HTTP/1.1 ").skip(1).collect();
    assert_eq!(responses.len(), expected.len(), "{out}");
    for (response, want) in responses.iter().zip(expected) {
        let (head, body) = response.split_once("\r\n\r\n").unwrap();
        let mut lines = head.split("\r\n");
        let status: u16 = lines.next().unwrap()[..3].parse().unwrap();
        let mut headers = http::HeaderMap::new();
        for line in lines {
            let (name, value) = line.split_once(": ").unwrap();
            headers.append(
                http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                http::HeaderValue::from_str(value).unwrap(),
            );
        }
        check("http/1.1", status, &headers, body.as_bytes(), want);
    }
    running.handle().shutdown();
    running.join();
}

/// A service that answers some requests at once (`call_now`) and the rest through its
/// future; counts which path each request took.
struct SplitService {
    now: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    later: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl h2ring::Service for SplitService {
    fn call(
        &self,
        req: Request,
        _cx: Context,
    ) -> impl std::future::Future<Output = Response> + 'static {
        self.later.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let path = req.uri().path().to_string();
        async move { Response::new(Body::from(format!("later {path}"))) }
    }

    fn call_now(&self, req: &mut Request, _cx: &Context) -> Option<Response> {
        match req.uri().path() {
            "/now" => {
                self.now.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                Some(Response::new(Body::from("now /now")))
            }
            "/panic-now" => panic!("call_now panics"),
            _ => None,
        }
    }
}

/// `Service::call_now` answers without a future over HTTP/2 and HTTP/1.1 alike; a request
/// it hands back goes to `call`; a panic in it is a 500 and the connection lives on.
#[test]
fn call_now_answers_at_once_and_hands_back_the_rest() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    let (now, later) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let server = builder(1).build().unwrap();
    let (n, l) = (now.clone(), later.clone());
    let running = server
        .start(move |_core| SplitService {
            now: n.clone(),
            later: l.clone(),
        })
        .unwrap();
    let addr = running.local_addrs()[0];
    block_on(support::STEP_TIMEOUT, async {
        let mut client = support::h2_connect(addr).await;
        assert_eq!(
            support::get(&mut client, "/now").await,
            (200, b"now /now".to_vec())
        );
        let later_body = b"later /other".to_vec();
        assert_eq!(support::get(&mut client, "/other").await, (200, later_body));
        assert_eq!(
            support::get(&mut client, "/panic-now").await,
            (500, Vec::new())
        );
        assert_eq!(
            support::get(&mut client, "/now").await,
            (200, b"now /now".to_vec())
        );
    });
    assert_eq!(
        (now.load(Ordering::SeqCst), later.load(Ordering::SeqCst)),
        (2, 1)
    );
    let http1 = |path: &str| curl(&["--http1.1", "-s", &format!("http://{addr}{path}")]);
    assert_eq!(http1("/now"), "now /now");
    assert_eq!(http1("/other"), "later /other");
    let status = curl(&[
        "--http1.1",
        "-s",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        &format!("http://{addr}/panic-now"),
    ]);
    assert_eq!(status, "500");
    assert_eq!(
        (now.load(Ordering::SeqCst), later.load(Ordering::SeqCst)),
        (3, 2)
    );
    running.handle().shutdown();
    running.join();
}

/// Answers at once with what it saw of the request: method, URI and every `x-tag`.
struct MirrorNow;

impl h2ring::Service for MirrorNow {
    // `async fn` would borrow `self` into the future; the trait wants it `'static`.
    #[allow(clippy::manual_async_fn)]
    fn call(
        &self,
        _req: Request,
        _cx: Context,
    ) -> impl std::future::Future<Output = Response> + 'static {
        async { Response::new(Body::from("not answered at once")) }
    }

    fn call_now(&self, req: &mut Request, _cx: &Context) -> Option<Response> {
        Some(Response::new(Body::from(mirror(req))))
    }
}

fn mirror<B>(req: &http::Request<B>) -> String {
    let tags: Vec<&str> = req
        .headers()
        .get_all("x-tag")
        .iter()
        .map(|v| v.to_str().unwrap_or("?"))
        .collect();
    format!("{} {} [{}]", req.method(), req.uri(), tags.join(","))
}

/// Requests answered at once hand their memory back for the next request on the
/// connection, and a request repeated byte for byte is refilled from the decoder's memo
/// into that memory: every answer must still be the request's own, through repeats,
/// changes and repeats again.
#[test]
fn requests_answered_at_once_each_see_their_own_head() {
    let server = builder(1).build().unwrap();
    let running = server.start(|_core| MirrorNow).unwrap();
    let addr = running.local_addrs()[0];
    let request = |method: &str, path: &str, tags: &[&str]| {
        let mut req = support::request(method, path);
        for tag in tags {
            req.headers_mut()
                .append("x-tag", http::HeaderValue::from_str(tag).unwrap());
        }
        req
    };
    let script = [
        request("GET", "/a", &[]),
        request("GET", "/a", &[]),
        request("GET", "/a", &[]),
        request("GET", "/a", &["one"]),
        request("GET", "/a", &["one"]),
        request("GET", "/a", &["one"]),
        request("HEAD", "/b?x=1", &["one", "two"]),
        request("GET", "/b?x=1", &["one", "two"]),
        request("GET", "/b?x=1", &["one", "two"]),
        request("GET", "/b?x=1", &["two"]),
        request("GET", "/a", &[]),
        request("GET", "/a", &[]),
        request("DELETE", "/a", &[]),
        request("GET", "/a", &[]),
    ];
    block_on(support::STEP_TIMEOUT, async {
        let client = support::h2_connect(addr).await;
        let send = |req: &http::Request<()>| {
            let mut sent = http::Request::new(());
            *sent.method_mut() = req.method().clone();
            *sent.uri_mut() = req.uri().clone();
            *sent.headers_mut() = req.headers().clone();
            let want = mirror(req);
            let is_head = req.method() == http::Method::HEAD;
            let client = client.clone();
            async move {
                let (resp, _) = client
                    .ready()
                    .await
                    .unwrap()
                    .send_request(sent, true)
                    .unwrap();
                let resp = resp.await.unwrap();
                assert_eq!(resp.status(), 200);
                let body = support::read_body(&mut resp.into_body()).await.unwrap();
                let want = if is_head { String::new() } else { want };
                assert_eq!(String::from_utf8(body).unwrap(), want);
            }
        };
        // One at a time, then all at once: concurrent streams leave the recycled heads
        // in another order, so a refilled head once belonged to a different request.
        for _ in 0..3 {
            for req in &script {
                send(req).await;
            }
        }
        for _ in 0..3 {
            let all: Vec<_> = script.iter().map(|req| tokio::spawn(send(req))).collect();
            for one in all {
                one.await.unwrap();
            }
        }
    });
    running.handle().shutdown();
    running.join();
}

fn hello_factory(_core: &h2ring::CoreContext) -> impl h2ring::Service {
    service_fn(|_req: Request, _cx: Context| async { Response::new(Body::from("hi")) })
}

#[test]
fn busy_port_is_a_typed_error_with_its_os_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    let err = builder(1)
        .listen(addr)
        .build()
        .unwrap()
        .start(hello_factory)
        .unwrap_err();
    let StartError::Bind { addr: at, source } = &err else {
        panic!("{err:?}");
    };
    assert_eq!(*at, addr);
    assert_eq!(source.kind(), std::io::ErrorKind::AddrInUse);
    assert!(std::error::Error::source(&err).is_some());
    assert_eq!(
        err.to_string(),
        format!("cannot listen on {addr}: address already in use")
    );
}

#[test]
fn missing_certificate_files_fail_at_build() {
    let err = builder(1)
        .tls(h2ring::TlsConfig::from_pem_files(
            "/nonexistent/c.pem",
            "/nonexistent/k.pem",
        ))
        .build()
        .unwrap_err();
    assert!(
        matches!(&err, StartError::Tls(h2ring::TlsError::Certificate { path, .. })
            if path.to_str() == Some("/nonexistent/c.pem")),
        "{err:?}"
    );
}

/// One HTTP/1.1 request with `Connection: close`; the whole response.
fn http1_get(addr: std::net::SocketAddr, path: &str) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    text
}

#[test]
fn metrics_endpoint_serves_merged_counters() {
    let Some(cores) = two_cores() else {
        eprintln!("skipped: needs 2 cores");
        return;
    };
    let running = Server::builder()
        .listen("127.0.0.1:0".parse().unwrap())
        .cores(Cores::List(cores))
        .admin_addr(Some("127.0.0.1:0".parse().unwrap()))
        .build()
        .unwrap()
        .start(hello_factory)
        .unwrap();
    let addr = running.local_addrs()[0];
    for _ in 0..10 {
        assert!(http1_get(addr, "/").ends_with("hi"));
    }
    let metrics = running.admin_addr().unwrap();
    // Other cores publish once per second; wait for both to report.
    let deadline = Instant::now() + Duration::from_secs(5);
    let body = loop {
        let text = http1_get(metrics, "/metrics");
        assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text}");
        assert!(text.contains("content-type: text/plain; version=0.0.4\r\n"));
        if text.contains("\nh2ring_connections_opened_total 10\n") || Instant::now() > deadline {
            break text;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(
        body.contains("\nh2ring_connections_opened_total 10\n"),
        "{body}"
    );
    assert!(body.contains("\nh2ring_cores 2\n"), "{body}");
    running.handle().shutdown();
    running.join();
}
