//! `date` and `server` on real responses (RFC 9110 §6.6.1, §10.2.4) and HTTP-date parsing
//! of conditional requests (§5.6.7), with curl over HTTP/2 and HTTP/1.1: static files
//! (prepared heads), handler responses, errors, a handler's own `date`, and the switch
//! that turns `server` off.

mod support;

use std::time::{Duration, SystemTime};

use h2ring::static_files::StaticFiles;
use h2ring::{Context, Request, Response};
use http::HeaderValue;
use support::{builder, run_tool, BoxResponse, TempDir, TestServer};

/// Every response head curl printed (`-D -`; several URLs share one connection over
/// HTTP/1.1; curl 7.88 cannot reuse an HTTP/2 prior-knowledge connection, see
/// [`nghttp_heads`]): status line and lowercase (name, value) pairs.
fn heads(args: &[&str]) -> Vec<(String, Vec<(String, String)>)> {
    let mut all = vec!["-sS", "--max-time", "10", "-D", "-"];
    for arg in args {
        // Each URL's body goes nowhere (curl takes one `-o` per URL).
        if arg.starts_with("http://") {
            all.extend_from_slice(&["-o", "/dev/null"]);
        }
        all.push(arg);
    }
    let (ok, out, err) = run_tool("curl", &all);
    assert!(ok, "curl {all:?}: {err}");
    let mut heads = Vec::new();
    for block in out.split("\r\n\r\n").filter(|b| !b.trim().is_empty()) {
        let mut lines = block.lines();
        let status = lines.next().unwrap().trim().to_string();
        let fields = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        heads.push((status, fields));
    }
    heads
}

/// The response heads nghttp received for `urls` (each at least twice), all on one
/// HTTP/2 connection, by stream.
fn nghttp_heads(urls: &[&str]) -> Vec<(String, Vec<(String, String)>)> {
    // `-m 2`: each URL twice (nghttp fetches a URL once per `-m`).
    let mut args = vec!["-nv", "-t", "10", "-m", "2"];
    args.extend_from_slice(urls);
    let (ok, out, err) = run_tool("nghttp", &args);
    assert!(ok, "nghttp {args:?}: {err}");
    let mut heads: Vec<(String, Vec<(String, String)>)> = Vec::new();
    for line in out.lines() {
        let Some((_, rest)) = line.split_once("] recv (stream_id=") else {
            continue;
        };
        let (stream, field) = rest.split_once(") ").unwrap();
        let (name, value) = field.split_once(": ").unwrap();
        if heads.last().is_none_or(|(s, _)| s != stream) {
            heads.push((stream.to_string(), Vec::new()));
        }
        let fields = &mut heads.last_mut().unwrap().1;
        fields.push((name.to_string(), value.to_string()));
    }
    heads
}

fn values<'a>(fields: &'a [(String, String)], name: &str) -> Vec<&'a str> {
    fields
        .iter()
        .filter(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
        .collect()
}

/// Exactly one `date`, an IMF-fixdate within a few seconds of now.
fn assert_fresh_date(status: &str, fields: &[(String, String)]) {
    let dates = values(fields, "date");
    assert_eq!(dates.len(), 1, "{status}: {fields:?}");
    assert!(
        dates[0].ends_with(" GMT") && dates[0].len() == 29,
        "{dates:?}"
    );
    let date = httpdate::parse_http_date(dates[0]).unwrap();
    let now = SystemTime::now();
    let skew = now.duration_since(date).unwrap_or_else(|e| e.duration());
    assert!(
        skew < Duration::from_secs(3),
        "{status}: date {dates:?} vs now"
    );
}

/// `/own-date` answers with its own `date`; `/late` answers after 1.5 s (a spawned
/// handler: its `date` must be the answer's second, not the request's); the rest are
/// static files.
fn site(server_header: Option<HeaderValue>) -> (TempDir, TestServer) {
    let dir = TempDir::new("date");
    let file = dir.file("hello.txt", b"hello\n");
    // Sun, 13 Sep 2020 12:26:40 GMT
    let mtime = SystemTime::UNIX_EPOCH + Duration::from_secs(1_600_000_000);
    std::fs::File::options()
        .write(true)
        .open(file)
        .unwrap()
        .set_modified(mtime)
        .unwrap();
    let files = StaticFiles::new(dir.path()).unwrap();
    let server = TestServer::start(builder(1).server_header(server_header), move |_| {
        let files = files.clone().into_service();
        h2ring::service_fn(move |req: Request, cx: Context| -> BoxResponse {
            match req.uri().path() {
                "/own-date" => Box::pin(async {
                    let mut r = Response::new(h2ring::Body::from("own\n"));
                    r.headers_mut().insert(
                        "date",
                        HeaderValue::from_static("Sun, 06 Nov 1994 08:49:37 GMT"),
                    );
                    r
                }),
                "/late" => Box::pin(async {
                    glommio::timer::sleep(Duration::from_millis(1500)).await;
                    Response::new(h2ring::Body::from("late\n"))
                }),
                _ => Box::pin(h2ring::Service::call(&files, req, cx)),
            }
        })
    });
    (dir, server)
}

#[test]
fn every_final_response_has_one_fresh_date_and_the_server_header() {
    let (_dir, server) = site(Some(HeaderValue::from_static("h2ring")));
    let url = |path: &str| format!("http://{}{path}", server.addr);
    let urls = [
        url("/hello.txt"),
        url("/hello.txt"),
        url("/missing"),
        url("/hello.txt"),
    ];
    let urls: Vec<&str> = urls.iter().map(String::as_str).collect();
    // One connection each: over HTTP/2 later heads refer to `date` and `server` in the
    // HPACK table, and a static file's head is replayed.
    let h2 = nghttp_heads(&urls);
    let h1 = heads(&[&["--http1.1"], &urls[..], &urls[..]].concat());
    for (protocol, heads) in [("h2", h2), ("http/1.1", h1)] {
        assert!(heads.len() >= 4, "{protocol}: {heads:?}");
        for (status, fields) in &heads {
            assert_fresh_date(status, fields);
            assert_eq!(values(fields, "server"), ["h2ring"], "{protocol} {status}");
        }
        let not_found = heads
            .iter()
            .filter(|(status, fields)| {
                status.contains(" 404") || values(fields, ":status") == ["404"]
            })
            .count();
        assert!(
            not_found >= 1 && not_found < heads.len(),
            "{protocol}: {heads:?}"
        );
    }
}

#[test]
fn a_handlers_own_date_is_kept_and_the_server_header_can_be_off() {
    let (_dir, server) = site(None);
    for protocol in ["--http2-prior-knowledge", "--http1.1"] {
        let own = format!("http://{}/own-date", server.addr);
        let heads = heads(&[protocol, &own]);
        let (status, fields) = &heads[0];
        assert_eq!(
            values(fields, "date"),
            ["Sun, 06 Nov 1994 08:49:37 GMT"],
            "{protocol} {status}"
        );
        assert!(values(fields, "server").is_empty(), "{fields:?}");
    }
}

#[test]
fn a_late_answer_is_dated_when_it_is_sent() {
    let (_dir, server) = site(None);
    let whole_seconds = |t: SystemTime| t.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs();
    for protocol in ["--http2-prior-knowledge", "--http1.1"] {
        let late = format!("http://{}/late", server.addr);
        let sent = whole_seconds(SystemTime::now());
        for (status, fields) in heads(&[protocol, &late]) {
            assert_fresh_date(&status, &fields);
            // Answered 1.5 s after it was asked: a later second than the request's.
            let date = httpdate::parse_http_date(values(&fields, "date")[0]).unwrap();
            assert!(whole_seconds(date) > sent, "{protocol}: {fields:?}");
        }
    }
}

/// RFC 9110 §5.6.7: a recipient must accept all three HTTP-date forms.
#[test]
fn if_modified_since_in_each_date_form_gives_304() {
    let (_dir, server) = site(None);
    let url = format!("http://{}/hello.txt", server.addr);
    for date in [
        "Sun, 13 Sep 2020 12:26:40 GMT",
        "Sunday, 13-Sep-20 12:26:40 GMT",
        "Sun Sep 13 12:26:40 2020",
    ] {
        let ims = format!("if-modified-since: {date}");
        for protocol in ["--http2-prior-knowledge", "--http1.1"] {
            let heads = heads(&[protocol, "-H", &ims, &url]);
            let (status, fields) = &heads[0];
            assert!(status.contains(" 304"), "{protocol} {date}: {status}");
            assert_fresh_date(status, fields);
            assert_eq!(
                values(fields, "last-modified"),
                ["Sun, 13 Sep 2020 12:26:40 GMT"]
            );
        }
    }
}

/// A request the HTTP/1.1 parser refuses (RFC 9112 §6.3: a malformed Content-Length) is
/// answered 400 by the driver itself, dated and with `server` too.
#[test]
fn a_refused_http1_request_is_answered_with_date_and_server() {
    use std::io::{Read, Write};
    let (_dir, server) = site(Some(HeaderValue::from_static("h2ring")));
    let mut socket = std::net::TcpStream::connect(server.addr).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    socket
        .write_all(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +1\r\n\r\n")
        .unwrap();
    let mut out = String::new();
    socket.read_to_string(&mut out).unwrap();
    let (head, _) = out.split_once("\r\n\r\n").unwrap();
    let mut lines = head.lines();
    let status = lines.next().unwrap();
    assert!(status.starts_with("HTTP/1.1 400 "), "{out:?}");
    let fields: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    assert_fresh_date(status, &fields);
    assert_eq!(values(&fields, "server"), ["h2ring"]);
}

/// A response the HTTP/2 connection makes itself (431 for a header list over the limit),
/// as the first response on its connection, is dated too.
#[test]
fn the_connections_own_431_is_dated() {
    let (_dir, server) = site(Some(HeaderValue::from_static("h2ring")));
    let big = format!("x-big: {}", "v".repeat(20_000));
    let url = format!("http://{}/hello.txt", server.addr);
    let heads = nghttp_heads(&["-H", &big, &url]);
    assert!(!heads.is_empty(), "no response");
    for (stream, fields) in &heads {
        assert_eq!(values(fields, ":status"), ["431"], "{stream}: {fields:?}");
        assert_fresh_date(stream, fields);
        assert_eq!(values(fields, "server"), ["h2ring"]);
    }
}
