//! `Server::start_service`: a per-core service factory serving HTTP/2 and HTTP/1.1 on one
//! port, as the crate docs show.

mod support;

use std::cell::Cell;
use std::rc::Rc;

use h2ring::{service_fn, Body, Context, Request, Response};
use support::{builder, curl};

#[test]
fn start_service_serves_a_per_core_service_over_h2_and_http1() {
    let server = builder(1).build().unwrap();
    let running = server
        .start_service(|_core| {
            let hits = Rc::new(Cell::new(0u64));
            service_fn(move |req: Request, _cx: Context| {
                let hits = hits.clone();
                async move {
                    hits.set(hits.get() + 1);
                    let text = format!("{:?} #{}", req.version(), hits.get());
                    Response::new(Body::from(text))
                }
            })
        })
        .unwrap();
    let url = format!("http://{}/", running.local_addrs()[0]);
    assert_eq!(curl(&["--http2-prior-knowledge", &url]), "HTTP/2.0 #1");
    assert_eq!(curl(&["--http1.1", &url]), "HTTP/1.1 #2");
    // The same per-core state answers the upgrade path too.
    assert_eq!(curl(&["--http2", &url]), "HTTP/2.0 #3");
    running.handle().shutdown();
    let summary = running.join();
    assert!(summary.to_string().contains("3 requests"), "{summary}");
}
