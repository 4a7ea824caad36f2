//! Full-duplex echo: the request body streams back as it arrives, through a
//! `BodyWriter`, so a large upload is echoed with bounded memory (HTTP/2 flow control
//! slows the client when it does not read the echo). Request trailers come back as
//! response trailers.
//!
//! The port speaks HTTP/1.1 (a chunked echo) and HTTP/2:
//!
//! ```text
//! cargo run --example echo -p h2ring             # listens on 127.0.0.1:8080
//! curl --data-binary 'ping' http://127.0.0.1:8080/
//! curl --http2-prior-knowledge --data-binary 'ping' http://127.0.0.1:8080/
//! head -c 50000000 /dev/urandom > /tmp/big && \
//!   curl -s --http2-prior-knowledge --data-binary @/tmp/big http://127.0.0.1:8080/ | cmp - /tmp/big
//! ```

use std::net::SocketAddr;
use std::process::ExitCode;

use h2ring::{service_fn, Body, Context, CoreContext, Request, Response, Server};

/// Where to listen when no address is given on the command line.
const DEFAULT_ADDR: &str = "127.0.0.1:8080";

async fn echo(req: Request, cx: Context) -> Response {
    let mut body = req.into_body();
    let (mut writer, out) = Body::channel();
    // The writer runs as its own task on this core: the head goes out when `echo`
    // returns, then chunks follow as the request body arrives. `Context::spawn` ties the
    // task to this request: a panic in it costs this stream only.
    cx.spawn(async move {
        while let Some(chunk) = body.data().await {
            let Ok(chunk) = chunk else { return };
            // Waits while the client is not reading (backpressure); fails if it reset.
            if writer.send(chunk).await.is_err() {
                return;
            }
        }
        let _ = match body.trailers().await {
            Ok(Some(trailers)) => writer.send_trailers(trailers).await,
            _ => writer.finish().await,
        };
    });
    Response::new(out)
}

fn main() -> ExitCode {
    let arg = std::env::args().nth(1);
    let addr: SocketAddr = match arg.as_deref().unwrap_or(DEFAULT_ADDR).parse() {
        Ok(addr) => addr,
        Err(e) => {
            eprintln!("echo: invalid address: {e}");
            return ExitCode::FAILURE;
        }
    };
    let server = match Server::builder().listen(addr).build() {
        Ok(server) => server,
        Err(e) => {
            eprintln!("echo: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("echo: listening on {addr}");
    match server.serve(|_core: &CoreContext| service_fn(echo)) {
        Ok(summary) => {
            println!("{summary}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("echo: {e}");
            ExitCode::FAILURE
        }
    }
}
