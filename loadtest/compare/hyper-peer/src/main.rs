//! The Rust peer for loadtest/compare: hyper 1.x serving HTTP/2 with prior knowledge
//! (h2c) on ONE tokio current-thread runtime. Files under `ROOT` are loaded into memory
//! at start; `POST /upload` reads the whole body and answers 200.
//!
//! Usage: `hyper-peer ADDR ROOT`

use std::collections::HashMap;
use std::convert::Infallible;
use std::rc::Rc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;

/// Spawns connection and stream tasks on the current thread (the runtime is
/// single-threaded, so `!Send` futures are fine).
#[derive(Clone, Copy)]
struct LocalExec;

impl<F: std::future::Future + 'static> hyper::rt::Executor<F> for LocalExec {
    fn execute(&self, fut: F) {
        tokio::task::spawn_local(fut);
    }
}

type Files = Rc<HashMap<String, Bytes>>;

async fn handle(files: Files, req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = req.uri().path().to_string();
    if req.method() == Method::POST && path == "/upload" {
        let ok = req.into_body().collect().await.is_ok();
        let status = if ok { StatusCode::OK } else { StatusCode::BAD_REQUEST };
        return Ok(response(status, "text/plain", Bytes::from_static(b"ok\n")));
    }
    if req.method() != Method::GET {
        return Ok(response(StatusCode::METHOD_NOT_ALLOWED, "text/plain", Bytes::new()));
    }
    let key = if path == "/" { "/index.html" } else { path.as_str() };
    Ok(match files.get(key) {
        Some(body) => response(StatusCode::OK, content_type(key), body.clone()),
        None => response(StatusCode::NOT_FOUND, "text/plain", Bytes::new()),
    })
}

fn response(status: StatusCode, ctype: &'static str, body: Bytes) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(body));
    *r.status_mut() = status;
    r.headers_mut()
        .insert(hyper::header::CONTENT_TYPE, hyper::header::HeaderValue::from_static(ctype));
    r
}

fn content_type(path: &str) -> &'static str {
    if path.ends_with(".html") {
        "text/html"
    } else {
        "application/octet-stream"
    }
}

fn load(root: &str) -> std::io::Result<HashMap<String, Bytes>> {
    let mut files = HashMap::new();
    for entry in std::fs::read_dir(root)? {
        let entry = entry?;
        if entry.file_type()?.is_file() {
            let name = format!("/{}", entry.file_name().to_string_lossy());
            files.insert(name, Bytes::from(std::fs::read(entry.path())?));
        }
    }
    Ok(files)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:8084".into());
    let root = args.next().unwrap_or_else(|| ".".into());
    let files: Files = Rc::new(load(&root)?);
    let rt = tokio::runtime::Builder::new_current_thread().enable_io().build()?;
    let local = tokio::task::LocalSet::new();
    local.block_on(&rt, async move {
        let listener = tokio::net::TcpListener::bind(&addr).await?;
        loop {
            let (socket, _) = listener.accept().await?;
            let _ = socket.set_nodelay(true);
            let files = files.clone();
            tokio::task::spawn_local(async move {
                let service = hyper::service::service_fn(move |req| handle(files.clone(), req));
                let _ = hyper::server::conn::http2::Builder::new(LocalExec)
                    .max_concurrent_streams(1000)
                    .serve_connection(TokioIo::new(socket), service)
                    .await;
            });
        }
    })
}
