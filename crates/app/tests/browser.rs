//! A real browser: headless Chromium loads `https://127.0.0.1:PORT/` from the server with
//! a self-signed certificate; the page reports
//! `performance.getEntriesByType('navigation')[0].nextHopProtocol`, which must be `h2`.
//! A screenshot is saved and its path printed as evidence. Without Chromium the test is
//! skipped locally and fails under CI (`CI=true`), where `.ci/run` installs it.

mod support;

use std::path::PathBuf;
use std::process::Command;

use h2ring::{service_fn, Body, Context, CoreContext, Request, Response, TlsConfig};
use support::{builder, TestServer};

const PAGE: &str = "<!doctype html><html><head><title>h2ring browser check</title></head>\
<body><h1 id=proto>pending</h1><script>\
var e = performance.getEntriesByType('navigation')[0];\
document.getElementById('proto').textContent = 'nextHopProtocol=' + e.nextHopProtocol;\
</script></body></html>";

fn chromium() -> Option<PathBuf> {
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find_map(|name| {
            let out = Command::new("which").arg(name).output().ok()?;
            out.status
                .success()
                .then(|| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
        })
}

async fn page(req: Request, _cx: Context) -> Response {
    let _ = req;
    let mut resp = Response::new(Body::from(PAGE));
    resp.headers_mut()
        .insert("content-type", "text/html; charset=utf-8".parse().unwrap());
    resp
}

fn run_chromium(browser: &PathBuf, extra: &[String], url: &str) -> std::process::Output {
    let profile = std::env::temp_dir().join(format!("h2ring-chromium-{}", std::process::id()));
    let out = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--ignore-certificate-errors",
            "--no-first-run",
            "--virtual-time-budget=5000",
            "--timeout=15000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(url)
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&profile);
    out
}

#[test]
fn chromium_loads_the_page_over_h2() {
    let Some(browser) = chromium() else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "chromium is required under CI (.ci/run installs it)"
        );
        eprintln!("chromium not installed: skipping the browser test");
        return;
    };
    let server = TestServer::start(
        builder(1).tls(TlsConfig::self_signed()),
        |_: &CoreContext| service_fn(page),
    );
    let url = format!("https://127.0.0.1:{}/", server.addr.port());
    let out = run_chromium(&browser, &["--dump-dom".to_string()], &url);
    let dom = String::from_utf8_lossy(&out.stdout);
    assert!(
        dom.contains("nextHopProtocol=h2<"),
        "DOM: {dom}\nstderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let shot = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("browser-h2.png");
    let _ = std::fs::remove_file(&shot);
    let out = run_chromium(
        &browser,
        &[
            format!("--screenshot={}", shot.display()),
            "--window-size=800,300".to_string(),
        ],
        &url,
    );
    let size = std::fs::metadata(&shot).map(|m| m.len()).unwrap_or(0);
    assert!(
        size > 0,
        "no screenshot: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    println!(
        "browser evidence: {} ({size} bytes) shows nextHopProtocol=h2",
        shot.display()
    );
}
