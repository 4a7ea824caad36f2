//! A core never sleeps through work. The vendored glommio keeps its preemption timers armed
//! across scheduler passes (third_party/glommio/H2RING_PATCH.md, change 2), so a timer
//! may fire while the core sleeps or just before it runs its task queues; neither may
//! leave a request, a new connection or a handler's timer waiting.

mod support;

use std::time::{Duration, Instant};

use h2ring::{Context, Request};
use support::{block_on, builder, get, h2_connect, text, BoxResponse, TestServer};

/// Far above any honest answer on loopback, far below the multi-second stalls a missed
/// wake-up causes (the core then waits for some unrelated timer).
const PROMPT: Duration = Duration::from_millis(750);

fn server() -> TestServer {
    TestServer::start(builder(1), |_core| {
        h2ring::service_fn(|req: Request, _cx: Context| -> BoxResponse {
            match req.uri().path() {
                "/timer" => Box::pin(async {
                    glommio::timer::sleep(Duration::from_millis(30)).await;
                    text(200, "slept")
                }),
                _ => Box::pin(async { text(200, "ok") }),
            }
        })
    })
}

async fn timed_get(client: &mut h2::client::SendRequest<bytes::Bytes>, path: &str) -> Duration {
    let started = Instant::now();
    let (status, _) = tokio::time::timeout(PROMPT * 4, get(client, path))
        .await
        .unwrap_or_else(|_| panic!("{path}: no answer"));
    assert_eq!(status, 200, "{path}");
    started.elapsed()
}

fn assert_prompt(what: &str, took: Duration, floor: Duration) {
    assert!(
        took >= floor && took < floor + PROMPT,
        "{what}: answered after {took:?}"
    );
}

#[test]
fn requests_and_connections_after_idle_pauses_are_answered_at_once() {
    let server = server();
    block_on(Duration::from_secs(60), async {
        let mut client = h2_connect(server.addr).await;
        // Pauses around and beyond the 10 ms preemption slice: the kept timer fires while
        // the core sleeps, or has just fired when the request arrives.
        for pause_ms in [0u64, 3, 9, 11, 15, 25, 40, 0, 12, 1] {
            tokio::time::sleep(Duration::from_millis(pause_ms)).await;
            let took = timed_get(&mut client, "/").await;
            assert_prompt(&format!("after {pause_ms} ms"), took, Duration::ZERO);
            let started = Instant::now();
            let mut fresh = h2_connect(server.addr).await;
            let took = started.elapsed() + timed_get(&mut fresh, "/").await;
            assert_prompt(
                &format!("new connection after {pause_ms} ms"),
                took,
                Duration::ZERO,
            );
        }
    });
}

#[test]
fn a_handler_timer_fires_on_an_otherwise_idle_core() {
    let server = server();
    block_on(Duration::from_secs(30), async {
        let mut client = h2_connect(server.addr).await;
        for _ in 0..5 {
            let took = timed_get(&mut client, "/timer").await;
            assert_prompt("30 ms handler timer", took, Duration::from_millis(30));
            tokio::time::sleep(Duration::from_millis(15)).await;
        }
    });
}

#[test]
fn thousands_of_back_to_back_requests_never_stall() {
    let server = server();
    block_on(Duration::from_secs(120), async {
        let mut client = h2_connect(server.addr).await;
        let mut slowest = Duration::ZERO;
        for _ in 0..10_000 {
            slowest = slowest.max(timed_get(&mut client, "/").await);
        }
        assert_prompt("slowest of 10,000", slowest, Duration::ZERO);
    });
}

/// A message from another executor wakes a sleeping one. The vendored glommio orders
/// "I am going to sleep" against "is anything queued for me" with a fence on each side
/// instead of a `membarrier` system call per sleep, and sleeps in the call that submits
/// (H2RING_PATCH.md, changes 4 and 5). A lost wake-up leaves the sleeper waiting for an
/// unrelated event — here, forever, which the watchdog turns into a failure (checked by
/// making the notifier skip its eventfd write). Each side sleeps between messages (a
/// pause on some round trips makes sure the other side has parked first). The window
/// a missing fence opens is too narrow to hit reliably; this guards the protocol.
#[test]
fn cross_executor_messages_wake_a_sleeping_executor() {
    use glommio::channels::shared_channel;
    use glommio::{LocalExecutorBuilder, Placement};

    const ROUND_TRIPS: u32 = 5_000;
    let (ping_tx, ping_rx) = shared_channel::new_bounded::<u32>(1);
    let (pong_tx, pong_rx) = shared_channel::new_bounded::<u32>(1);
    let (done_tx, done_rx) = std::sync::mpsc::channel();

    let echo = LocalExecutorBuilder::new(Placement::Unbound)
        .name("echo")
        .spawn(move || async move {
            let (ping_rx, pong_tx) = (ping_rx.connect().await, pong_tx.connect().await);
            while let Some(n) = ping_rx.recv().await {
                if n % 7 == 0 {
                    glommio::timer::sleep(Duration::from_micros(200)).await;
                }
                pong_tx.send(n).await.expect("pinger gone");
            }
        })
        .expect("echo executor");
    let pinger = LocalExecutorBuilder::new(Placement::Unbound)
        .name("pinger")
        .spawn(move || async move {
            let (ping_tx, pong_rx) = (ping_tx.connect().await, pong_rx.connect().await);
            let mut slowest = Duration::ZERO;
            for n in 0..ROUND_TRIPS {
                if n % 5 == 0 {
                    glommio::timer::sleep(Duration::from_micros(300)).await;
                }
                let started = Instant::now();
                ping_tx.send(n).await.expect("echo gone");
                assert_eq!(pong_rx.recv().await, Some(n));
                slowest = slowest.max(started.elapsed());
            }
            drop(ping_tx);
            let _ = done_tx.send(slowest);
        })
        .expect("pinger executor");

    let slowest = done_rx
        .recv_timeout(Duration::from_secs(20))
        .expect("a wake-up was lost: the round trips stopped");
    pinger.join().expect("pinger");
    echo.join().expect("echo");
    assert_prompt("slowest cross-executor round trip", slowest, Duration::ZERO);
}

/// The throughput preemption timer (third_party/glommio/H2RING_PATCH.md, changes 3 and 8):
/// once `ring_depth` I/O completions pile up on the main ring, a task that keeps the core
/// busy is told to yield (`need_preempt`) long before its time slice — 60 s here — ends.
/// The timer reaches the latency ring through an `IORING_OP_MSG_RING`; had that
/// operation failed, nothing would mark the ring and the busy task would run on. Several
/// rounds, because the completion it posts on the latency ring was never submitted there:
/// counting it as one of that ring's requests (a bug this test caught in a debug build)
/// underflows the count by the second firing.
#[test]
fn piled_up_completions_preempt_a_busy_task() {
    use futures_lite::AsyncReadExt;
    use glommio::{LocalExecutorBuilder, Placement};
    use std::io::Write;
    use std::os::fd::{FromRawFd, IntoRawFd};
    use std::os::unix::net::UnixStream;

    const RING_DEPTH: usize = 32;
    const ROUNDS: usize = 4;
    let slowest = LocalExecutorBuilder::new(Placement::Unbound)
        .ring_depth(RING_DEPTH)
        .preempt_timer(Duration::from_secs(60))
        .spawn(|| async move {
            let mut slowest = Duration::ZERO;
            for round in 0..ROUNDS {
                // A reader blocked on each of twice `RING_DEPTH` socket pairs: each has a
                // readiness poll in the main ring.
                let mut peers = Vec::new();
                let mut readers = Vec::new();
                for _ in 0..RING_DEPTH * 2 {
                    let (ours, theirs) = UnixStream::pair().expect("socket pair");
                    // SAFETY: `into_raw_fd` hands over the only owner of a fresh socket.
                    let mut ours =
                        unsafe { glommio::net::UnixStream::from_raw_fd(ours.into_raw_fd()) };
                    readers.push(glommio::spawn_local(async move {
                        let mut octet = [0u8; 1];
                        ours.read(&mut octet).await.expect("read")
                    }));
                    peers.push(theirs);
                }
                // Parks once, submitting the polls (and arming the timer).
                glommio::timer::sleep(Duration::from_millis(5)).await;
                assert!(
                    !glommio::executor().need_preempt(),
                    "round {round}: preempted while idle"
                );

                // Busy from here on: make every poll complete (the completions are posted
                // as this thread enters the kernel) and never yield.
                let started = Instant::now();
                for mut peer in &peers {
                    peer.write_all(b"x").expect("write to the peer socket");
                }
                while !glommio::executor().need_preempt() {
                    assert!(
                        started.elapsed() < Duration::from_secs(5),
                        "round {round}: {} completions did not preempt the busy task",
                        RING_DEPTH * 2
                    );
                    // Any system call lets the kernel post pending completions.
                    std::thread::yield_now();
                }
                slowest = slowest.max(started.elapsed());
                for reader in readers {
                    assert_eq!(reader.await, 1);
                }
            }
            slowest
        })
        .expect("executor")
        .join()
        .expect("executor thread");
    assert_prompt(
        "preemption by piled-up completions",
        slowest,
        Duration::ZERO,
    );
}
