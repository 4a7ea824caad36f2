//! The smallest h2ring server: every request gets "hello".
//!
//! Run it and ask it over HTTP/1.1 or HTTP/2 (the port speaks both):
//!
//! ```text
//! cargo run --example hello -p h2ring            # listens on 127.0.0.1:8080
//! cargo run --example hello -p h2ring -- 127.0.0.1:9000
//! curl http://127.0.0.1:8080/                              # HTTP/1.1
//! curl --http2-prior-knowledge http://127.0.0.1:8080/      # HTTP/2 (h2c)
//! curl --http2 http://127.0.0.1:8080/                      # HTTP/1.1, upgraded to h2c
//! ```
//!
//! Ctrl-C (or SIGTERM) drains open connections and prints a summary.

use std::net::SocketAddr;
use std::process::ExitCode;

use h2ring::{service_fn, Body, Context, CoreContext, Request, Response, Server};

/// Where to listen when no address is given on the command line.
const DEFAULT_ADDR: &str = "127.0.0.1:8080";

async fn hello(_req: Request, _cx: Context) -> Response {
    Response::new(Body::from("hello\n"))
}

fn main() -> ExitCode {
    let arg = std::env::args().nth(1);
    let addr: SocketAddr = match arg.as_deref().unwrap_or(DEFAULT_ADDR).parse() {
        Ok(addr) => addr,
        Err(e) => {
            eprintln!("hello: invalid address: {e}");
            return ExitCode::FAILURE;
        }
    };
    let server = match Server::builder().listen(addr).build() {
        Ok(server) => server,
        Err(e) => {
            eprintln!("hello: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("hello: listening on {addr} (try: curl http://{addr}/)");
    // The factory runs once on each core and builds that core's service.
    match server.serve(|_core: &CoreContext| service_fn(hello)) {
        Ok(summary) => {
            println!("{summary}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("hello: {e}");
            ExitCode::FAILURE
        }
    }
}
