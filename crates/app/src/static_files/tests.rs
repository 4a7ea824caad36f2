//! Static file decisions against real files in a temporary directory.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

use super::{format_http_date, BodySource, StaticFiles, BUILTIN_INDEX};
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, StatusCode};

struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "h2ring-static-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
    fn file(&self, rel: &str, content: &[u8]) -> PathBuf {
        let p = self.0.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, content).unwrap();
        p
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A site: `<tmp>/site` is the root; `<tmp>/secret.txt` sits outside it.
fn site() -> (TempDir, StaticFiles) {
    let tmp = TempDir::new();
    tmp.file("secret.txt", b"top secret");
    tmp.file("site/index.html", b"<h1>home</h1>");
    tmp.file("site/hello.txt", b"0123456789");
    tmp.file("site/style.css", b"body{}");
    tmp.file("site/data.json", b"{}");
    tmp.file("site/img.png", b"\x89PNG");
    tmp.file("site/docs/index.html", b"docs");
    tmp.file("site/noindex/a.bin", b"x");
    tmp.file("site/a b.txt", b"space");
    std::os::unix::fs::symlink(tmp.0.join("secret.txt"), tmp.0.join("site/escape.txt")).unwrap();
    std::os::unix::fs::symlink(tmp.0.join("site/hello.txt"), tmp.0.join("site/link.txt")).unwrap();
    let files = StaticFiles::new(tmp.0.join("site")).unwrap();
    (tmp, files)
}

fn get(files: &StaticFiles, path: &str, headers: &[(&str, &str)]) -> super::StaticResponse {
    request(files, Method::GET, path, headers)
}

fn request(
    files: &StaticFiles,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
) -> super::StaticResponse {
    let mut map = HeaderMap::new();
    for (k, v) in headers {
        map.insert(
            http::header::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            HeaderValue::from_str(v).unwrap(),
        );
    }
    files.respond(&method, path, &map)
}

fn header<'a>(r: &'a super::StaticResponse, name: &str) -> &'a str {
    r.header(name).map(|v| v.to_str().unwrap()).unwrap_or("")
}

/// Reads a file range with blocking `std::fs` I/O (the test's own view of the file).
fn read_file_range(path: &Path, offset: u64, len: u64) -> std::io::Result<Bytes> {
    use std::io::{Read, Seek, SeekFrom};
    let mut file = std::fs::File::open(path)?;
    file.seek(SeekFrom::Start(offset))?;
    let mut buf = Vec::new();
    file.take(len).read_to_end(&mut buf)?;
    Ok(Bytes::from(buf))
}

fn body(r: &super::StaticResponse) -> Bytes {
    match &r.body {
        BodySource::Empty => Bytes::new(),
        BodySource::Bytes(b) => b.clone(),
        BodySource::File { path, offset, len } => read_file_range(path, *offset, *len).unwrap(),
    }
}

#[test]
fn traversal_attempts_are_refused() {
    let (_tmp, files) = site();
    for path in [
        "/../secret.txt",
        "/%2e%2e/secret.txt",
        "/docs/%2E%2E/%2e%2e/secret.txt",
        "/..%2fsecret.txt",
        "/docs%2f..%2f..%2fsecret.txt",
        "/escape.txt",
    ] {
        let r = get(&files, path, &[]);
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{path}");
        assert!(!body(&r).starts_with(b"top secret"), "{path}");
    }
    assert_eq!(get(&files, "/%zz", &[]).status, StatusCode::BAD_REQUEST);
    assert_eq!(
        get(&files, "/missing.txt", &[]).status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(get(&files, "/noindex/", &[]).status, StatusCode::NOT_FOUND);
    // A symlink that stays inside the root is fine.
    assert_eq!(body(&get(&files, "/link.txt", &[])), &b"0123456789"[..]);
}

#[test]
fn directories_serve_index_html() {
    let (_tmp, files) = site();
    let r = get(&files, "/", &[]);
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(body(&r), &b"<h1>home</h1>"[..]);
    assert_eq!(header(&r, "content-type"), "text/html; charset=utf-8");
    assert_eq!(body(&get(&files, "/docs/", &[])), &b"docs"[..]);
    let r = get(&files, "/docs?x=1", &[]);
    assert_eq!(r.status, StatusCode::MOVED_PERMANENTLY);
    assert_eq!(header(&r, "location"), "/docs/?x=1");
    assert_eq!(body(&get(&files, "/a%20b.txt", &[])), &b"space"[..]);
}

#[test]
fn content_types_and_lengths() {
    let (_tmp, files) = site();
    for (path, ty, len) in [
        ("/hello.txt", "text/plain; charset=utf-8", "10"),
        ("/style.css", "text/css; charset=utf-8", "6"),
        ("/data.json", "application/json", "2"),
        ("/img.png", "image/png", "4"),
        ("/noindex/a.bin", "application/octet-stream", "1"),
    ] {
        let r = get(&files, path, &[]);
        assert_eq!(r.status, StatusCode::OK, "{path}");
        assert_eq!(header(&r, "content-type"), ty, "{path}");
        assert_eq!(header(&r, "content-length"), len, "{path}");
        assert_eq!(header(&r, "accept-ranges"), "bytes");
    }
}

#[test]
fn etag_and_if_none_match_give_304() {
    let (tmp, files) = site();
    let r = get(&files, "/hello.txt", &[]);
    let etag = header(&r, "etag").to_string();
    assert!(etag.starts_with("\"a-") && etag.ends_with('"'), "{etag}");
    let r304 = get(&files, "/hello.txt", &[("if-none-match", &etag)]);
    assert_eq!(r304.status, StatusCode::NOT_MODIFIED);
    assert_eq!(r304.body, BodySource::Empty);
    assert_eq!(header(&r304, "etag"), etag);
    let weak = format!("\"x\", W/{etag}");
    assert_eq!(
        get(&files, "/hello.txt", &[("if-none-match", &weak)]).status,
        StatusCode::NOT_MODIFIED
    );
    assert_eq!(
        get(&files, "/hello.txt", &[("if-none-match", "\"other\"")]).status,
        StatusCode::OK
    );
    // Rewriting the file changes the validator.
    std::thread::sleep(Duration::from_millis(10));
    tmp.file("site/hello.txt", b"01234567890");
    let r = get(&files, "/hello.txt", &[("if-none-match", &etag)]);
    assert_eq!(r.status, StatusCode::OK);
    assert_ne!(header(&r, "etag"), etag);
}

#[test]
fn if_modified_since_gives_304() {
    let (tmp, files) = site();
    let path = tmp.0.join("site/hello.txt");
    let mtime = SystemTime::UNIX_EPOCH + Duration::from_secs(1_600_000_000);
    std::fs::File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_modified(mtime)
        .unwrap();
    let r = get(&files, "/hello.txt", &[]);
    assert_eq!(header(&r, "last-modified"), "Sun, 13 Sep 2020 12:26:40 GMT");
    let same = format_http_date(mtime);
    assert_eq!(
        get(&files, "/hello.txt", &[("if-modified-since", &same)]).status,
        StatusCode::NOT_MODIFIED
    );
    let earlier = format_http_date(mtime - Duration::from_secs(1));
    assert_eq!(
        get(&files, "/hello.txt", &[("if-modified-since", &earlier)]).status,
        StatusCode::OK
    );
    // If-None-Match wins over If-Modified-Since (RFC 9110 §13.2.2).
    let r = get(
        &files,
        "/hello.txt",
        &[("if-none-match", "\"nope\""), ("if-modified-since", &same)],
    );
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        get(&files, "/hello.txt", &[("if-modified-since", "garbage")]).status,
        StatusCode::OK
    );
    // RFC 9110 §5.6.7: recipients accept all three HTTP-date forms.
    for (same, earlier) in [
        (
            "Sun, 13 Sep 2020 12:26:40 GMT",
            "Sun, 13 Sep 2020 12:26:39 GMT",
        ),
        (
            "Sunday, 13-Sep-20 12:26:40 GMT",
            "Sunday, 13-Sep-20 12:26:39 GMT",
        ),
        ("Sun Sep 13 12:26:40 2020", "Sun Sep 13 12:26:39 2020"),
    ] {
        let status = |date: &str| get(&files, "/hello.txt", &[("if-modified-since", date)]).status;
        assert_eq!(status(same), StatusCode::NOT_MODIFIED, "{same}");
        assert_eq!(status(earlier), StatusCode::OK, "{earlier}");
    }
}

#[test]
fn single_ranges_give_206_with_content_range() {
    let (_tmp, files) = site();
    for (range, content_range, bytes) in [
        ("bytes=0-3", "bytes 0-3/10", &b"0123"[..]),
        ("bytes=7-", "bytes 7-9/10", b"789"),
        ("bytes=-2", "bytes 8-9/10", b"89"),
        ("bytes=5-100", "bytes 5-9/10", b"56789"),
    ] {
        let r = get(&files, "/hello.txt", &[("range", range)]);
        assert_eq!(r.status, StatusCode::PARTIAL_CONTENT, "{range}");
        assert_eq!(header(&r, "content-range"), content_range);
        assert_eq!(header(&r, "content-length"), bytes.len().to_string());
        assert_eq!(body(&r), bytes);
    }
}

#[test]
fn unsatisfiable_range_is_416_and_multi_range_is_200() {
    let (_tmp, files) = site();
    let r = get(&files, "/hello.txt", &[("range", "bytes=10-")]);
    assert_eq!(r.status, StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(header(&r, "content-range"), "bytes */10");
    assert_eq!(body(&r), Bytes::new());
    let r = get(&files, "/hello.txt", &[("range", "bytes=0-1,4-5")]);
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(body(&r), &b"0123456789"[..]);
    // A stale If-Range turns the range request into a full 200.
    let r = get(
        &files,
        "/hello.txt",
        &[("range", "bytes=0-1"), ("if-range", "\"stale\"")],
    );
    assert_eq!(r.status, StatusCode::OK);
    let etag = header(&get(&files, "/hello.txt", &[]), "etag").to_string();
    let r = get(
        &files,
        "/hello.txt",
        &[("range", "bytes=0-1"), ("if-range", &etag)],
    );
    assert_eq!(r.status, StatusCode::PARTIAL_CONTENT);
}

#[test]
fn head_has_get_headers_without_body() {
    let (_tmp, files) = site();
    let g = get(&files, "/hello.txt", &[]);
    let h = request(
        &files,
        Method::HEAD,
        "/hello.txt",
        &[("range", "bytes=0-1")],
    );
    assert_eq!(h.status, StatusCode::OK);
    assert_eq!(h.all_headers(), g.all_headers());
    assert_eq!(h.body, BodySource::Empty);
    let p = request(&files, Method::POST, "/hello.txt", &[]);
    assert_eq!(p.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(header(&p, "allow"), "GET, HEAD");
}

#[test]
fn builtin_page_is_served_at_root_only() {
    let files = StaticFiles::builtin();
    let r = get(&files, "/", &[]);
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(body(&r), BUILTIN_INDEX.as_bytes());
    assert!(BUILTIN_INDEX.contains("h2ring"));
    assert_eq!(header(&r, "content-type"), "text/html; charset=utf-8");
    let etag = header(&r, "etag").to_string();
    assert_eq!(
        get(&files, "/", &[("if-none-match", &etag)]).status,
        StatusCode::NOT_MODIFIED
    );
    assert_eq!(
        body(&get(&files, "/", &[("range", "bytes=0-14")])),
        &BUILTIN_INDEX.as_bytes()[..15]
    );
    assert_eq!(get(&files, "/other", &[]).status, StatusCode::NOT_FOUND);
}

#[test]
fn bad_roots_are_start_errors() {
    let tmp = TempDir::new();
    let file = tmp.file("plain.txt", b"x");
    let err = StaticFiles::new(&file).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("cannot serve root {}: not a directory", file.display())
    );
    let missing = Path::new("/definitely/not/here");
    let err = StaticFiles::new(missing).unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot serve root /definitely/not/here: no such file or directory"
    );
}
