//! Failure and limit behaviour seen by the `h2` crate as a client: panicking handlers,
//! request-body backpressure, the per-core handler cap (REFUSED_STREAM) and RFC 8441
//! extended CONNECT.

mod support;

use std::future::poll_fn;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use h2ring::{Body, Context, Http2Config, Request, Service};
use support::{
    block_on, builder, core_wait_until, echo_service, get, h2_connect, pattern, read_body, request,
    text, wait_until, BoxResponse, TestServer, STEP_TIMEOUT,
};

/// The server's per-stream and per-connection receive windows in these tests.
const WINDOW: u32 = 256 * 1024;

#[derive(Default)]
struct Probe {
    waiting: AtomicBool,
    release: AtomicBool,
}

fn routes(probe: Arc<Probe>) -> impl Service {
    let echo = echo_service();
    h2ring::service_fn(move |req: Request, cx: Context| -> BoxResponse {
        let probe = probe.clone();
        match req.uri().path() {
            "/echo" => Box::pin(echo.call(req, cx)),
            "/panic-early" => Box::pin(async { panic!("handler panics before answering") }),
            "/panic-in-call" => panic!("the service closure panics before making a future"),
            "/panic-late" => Box::pin(panic_after_head(cx)),
            "/panic-before-head" => Box::pin(panic_before_head(cx)),
            "/core-dies" => {
                // A task spawned with glommio directly has no guard: its panic takes the
                // core's executor down, and with it the server.
                glommio::spawn_local(async {
                    // After the handler's own guard is gone: from the executor's loop.
                    glommio::timer::sleep(Duration::from_millis(10)).await;
                    panic!("an unguarded task panics")
                })
                .detach();
                Box::pin(async { text(200, "the core will die") })
            }
            "/sink" => Box::pin(async move {
                // Holds the body without reading it, until cancelled.
                let _body = req.into_body();
                futures_lite::future::pending::<()>().await;
                text(200, "unreachable")
            }),
            "/wait" => Box::pin(async move {
                probe.waiting.store(true, Ordering::SeqCst);
                let released =
                    core_wait_until(STEP_TIMEOUT, || probe.release.load(Ordering::SeqCst)).await;
                text(if released { 200 } else { 504 }, "waited")
            }),
            "/chat" => Box::pin(connect_echo(req, cx, echo_service())),
            _ => Box::pin(async { text(200, "ok") }),
        }
    })
}

/// Sends the head and a first chunk, then the writer task (spawned with `Context::spawn`,
/// which catches its panic) panics: the stream must be reset with INTERNAL_ERROR, and
/// the connection and core carry on.
async fn panic_after_head(cx: Context) -> h2ring::Response {
    let (mut writer, body) = Body::channel();
    cx.spawn(async move {
        let _ = writer.send(Bytes::from_static(b"partial")).await;
        glommio::timer::sleep(Duration::from_millis(20)).await;
        let _held = writer;
        panic!("writer panics mid-body");
    });
    http::Response::new(body)
}

/// The writer task panics before the handler has returned the head: the answer is 500.
async fn panic_before_head(cx: Context) -> h2ring::Response {
    let (writer, body) = Body::channel();
    let ran = std::rc::Rc::new(std::cell::Cell::new(false));
    let flag = ran.clone();
    cx.spawn(async move {
        let _held = writer;
        flag.set(true);
        panic!("writer panics before the head");
    });
    // The head goes out only after the task has run (and panicked).
    assert!(core_wait_until(STEP_TIMEOUT, || ran.get()).await);
    glommio::timer::sleep(Duration::from_millis(5)).await;
    http::Response::new(body)
}

/// An extended CONNECT for `websocket` becomes a byte pipe (echo); anything else is 400.
async fn connect_echo(req: Request, cx: Context, echo: impl Service) -> h2ring::Response {
    let protocol = req.extensions().get::<h2ring::Protocol>().cloned();
    if req.method() != http::Method::CONNECT
        || protocol != Some(h2ring::Protocol("websocket".into()))
    {
        return text(400, "expected extended CONNECT");
    }
    echo.call(req, cx).await
}

fn server_with(
    config: impl FnOnce(h2ring::ServerBuilder) -> h2ring::ServerBuilder,
) -> (Arc<Probe>, TestServer) {
    let probe = Arc::new(Probe::default());
    let p = probe.clone();
    let server = TestServer::start(config(builder(1)), move |_| routes(p.clone()));
    (probe, server)
}

fn small_windows() -> Http2Config {
    {
        let mut config = Http2Config::default();
        config.stream_window = WINDOW;
        config.connection_window = WINDOW;
        config
    }
}

#[test]
fn panic_before_the_head_is_a_500_and_the_connection_survives() {
    let (_probe, server) = server_with(|b| b);
    block_on(STEP_TIMEOUT, async {
        let mut client = h2_connect(server.addr).await;
        let (status, body) = get(&mut client, "/panic-early").await;
        assert_eq!(status, 500);
        assert!(body.is_empty());
        assert_eq!(get(&mut client, "/after").await, (200, b"ok".to_vec()));
        // A panic in the call itself (before any future exists) is caught the same way.
        assert_eq!(get(&mut client, "/panic-in-call").await, (500, Vec::new()));
        assert_eq!(get(&mut client, "/after").await, (200, b"ok".to_vec()));
    });
}

#[test]
fn panic_after_the_head_resets_with_internal_error_and_the_connection_survives() {
    let (_probe, server) = server_with(|b| b);
    block_on(STEP_TIMEOUT, async {
        let mut client = h2_connect(server.addr).await;
        let (resp, _) = client
            .send_request(request("GET", "/panic-late"), true)
            .unwrap();
        let resp = resp.await.unwrap();
        assert_eq!(resp.status(), 200);
        let mut body = resp.into_body();
        let first = body.data().await.unwrap().unwrap();
        assert_eq!(&first[..], b"partial");
        let err = read_body(&mut body).await.unwrap_err();
        assert_eq!(err.reason(), Some(h2::Reason::INTERNAL_ERROR), "{err}");
        assert!(err.is_remote(), "{err}");
        assert_eq!(get(&mut client, "/after").await, (200, b"ok".to_vec()));
    });
}

/// `Context::spawn`: a task that panics before its handler returned the head makes the
/// response a 500, and a later request on the same connection is served; the server's
/// summary counts the panic.
#[test]
fn a_spawned_task_that_panics_before_the_head_gives_500() {
    let (_probe, server) = server_with(|b| b);
    block_on(STEP_TIMEOUT, async {
        let mut client = h2_connect(server.addr).await;
        assert_eq!(
            get(&mut client, "/panic-before-head").await,
            (500, Vec::new())
        );
        assert_eq!(get(&mut client, "/after").await, (200, b"ok".to_vec()));
        // And after the head: reset, counted too.
        let (resp, _) = client
            .send_request(request("GET", "/panic-late"), true)
            .unwrap();
        let mut body = resp.await.unwrap().into_body();
        assert!(read_body(&mut body).await.is_err());
    });
    let summary = server.stop();
    assert_eq!(summary.handler_panics, 2, "{summary:?}");
    assert!(summary.failed_cores.is_empty(), "{summary:?}");
}

/// A panic no guard catches (a task spawned with glommio directly) kills the core's
/// executor; the server does not run on without it: every core stops and `join` names
/// the dead one.
#[test]
fn a_dead_core_stops_the_server_and_is_reported() {
    let server = builder(1)
        .build()
        .unwrap()
        .start(|_: &h2ring::CoreContext| routes(Arc::new(Probe::default())))
        .unwrap();
    let addr = server.local_addrs()[0];
    let cores = server.cores().to_vec();
    block_on(STEP_TIMEOUT, async {
        let mut client = h2_connect(addr).await;
        // The answer may or may not make it out before the executor dies.
        let (resp, _) = client
            .send_request(request("GET", "/core-dies"), true)
            .unwrap();
        let _ = resp.await;
    });
    // No shutdown requested: the dead core stops the server by itself.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(server.join());
    });
    let summary = rx
        .recv_timeout(STEP_TIMEOUT)
        .expect("the server stopped after its core died");
    assert_eq!(summary.failed_cores, cores, "{summary:?}");
    assert!(summary.to_string().contains("died"), "{summary}");
}

#[test]
fn unread_request_body_keeps_the_client_window_closed() {
    let (_probe, server) = server_with(|b| b.http2(small_windows()));
    block_on(STEP_TIMEOUT, async {
        let mut client = h2_connect(server.addr).await;
        // One round trip so the client has applied our SETTINGS (the stream window).
        assert_eq!(get(&mut client, "/").await.0, 200);
        let (_resp, mut send) = client
            .send_request(request("POST", "/sink"), false)
            .unwrap();
        let upload = Bytes::from(pattern(4 * WINDOW as usize, 3));
        let mut sent = 0;
        send.reserve_capacity(upload.len());
        loop {
            let granted = tokio::time::timeout(
                Duration::from_millis(500),
                poll_fn(|cx| send.poll_capacity(cx)),
            )
            .await;
            let Ok(Some(Ok(n))) = granted else { break };
            send.send_data(upload.slice(sent..sent + n), false).unwrap();
            sent += n;
        }
        // Exactly the advertised window went out; no WINDOW_UPDATE followed because the
        // handler read nothing.
        assert_eq!(sent, WINDOW as usize);
        assert_eq!(send.capacity(), 0);
        // Other streams still work (a GET needs no window) ...
        assert_eq!(get(&mut client, "/still").await, (200, b"ok".to_vec()));
        // ... and cancelling the stuck upload gives its connection window back.
        send.send_reset(h2::Reason::CANCEL);
        let (resp, mut echo) = client
            .clone()
            .ready()
            .await
            .unwrap()
            .send_request(request("POST", "/echo"), false)
            .unwrap();
        let data = Bytes::from(pattern(WINDOW as usize / 2, 4));
        let mut at = 0;
        echo.reserve_capacity(data.len());
        while at < data.len() {
            let n = poll_fn(|cx| echo.poll_capacity(cx)).await.unwrap().unwrap();
            echo.send_data(data.slice(at..at + n), false).unwrap();
            at += n;
        }
        echo.send_data(Bytes::new(), true).unwrap();
        let mut body = resp.await.unwrap().into_body();
        assert_eq!(read_body(&mut body).await.unwrap(), data);
    });
}

#[test]
fn handler_cap_refuses_the_second_stream() {
    let (probe, server) = server_with(|b| b.max_handlers_per_core(1));
    block_on(STEP_TIMEOUT, async {
        let mut client = h2_connect(server.addr).await;
        let (waiting, _) = client.send_request(request("GET", "/wait"), true).unwrap();
        let started = tokio::task::spawn_blocking({
            let probe = probe.clone();
            move || wait_until(STEP_TIMEOUT, || probe.waiting.load(Ordering::SeqCst))
        });
        assert!(started.await.unwrap(), "first handler never started");
        let (refused, _) = client
            .clone()
            .ready()
            .await
            .unwrap()
            .send_request(request("GET", "/second"), true)
            .unwrap();
        let err = refused.await.unwrap_err();
        assert_eq!(err.reason(), Some(h2::Reason::REFUSED_STREAM), "{err}");
        probe.release.store(true, Ordering::SeqCst);
        let resp = waiting.await.unwrap();
        assert_eq!(resp.status(), 200);
        // The slot is free again once the first handler finished.
        assert_eq!(get(&mut client, "/third").await, (200, b"ok".to_vec()));
    });
}

#[test]
fn extended_connect_is_advertised_and_pipes_bytes_both_ways() {
    let config = {
        let mut config = Http2Config::default();
        config.extended_connect = true;
        config
    };
    let (_probe, server) = server_with(|b| b.http2(config));
    block_on(STEP_TIMEOUT, async {
        let mut client = h2_connect(server.addr).await;
        assert_eq!(get(&mut client, "/").await.0, 200);
        assert!(client.is_extended_connect_protocol_enabled());
        let mut req = http::Request::builder()
            .method(http::Method::CONNECT)
            .uri("http://127.0.0.1/chat")
            .body(())
            .unwrap();
        req.extensions_mut()
            .insert(h2::ext::Protocol::from_static("websocket"));
        let (resp, mut send) = client.send_request(req, false).unwrap();
        let resp = resp.await.unwrap();
        assert_eq!(resp.status(), 200);
        let mut recv = resp.into_body();
        for msg in [&b"hello"[..], b"over", b"connect"] {
            send.send_data(Bytes::from_static(msg), false).unwrap();
            let back = recv.data().await.unwrap().unwrap();
            recv.flow_control().release_capacity(back.len()).unwrap();
            assert_eq!(&back[..], msg);
        }
        send.send_data(Bytes::new(), true).unwrap();
        // The echo ends its side too (possibly with an empty END_STREAM DATA frame).
        assert!(read_body(&mut recv).await.unwrap().is_empty());
    });
}

#[test]
fn extended_connect_is_not_advertised_by_default() {
    let (_probe, server) = server_with(|b| b);
    block_on(STEP_TIMEOUT, async {
        let mut client = h2_connect(server.addr).await;
        assert_eq!(get(&mut client, "/").await.0, 200);
        assert!(!client.is_extended_connect_protocol_enabled());
    });
}
