//! [`StaticFiles`] as a [`Service`]: the file decisions of the parent module over the
//! service API: cache hits answered at once, misses resolved off the core, files that are
//! not in memory streamed through io_uring by a task of their own.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::Poll;

use http::{Method, StatusCode};

use super::cache::{self, FileCache};
use super::file_io::stream_file;
use super::{BodySource, StaticFiles, StaticResponse};
use crate::service::respond::empty_response;
use crate::service::{Body, Context, Request, Response, Service};

impl StaticFiles {
    /// The service serving these files. Call it once per core (in the server's factory):
    /// each core keeps its own cache of resolved paths and small files (revalidated after a
    /// second), without a lock.
    pub fn into_service(self) -> impl Service {
        let upload_sink = self.upload_sink.as_deref().map(Rc::from);
        FilesService {
            files: Rc::new(self),
            cache: Rc::new(RefCell::new(FileCache::new())),
            upload_sink,
        }
    }
}

/// See [`StaticFiles::into_service`].
struct FilesService {
    files: Rc<StaticFiles>,
    cache: Rc<RefCell<FileCache>>,
    upload_sink: Option<Rc<str>>,
}

impl FilesService {
    fn is_upload(&self, req: &Request) -> bool {
        (req.method() == Method::POST || req.method() == Method::PUT)
            && self.upload_sink.as_deref() == Some(req.uri().path())
    }
}

impl Service for FilesService {
    fn call(&self, mut req: Request, cx: Context) -> impl Future<Output = Response> + 'static {
        if let Some(response) = self.call_now(&mut req, &cx) {
            return FilesFuture::Now(std::future::ready(response));
        }
        if self.is_upload(&req) {
            return FilesFuture::Wait(Box::pin(discard_upload(req)));
        }
        let (files, cache) = (self.files.clone(), self.cache.clone());
        FilesFuture::Wait(Box::pin(async move {
            let decided = cache::respond(
                &files,
                &cache,
                req.method(),
                req.uri().path(),
                req.headers(),
                cx.received_at(),
            )
            .await;
            with_body(decided, &cx)
        }))
    }

    /// Answers at once from the per-core cache (a path resolved less than a second ago,
    /// the common case) or a 405. A miss waits for the file system off the core (in
    /// `call`), and a file's bytes are read by a task of their own: nothing here waits.
    fn call_now(&self, req: &mut Request, cx: &Context) -> Option<Response> {
        if self.is_upload(req) {
            return None;
        }
        if req.method() != Method::GET && req.method() != Method::HEAD {
            let mut r = empty_response(StatusCode::METHOD_NOT_ALLOWED);
            r.headers_mut().insert(
                http::header::ALLOW,
                http::HeaderValue::from_static("GET, HEAD"),
            );
            return Some(r);
        }
        let decided = self.cache.borrow_mut().fresh(
            &self.files,
            req.method(),
            req.uri().path(),
            req.headers(),
            cx.received_at(),
        )?;
        Some(with_body(decided, cx))
    }
}

/// The files service's future: an answer that was ready when the call returned, or one
/// that waits (a path resolved off the core, an upload being read).
enum FilesFuture {
    Now(std::future::Ready<Response>),
    Wait(Pin<Box<dyn Future<Output = Response>>>),
}

impl Future for FilesFuture {
    type Output = Response;

    fn poll(self: Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> Poll<Response> {
        match self.get_mut() {
            FilesFuture::Now(ready) => Pin::new(ready).poll(cx),
            FilesFuture::Wait(wait) => wait.as_mut().poll(cx),
        }
    }
}

async fn discard_upload(mut req: Request) -> Response {
    let mut received: u64 = 0;
    while let Some(chunk) = req.body_mut().data().await {
        match chunk {
            Ok(chunk) => received += chunk.len() as u64,
            Err(_) => return empty_response(StatusCode::BAD_REQUEST),
        }
    }
    let mut response = http::Response::new(Body::from(format!("received {received} bytes\n")));
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

/// The response for a decision: bytes in memory as they are, a file's bytes streamed by
/// a task of this request (see `file_io::stream_file`) after the head.
fn with_body(mut decided: StaticResponse, cx: &Context) -> Response {
    let body = match std::mem::replace(&mut decided.body, BodySource::Empty) {
        BodySource::Empty => Body::empty(),
        BodySource::Bytes(b) => Body::from(b),
        BodySource::File { path, offset, len } => {
            let (writer, body) = Body::channel();
            cx.spawn(stream_file(path, offset, len, writer));
            body
        }
    };
    decided.into_response(body)
}
