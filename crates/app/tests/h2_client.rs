//! The `h2` crate as a client (tokio current-thread runtime in the test thread) against
//! an in-process server on its own glommio core: concurrency, full-duplex bodies,
//! trailers, client resets, server push, 1xx responses and HEAD.

mod support;

use std::future::poll_fn;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use h2ring::{Body, Context, Request, Service};
use http::{HeaderMap, HeaderValue, StatusCode};
use support::sha256::{sha256_hex, Sha256};
use support::{
    block_on, builder, core_wait_until, echo_service, get, h2_connect, h2_connect_with, pattern,
    read_body, request, text, wait_until, BoxResponse, DropFlag, TestServer, STEP_TIMEOUT,
};

const TEN_MIB: usize = 10 * 1024 * 1024;
const CONCURRENT: usize = 100;

/// What the handlers report back to the test thread.
#[derive(Default)]
struct Probe {
    arrived: AtomicUsize,
    writer_failed: AtomicBool,
    hang_started: AtomicBool,
    hang_dropped: Arc<AtomicBool>,
}

fn routes(probe: Arc<Probe>) -> impl Service {
    let echo = echo_service();
    h2ring::service_fn(move |req: Request, cx: Context| -> BoxResponse {
        let probe = probe.clone();
        match req.uri().path() {
            "/echo" => Box::pin(echo.call(req, cx)),
            "/concurrent" => Box::pin(concurrent(req, probe)),
            "/stream" => Box::pin(endless(probe, cx)),
            "/hang" => Box::pin(hang(probe)),
            "/page" => Box::pin(page(cx)),
            "/pushed.css" => Box::pin(async move { text(200, "body{}") }),
            "/hints" => Box::pin(hints(cx)),
            "/trailers-only" => Box::pin(trailers_only(cx)),
            _ => Box::pin(async { text(200, "ok") }),
        }
    })
}

/// Answers only once all [`CONCURRENT`] requests are in their handlers at the same time.
async fn concurrent(req: Request, probe: Arc<Probe>) -> h2ring::Response {
    probe.arrived.fetch_add(1, Ordering::SeqCst);
    let all_in = core_wait_until(STEP_TIMEOUT, || {
        probe.arrived.load(Ordering::SeqCst) >= CONCURRENT
    })
    .await;
    if !all_in {
        return text(503, "not all streams arrived");
    }
    text(200, format!("q={}", req.uri().query().unwrap_or("")))
}

/// A body that never ends on its own; records when a write fails.
async fn endless(probe: Arc<Probe>, cx: Context) -> h2ring::Response {
    let (mut writer, body) = Body::channel();
    cx.spawn(async move {
        let chunk = Bytes::from(vec![b'x'; 1024]);
        loop {
            if writer.send(chunk.clone()).await.is_err() {
                probe.writer_failed.store(true, Ordering::SeqCst);
                return;
            }
            glommio::timer::sleep(Duration::from_millis(1)).await;
        }
    });
    http::Response::new(body)
}

/// Never answers; a drop guard shows when the driver cancels it.
async fn hang(probe: Arc<Probe>) -> h2ring::Response {
    let _guard = DropFlag(probe.hang_dropped.clone());
    probe.hang_started.store(true, Ordering::SeqCst);
    futures_lite::future::pending::<()>().await;
    text(200, "unreachable")
}

/// Pushes `/pushed.css` when the client allows it, and says whether it did.
async fn page(cx: Context) -> h2ring::Response {
    let pushed = if cx.can_push() {
        cx.push("/pushed.css", HeaderMap::new()).is_ok()
    } else {
        false
    };
    let mut r = text(200, "page");
    let flag = if pushed { "yes" } else { "no" };
    r.headers_mut()
        .insert("x-pushed", HeaderValue::from_static(flag));
    r
}

/// 103 Early Hints, then the 200.
async fn hints(cx: Context) -> h2ring::Response {
    let mut link = HeaderMap::new();
    link.insert(
        "link",
        HeaderValue::from_static("</style.css>; rel=preload; as=style"),
    );
    if cx
        .send_informational(StatusCode::EARLY_HINTS, &link)
        .is_err()
    {
        return text(500, "103 failed");
    }
    text(200, "after hints")
}

/// A streamed response that ends with trailers and no data at all.
async fn trailers_only(cx: Context) -> h2ring::Response {
    let (writer, body) = Body::channel();
    cx.spawn(async move {
        let mut trailers = HeaderMap::new();
        trailers.insert("grpc-status", HeaderValue::from_static("7"));
        let _ = writer.send_trailers(trailers).await;
    });
    http::Response::new(body)
}

fn server() -> (Arc<Probe>, TestServer) {
    let probe = Arc::new(Probe::default());
    let p = probe.clone();
    let server = TestServer::start(builder(1), move |_| routes(p.clone()));
    (probe, server)
}

#[test]
fn hundred_concurrent_streams_on_one_connection() {
    let (probe, server) = server();
    block_on(STEP_TIMEOUT * 2, async {
        let client = h2_connect(server.addr).await;
        let mut tasks = Vec::new();
        for i in 0..CONCURRENT {
            let mut client = client.clone();
            tasks.push(tokio::spawn(async move {
                get(&mut client, &format!("/concurrent?{i}")).await
            }));
        }
        for (i, task) in tasks.into_iter().enumerate() {
            let (status, body) = task.await.unwrap();
            assert_eq!(status, 200, "stream {i}");
            assert_eq!(body, format!("q={i}").as_bytes());
        }
    });
    assert_eq!(probe.arrived.load(Ordering::SeqCst), CONCURRENT);
}

#[test]
fn ten_mib_full_duplex_echo_on_one_stream() {
    let (_probe, server) = server();
    let upload = Arc::new(pattern(TEN_MIB, 42));
    let expected = sha256_hex(&upload);
    let sent = Arc::new(AtomicUsize::new(0));
    block_on(STEP_TIMEOUT * 2, async {
        let mut client = h2_connect(server.addr).await;
        let (resp, mut send) = client
            .send_request(request("POST", "/echo"), false)
            .unwrap();
        let (data, sent_by_uploader) = (upload.clone(), sent.clone());
        let uploader = tokio::spawn(async move {
            for chunk in data.chunks(64 * 1024) {
                let mut chunk = Bytes::copy_from_slice(chunk);
                while !chunk.is_empty() {
                    send.reserve_capacity(chunk.len());
                    let n = poll_fn(|cx| send.poll_capacity(cx)).await.unwrap().unwrap();
                    let part = chunk.split_to(n.min(chunk.len()));
                    sent_by_uploader.fetch_add(part.len(), Ordering::SeqCst);
                    send.send_data(part, false).unwrap();
                }
            }
            send.send_data(Bytes::new(), true).unwrap();
        });
        let resp = resp.await.unwrap();
        assert_eq!(resp.status(), 200);
        let mut body = resp.into_body();
        let mut hash = Sha256::default();
        let mut received = 0;
        let mut sent_at_first_byte = None;
        while let Some(chunk) = body.data().await {
            let chunk = chunk.unwrap();
            sent_at_first_byte.get_or_insert(sent.load(Ordering::SeqCst));
            body.flow_control().release_capacity(chunk.len()).unwrap();
            received += chunk.len();
            hash.update(&chunk);
        }
        uploader.await.unwrap();
        assert_eq!(received, TEN_MIB);
        assert_eq!(hash.hex(), expected);
        // Full duplex: the echo started flowing back long before the upload ended.
        let early = sent_at_first_byte.unwrap();
        assert!(early < TEN_MIB / 2, "first echo byte after {early} sent");
    });
}

#[test]
fn trailers_both_ways() {
    let (_probe, server) = server();
    block_on(STEP_TIMEOUT, async {
        let mut client = h2_connect(server.addr).await;
        let (resp, mut send) = client
            .send_request(request("POST", "/echo"), false)
            .unwrap();
        send.send_data(Bytes::from_static(b"body before trailers"), false)
            .unwrap();
        let mut trailers = HeaderMap::new();
        trailers.insert("x-checksum", HeaderValue::from_static("abc123"));
        trailers.insert("grpc-status", HeaderValue::from_static("0"));
        send.send_trailers(trailers.clone()).unwrap();
        let mut body = resp.await.unwrap().into_body();
        assert_eq!(read_body(&mut body).await.unwrap(), b"body before trailers");
        // The echo handler read them with RequestBody::trailers and sent them back with
        // BodyWriter::send_trailers.
        let got = body.trailers().await.unwrap().expect("response trailers");
        assert_eq!(got, trailers);
    });
}

#[test]
fn client_reset_cancels_the_handler_and_the_connection_keeps_serving() {
    let (probe, server) = server();
    block_on(STEP_TIMEOUT, async {
        let mut client = h2_connect(server.addr).await;
        // A streaming response: reset after its first chunk.
        let (resp, mut send) = client
            .send_request(request("GET", "/stream"), true)
            .unwrap();
        let mut body = resp.await.unwrap().into_body();
        let first = body.data().await.unwrap().unwrap();
        assert_eq!(&first[..], &[b'x'; 1024][..]);
        send.send_reset(h2::Reason::CANCEL);
        // A handler that never answers: reset while it waits.
        let (_resp, mut send) = client
            .clone()
            .ready()
            .await
            .unwrap()
            .send_request(request("GET", "/hang"), true)
            .unwrap();
        let started = tokio::task::spawn_blocking({
            let probe = probe.clone();
            move || wait_until(STEP_TIMEOUT, || probe.hang_started.load(Ordering::SeqCst))
        });
        assert!(started.await.unwrap(), "hang handler never started");
        send.send_reset(h2::Reason::CANCEL);
        let cancelled = tokio::task::spawn_blocking({
            let probe = probe.clone();
            move || {
                wait_until(STEP_TIMEOUT, || {
                    probe.writer_failed.load(Ordering::SeqCst)
                        && probe.hang_dropped.load(Ordering::SeqCst)
                })
            }
        });
        assert!(cancelled.await.unwrap(), "handlers did not see the resets");
        // The connection is unharmed.
        assert_eq!(get(&mut client, "/other").await, (200, b"ok".to_vec()));
    });
}

#[test]
fn push_is_received_when_enabled() {
    let (_probe, server) = server();
    block_on(STEP_TIMEOUT, async {
        let mut builder = h2::client::Builder::new();
        builder.enable_push(true);
        let mut client = h2_connect_with(server.addr, builder).await;
        let (mut resp, _) = client.send_request(request("GET", "/page"), true).unwrap();
        let mut promises = resp.push_promises();
        let resp = resp.await.unwrap();
        assert_eq!(resp.headers()["x-pushed"], "yes");
        let mut body = resp.into_body();
        assert_eq!(read_body(&mut body).await.unwrap(), b"page");
        let promise = promises.push_promise().await.expect("a promise").unwrap();
        let (pushed_req, pushed_resp) = promise.into_parts();
        assert_eq!(pushed_req.method(), http::Method::GET);
        assert_eq!(pushed_req.uri().path(), "/pushed.css");
        let pushed = pushed_resp.await.unwrap();
        assert_eq!(pushed.status(), 200);
        let mut body = pushed.into_body();
        assert_eq!(read_body(&mut body).await.unwrap(), b"body{}");
        assert!(promises.push_promise().await.is_none());
    });
}

#[test]
fn push_is_not_sent_when_the_client_disables_it() {
    let (_probe, server) = server();
    block_on(STEP_TIMEOUT, async {
        let mut builder = h2::client::Builder::new();
        builder.enable_push(false);
        let mut client = h2_connect_with(server.addr, builder).await;
        // Our SETTINGS (ENABLE_PUSH=0) must be acknowledged before the server's view is
        // certain; a first round trip guarantees it has read them.
        assert_eq!(get(&mut client, "/").await.0, 200);
        let (mut resp, _) = client.send_request(request("GET", "/page"), true).unwrap();
        let mut promises = resp.push_promises();
        let resp = resp.await.unwrap();
        assert_eq!(resp.headers()["x-pushed"], "no");
        let mut body = resp.into_body();
        assert_eq!(read_body(&mut body).await.unwrap(), b"page");
        assert!(promises.push_promise().await.is_none());
    });
}

#[test]
fn early_hints_come_before_the_final_response() {
    let (_probe, server) = server();
    block_on(STEP_TIMEOUT, async {
        let mut client = h2_connect(server.addr).await;
        let (mut resp, _) = client.send_request(request("GET", "/hints"), true).unwrap();
        let info = poll_fn(|cx| resp.poll_informational(cx))
            .await
            .expect("an informational response")
            .unwrap();
        assert_eq!(info.status(), StatusCode::EARLY_HINTS);
        assert_eq!(
            info.headers()["link"],
            "</style.css>; rel=preload; as=style"
        );
        let resp = resp.await.unwrap();
        assert_eq!(resp.status(), 200);
        let mut body = resp.into_body();
        assert_eq!(read_body(&mut body).await.unwrap(), b"after hints");
    });
}

#[test]
fn head_has_the_get_headers_and_no_data() {
    let (_probe, server) = server();
    block_on(STEP_TIMEOUT, async {
        let mut client = h2_connect(server.addr).await;
        let (resp, _) = client.send_request(request("HEAD", "/any"), true).unwrap();
        let resp = resp.await.unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.headers()["content-length"], "2");
        let mut body = resp.into_body();
        assert!(
            body.is_end_stream(),
            "HEADERS of a HEAD response end the stream"
        );
        assert!(read_body(&mut body).await.unwrap().is_empty());
    });
}

#[test]
fn response_with_trailers_and_no_data() {
    let (_probe, server) = server();
    block_on(STEP_TIMEOUT, async {
        let mut client = h2_connect(server.addr).await;
        let (resp, _) = client
            .send_request(request("GET", "/trailers-only"), true)
            .unwrap();
        let resp = resp.await.unwrap();
        assert_eq!(resp.status(), 200);
        let mut body = resp.into_body();
        assert!(read_body(&mut body).await.unwrap().is_empty());
        let trailers = body.trailers().await.unwrap().expect("trailers");
        assert_eq!(trailers["grpc-status"], "7");
        assert_eq!(trailers.len(), 1);
    });
}
