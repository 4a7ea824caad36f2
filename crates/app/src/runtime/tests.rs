//! Runtime behaviour across cores: SO_REUSEPORT spreading, one pinned OS
//! thread per core, connection caps, startup errors and graceful shutdown.

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::net::{SocketAddr, TcpStream};
use std::rc::Rc;
use std::time::{Duration, Instant};

use std::sync::Arc;

use futures_lite::AsyncWriteExt;

use super::{start, ConnInfo, ConnectionFn, CoreContext, Runtime};
use crate::error::StartError;
use crate::metrics::MetricsHub;
use crate::server::builder::available_cores;
use crate::{Cores, ServerBuilder};

/// Starts the runtime alone (no HTTP) with `builder`'s settings and `factory`.
fn start_raw<F>(builder: ServerBuilder, factory: F) -> Result<Runtime, StartError>
where
    F: Fn(&CoreContext) -> ConnectionFn + Send + Sync + 'static,
{
    let config = builder.config();
    let cores = config.cores.resolve(&available_cores()?)?;
    let hub = MetricsHub::new(cores.len());
    let listeners = config.listen.len();
    // The same callback on every listener.
    let per_listener = move |core: &CoreContext| vec![factory(core); listeners];
    start(
        config.runtime_config(cores, None),
        hub,
        Arc::new(per_listener),
    )
}

const IO_TIMEOUT: Duration = Duration::from_secs(10);

fn loopback() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

/// The OS thread id of the calling thread, via /proc (no unsafe needed).
fn current_tid() -> u64 {
    let link = std::fs::read_link("/proc/thread-self").unwrap();
    link.file_name().unwrap().to_str().unwrap().parse().unwrap()
}

fn allowed_cpus(tid: u64) -> String {
    let status = std::fs::read_to_string(format!("/proc/self/task/{tid}/status")).unwrap();
    let line = status
        .lines()
        .find(|l| l.starts_with("Cpus_allowed_list:"))
        .unwrap();
    line.split(':').nth(1).unwrap().trim().to_string()
}

fn reply_factory(ctx: &CoreContext) -> ConnectionFn {
    let core = ctx.core();
    Rc::new(move |mut stream, _info: ConnInfo| {
        Box::pin(async move {
            let line = format!("core={core} thread={}\n", current_tid());
            let _ = stream.write_all(line.as_bytes()).await;
            let _ = stream.close().await;
        })
    })
}

fn connect(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect_timeout(&addr, IO_TIMEOUT).unwrap();
    s.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    s
}

fn read_line(addr: SocketAddr) -> String {
    let mut s = connect(addr);
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

fn two_cores() -> Option<Vec<usize>> {
    let cores = available_cores().unwrap();
    (cores.len() >= 2).then(|| cores[..2].to_vec())
}

#[test]
fn connections_spread_over_cores_each_on_one_pinned_thread() {
    let Some(cores) = two_cores() else {
        eprintln!("skipped: needs 2 cores");
        return;
    };
    let server = start_raw(
        ServerBuilder::new()
            .listen(loopback())
            .cores(Cores::List(cores.clone())),
        reply_factory,
    )
    .unwrap();
    let addr = server.local_addrs()[0];
    let mut threads_by_core: HashMap<usize, HashSet<u64>> = HashMap::new();
    for _ in 0..64 {
        let line = read_line(addr);
        let (core, thread) = line
            .trim()
            .strip_prefix("core=")
            .and_then(|r| r.split_once(" thread="))
            .unwrap_or_else(|| panic!("bad reply {line:?}"));
        let core: usize = core.parse().unwrap();
        threads_by_core
            .entry(core)
            .or_default()
            .insert(thread.parse().unwrap());
    }
    assert_eq!(
        threads_by_core.keys().copied().collect::<HashSet<_>>(),
        cores.iter().copied().collect::<HashSet<_>>(),
        "both cores must accept (SO_REUSEPORT)"
    );
    for (core, tids) in &threads_by_core {
        assert_eq!(tids.len(), 1, "core {core} used threads {tids:?}");
        let tid = *tids.iter().next().unwrap();
        assert_eq!(allowed_cpus(tid), core.to_string(), "thread pinned to core");
    }
    server.handle().shutdown();
    let summary = server.join();
    assert_eq!(summary.connections_served, 64);
    assert_eq!(summary.connections_forced, 0);
    assert_eq!(summary.cores, 2);
}

#[test]
fn busy_port_is_a_typed_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    let err = start_raw(
        ServerBuilder::new().listen(addr).cores(Cores::Count(1)),
        reply_factory,
    )
    .err()
    .unwrap();
    assert!(matches!(err, StartError::Bind { .. }));
    assert_eq!(
        err.to_string(),
        format!("cannot listen on {addr}: address already in use")
    );
}

#[test]
fn invalid_core_is_a_typed_error() {
    let err = start_raw(
        ServerBuilder::new()
            .listen(loopback())
            .cores(Cores::List(vec![4096])),
        reply_factory,
    )
    .err()
    .unwrap();
    assert!(matches!(err, StartError::InvalidCore { core: 4096, .. }));
    assert!(err
        .to_string()
        .starts_with("core 4096 does not exist (this machine has cores "));
}

/// Callback that holds each connection open until shutdown starts, then
/// writes "bye" (standing in for GOAWAY) and finishes.
fn wait_for_shutdown_factory(ctx: &CoreContext) -> ConnectionFn {
    let ctx = ctx.clone();
    Rc::new(move |mut stream, _info| {
        let shutdown = ctx.shutdown_started();
        Box::pin(async move {
            let _ = stream.write_all(b"hello\n").await;
            shutdown.await;
            let _ = stream.write_all(b"bye\n").await;
            let _ = stream.close().await;
        })
    })
}

fn read_exact_line(s: &mut TcpStream, expect: &str) {
    let mut buf = vec![0u8; expect.len()];
    s.read_exact(&mut buf).unwrap();
    assert_eq!(String::from_utf8(buf).unwrap(), expect);
}

#[test]
fn graceful_shutdown_signals_connections_and_stops_accepting() {
    let server = start_raw(
        ServerBuilder::new()
            .listen(loopback())
            .cores(Cores::Count(1))
            .drain_timeout(Duration::from_secs(10)),
        wait_for_shutdown_factory,
    )
    .unwrap();
    let addr = server.local_addrs()[0];
    let mut clients: Vec<TcpStream> = (0..4).map(|_| connect(addr)).collect();
    for c in &mut clients {
        read_exact_line(c, "hello\n");
    }
    let started = Instant::now();
    server.handle().shutdown();
    for c in &mut clients {
        read_exact_line(c, "bye\n");
        let mut rest = Vec::new();
        c.read_to_end(&mut rest).unwrap();
        assert!(rest.is_empty());
    }
    let summary = server.join();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(summary.connections_served, 4);
    assert_eq!(summary.connections_forced, 0);
    // The listener is closed: new connections are refused.
    assert!(connection_refused(addr));
}

/// True when a connect to `addr` is refused. A connect to a closed loopback
/// port can succeed as a TCP self-connect (source port == destination
/// port); that is nobody listening too.
fn connection_refused(addr: SocketAddr) -> bool {
    match TcpStream::connect_timeout(&addr, IO_TIMEOUT) {
        Err(e) => e.kind() == std::io::ErrorKind::ConnectionRefused,
        Ok(s) => s.local_addr().ok() == s.peer_addr().ok(),
    }
}

#[test]
fn stuck_connections_are_force_closed_at_the_deadline() {
    let server = start_raw(
        ServerBuilder::new()
            .listen(loopback())
            .cores(Cores::Count(1))
            .drain_timeout(Duration::from_millis(300)),
        |_ctx: &CoreContext| -> ConnectionFn {
            Rc::new(|mut stream, _info| {
                Box::pin(async move {
                    let _ = stream.write_all(b"hello\n").await;
                    // Never finishes on its own.
                    futures_lite::future::pending::<()>().await;
                })
            })
        },
    )
    .unwrap();
    let addr = server.local_addrs()[0];
    let mut clients: Vec<TcpStream> = (0..3).map(|_| connect(addr)).collect();
    for c in &mut clients {
        read_exact_line(c, "hello\n");
    }
    let started = Instant::now();
    server.handle().shutdown();
    let summary = server.join();
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(300), "{took:?}");
    assert!(took < Duration::from_secs(5), "{took:?}");
    assert_eq!(summary.connections_served, 3);
    assert_eq!(summary.connections_forced, 3);
    for c in &mut clients {
        let mut rest = Vec::new();
        // Forced close shows up as EOF (or reset) for the client.
        let n = c.read_to_end(&mut rest).unwrap_or(0);
        assert_eq!(n, 0);
    }
}

#[test]
fn connection_cap_defers_accepting_until_one_closes() {
    let server = start_raw(
        ServerBuilder::new()
            .listen(loopback())
            .cores(Cores::Count(1))
            .max_connections_per_core(2)
            .drain_timeout(Duration::from_millis(200)),
        |_ctx: &CoreContext| -> ConnectionFn {
            Rc::new(|mut stream, info: ConnInfo| {
                Box::pin(async move {
                    let line = format!("conn={}\n", info.conn_id);
                    let _ = stream.write_all(line.as_bytes()).await;
                    // Serve until the client closes.
                    let mut buf = [0u8; 16];
                    while let Ok(n) = futures_lite::AsyncReadExt::read(&mut stream, &mut buf).await
                    {
                        if n == 0 {
                            break;
                        }
                    }
                })
            })
        },
    )
    .unwrap();
    let addr = server.local_addrs()[0];
    let mut first = connect(addr);
    read_exact_line(&mut first, "conn=0\n");
    let mut second = connect(addr);
    read_exact_line(&mut second, "conn=1\n");
    // The kernel completes the handshake (backlog) but we do not accept.
    let mut third = connect(addr);
    third
        .set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let mut buf = [0u8; 7];
    let err = third.read_exact(&mut buf).unwrap_err();
    assert!(matches!(
        err.kind(),
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
    ));
    drop(first);
    third.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    read_exact_line(&mut third, "conn=2\n");
    drop(second);
    drop(third);
    server.handle().shutdown();
    let summary = server.join();
    assert_eq!(summary.connections_served, 3);
}

#[test]
fn ipv4_and_ipv6_listeners_together() {
    let v6: SocketAddr = "[::1]:0".parse().unwrap();
    if std::net::TcpListener::bind(v6).is_err() {
        eprintln!("skipped: no IPv6 loopback");
        return;
    }
    let server = start_raw(
        ServerBuilder::new()
            .listen(loopback())
            .listen(v6)
            .cores(Cores::Count(1)),
        reply_factory,
    )
    .unwrap();
    for &addr in server.local_addrs() {
        assert!(read_line(addr).starts_with("core="));
    }
    server.handle().shutdown();
    assert_eq!(server.join().connections_served, 2);
}
