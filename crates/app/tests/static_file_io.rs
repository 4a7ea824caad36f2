//! A slow file does not hold up the other requests of its core (issue #20 item 4): file
//! I/O goes through io_uring and path resolution through the core's blocking thread, so
//! the core keeps serving while one `open` waits.
//!
//! The slow file is a real one: the test holds a write lease on it (`fcntl(F_SETLEASE)`),
//! so any `open` of it waits in the kernel until the lease is given up (or the system's
//! `lease-break-time`, 45 s by default, passes), as it would behind an NFS or Samba
//! server holding a delegation. Before the change, the core itself made that `open` and
//! every connection on it stalled.

mod support;

use std::fs::File;
use std::os::fd::AsRawFd;
use std::path::Path;
use std::sync::Once;
use std::time::{Duration, Instant};

use h2ring::static_files::StaticFiles;
use support::{block_on, builder, get, h2_connect, pattern, read_body, request, TempDir};
use support::{TestServer, STEP_TIMEOUT};

/// How long a small GET on the same core may take while the slow file's `open` waits: a
/// loose bound (the GET takes about a millisecond; the lease holds for 45 s).
const PROMPT: Duration = Duration::from_secs(5);

/// A write lease on a file: an `open` of it by anyone else waits until it is released.
struct Lease(File);

impl Lease {
    fn take(path: &Path) -> Lease {
        static IGNORE_SIGIO: Once = Once::new();
        IGNORE_SIGIO.call_once(|| {
            // SAFETY: `signal` with SIG_IGN installs no handler code; it only stops the
            // lease-break notification (SIGIO, whose default action ends the process)
            // from killing this test binary.
            unsafe { libc::signal(libc::SIGIO, libc::SIG_IGN) };
        });
        let file = File::open(path).unwrap();
        // SAFETY: fcntl on a descriptor this `File` owns and keeps open; no pointers.
        let rc = unsafe { libc::fcntl(file.as_raw_fd(), libc::F_SETLEASE, libc::F_WRLCK) };
        assert_eq!(rc, 0, "F_SETLEASE: {}", std::io::Error::last_os_error());
        Lease(file)
    }

    /// Someone's `open` is waiting on the lease: the kernel started breaking it.
    fn breaking(&self) -> bool {
        // SAFETY: as in `take`.
        let lease = unsafe { libc::fcntl(self.0.as_raw_fd(), libc::F_GETLEASE) };
        lease != libc::F_WRLCK
    }

    fn release(&self) {
        // SAFETY: as in `take`.
        let rc = unsafe { libc::fcntl(self.0.as_raw_fd(), libc::F_SETLEASE, libc::F_UNLCK) };
        assert_eq!(rc, 0, "F_UNLCK: {}", std::io::Error::last_os_error());
    }
}

/// Serves `slow` (leased) on a one-core server; while its `open` waits, a small GET on a
/// new connection to the same core must complete within [`PROMPT`], and the slow one
/// must not have. Once the lease is released, the slow response arrives whole.
fn slow_file_does_not_delay_its_core(slow_len: usize) {
    let dir = TempDir::new("slowfile");
    let slow = pattern(slow_len, 0x51_0e);
    let slow_path = dir.file("slow.bin", &slow);
    dir.file("fast.txt", b"fast\n");
    let files = StaticFiles::new(dir.path()).unwrap();
    let server = TestServer::start(builder(1), move |_| files.clone().into_service());
    let addr = server.addr;
    let lease = Lease::take(&slow_path);

    block_on(STEP_TIMEOUT * 2, async {
        let mut slow_client = h2_connect(addr).await;
        let (response, _) = slow_client
            .send_request(request("GET", "/slow.bin"), true)
            .unwrap();
        let slow_done = tokio::spawn(async move {
            let response = response.await.unwrap();
            assert_eq!(response.status(), 200);
            let body = read_body(&mut response.into_body()).await.unwrap();
            (Instant::now(), body)
        });
        // The server reached the `open`, which now waits on the lease.
        let end = Instant::now() + STEP_TIMEOUT;
        while !lease.breaking() {
            assert!(Instant::now() < end, "the server never opened the file");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }

        let started = Instant::now();
        let fast = tokio::time::timeout(PROMPT, async {
            let mut client = h2_connect(addr).await;
            get(&mut client, "/fast.txt").await
        })
        .await;
        let fast_took = started.elapsed();
        assert!(
            fast.is_ok(),
            "a small GET on the same core waited {fast_took:?} behind a slow file"
        );
        assert_eq!(fast.unwrap(), (200, b"fast\n".to_vec()));
        assert!(!slow_done.is_finished(), "the slow file was not slow");

        lease.release();
        let (slow_at, body) = slow_done.await.unwrap();
        assert!(slow_at > started + fast_took);
        assert!(body == slow, "slow body: {} bytes, wrong", body.len());
    });
    drop(server);
}

/// A small file is read whole into the core's cache on first use.
#[test]
fn a_small_file_held_up_in_open_does_not_delay_its_core() {
    slow_file_does_not_delay_its_core(1000);
}

/// A large file is streamed piece by piece by a task of its own.
#[test]
fn a_large_file_held_up_in_open_does_not_delay_its_core() {
    slow_file_does_not_delay_its_core(1024 * 1024 + 7);
}

/// A file that ends before the length its `stat` gave (truncated while it is streamed)
/// resets the stream with INTERNAL_ERROR (RFC 9113 §8.1): the response is not ended
/// short of its `content-length` as if it were complete.
#[test]
fn a_file_truncated_while_streamed_resets_the_stream() {
    let dir = TempDir::new("truncated");
    let path = dir.file("big.bin", &pattern(1024 * 1024, 7));
    let files = StaticFiles::new(dir.path()).unwrap();
    let server = TestServer::start(builder(1), move |_| files.clone().into_service());
    let addr = server.addr;
    block_on(STEP_TIMEOUT, async {
        // A 1 KiB window: the server reads a few pieces ahead, then waits for the client.
        let mut window = h2::client::Builder::new();
        window
            .initial_window_size(1024)
            .initial_connection_window_size(1024);
        let mut client = support::h2_connect_with(addr, window).await;
        let (response, _) = client
            .send_request(request("GET", "/big.bin"), true)
            .unwrap();
        let response = response.await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-length"], "1048576");
        tokio::time::sleep(Duration::from_millis(200)).await;
        File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(0)
            .unwrap();
        let err = read_body(&mut response.into_body()).await.unwrap_err();
        assert_eq!(err.reason(), Some(h2::Reason::INTERNAL_ERROR), "{err}");
        // The connection and the core carry on.
        std::fs::write(dir.path().join("small.txt"), b"still here").unwrap();
        assert_eq!(
            get(&mut client, "/small.txt").await,
            (200, b"still here".to_vec())
        );
    });
    drop(server);
}

/// The same over HTTP/1.1, where there is no stream to reset: the connection is closed
/// before the body's `content-length` is reached, so the client sees a truncated
/// response instead of taking the next one's octets for the rest of this body.
#[test]
fn a_file_truncated_while_streamed_over_http1_closes_the_connection() {
    use std::io::{Read, Write};
    const LEN: usize = 16 * 1024 * 1024;
    let dir = TempDir::new("truncated1");
    let path = dir.file("big.bin", &pattern(LEN, 9));
    let files = StaticFiles::new(dir.path()).unwrap();
    let server = TestServer::start(builder(1), move |_| files.clone().into_service());
    let mut tcp = std::net::TcpStream::connect(server.addr).unwrap();
    tcp.set_read_timeout(Some(STEP_TIMEOUT)).unwrap();
    tcp.write_all(b"GET /big.bin HTTP/1.1\r\nhost: x\r\n\r\n")
        .unwrap();
    // The head and the first octets; then the server fills the socket buffers and waits.
    let mut got = vec![0u8; 64 * 1024];
    let n = tcp.read(&mut got).unwrap();
    let head = String::from_utf8_lossy(&got[..n]).to_string();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(head.contains(&format!("content-length: {LEN}")), "{head}");
    std::thread::sleep(Duration::from_millis(200));
    File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(0)
        .unwrap();
    let mut rest = Vec::new();
    // Read to the end: the server must close (a timeout here fails the test).
    tcp.read_to_end(&mut rest).unwrap();
    assert!(
        n + rest.len() < LEN,
        "the whole body arrived: nothing was cut"
    );
    drop(server);
}
