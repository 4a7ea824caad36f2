//! Stop-gap HTTP/1.1 responder (one request per connection) that serves
//! [`StaticFiles`] until the HTTP/2 driver is plugged in; it exercises the
//! runtime end to end and lets `curl http://127.0.0.1:8080/` work.

use std::rc::Rc;
use std::time::{Duration, Instant};

use futures_lite::{future, AsyncReadExt, AsyncWriteExt};
use glommio::net::TcpStream;
use http::{HeaderMap, HeaderName, HeaderValue, Method};

use crate::runtime::{ConnInfo, ConnectionFn, CoreContext};
use crate::static_files::{read_file_range, BodySource, StaticFiles};

/// Largest request head accepted.
pub const MAX_HEAD: usize = 16 * 1024;
/// How long a client may take to send its request head.
pub const HEAD_TIMEOUT: Duration = Duration::from_secs(10);

/// A per-core factory serving `files` over HTTP/1.1.
pub fn factory(files: StaticFiles) -> impl Fn(&CoreContext) -> ConnectionFn + Send + Sync {
    move |ctx: &CoreContext| {
        let files = Rc::new(files.clone());
        let ctx = ctx.clone();
        Rc::new(move |stream: TcpStream, _info: ConnInfo| {
            let files = Rc::clone(&files);
            let ctx = ctx.clone();
            Box::pin(async move {
                let stop = ctx.shutdown_started();
                future::or(serve(stream, &files, &ctx), stop).await;
            })
        })
    }
}

/// Request line and headers of one request.
struct Head {
    method: Method,
    path: String,
    headers: HeaderMap,
}

fn parse_head(raw: &[u8]) -> Option<Head> {
    let text = std::str::from_utf8(raw).ok()?;
    let mut lines = text.split("\r\n");
    let mut parts = lines.next()?.split(' ');
    let method = Method::from_bytes(parts.next()?.as_bytes()).ok()?;
    let path = parts.next()?.to_string();
    let mut headers = HeaderMap::new();
    for line in lines.take_while(|l| !l.is_empty()) {
        let (name, value) = line.split_once(':')?;
        let name = HeaderName::from_bytes(name.trim().as_bytes()).ok()?;
        headers.append(name, HeaderValue::from_str(value.trim()).ok()?);
    }
    Some(Head {
        method,
        path,
        headers,
    })
}

async fn serve(mut stream: TcpStream, files: &StaticFiles, ctx: &CoreContext) {
    if stream.set_read_timeout(Some(HEAD_TIMEOUT)).is_err() {
        return;
    }
    let mut raw = Vec::with_capacity(1024);
    let mut buf = [0u8; 2048];
    while !raw.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf).await {
            Ok(n) if n > 0 && raw.len() + n <= MAX_HEAD => {
                raw.extend_from_slice(buf.get(..n).unwrap_or_default());
                ctx.metrics().bytes_in(n as u64);
            }
            _ => return,
        }
    }
    let started = Instant::now();
    let Some(head) = parse_head(&raw) else {
        let _ = stream
            .write_all(
                b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
            )
            .await;
        return;
    };
    let response = files.respond(&head.method, &head.path, &head.headers);
    let body = match &response.body {
        BodySource::Empty => bytes::Bytes::new(),
        BodySource::Bytes(b) => b.clone(),
        BodySource::File { path, offset, len } => match read_file_range(path, *offset, *len) {
            Ok(b) => b,
            Err(_) => return,
        },
    };
    let mut out = format!("HTTP/1.1 {}\r\n", response.status).into_bytes();
    for (name, value) in &response.headers {
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"connection: close\r\n\r\n");
    out.extend_from_slice(&body);
    if stream.write_all(&out).await.is_ok() {
        ctx.metrics().bytes_out(out.len() as u64);
        let _ = stream.close().await;
    }
    ctx.metrics()
        .request_completed(response.status.as_u16(), started.elapsed());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_request_line_and_headers() {
        let head =
            parse_head(b"GET /a%20b?x HTTP/1.1\r\nHost: h\r\nRange: bytes=0-1\r\n\r\n").unwrap();
        assert_eq!(head.method, Method::GET);
        assert_eq!(head.path, "/a%20b?x");
        assert_eq!(head.headers.get("range").unwrap(), "bytes=0-1");
        assert!(parse_head(b"GET\r\n\r\n").is_none());
        assert!(parse_head(b"GET / HTTP/1.1\r\nbad header\r\n\r\n").is_none());
    }
}
