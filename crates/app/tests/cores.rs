//! Per-core behaviour over HTTP/2: both cores' listeners take h2 connections and every
//! request of a connection runs on its core's one OS thread; `/metrics` counts h2
//! requests; `Service::on_connection` sees a connection's life in order.

mod support;

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use h2ring::{ConnInfo, ConnState, Context, Request, Response, Service};
use support::{
    block_on, builder, get, h2_connect, prometheus_value, scrape, text, two_cores, wait_until,
    TestServer, STEP_TIMEOUT,
};

/// Connections opened at most while looking for both cores.
const MAX_CONNECTIONS: usize = 32;
/// Requests sent on each connection.
const REQUESTS_PER_CONNECTION: usize = 4;

fn whoami() -> impl Service {
    h2ring::service_fn(|_req: Request, cx: Context| async move {
        let info = cx.conn_info();
        text(
            200,
            format!(
                "core={} conn={} thread={:?}",
                info.core,
                info.conn_id,
                std::thread::current().id()
            ),
        )
    })
}

#[test]
fn both_cores_serve_h2_and_a_connection_stays_on_one_thread() {
    let Some(cores) = two_cores() else {
        eprintln!("skipped: needs 2 cores");
        return;
    };
    let server = TestServer::start(builder(2).cores(h2ring::Cores::List(cores.clone())), |_| {
        whoami()
    });
    let threads_by_core = block_on(STEP_TIMEOUT * 2, async {
        let mut threads_by_core: HashMap<usize, HashSet<String>> = HashMap::new();
        for _ in 0..MAX_CONNECTIONS {
            let mut client = h2_connect(server.addr).await;
            let mut replies = HashSet::new();
            for _ in 0..REQUESTS_PER_CONNECTION {
                let (status, body) = get(&mut client, "/").await;
                assert_eq!(status, 200);
                replies.insert(String::from_utf8(body).unwrap());
            }
            // Same core, same connection id, same OS thread for every request.
            assert_eq!(replies.len(), 1, "{replies:?}");
            let reply = replies.into_iter().next().unwrap();
            let (core, rest) = reply
                .strip_prefix("core=")
                .and_then(|r| r.split_once(' '))
                .unwrap();
            let thread = rest.split_once(" thread=").unwrap().1.to_string();
            threads_by_core
                .entry(core.parse().unwrap())
                .or_default()
                .insert(thread);
            if threads_by_core.len() == cores.len() {
                break;
            }
        }
        threads_by_core
    });
    assert_eq!(
        threads_by_core.keys().copied().collect::<HashSet<_>>(),
        cores.iter().copied().collect::<HashSet<_>>(),
        "both listeners must accept h2 connections"
    );
    for (core, threads) in &threads_by_core {
        assert_eq!(threads.len(), 1, "core {core} ran on {threads:?}");
    }
    let all: HashSet<_> = threads_by_core.values().flatten().collect();
    assert_eq!(all.len(), cores.len(), "each core has its own thread");
}

#[test]
fn metrics_count_h2_requests_by_class() {
    let server = TestServer::start(
        builder(1).admin_addr(Some("127.0.0.1:0".parse().unwrap())),
        |_| {
            h2ring::service_fn(|req: Request, _cx: Context| async move {
                if req.uri().path() == "/missing" {
                    text(404, "no")
                } else {
                    text(200, "yes")
                }
            })
        },
    );
    let metrics = server.admin_addr().unwrap();
    block_on(STEP_TIMEOUT, async {
        let mut client = h2_connect(server.addr).await;
        for _ in 0..25 {
            assert_eq!(get(&mut client, "/").await.0, 200);
        }
        for _ in 0..3 {
            assert_eq!(get(&mut client, "/missing").await.0, 404);
        }
    });
    // Publication is periodic: poll until the counters arrive.
    let mut page = String::new();
    let counted = wait_until(Duration::from_secs(10), || {
        page = scrape(metrics);
        prometheus_value(&page, "h2ring_requests_total{class=\"2xx\"}") == Some(25)
    });
    assert!(counted, "{page}");
    assert_eq!(
        prometheus_value(&page, "h2ring_requests_total{class=\"4xx\"}"),
        Some(3),
        "{page}"
    );
    assert_eq!(
        prometheus_value(&page, "h2ring_requests_total{class=\"5xx\"}"),
        Some(0),
        "{page}"
    );
}

type Log = Arc<Mutex<Vec<(u64, ConnState)>>>;

/// Answers "ok" and records every `on_connection` call.
struct Recorder(Log);

impl Service for Recorder {
    fn call(&self, _req: Request, _cx: Context) -> impl Future<Output = Response> + 'static {
        std::future::ready(text(200, "ok"))
    }

    fn on_connection(&self, info: &ConnInfo, state: ConnState) {
        self.0.lock().unwrap().push((info.conn_id, state));
    }
}

fn states(log: &Log) -> Vec<ConnState> {
    log.lock().unwrap().iter().map(|(_, s)| *s).collect()
}

#[test]
fn connection_hooks_see_new_active_idle_closed_in_order() {
    let log: Log = Arc::default();
    let l = log.clone();
    let server = TestServer::start(builder(1), move |_| Recorder(l.clone()));
    block_on(STEP_TIMEOUT, async {
        let mut client = h2_connect(server.addr).await;
        for round in 1..=2 {
            assert_eq!(get(&mut client, "/").await, (200, b"ok".to_vec()));
            // Wait for the server to record this round's Idle before the next request,
            // so the two rounds cannot merge into one Active period.
            let log = log.clone();
            let idle = tokio::task::spawn_blocking(move || {
                wait_until(STEP_TIMEOUT, || {
                    states(&log)
                        .iter()
                        .filter(|s| **s == ConnState::Idle)
                        .count()
                        == round
                })
            });
            assert!(idle.await.unwrap(), "no Idle after round {round}");
        }
        drop(client);
    });
    assert!(
        wait_until(STEP_TIMEOUT, || states(&log).last()
            == Some(&ConnState::Closed)),
        "{:?}",
        states(&log)
    );
    use ConnState::*;
    assert_eq!(states(&log), vec![New, Active, Idle, Active, Idle, Closed]);
    let ids: HashSet<u64> = log.lock().unwrap().iter().map(|(id, _)| *id).collect();
    assert_eq!(ids.len(), 1, "one connection");
}
