//! curl (`--http2-prior-knowledge`) against an in-process server: GET, HEAD, POST echo,
//! a 10 MiB download checked by SHA-256, 304 on If-None-Match and a Range 206.

mod support;

use std::future::Future;
use std::pin::Pin;

use h2ring::static_files::StaticFiles;
use h2ring::{Context, Request, Response, Service};
use support::sha256::sha256_hex;
use support::{builder, echo_service, pattern, run_tool, TempDir, TestServer};

const TEN_MIB: usize = 10 * 1024 * 1024;

/// `/echo` streams the request body back; everything else is a static file.
fn site_service(files: StaticFiles) -> impl Service {
    let files = files.into_service();
    let echo = echo_service();
    h2ring::service_fn(
        move |req: Request, cx: Context| -> Pin<Box<dyn Future<Output = Response>>> {
            if req.uri().path() == "/echo" {
                Box::pin(echo.call(req, cx))
            } else {
                Box::pin(files.call(req, cx))
            }
        },
    )
}

struct Site {
    dir: TempDir,
    big: Vec<u8>,
    server: TestServer,
}

fn site() -> Site {
    let dir = TempDir::new("curl");
    dir.file("hello.txt", b"hello over h2\n");
    let big = pattern(TEN_MIB, 0x5eed);
    dir.file("big.bin", &big);
    let files = StaticFiles::new(dir.path()).unwrap();
    let server = TestServer::start(builder(1), move |_| site_service(files.clone()));
    Site { dir, big, server }
}

/// What curl saw: status, header lines (lowercase names, in order), body bytes.
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

fn curl(site: &Site, path: &str, extra: &[&str]) -> Reply {
    let head = site.dir.path().join("curl-head");
    let body = site.dir.path().join("curl-body");
    let _ = std::fs::remove_file(&body);
    let url = format!("http://{}{path}", site.server.addr);
    let mut args = vec![
        "-sS",
        "--http2-prior-knowledge",
        "--max-time",
        "30",
        "-D",
        head.to_str().unwrap(),
        "-o",
        body.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    args.push(&url);
    let (ok, _, stderr) = run_tool("curl", &args);
    assert!(ok, "curl {args:?} failed: {stderr}");
    let head = std::fs::read_to_string(head).unwrap();
    let mut lines = head.lines();
    let status_line = lines.next().unwrap();
    let status = status_line
        .strip_prefix("HTTP/2 ")
        .unwrap_or_else(|| panic!("not HTTP/2: {status_line:?}"))
        .trim()
        .parse()
        .unwrap();
    let headers = lines
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let (n, v) = l.split_once(':').unwrap();
            (n.trim().to_ascii_lowercase(), v.trim().to_string())
        })
        .collect();
    Reply {
        status,
        headers,
        body: std::fs::read(body).unwrap_or_default(),
    }
}

#[test]
fn get_and_head_agree_on_headers() {
    let site = site();
    let get = curl(&site, "/hello.txt", &[]);
    assert_eq!(get.status, 200);
    assert_eq!(get.body, b"hello over h2\n");
    assert_eq!(get.header("content-length"), Some("14"));
    assert_eq!(
        get.header("content-type"),
        Some("text/plain; charset=utf-8")
    );

    let head = curl(&site, "/hello.txt", &["-I"]);
    assert_eq!(head.status, 200);
    // With -I curl writes the head where the body would go, and nothing else.
    let dumped = std::fs::read(site.dir.path().join("curl-head")).unwrap();
    assert_eq!(head.body, dumped, "HEAD carried a body");
    let without_date = |r: &Reply| {
        r.headers
            .iter()
            .filter(|(n, _)| n != "date")
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(without_date(&head), without_date(&get));
}

#[test]
fn post_body_is_echoed() {
    let site = site();
    let reply = curl(
        &site,
        "/echo",
        &["--data-binary", "ping over h2", "-H", "content-type: x/y"],
    );
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body, b"ping over h2");

    // Larger than every window, so echo depends on flow control both ways.
    let upload = site
        .dir
        .file("upload.bin", &pattern(3 * 1024 * 1024 + 7, 9));
    let at = format!("@{}", upload.display());
    let reply = curl(&site, "/echo", &["--data-binary", &at]);
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body.len(), 3 * 1024 * 1024 + 7);
    assert_eq!(
        sha256_hex(&reply.body),
        sha256_hex(&std::fs::read(upload).unwrap())
    );
}

#[test]
fn ten_mib_download_matches_sha256() {
    let site = site();
    let reply = curl(&site, "/big.bin", &[]);
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-length"), Some("10485760"));
    assert_eq!(reply.body.len(), TEN_MIB);
    assert_eq!(sha256_hex(&reply.body), sha256_hex(&site.big));
}

#[test]
fn if_none_match_gives_304_without_body() {
    let site = site();
    let first = curl(&site, "/hello.txt", &[]);
    let etag = first.header("etag").expect("etag").to_string();
    let inm = format!("if-none-match: {etag}");
    let reply = curl(&site, "/hello.txt", &["-H", &inm]);
    assert_eq!(reply.status, 304);
    assert!(reply.body.is_empty());
    assert_eq!(reply.header("etag"), Some(etag.as_str()));

    let reply = curl(&site, "/hello.txt", &["-H", "if-none-match: \"other\""]);
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body, b"hello over h2\n");
}

#[test]
fn range_gives_206_with_exact_content_range() {
    let site = site();
    let reply = curl(&site, "/big.bin", &["-H", "range: bytes=1000-1999"]);
    assert_eq!(reply.status, 206);
    assert_eq!(
        reply.header("content-range"),
        Some("bytes 1000-1999/10485760")
    );
    assert_eq!(reply.header("content-length"), Some("1000"));
    assert_eq!(reply.body, &site.big[1000..2000]);

    // A suffix range that is streamed (larger than one file chunk).
    let reply = curl(&site, "/big.bin", &["-H", "range: bytes=-600000"]);
    assert_eq!(reply.status, 206);
    assert_eq!(
        reply.header("content-range"),
        Some("bytes 9885760-10485759/10485760")
    );
    assert_eq!(reply.body, &site.big[TEN_MIB - 600_000..]);
}

#[test]
fn sha256_helper_matches_known_answers_and_sha256sum() {
    assert_eq!(
        sha256_hex(b""),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    assert_eq!(
        sha256_hex(b"abc"),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    let dir = TempDir::new("sha");
    let data = pattern(1_000_003, 7);
    let path = dir.file("data.bin", &data);
    let (ok, out, err) = run_tool("sha256sum", &[path.to_str().unwrap()]);
    assert!(ok, "{err}");
    assert_eq!(
        out.split_whitespace().next(),
        Some(sha256_hex(&data).as_str())
    );
}

#[test]
fn head_of_a_streamed_file_sends_only_the_head() {
    let site = site();
    let head = curl(&site, "/big.bin", &["-I"]);
    assert_eq!(head.status, 200);
    assert_eq!(head.header("content-length"), Some("10485760"));
    let dumped = std::fs::read(site.dir.path().join("curl-head")).unwrap();
    assert_eq!(head.body, dumped, "HEAD carried a body");
}
