//! The admin endpoint: a small HTTP/1.1 responder on the first core for operators and
//! their tools — `GET /metrics` (Prometheus text), `/healthz` (liveness) and `/readyz`
//! (readiness, 503 from the moment a drain starts so a load balancer stops sending).
//!
//! Each connection is its own task, so a slow client delays nobody else; at most
//! [`Limits::max_connections`] are open at once (one more gets a 503 at once), and each
//! has [`Limits::header_timeout`] to send its request head. One request per connection
//! (`connection: close`): scrapes and probes are seconds apart, so keep-alive would buy
//! little and hold a slot. The endpoint keeps answering through the drain and stops with
//! the core.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use futures_lite::{future, AsyncReadExt, AsyncWriteExt};
use glommio::net::TcpStream;

use crate::metrics::MetricsHub;
use crate::runtime::{CoreContext, Listener};

/// Largest request head the admin endpoint reads; a longer one is answered 431.
const ADMIN_MAX_REQUEST: usize = 8 * 1024;
/// Pause after an accept error (EMFILE and the like) before accepting again.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);
/// What a client past the connection cap gets (RFC 9110 §15.6.4), before any read.
const BUSY: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain\r\n\
content-length: 23\r\nretry-after: 1\r\nconnection: close\r\n\r\nadmin endpoint is busy\n";

/// The admin endpoint's limits (`ServerConfig::admin_max_connections`,
/// `ServerConfig::admin_header_timeout`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub max_connections: usize,
    pub header_timeout: Duration,
}

/// Accepts admin connections until the core has drained, each served by its own task.
pub(crate) async fn serve(listener: Listener, core: CoreContext, hub: MetricsHub, limits: Limits) {
    let open = Rc::new(Cell::new(0usize));
    loop {
        let stop = async {
            core.stopped().await;
            None
        };
        let accept = async { Some(listener.accept_side().accept().await) };
        match future::or(stop, accept).await {
            None => {
                listener.close();
                return;
            }
            Some(Ok(mut stream)) if open.get() >= limits.max_connections => {
                // A fresh socket's send buffer takes these few octets without waiting.
                let _ = stream.write_all(BUSY).await;
                let _ = stream.close().await;
            }
            Some(Ok(stream)) => {
                let slot = Slot::take(&open);
                let job = connection(stream, core.clone(), hub.clone(), limits, slot);
                match glommio::spawn_local_into(job, core.handler_queue()) {
                    Ok(task) => {
                        task.detach();
                    }
                    Err(e) => tracing::warn!("admin connection task: {e}"),
                }
            }
            Some(Err(e)) => {
                tracing::warn!("admin accept: {e}");
                glommio::timer::sleep(ACCEPT_BACKOFF).await;
            }
        }
    }
}

/// One open admin connection, counted until dropped.
struct Slot(Rc<Cell<usize>>);

impl Slot {
    fn take(open: &Rc<Cell<usize>>) -> Slot {
        open.set(open.get() + 1);
        Slot(Rc::clone(open))
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.set(self.0.get().saturating_sub(1));
    }
}

/// Reads one request head within the header timeout and answers it; gives up when the
/// core stops.
async fn connection(
    mut stream: TcpStream,
    core: CoreContext,
    hub: MetricsHub,
    limits: Limits,
    _slot: Slot,
) {
    let read = async { Some(read_head(&mut stream).await) };
    let timeout = async {
        glommio::timer::sleep(limits.header_timeout).await;
        None
    };
    let stopped = async {
        core.stopped().await;
        None
    };
    let head = match future::or(read, future::or(timeout, stopped)).await {
        Some(Ok(Some(head))) => head,
        Some(Ok(None)) | None => return,
        Some(Err(e)) => {
            tracing::debug!("admin client: {e}");
            return;
        }
    };
    let ready = !core.is_shutting_down();
    let response = respond(&head, ready, || {
        // This core's counters are fresh; the others' are at most one publication old.
        hub.publish(core.index(), core.metrics().snapshot());
        hub.render()
    });
    if let Err(e) = stream.write_all(response.as_bytes()).await {
        tracing::debug!("admin client: {e}");
    }
    let _ = stream.close().await;
}

/// The request head up to its blank line, `None` when the client closed first. A head
/// longer than [`ADMIN_MAX_REQUEST`] is returned as it is, and answered 431.
async fn read_head(stream: &mut TcpStream) -> std::io::Result<Option<Vec<u8>>> {
    let mut head = Vec::with_capacity(512);
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < ADMIN_MAX_REQUEST {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Ok(None);
        }
        head.extend_from_slice(buf.get(..n).unwrap_or_default());
    }
    Ok(Some(head))
}

/// Builds the full HTTP/1.1 response for a request head; `metrics` renders the page, and
/// runs only for `/metrics`.
pub(crate) fn respond(head: &[u8], ready: bool, metrics: impl FnOnce() -> String) -> String {
    let line = head.split(|&b| b == b'\r').next().unwrap_or_default();
    let mut parts = line.split(|&b| b == b' ');
    let method = parts.next().unwrap_or_default();
    let target = parts.next().unwrap_or_default();
    let path = target.split(|&b| b == b'?').next().unwrap_or_default();
    let complete = head.windows(4).any(|w| w == b"\r\n\r\n");
    let is_head = method == b"HEAD";
    let text = "text/plain; charset=utf-8";
    let (status, content_type, body) = match (method, path) {
        // RFC 6585 §5.
        _ if !complete => (
            "431 Request Header Fields Too Large",
            text,
            "too large\n".into(),
        ),
        (b"GET" | b"HEAD", b"/metrics") => ("200 OK", "text/plain; version=0.0.4", metrics()),
        (b"GET" | b"HEAD", b"/healthz") => ("200 OK", text, "ok\n".into()),
        (b"GET" | b"HEAD", b"/readyz") if ready => ("200 OK", text, "ready\n".into()),
        (b"GET" | b"HEAD", b"/readyz") => ("503 Service Unavailable", text, "draining\n".into()),
        (_, b"/metrics" | b"/healthz" | b"/readyz") => (
            "405 Method Not Allowed",
            text,
            "method not allowed\n".into(),
        ),
        _ => (
            "404 Not Found",
            text,
            "not found; try /metrics, /healthz or /readyz\n".into(),
        ),
    };
    // RFC 9110 §9.3.2: HEAD gets GET's fields, content-length included, and no content.
    let allow = if status.starts_with("405") {
        "allow: GET, HEAD\r\n"
    } else {
        ""
    };
    let mut out = format!(
        "HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\n\
         cache-control: no-store\r\n{allow}connection: close\r\n\r\n",
        body.len()
    );
    if !is_head {
        out.push_str(&body);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page() -> String {
        "a 1\n".to_string()
    }

    #[test]
    fn get_metrics_is_200_with_exposition_content_type() {
        let r = respond(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", true, page);
        assert_eq!(
            r,
            "HTTP/1.1 200 OK\r\ncontent-type: text/plain; version=0.0.4\r\ncontent-length: 4\r\n\
             cache-control: no-store\r\nconnection: close\r\n\r\na 1\n"
        );
    }

    #[test]
    fn readyz_follows_readiness_and_healthz_does_not() {
        let get = |path: &str, ready| {
            let head = format!("GET {path} HTTP/1.1\r\n\r\n");
            respond(head.as_bytes(), ready, || unreachable!("not a scrape"))
        };
        assert!(get("/readyz", true).starts_with("HTTP/1.1 200 OK\r\n"));
        assert!(get("/readyz", true).ends_with("\r\n\r\nready\n"));
        assert!(get("/readyz", false).starts_with("HTTP/1.1 503 Service Unavailable\r\n"));
        assert!(get("/readyz", false).ends_with("\r\n\r\ndraining\n"));
        assert!(get("/healthz", false).starts_with("HTTP/1.1 200 OK\r\n"));
        assert!(get("/healthz?verbose", true).ends_with("\r\n\r\nok\n"));
    }

    #[test]
    fn head_has_the_length_and_no_content() {
        let r = respond(b"HEAD /healthz HTTP/1.1\r\n\r\n", true, page);
        assert!(r.contains("content-length: 3\r\n"), "{r}");
        assert!(r.ends_with("\r\n\r\n"), "{r}");
    }

    #[test]
    fn other_paths_methods_and_long_heads_are_refused() {
        assert!(respond(b"GET / HTTP/1.1\r\n\r\n", true, page).starts_with("HTTP/1.1 404 "));
        let post = respond(b"POST /metrics HTTP/1.1\r\n\r\n", true, page);
        assert!(post.starts_with("HTTP/1.1 405 "), "{post}");
        assert!(post.contains("\r\nallow: GET, HEAD\r\n"), "{post}");
        assert!(respond(b"", true, page).starts_with("HTTP/1.1 431 "));
        let long = [b'a'; ADMIN_MAX_REQUEST];
        assert!(respond(&long, true, page).starts_with("HTTP/1.1 431 "));
    }
}
