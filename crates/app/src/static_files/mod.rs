//! A static file server ([`StaticFiles`]): maps a GET/HEAD request onto a file under a
//! root directory (or the built-in page) and decides status, headers and body, with a
//! per-core cache of resolved paths and small files.
//!
//! Nothing here blocks the core (see `file_io`): path resolution (`realpath`, `stat`) runs
//! on the core's one blocking thread, which the request's task awaits; files are opened,
//! read and closed through io_uring, one descriptor per response. The decision itself
//! (conditionals, ranges, headers) is synchronous and pure.

mod cache;
mod file_io;
mod httpdate;
mod mime;
mod path;
mod range;
mod service;
#[cfg(test)]
mod tests;

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderValue};
use http::{Method, StatusCode};

use crate::error::describe_io_error;
use crate::service::PreparedHead;

use self::httpdate::{format_http_date, parse_http_date};
use mime::content_type_for;
use path::{relative_path, resolve_under, PathRefusal};
use range::{parse_range, RangeRequest};

/// The page served at `/` when no root directory is configured.
pub(crate) const BUILTIN_INDEX: &str = include_str!("../../assets/index.html");
/// File served for a directory request.
pub(crate) const INDEX_FILE: &str = "index.html";

/// Where a response body comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum BodySource {
    /// No body (HEAD, 304, 416 …).
    Empty,
    /// An in-memory body.
    Bytes(Bytes),
    /// `len` bytes of `path` starting at `offset`.
    File {
        /// The resolved file.
        path: PathBuf,
        /// First byte to send.
        offset: u64,
        /// Number of bytes to send.
        len: u64,
    },
}

/// A decided static response.
#[derive(Debug, Clone)]
pub(crate) struct StaticResponse {
    /// Status code.
    pub status: StatusCode,
    /// Header fields shared by every plain 200 of the file, built when the file was
    /// resolved (sent first, and encoded once per HTTP/2 connection).
    pub prepared: Option<PreparedHead>,
    /// The other response headers; with `prepared`, all header fields include
    /// `content-length`.
    pub headers: HeaderMap,
    /// Body to send.
    pub body: BodySource,
}

impl StaticResponse {
    /// A header field's value, from the prepared fields or the others.
    #[cfg(test)]
    pub(crate) fn header(&self, name: &str) -> Option<&HeaderValue> {
        self.prepared
            .as_ref()
            .and_then(|p| p.headers().get(name))
            .or_else(|| self.headers.get(name))
    }

    /// Every header field in one map, prepared ones first.
    #[cfg(test)]
    pub(crate) fn all_headers(&self) -> HeaderMap {
        match &self.prepared {
            Some(p) => crate::service::respond::merged_head(p, &self.headers),
            None => self.headers.clone(),
        }
    }

    /// The response to send, with `body` (made from [`StaticResponse::body`]).
    pub fn into_response(self, body: crate::service::Body) -> crate::service::Response {
        let mut response = match &self.prepared {
            Some(p) => p.response(self.status, body),
            None => {
                let mut r = http::Response::new(body);
                *r.status_mut() = self.status;
                r
            }
        };
        *response.headers_mut() = self.headers;
        response
    }
}

/// A static file server: a directory tree (or the built-in page), served by GET and HEAD
/// with ETag and Last-Modified validators, conditional requests (304), single ranges (206,
/// 416) and directory `index.html`; other methods get 405. It is the service the `h2ring`
/// binary runs.
///
/// ```no_run
/// use h2ring::static_files::StaticFiles;
/// use h2ring::Server;
///
/// let files = StaticFiles::new("/srv/www")?;
/// Server::builder().build()?.serve(move |_core| files.clone().into_service())?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct StaticFiles {
    root: Option<PathBuf>,
    upload_sink: Option<String>,
}

/// Why [`StaticFiles::new`] refused a root directory.
#[derive(Debug)]
pub struct RootError {
    path: PathBuf,
    source: std::io::Error,
}

impl RootError {
    /// The root that was given.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl std::fmt::Display for RootError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let reason = describe_io_error(&self.source);
        write!(f, "cannot serve root {}: {reason}", self.path.display())
    }
}

impl std::error::Error for RootError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

/// What a request path names.
pub(crate) enum Resolved {
    /// The built-in page (no root directory): the relative path asked for.
    Builtin(PathBuf),
    /// A regular file under the root.
    File(ResolvedFile),
    /// A fixed answer: refused, not found, or a redirect to the directory.
    Answer(StaticResponse),
}

/// What resolving a request path needs next: the file system under `root` (the
/// relative path, and whether the request path ends in `/`), or nothing more.
pub(crate) enum Target {
    /// Already decided without the file system.
    Located(Located),
    /// To look up under the root (see [`locate`]).
    Root(PathBuf, PathBuf, bool),
}

/// What the file system says a request path names. Plain data (`Send`): it is found on
/// the core's blocking thread and turned into a [`Resolved`] on the core.
pub(crate) enum Located {
    /// No root directory: the built-in page, for this relative path.
    Builtin(PathBuf),
    /// A regular file: its canonical path and metadata.
    File(PathBuf, std::fs::Metadata),
    /// A directory asked for without the trailing slash.
    Directory,
    /// Refused or not found.
    Refused(PathRefusal),
}

/// Looks `relative` up under the canonical `root` (a directory's `index.html` when
/// `dir_slash`): `realpath` and `stat`, which block, so the service calls it through
/// glommio's blocking pool rather than on the core.
pub(crate) fn locate(root: &Path, relative: &Path, dir_slash: bool) -> Located {
    let mut file = match resolve_under(root, relative) {
        Ok(file) => file,
        Err(refusal) => return Located::Refused(refusal),
    };
    let Ok(mut meta) = std::fs::metadata(&file) else {
        return Located::Refused(PathRefusal::NotFound);
    };
    if meta.is_dir() {
        if !dir_slash {
            return Located::Directory;
        }
        file = match resolve_under(root, &relative.join(INDEX_FILE)) {
            Ok(index) => index,
            Err(refusal) => return Located::Refused(refusal),
        };
        match std::fs::metadata(&file) {
            Ok(m) => meta = m,
            Err(_) => return Located::Refused(PathRefusal::NotFound),
        }
    }
    if !meta.is_file() {
        return Located::Refused(PathRefusal::NotFound);
    }
    Located::File(file, meta)
}

impl Located {
    /// The resolution for request path `path` (for a redirect's `Location`).
    pub(crate) fn into_resolved(self, path: &str) -> Resolved {
        match self {
            Located::Builtin(relative) => Resolved::Builtin(relative),
            Located::Refused(refusal) => Resolved::Answer(refused(refusal)),
            Located::Directory => Resolved::Answer(redirect_to_dir(path)),
            Located::File(file, meta) => Resolved::File(ResolvedFile {
                entity: Entity::new(
                    meta.len(),
                    file_etag(&meta),
                    meta.modified().ok(),
                    content_type_for(&file),
                ),
                path: file,
                contents: None,
            }),
        }
    }
}

/// A file found under the root, with its validators and, when cached, its bytes.
#[derive(Clone)]
pub(crate) struct ResolvedFile {
    entity: Entity,
    path: PathBuf,
    /// The whole file, when it was small enough to keep in memory.
    contents: Option<Bytes>,
}

impl ResolvedFile {
    /// The response for this file: conditional and range handling, body from memory when
    /// the contents are cached (zero-copy slices) or from the file.
    pub(crate) fn respond(&self, method: &Method, headers: &HeaderMap) -> StaticResponse {
        let body = |offset: u64, len: u64| match &self.contents {
            Some(bytes) => {
                let start = usize::try_from(offset)
                    .unwrap_or(usize::MAX)
                    .min(bytes.len());
                let end = start
                    .saturating_add(usize::try_from(len).unwrap_or(0))
                    .min(bytes.len());
                BodySource::Bytes(bytes.slice(start..end))
            }
            None => BodySource::File {
                path: self.path.clone(),
                offset,
                len,
            },
        };
        decide(method, headers, &self.entity, body)
    }

    pub(crate) fn len(&self) -> u64 {
        self.entity.len
    }

    /// Keeps the file's bytes in memory (for the cache).
    pub(crate) fn with_contents(mut self, bytes: Bytes) -> Self {
        self.contents = Some(bytes);
        self
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Whether this resolution names the same file, unchanged, as `earlier`: the same
    /// path (hence content type, which follows from it) and ETag (size, modification
    /// time in nanoseconds, inode).
    pub(crate) fn unchanged_since(&self, earlier: &ResolvedFile) -> bool {
        self.path == earlier.path && self.entity.etag == earlier.entity.etag
    }
}

/// Validators and size of one representation.
#[derive(Clone)]
struct Entity {
    len: u64,
    etag: String,
    modified: Option<SystemTime>,
    content_type: HeaderValue,
    /// Header values made once per resolution (the file cache keeps them), not per request.
    etag_value: Option<HeaderValue>,
    modified_value: Option<HeaderValue>,
    /// The complete header section of a plain 200, shared by every unconditional,
    /// whole-file GET/HEAD (the common case) instead of being built field by field.
    full_head: PreparedHead,
}

impl Entity {
    fn new(
        len: u64,
        etag: String,
        modified: Option<SystemTime>,
        content_type: HeaderValue,
    ) -> Self {
        let etag_value = HeaderValue::from_str(&etag).ok();
        let modified_value =
            modified.and_then(|m| HeaderValue::from_str(&format_http_date(m)).ok());
        let mut full_headers = HeaderMap::with_capacity(5);
        validators(&mut full_headers, &etag_value, &modified_value);
        representation(&mut full_headers, &content_type);
        full_headers.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
        let full_head = PreparedHead::new(full_headers);
        Entity {
            len,
            etag_value,
            modified_value,
            etag,
            modified,
            content_type,
            full_head,
        }
    }
}

impl StaticFiles {
    /// Serves files under `root`, which must be an existing directory.
    pub fn new(root: impl AsRef<Path>) -> Result<Self, RootError> {
        let root = root.as_ref();
        let invalid = |source| RootError {
            path: root.to_path_buf(),
            source,
        };
        let canonical = std::fs::canonicalize(root).map_err(invalid)?;
        if !canonical.is_dir() {
            let not_dir = std::io::Error::new(std::io::ErrorKind::NotADirectory, "not a directory");
            return Err(invalid(not_dir));
        }
        Ok(StaticFiles {
            root: Some(canonical),
            upload_sink: None,
        })
    }

    /// Serves only the built-in page at `/` (and `/index.html`).
    pub fn builtin() -> Self {
        StaticFiles {
            root: None,
            upload_sink: None,
        }
    }

    /// Also accepts POST and PUT at `path`: the body is read to its end through flow
    /// control like any handler's and discarded, and the answer is 200 with the octet
    /// count (for upload benchmarks and smoke tests).
    pub fn upload_sink(mut self, path: impl Into<String>) -> Self {
        self.upload_sink = Some(path.into());
        self
    }

    /// The canonical root, if serving a directory.
    pub fn root(&self) -> Option<&Path> {
        self.root.as_deref()
    }

    /// Decides the response for `method` on `path` (the URI path, still
    /// percent-encoded) with request `headers`.
    #[cfg(test)]
    pub(crate) fn respond(
        &self,
        method: &Method,
        path: &str,
        headers: &HeaderMap,
    ) -> StaticResponse {
        if method != Method::GET && method != Method::HEAD {
            return method_not_allowed();
        }
        match self.resolve(path) {
            Resolved::Builtin(relative) => self.builtin_page(method, &relative, headers),
            Resolved::Answer(response) => response,
            Resolved::File(file) => file.respond(method, headers),
        }
    }

    /// Maps a request path onto what it names: a file, the built-in page, or a fixed
    /// answer (403, 404, a redirect). Only this step touches the file system, which is
    /// what [`cache::FileCache`] remembers. It blocks on `realpath` and `stat`: the service runs
    /// it through [`locate`] on the core's blocking thread, tests call it directly.
    #[cfg(test)]
    pub(crate) fn resolve(&self, path: &str) -> Resolved {
        match self.target(path) {
            Target::Located(located) => located.into_resolved(path),
            Target::Root(root, relative, dir_slash) => {
                locate(&root, &relative, dir_slash).into_resolved(path)
            }
        }
    }

    /// The part of resolution that needs no file system: the relative path, or the
    /// answer when there is no root or the path is refused outright.
    pub(crate) fn target(&self, path: &str) -> Target {
        let relative = match relative_path(path) {
            Ok(rel) => rel,
            Err(refusal) => return Target::Located(Located::Refused(refusal)),
        };
        match &self.root {
            None => Target::Located(Located::Builtin(relative)),
            Some(root) => {
                // Relative links in a directory's index need the trailing slash.
                let dir_slash = path.split('?').next().unwrap_or_default().ends_with('/');
                Target::Root(root.clone(), relative, dir_slash)
            }
        }
    }

    fn builtin_page(
        &self,
        method: &Method,
        relative: &Path,
        headers: &HeaderMap,
    ) -> StaticResponse {
        let is_index = relative.as_os_str().is_empty() || relative == Path::new(INDEX_FILE);
        if !is_index {
            return simple(StatusCode::NOT_FOUND);
        }
        builtin_file().respond(method, headers)
    }
}

/// The built-in page as a file held in memory, built once per process: its ETag hash and
/// prebuilt headers are not redone per request, and it is served by the same code as a
/// cached file.
fn builtin_file() -> &'static ResolvedFile {
    static FILE: std::sync::OnceLock<ResolvedFile> = std::sync::OnceLock::new();
    FILE.get_or_init(|| ResolvedFile {
        entity: Entity::new(
            BUILTIN_INDEX.len() as u64,
            format!("\"builtin-{:016x}\"", fnv1a(BUILTIN_INDEX.as_bytes())),
            None,
            HeaderValue::from_static("text/html; charset=utf-8"),
        ),
        path: PathBuf::new(),
        contents: Some(Bytes::from_static(BUILTIN_INDEX.as_bytes())),
    })
}

/// FNV-1a, for a stable ETag of the built-in page.
fn fnv1a(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Strong validator from (size, mtime, inode): changes whenever the file is
/// replaced or rewritten (RFC 9110 §8.8.3).
fn file_etag(meta: &std::fs::Metadata) -> String {
    let mtime_nanos = i128::from(meta.mtime()) * 1_000_000_000 + i128::from(meta.mtime_nsec());
    format!("\"{:x}-{:x}-{:x}\"", meta.len(), mtime_nanos, meta.ino())
}

fn header_str(headers: &HeaderMap, name: header::HeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// RFC 9110 §13.1.2: weak comparison of If-None-Match entity tags.
fn none_match(value: &str, etag: &str) -> bool {
    let opaque = |t: &str| t.trim().trim_start_matches("W/").to_string();
    value.trim() == "*" || value.split(',').any(|t| opaque(t) == opaque(etag))
}

/// Whole seconds, since HTTP dates have one-second resolution.
fn whole_seconds(t: SystemTime) -> SystemTime {
    let secs = t
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    UNIX_EPOCH + Duration::from_secs(secs)
}

/// RFC 9110 §13.2.2 order: If-None-Match, else If-Modified-Since.
fn not_modified(headers: &HeaderMap, entity: &Entity) -> bool {
    if let Some(inm) = header_str(headers, header::IF_NONE_MATCH) {
        return none_match(inm, &entity.etag);
    }
    let since = header_str(headers, header::IF_MODIFIED_SINCE).and_then(parse_http_date);
    match (since, entity.modified) {
        (Some(since), Some(modified)) => whole_seconds(modified) <= since,
        _ => false,
    }
}

/// RFC 9110 §13.1.5: Range applies only if If-Range (when present) matches
/// the current representation (strong ETag or exact Last-Modified).
fn if_range_allows(headers: &HeaderMap, entity: &Entity) -> bool {
    let Some(value) = header_str(headers, header::IF_RANGE) else {
        return true;
    };
    if value.trim_start().starts_with('"') {
        return value.trim() == entity.etag;
    }
    match (parse_http_date(value), entity.modified) {
        (Some(date), Some(modified)) => whole_seconds(modified) == date,
        _ => false,
    }
}

/// ETag and Last-Modified, sent with 200, 206 and 304 alike.
fn validators(out: &mut HeaderMap, etag: &Option<HeaderValue>, modified: &Option<HeaderValue>) {
    if let Some(etag) = etag {
        out.insert(header::ETAG, etag.clone());
    }
    if let Some(modified) = modified {
        out.insert(header::LAST_MODIFIED, modified.clone());
    }
}

/// Fields describing the representation sent (not with 304).
fn representation(out: &mut HeaderMap, content_type: &HeaderValue) {
    out.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    out.insert(header::CONTENT_TYPE, content_type.clone());
}

/// Whether the request asks for a conditional answer (`if-none-match`,
/// `if-modified-since`) and for a range. One pass over the request's few fields is
/// cheaper than three hashed lookups.
fn conditional_and_ranged(headers: &HeaderMap) -> (bool, bool) {
    let (mut conditional, mut ranged) = (false, false);
    for name in headers.keys() {
        if name == header::IF_NONE_MATCH || name == header::IF_MODIFIED_SINCE {
            conditional = true;
        } else if name == header::RANGE {
            ranged = true;
        }
    }
    (conditional, ranged)
}

fn decide(
    method: &Method,
    headers: &HeaderMap,
    entity: &Entity,
    body: impl Fn(u64, u64) -> BodySource,
) -> StaticResponse {
    let (conditional, ranged) = conditional_and_ranged(headers);
    let ranged = ranged && method == Method::GET;
    if !conditional && !ranged {
        // Neither 304 nor 206/416 is possible: the prebuilt 200.
        let body = if method == Method::HEAD || entity.len == 0 {
            BodySource::Empty
        } else {
            body(0, entity.len)
        };
        return StaticResponse {
            status: StatusCode::OK,
            prepared: Some(entity.full_head.clone()),
            headers: HeaderMap::new(),
            body,
        };
    }
    let mut out = HeaderMap::new();
    validators(&mut out, &entity.etag_value, &entity.modified_value);
    if not_modified(headers, entity) {
        return StaticResponse {
            prepared: None,
            status: StatusCode::NOT_MODIFIED,
            headers: out,
            body: BodySource::Empty,
        };
    }
    representation(&mut out, &entity.content_type);
    // RFC 9110 §14.2: GET is the only method with defined range handling.
    let range = match header_str(headers, header::RANGE) {
        Some(v) if method == Method::GET && if_range_allows(headers, entity) => {
            parse_range(v, entity.len)
        }
        _ => RangeRequest::Full,
    };
    let (status, offset, len) = match range {
        RangeRequest::Full => (StatusCode::OK, 0, entity.len),
        RangeRequest::Partial { start, end } => {
            let value = format!("bytes {start}-{end}/{}", entity.len);
            set(&mut out, header::CONTENT_RANGE, &value);
            (StatusCode::PARTIAL_CONTENT, start, end - start + 1)
        }
        RangeRequest::Unsatisfiable => {
            out.remove(header::CONTENT_TYPE);
            set(
                &mut out,
                header::CONTENT_RANGE,
                &format!("bytes */{}", entity.len),
            );
            out.insert(header::CONTENT_LENGTH, HeaderValue::from(0u64));
            return StaticResponse {
                prepared: None,
                status: StatusCode::RANGE_NOT_SATISFIABLE,
                headers: out,
                body: BodySource::Empty,
            };
        }
    };
    out.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    let body = if method == Method::HEAD || len == 0 {
        BodySource::Empty
    } else {
        body(offset, len)
    };
    StaticResponse {
        status,
        prepared: None,
        headers: out,
        body,
    }
}

fn method_not_allowed() -> StaticResponse {
    let mut r = simple(StatusCode::METHOD_NOT_ALLOWED);
    r.headers
        .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
    r
}

fn set(headers: &mut HeaderMap, name: header::HeaderName, value: &str) {
    // Every value we build is visible ASCII; an invalid one is dropped
    // rather than sent.
    if let Ok(v) = HeaderValue::from_str(value) {
        headers.insert(name, v);
    }
}

fn simple(status: StatusCode) -> StaticResponse {
    let text = format!("{status}\n");
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(text.len()));
    StaticResponse {
        status,
        prepared: None,
        headers,
        body: BodySource::Bytes(Bytes::from(text)),
    }
}

fn refused(refusal: PathRefusal) -> StaticResponse {
    simple(match refusal {
        PathRefusal::BadRequest => StatusCode::BAD_REQUEST,
        PathRefusal::Forbidden => StatusCode::FORBIDDEN,
        PathRefusal::NotFound => StatusCode::NOT_FOUND,
    })
}

fn redirect_to_dir(path: &str) -> StaticResponse {
    let (p, query) = match path.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (path, None),
    };
    let location = match query {
        Some(q) => format!("{p}/?{q}"),
        None => format!("{p}/"),
    };
    let mut r = simple(StatusCode::MOVED_PERMANENTLY);
    set(&mut r.headers, header::LOCATION, &location);
    r
}
