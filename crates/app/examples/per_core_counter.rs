//! Per-core state without locks: each core's service owns an `Rc<Cell<u64>>` counter
//! (`!Send`, never shared across threads) and answers with its core and its count.
//! Counts are per core, so two connections served by different cores count separately.
//!
//! ```text
//! cargo run --example per_core_counter -p h2ring   # listens on 127.0.0.1:8080
//! for i in 1 2 3 4; do curl -s http://127.0.0.1:8080/; done   # HTTP/1.1 (or --http2-prior-knowledge)
//! # core 0: request 1
//! # core 1: request 1
//! # core 0: request 2 ...
//! ```

use std::cell::Cell;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::rc::Rc;

use h2ring::{service_fn, Body, Context, CoreContext, Request, Response, Server};

/// Where to listen when no address is given on the command line.
const DEFAULT_ADDR: &str = "127.0.0.1:8080";

/// Builds one core's service: the counter lives on that core only.
fn counter_service(core: &CoreContext) -> impl h2ring::Service {
    let count = Rc::new(Cell::new(0u64));
    let core_id = core.core();
    service_fn(move |_req: Request, _cx: Context| {
        // No lock and no atomic: only this core's thread ever touches `count`.
        let n = count.get() + 1;
        count.set(n);
        async move { Response::new(Body::from(format!("core {core_id}: request {n}\n"))) }
    })
}

fn main() -> ExitCode {
    let arg = std::env::args().nth(1);
    let addr: SocketAddr = match arg.as_deref().unwrap_or(DEFAULT_ADDR).parse() {
        Ok(addr) => addr,
        Err(e) => {
            eprintln!("per_core_counter: invalid address: {e}");
            return ExitCode::FAILURE;
        }
    };
    let server = match Server::builder().listen(addr).build() {
        Ok(server) => server,
        Err(e) => {
            eprintln!("per_core_counter: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("per_core_counter: listening on {addr}");
    match server.serve(counter_service) {
        Ok(summary) => {
            println!("{summary}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("per_core_counter: {e}");
            ExitCode::FAILURE
        }
    }
}
