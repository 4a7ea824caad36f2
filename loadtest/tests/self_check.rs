//! Self-check: against an in-process HTTP/2 server (the `h2` crate on a tokio
//! current-thread runtime) that delays every response by a known amount, the generator
//! must report latencies at, never below, that delay; and with a stalled server, the open
//! loop must show the stall in its high percentiles where the closed loop hides it
//! (coordinated omission).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use h2ring_loadtest::{run, Config, Cores, ErrorKind, Mode, Report, RequestSpec, Stop};
use http::{Response, StatusCode};

/// The delay the server adds to every response.
const DELAY: Duration = Duration::from_millis(20);
/// Allowed excess over the delay for p50 (timer granularity, a loaded 2-core CI box).
const SLACK: Duration = Duration::from_millis(15);

/// How the test server behaves.
#[derive(Clone, Copy)]
struct Behaviour {
    delay: Duration,
    /// After this many requests, every response waits until `stall` has passed.
    stall: Option<(u64, Duration)>,
    status: StatusCode,
    /// Expected upload length; the server answers 400 if the body differs.
    body_len: usize,
}

impl Behaviour {
    fn delayed() -> Behaviour {
        Behaviour {
            delay: DELAY,
            stall: None,
            status: StatusCode::OK,
            body_len: 0,
        }
    }
}

struct Shared {
    behaviour: Behaviour,
    count: AtomicU64,
    stalled_until: Mutex<Option<Instant>>,
}

/// Starts the server on its own thread; it lives until the test process ends.
fn start_server(behaviour: Behaviour) -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    let shared = Arc::new(Shared {
        behaviour,
        count: AtomicU64::new(0),
        stalled_until: Mutex::new(None),
    });
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            loop {
                let Ok((socket, _)) = listener.accept().await else {
                    continue;
                };
                let shared = shared.clone();
                tokio::spawn(async move {
                    let Ok(mut conn) = h2::server::handshake(socket).await else {
                        return;
                    };
                    while let Some(Ok((req, respond))) = conn.accept().await {
                        tokio::spawn(answer(shared.clone(), req, respond));
                    }
                });
            }
        });
    });
    addr
}

async fn answer(
    shared: Arc<Shared>,
    req: http::Request<h2::RecvStream>,
    mut respond: h2::server::SendResponse<Bytes>,
) {
    let b = shared.behaviour;
    let n = shared.count.fetch_add(1, Ordering::Relaxed) + 1;
    let mut body = req.into_body();
    let mut received = 0;
    while let Some(Ok(chunk)) = body.data().await {
        received += chunk.len();
        let _ = body.flow_control().release_capacity(chunk.len());
    }
    let until = {
        let mut stalled = shared.stalled_until.lock().unwrap();
        if let Some((at, length)) = b.stall {
            if n == at {
                *stalled = Some(Instant::now() + length);
            }
        }
        *stalled
    };
    if let Some(until) = until {
        tokio::time::sleep_until(until.into()).await;
    }
    tokio::time::sleep(b.delay).await;
    let status = if received == b.body_len {
        b.status
    } else {
        StatusCode::BAD_REQUEST
    };
    let response = Response::builder().status(status).body(()).unwrap();
    if let Ok(mut stream) = respond.send_response(response, false) {
        let _ = stream.send_data(Bytes::from_static(b"hello"), true);
    }
}

fn config(addr: SocketAddr, mode: Mode, connections: usize, streams: u32, secs: f64) -> Config {
    let mut c = Config::new(addr, RequestSpec::get(&addr.to_string(), "/"));
    c.mode = mode;
    c.connections = connections;
    c.streams = streams;
    c.stop = Stop::Duration(Duration::from_secs_f64(secs));
    c.cores = Cores::Unpinned(1);
    c
}

fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

fn assert_latency_near_delay(r: &Report) {
    let delay = DELAY.as_micros() as u64;
    let p50 = r.latency_us(50.0);
    let min = r.stats.latency.min();
    assert!(min >= delay, "min {} ms below the delay", ms(min));
    assert!(
        p50 >= delay && p50 <= delay + SLACK.as_micros() as u64,
        "p50 {} ms outside [20, 35] ms\n{}",
        ms(p50),
        r.render()
    );
    assert_eq!(r.stats.error_total(), 0, "{}", r.render());
}

#[test]
fn closed_loop_reports_the_server_delay() {
    let addr = start_server(Behaviour::delayed());
    let r = run(&config(addr, Mode::Closed, 2, 2, 1.0)).unwrap();
    assert_latency_near_delay(&r);
    // Four streams, each at most one response per 20 ms: at most 200 req/s.
    let rps = r.requests_per_sec();
    assert!(
        (100.0..=205.0).contains(&rps),
        "{rps} req/s\n{}",
        r.render()
    );
    assert_eq!(r.stats.connections_ok, 2);
    assert_eq!(r.stats.body_bytes, 5 * r.stats.succeeded);
}

#[test]
fn open_loop_reports_the_server_delay_at_the_asked_rate() {
    let addr = start_server(Behaviour::delayed());
    let r = run(&config(addr, Mode::Open { rate: 100.0 }, 2, 16, 1.0)).unwrap();
    assert_latency_near_delay(&r);
    // 100 req/s for 1 s; the last ~20 ms of sends complete after the end.
    let n = r.stats.succeeded;
    assert!((90..=101).contains(&n), "{n} responses\n{}", r.render());
}

#[test]
fn open_loop_shows_a_stall_that_closed_loop_hides() {
    let stall = Behaviour {
        stall: Some((30, Duration::from_millis(500))),
        ..Behaviour::delayed()
    };
    // Closed loop, one stream: the stall delays one request, the generator waits with
    // it, and p90 stays at the delay (coordinated omission).
    let closed = run(&config(start_server(stall), Mode::Closed, 1, 1, 2.0)).unwrap();
    assert!(closed.stats.latency.max() >= 500_000, "{}", closed.render());
    assert!(
        closed.latency_us(90.0) < 50_000,
        "closed p90 {} ms\n{}",
        ms(closed.latency_us(90.0)),
        closed.render()
    );
    // Open loop at 100 req/s: ~50 requests were due during the 500 ms stall and each
    // counts from its intended time, so ~a quarter of the samples are 20-520 ms.
    let open = run(&config(
        start_server(stall),
        Mode::Open { rate: 100.0 },
        1,
        64,
        2.0,
    ))
    .unwrap();
    assert!(open.stats.latency.max() >= 500_000, "{}", open.render());
    assert!(
        open.latency_us(90.0) >= 200_000,
        "open p90 {} ms\n{}",
        ms(open.latency_us(90.0)),
        open.render()
    );
    assert!(open.latency_us(50.0) < 100_000, "{}", open.render());
}

#[test]
fn uploads_arrive_whole_and_statuses_are_counted() {
    let upload = Behaviour {
        delay: Duration::ZERO,
        body_len: 200_000,
        ..Behaviour::delayed()
    };
    let addr = start_server(upload);
    let mut c = config(addr, Mode::Closed, 1, 4, 0.0);
    c.request.body = Bytes::from(vec![b'u'; 200_000]);
    c.request.method = "POST".into();
    c.stop = Stop::Requests(20);
    let r = run(&c).unwrap();
    // Any truncated body would have been answered 400.
    assert_eq!(r.stats.succeeded, 20, "{}", r.render());
    assert_eq!(r.stats.error_total(), 0);
    assert!(r.stats.bytes_out > 20 * 200_000);

    let failing = Behaviour {
        delay: Duration::ZERO,
        status: StatusCode::SERVICE_UNAVAILABLE,
        ..Behaviour::delayed()
    };
    let mut c = config(start_server(failing), Mode::Closed, 1, 2, 0.0);
    c.stop = Stop::Requests(10);
    let r = run(&c).unwrap();
    assert_eq!(r.stats.succeeded, 0);
    assert_eq!(r.stats.errors.get(&ErrorKind::Status(503)), Some(&10));
}

#[test]
fn refused_connections_are_connect_errors() {
    // Bind then drop: nothing listens on this port any more.
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let r = run(&config(addr, Mode::Closed, 1, 1, 0.3)).unwrap();
    assert_eq!(r.stats.succeeded, 0);
    assert!(
        r.stats
            .errors
            .get(&ErrorKind::Connect)
            .copied()
            .unwrap_or(0)
            >= 1
    );
}
