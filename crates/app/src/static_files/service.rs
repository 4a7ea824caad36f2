//! [`StaticFiles`] as a [`Service`]: the file decisions of the parent module over the
//! service API, with large files streamed in chunks.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::Poll;

use bytes::Bytes;
use http::{Method, StatusCode};

use super::{read_file_range, BodySource, FileCache, StaticFiles};
use crate::service::respond::empty_response;
use crate::service::{Body, Context, Request, Response, Service};

/// Files up to this size are read into memory in one go; larger ones are streamed in
/// chunks of this size so a large download costs bounded memory per stream. Equal to the
/// default per-stream send buffer: a stream stalled by a client that never opens its
/// window then holds at most about two chunks (CVE-2019-9517).
const FILE_CHUNK: u64 = 64 * 1024;

impl StaticFiles {
    /// The service serving these files. Call it once per core (in the server's factory):
    /// each core keeps its own cache of resolved paths and small files (revalidated after a
    /// second), without a lock.
    pub fn into_service(self) -> impl Service {
        let upload_sink = self.upload_sink.as_deref().map(Rc::from);
        FilesService {
            files: self,
            cache: RefCell::new(FileCache::new()),
            upload_sink,
        }
    }
}

/// See [`StaticFiles::into_service`].
struct FilesService {
    files: StaticFiles,
    cache: RefCell<FileCache>,
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
        match self.call_now(&mut req, &cx) {
            Some(response) => FilesFuture::Now(std::future::ready(response)),
            None => FilesFuture::Upload(Box::pin(discard_upload(req))),
        }
    }

    /// Everything but an upload is decided at once: nothing here waits (large files
    /// stream from a task of their own).
    fn call_now(&self, req: &mut Request, cx: &Context) -> Option<Response> {
        if self.is_upload(req) {
            return None;
        }
        Some(respond(&self.files, &self.cache, req, cx))
    }
}

/// The files service's future: an answer that was ready when the call returned (every
/// GET/HEAD), or an upload being read.
enum FilesFuture {
    Now(std::future::Ready<Response>),
    Upload(Pin<Box<dyn Future<Output = Response>>>),
}

impl Future for FilesFuture {
    type Output = Response;

    fn poll(self: Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> Poll<Response> {
        match self.get_mut() {
            FilesFuture::Now(ready) => Pin::new(ready).poll(cx),
            FilesFuture::Upload(upload) => upload.as_mut().poll(cx),
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

fn respond(
    files: &StaticFiles,
    cache: &RefCell<FileCache>,
    req: &Request,
    cx: &Context,
) -> Response {
    let now = cx.received_at();
    if req.method() != Method::GET && req.method() != Method::HEAD {
        let mut r = empty_response(StatusCode::METHOD_NOT_ALLOWED);
        r.headers_mut().insert(
            http::header::ALLOW,
            http::HeaderValue::from_static("GET, HEAD"),
        );
        return r;
    }
    let mut decided =
        cache
            .borrow_mut()
            .respond(files, req.method(), req.uri().path(), req.headers(), now);
    let body = match std::mem::replace(&mut decided.body, BodySource::Empty) {
        BodySource::Empty => Body::empty(),
        BodySource::Bytes(b) => Body::from(b),
        BodySource::File { path, offset, len } if len <= FILE_CHUNK => {
            match read_file_range(&path, offset, len) {
                Ok(b) => Body::from(b),
                Err(_) => return empty_response(StatusCode::INTERNAL_SERVER_ERROR),
            }
        }
        BodySource::File { path, offset, len } => {
            let (mut writer, body) = Body::channel();
            cx.spawn(async move {
                let mut at = offset;
                let end = offset + len;
                while at < end {
                    let n = FILE_CHUNK.min(end - at);
                    let chunk: Bytes = match read_file_range(&path, at, n) {
                        Ok(c) if !c.is_empty() => c,
                        _ => break,
                    };
                    at += chunk.len() as u64;
                    if writer.send(chunk).await.is_err() {
                        return;
                    }
                }
                let _ = writer.finish().await;
            });
            body
        }
    };
    decided.into_response(body)
}
