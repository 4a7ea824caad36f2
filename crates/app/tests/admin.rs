//! The admin endpoint with real clients (curl, raw sockets, the `h2` crate): probes and
//! scrapes are served concurrently and within their limits, `/readyz` turns 503 the
//! moment a drain starts while requests still finish, latency is a histogram per core and
//! protocol, and handler-registered metrics show up.

mod support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use h2ring::{Context, CoreContext, Request, RunningServer, ServerBuilder};
use support::*;

fn admin_builder(cores: usize) -> ServerBuilder {
    builder(cores).admin_addr(Some("127.0.0.1:0".parse().unwrap()))
}

fn hello(_core: &CoreContext) -> impl h2ring::Service {
    h2ring::service_fn(|_req: Request, _cx: Context| async { text(200, "hi") })
}

/// `curl URL` → (status, body).
fn curl_status(url: &str) -> (u16, String) {
    let out = curl(&["-w", "\n%{http_code}", url]);
    let (body, code) = out.rsplit_once('\n').unwrap();
    (code.parse().unwrap(), body.to_string())
}

/// A client that connected and sent part of a request head, then went quiet.
fn slow_client(admin: SocketAddr) -> TcpStream {
    let mut s = TcpStream::connect(admin).unwrap();
    s.set_read_timeout(Some(STEP_TIMEOUT)).unwrap();
    s.write_all(b"GET /metrics HTTP/1.1\r\nhost: x\r\n")
        .unwrap();
    s
}

fn finish_and_read(mut s: TcpStream) -> String {
    s.write_all(b"\r\n").unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

fn stop(running: RunningServer) {
    running.handle().shutdown();
    running.join();
}

#[test]
fn probes_answer_with_curl() {
    let server = TestServer::start(admin_builder(1), hello);
    let admin = server.admin_addr().unwrap();
    assert_eq!(
        curl_status(&format!("http://{admin}/healthz")),
        (200, "ok\n".into())
    );
    assert_eq!(
        curl_status(&format!("http://{admin}/readyz")),
        (200, "ready\n".into())
    );
    let (status, page) = curl_status(&format!("http://{admin}/metrics"));
    assert_eq!(status, 200);
    assert!(
        page.contains("\n# TYPE h2ring_request_duration_seconds histogram\n"),
        "{page}"
    );
    assert_eq!(curl_status(&format!("http://{admin}/nope")).0, 404);
    let head = curl(&["-sI", &format!("http://{admin}/readyz")]);
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    assert!(head.contains("content-length: 6\r\n"), "{head}");
}

#[test]
fn two_slow_admin_clients_do_not_block_a_third() {
    let server = TestServer::start(admin_builder(1), hello);
    let admin = server.admin_addr().unwrap();
    let slow = [slow_client(admin), slow_client(admin)];
    // Served while both are still sending their heads (the old endpoint served one
    // connection at a time and would wait out the first one's 5 s read timeout).
    let started = Instant::now();
    assert_eq!(curl_status(&format!("http://{admin}/healthz")).0, 200);
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    for s in slow {
        let page = finish_and_read(s);
        assert!(page.starts_with("HTTP/1.1 200 OK\r\n"), "{page}");
        assert!(page.contains("\nh2ring_cores 1\n"), "{page}");
    }
}

#[test]
fn admin_connections_past_the_cap_get_503_at_once() {
    let server = TestServer::start(admin_builder(1).admin_max_connections(1), hello);
    let admin = server.admin_addr().unwrap();
    let holder = slow_client(admin);
    // The holder's slot is taken once its connection is accepted; poll until the cap shows.
    let url = format!("http://{admin}/healthz");
    let mut seen = (0, String::new());
    assert!(wait_until(STEP_TIMEOUT, || {
        seen = curl_status(&url);
        seen.0 == 503
    }));
    assert_eq!(seen.1, "admin endpoint is busy\n");
    let page = finish_and_read(holder);
    assert!(page.starts_with("HTTP/1.1 200 OK\r\n"), "{page}");
    // The slot is free again once the holder's task has ended.
    assert!(wait_until(STEP_TIMEOUT, || curl_status(&url).0 == 200));
}

#[test]
fn a_silent_admin_client_is_closed_at_the_header_timeout() {
    let timeout = Duration::from_millis(300);
    let server = TestServer::start(admin_builder(1).admin_header_timeout(timeout), hello);
    let admin = server.admin_addr().unwrap();
    let started = Instant::now();
    let mut s = slow_client(admin);
    let mut out = Vec::new();
    // EOF without a response; a client on the default 5 s would still be open at 3 s.
    s.read_to_end(&mut out).unwrap();
    let waited = started.elapsed();
    assert!(out.is_empty(), "{}", String::from_utf8_lossy(&out));
    assert!(
        waited >= timeout && waited < Duration::from_secs(3),
        "{waited:?}"
    );
}

#[test]
fn readyz_turns_503_when_the_drain_starts_while_a_request_is_in_flight() {
    let entered = Arc::new(AtomicBool::new(false));
    let release = Arc::new(AtomicBool::new(false));
    let (e, r) = (entered.clone(), release.clone());
    let running = admin_builder(1)
        .build()
        .unwrap()
        .start(move |_core| {
            let (e, r) = (e.clone(), r.clone());
            h2ring::service_fn(move |_req: Request, _cx: Context| {
                let (e, r) = (e.clone(), r.clone());
                async move {
                    e.store(true, Ordering::SeqCst);
                    core_wait_until(STEP_TIMEOUT, || r.load(Ordering::SeqCst)).await;
                    text(200, "finished")
                }
            })
        })
        .unwrap();
    let addr = running.local_addrs()[0];
    let admin = running.admin_addr().unwrap();
    let readyz = format!("http://{admin}/readyz");
    let healthz = format!("http://{admin}/healthz");
    let client = std::thread::spawn(move || {
        block_on(STEP_TIMEOUT, async move {
            let mut client = h2_connect(addr).await;
            get(&mut client, "/slow").await
        })
    });
    assert!(wait_until(STEP_TIMEOUT, || entered.load(Ordering::SeqCst)));
    assert_eq!(curl_status(&readyz), (200, "ready\n".to_string()));
    running.handle().shutdown();
    // No waiting: the flag is set before `shutdown` returns.
    assert_eq!(curl_status(&readyz), (503, "draining\n".to_string()));
    assert_eq!(curl_status(&healthz).0, 200, "alive while draining");
    release.store(true, Ordering::SeqCst);
    let (status, body) = client.join().unwrap();
    assert_eq!((status, body.as_slice()), (200, &b"finished"[..]));
    running.join();
    // The endpoint stopped with the core: nothing listens there any more.
    assert!(TcpStream::connect(admin).is_err(), "admin still listening");
}

/// `(le, cumulative count)` of every bucket line of `series` with `labels`.
fn buckets(page: &str, labels: &str) -> Vec<(String, u64)> {
    let prefix = format!("h2ring_request_duration_seconds_bucket{{{labels},le=\"");
    page.lines()
        .filter_map(|l| {
            let rest = l.strip_prefix(&prefix)?;
            let (le, count) = rest.split_once("\"} ")?;
            Some((le.to_string(), count.parse().unwrap()))
        })
        .collect()
}

#[test]
fn latency_histogram_counts_requests_per_core_and_protocol() {
    let running = admin_builder(1).build().unwrap().start(hello).unwrap();
    let addr = running.local_addrs()[0];
    let core = running.cores()[0];
    let urls: Vec<String> = (0..12).map(|i| format!("http://{addr}/{i}")).collect();
    let urls: Vec<&str> = urls.iter().map(String::as_str).collect();
    let (ok, out, err) = run_tool("h2load", &["-n", "12", "-c", "1", urls[0]]);
    assert!(ok && parse_h2load(&out).succeeded == 12, "{out}{err}");
    curl(&[&["--http1.1", "-o", "/dev/null"][..], &urls[..5]].concat());
    // One core: it publishes on every scrape, so the counts are exact at once.
    let page = scrape(running.admin_addr().unwrap());
    for (protocol, n) in [("h2", 12), ("h1", 5)] {
        let labels = format!("core=\"{core}\",protocol=\"{protocol}\"");
        let rows = buckets(&page, &labels);
        assert_eq!(rows.len(), 18, "17 bounds and +Inf for {labels}:\n{page}");
        assert_eq!(rows[0].0, "0.00005");
        assert_eq!(rows.last().unwrap(), &("+Inf".to_string(), n));
        assert!(
            rows.windows(2).all(|w| w[0].1 <= w[1].1),
            "cumulative: {rows:?}"
        );
        // A loopback hello takes well under 10 s.
        assert_eq!(rows[16], ("10".to_string(), n), "{rows:?}");
        let count = format!("h2ring_request_duration_seconds_count{{{labels}}}");
        assert_eq!(prometheus_value(&page, &count), Some(n), "{page}");
        let sum_prefix = format!("h2ring_request_duration_seconds_sum{{{labels}}} ");
        let sum: f64 = page
            .lines()
            .find_map(|l| l.strip_prefix(&sum_prefix))
            .unwrap()
            .parse()
            .unwrap();
        assert!((0.0..10.0).contains(&sum), "{sum}");
    }
    stop(running);
}

#[test]
fn handler_registered_metrics_are_rendered_per_core() {
    let cores = two_cores().map_or(1, |c| c.len());
    let running = admin_builder(cores)
        .build()
        .unwrap()
        .start(|core: &CoreContext| {
            let hits = core.counter("app_hits_total", "Requests the test handler saw.");
            let sizes = core.histogram("app_path_octets", "Path lengths.", &[2.0, 8.0]);
            h2ring::service_fn(move |req: Request, _cx: Context| {
                hits.inc();
                sizes.observe(req.uri().path().len() as f64);
                async { text(200, "counted") }
            })
        })
        .unwrap();
    let addr = running.local_addrs()[0];
    let urls: Vec<String> = (0..10).map(|i| format!("http://{addr}/p{i}")).collect();
    for url in &urls {
        // A connection each, so SO_REUSEPORT spreads them over the cores.
        curl(&["--http2-prior-knowledge", "-o", "/dev/null", url]);
    }
    let admin = running.admin_addr().unwrap();
    let total = |page: &str, prefix: &str| -> u64 {
        page.lines()
            .filter_map(|l| {
                l.strip_prefix(prefix)?
                    .split_once("} ")?
                    .1
                    .parse::<u64>()
                    .ok()
            })
            .sum()
    };
    // Cores other than the first publish once a second.
    let mut page = String::new();
    assert!(
        wait_until(STEP_TIMEOUT, || {
            page = scrape(admin);
            total(&page, "app_hits_total{core=\"") == 10
        }),
        "{page}"
    );
    assert!(page.contains("# TYPE app_hits_total counter\n"), "{page}");
    assert!(
        page.contains("# HELP app_path_octets Path lengths.\n"),
        "{page}"
    );
    assert!(
        page.contains("# TYPE app_path_octets histogram\n"),
        "{page}"
    );
    // Paths `/pN` are 3 octets: above the 2 bound, within 8.
    // Summed over the three buckets (le 2, le 8, +Inf): 0 + 10 + 10.
    assert_eq!(total(&page, "app_path_octets_bucket{core=\""), 20, "{page}");
    assert_eq!(total(&page, "app_path_octets_count{core=\""), 10, "{page}");
    for core in running.cores() {
        let line = format!("app_hits_total{{core=\"{core}\"}} ");
        assert!(page.contains(&line), "{line} missing:\n{page}");
    }
    stop(running);
}

#[test]
fn an_admin_request_head_past_8_kib_is_431() {
    let server = TestServer::start(admin_builder(1), hello);
    let mut s = TcpStream::connect(server.admin_addr().unwrap()).unwrap();
    s.set_read_timeout(Some(STEP_TIMEOUT)).unwrap();
    // Exactly the 8 KiB the endpoint reads, with no end of head in it: nothing is left
    // unread, so the close after the answer is clean.
    let mut head = b"GET /metrics HTTP/1.1\r\nx-pad: ".to_vec();
    head.resize(8 * 1024, b'a');
    s.write_all(&head).unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    assert!(
        out.starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n"),
        "{out}"
    );
}
