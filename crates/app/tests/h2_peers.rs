//! nghttp2's tools as peers: `nghttp -nv` and `nghttp -v` (103 Early Hints) against an
//! in-process server, and `h2load -n 20000 -c 10 -m 10` against the `h2ring` binary.

mod support;

use std::time::Duration;

use h2ring::Context;
use http::{HeaderMap, HeaderValue, StatusCode};
use support::{
    builder, curl, parse_h2load, run_tool, text, two_cores, Binary, TempDir, TestServer,
};

fn hints_server() -> TestServer {
    TestServer::start(builder(1), |_| {
        h2ring::service_fn(|req: h2ring::Request, cx: Context| async move {
            if req.uri().path() == "/hints" {
                let mut link = HeaderMap::new();
                link.insert("link", HeaderValue::from_static("</a.css>; rel=preload"));
                if cx
                    .send_informational(StatusCode::EARLY_HINTS, &link)
                    .is_err()
                {
                    return text(500, "");
                }
            }
            text(200, "peer ok")
        })
    })
}

#[test]
fn nghttp_nv_succeeds_and_shows_settings_and_response() {
    let server = hints_server();
    let url = format!("http://{}/", server.addr);
    let (ok, out, err) = run_tool("nghttp", &["-nv", "-t", "20", &url]);
    assert!(ok, "nghttp failed: {err}\n{out}");
    assert!(out.contains("recv SETTINGS frame"), "{out}");
    assert!(
        out.contains("[SETTINGS_MAX_CONCURRENT_STREAMS(0x03):100]"),
        "{out}"
    );
    assert!(
        out.contains("[SETTINGS_INITIAL_WINDOW_SIZE(0x04):1048576]"),
        "{out}"
    );
    assert!(out.contains("recv (stream_id=13) :status: 200"), "{out}");
    assert!(
        out.contains("recv (stream_id=13) content-length: 7"),
        "{out}"
    );
    assert!(out.contains("; END_STREAM"), "{out}");
}

#[test]
fn nghttp_sees_103_before_200() {
    let server = hints_server();
    let url = format!("http://{}/hints", server.addr);
    let (ok, out, err) = run_tool("nghttp", &["-v", "-t", "20", &url]);
    assert!(ok, "nghttp failed: {err}\n{out}");
    let hints = out
        .find("recv (stream_id=13) :status: 103")
        .unwrap_or_else(|| panic!("no 103 in {out}"));
    let link = out
        .find("recv (stream_id=13) link: </a.css>; rel=preload")
        .unwrap_or_else(|| panic!("no link in {out}"));
    let fin = out
        .find("recv (stream_id=13) :status: 200")
        .unwrap_or_else(|| panic!("no 200 in {out}"));
    assert!(hints < link && link < fin, "{out}");
    assert!(out.ends_with("peer ok") || out.contains("peer ok"), "{out}");
}

#[test]
fn h2load_20000_requests_against_the_binary_all_succeed() {
    let cores = if two_cores().is_some() { "2" } else { "1" };
    let bin = Binary::start(&["--cores", cores, "--drain-timeout", "5"]);
    let url = format!("http://{}/", bin.addr);
    let (ok, out, err) = run_tool(
        "h2load",
        &[
            "-n", "20000", "-c", "10", "-m", "10", "-T", "30", "-N", "30", &url,
        ],
    );
    assert!(ok, "h2load failed: {err}\n{out}");
    let r = parse_h2load(&out);
    assert_eq!((r.total, r.started, r.done), (20000, 20000, 20000), "{out}");
    assert_eq!(r.succeeded, 20000, "{out}");
    assert_eq!((r.failed, r.errored, r.timeout), (0, 0, 0), "{out}");
    assert!(
        out.contains("status codes: 20000 2xx, 0 3xx, 0 4xx, 0 5xx"),
        "{out}"
    );
    bin.sigterm();
    let (code, rest) = bin.wait(Duration::from_secs(10));
    assert_eq!(code, Some(0));
    assert_eq!(
        rest,
        format!(
            "h2ring: stopped after serving 10 connections (0 force-closed), 20000 streams, \
             20000 requests on {cores} cores\n"
        )
    );
}

/// `--upload-sink` reads a 1 MiB body to its end over HTTP/2 (through flow control: the
/// body is 16 times the default 64 KiB window) and HTTP/1.1, with curl as the client;
/// other POSTs stay 405.
#[test]
fn curl_uploads_to_the_binary_upload_sink() {
    let bin = Binary::start(&["--cores", "1", "--upload-sink", "/upload"]);
    let dir = TempDir::new("upload");
    let body = dir.file("body.bin", &vec![7u8; 1 << 20]);
    let data = format!("@{}", body.display());
    let post = |version: &str, path: &str, data: &str| {
        let url = format!("http://{}{path}", bin.addr);
        curl(&[version, "-w", " %{http_code}", "--data-binary", data, &url])
    };
    for version in ["--http2-prior-knowledge", "--http1.1"] {
        assert_eq!(
            post(version, "/upload", &data),
            "received 1048576 bytes\n 200",
            "{version}"
        );
        assert!(
            post(version, "/elsewhere", "x").ends_with(" 405"),
            "{version}"
        );
    }
}
