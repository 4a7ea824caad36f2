//! The metrics admin endpoint: a tiny HTTP/1.1 responder on core 0 that
//! answers `GET /metrics` with the merged Prometheus text, one request per
//! connection.

use std::time::Duration;

use futures_lite::{future, AsyncReadExt, AsyncWriteExt};
use glommio::net::TcpStream;

use crate::metrics::{render_prometheus, MetricsHub};
use crate::runtime::{CoreContext, Listener};

/// Largest request head the admin endpoint reads.
const ADMIN_MAX_REQUEST: usize = 8 * 1024;
/// How long an admin client may take to send its request.
const ADMIN_READ_TIMEOUT: Duration = Duration::from_secs(5);

/// Accepts admin connections until shutdown, serving them one at a time
/// (scrapes are rare; no concurrency needed).
pub(crate) async fn serve(listener: Listener, core: CoreContext, hub: MetricsHub) {
    loop {
        let stop = async {
            core.shutdown_started().await;
            None
        };
        let accept = async { Some(listener.accept_side().accept().await) };
        match future::or(stop, accept).await {
            None => {
                listener.close();
                return;
            }
            Some(Ok(stream)) => {
                hub.publish(core.index(), core.metrics().snapshot());
                let body = render_prometheus(&hub.merged());
                if let Err(e) = answer(stream, &body).await {
                    tracing::debug!("metrics client: {e}");
                }
            }
            Some(Err(e)) => {
                tracing::warn!("metrics accept: {e}");
                glommio::timer::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

async fn answer(mut stream: TcpStream, metrics: &str) -> std::io::Result<()> {
    stream.set_read_timeout(Some(ADMIN_READ_TIMEOUT))?;
    let mut head = Vec::with_capacity(512);
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < ADMIN_MAX_REQUEST {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        head.extend_from_slice(buf.get(..n).unwrap_or_default());
    }
    let response = respond(&head, metrics);
    stream.write_all(response.as_bytes()).await?;
    stream.close().await
}

/// Builds the full HTTP/1.1 response for a request head.
pub(crate) fn respond(head: &[u8], metrics: &str) -> String {
    let line = head.split(|&b| b == b'\r').next().unwrap_or_default();
    let mut parts = line.split(|&b| b == b' ');
    let method = parts.next().unwrap_or_default();
    let path = parts.next().unwrap_or_default();
    let path = path.split(|&b| b == b'?').next().unwrap_or_default();
    let (status, content_type, body) = match (method, path) {
        (b"GET", b"/metrics") => ("200 OK", "text/plain; version=0.0.4", metrics),
        (_, b"/metrics") => (
            "405 Method Not Allowed",
            "text/plain",
            "method not allowed\n",
        ),
        _ => ("404 Not Found", "text/plain", "not found; try /metrics\n"),
    };
    format!(
        "HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn get_metrics_is_200_with_exposition_content_type() {
        let r = respond(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", "a 1\n");
        assert_eq!(
            r,
            "HTTP/1.1 200 OK\r\ncontent-type: text/plain; version=0.0.4\r\ncontent-length: 4\r\nconnection: close\r\n\r\na 1\n"
        );
    }

    #[test]
    fn other_paths_and_methods_are_refused() {
        assert!(respond(b"GET / HTTP/1.1\r\n\r\n", "").starts_with("HTTP/1.1 404 "));
        assert!(respond(b"POST /metrics HTTP/1.1\r\n\r\n", "").starts_with("HTTP/1.1 405 "));
        assert!(respond(b"", "").starts_with("HTTP/1.1 404 "));
    }
}
