//! HTTP/1.1 behind the same [`crate::Service`] as HTTP/2: strict parsing (RFC 9112, with
//! the request-smuggling defences of §11.2), keep-alive and pipelining, Content-Length
//! and chunked bodies both ways, `Expect: 100-continue`, HEAD, trailers on chunked
//! responses for `TE: trailers` clients, and the cleartext `Upgrade: h2c` path.

pub mod chunked;
mod conn;
mod exchange;
mod handler;
pub mod parse;
pub mod upgrade;

use std::rc::Rc;
use std::time::Instant;

use bytes::BytesMut;
use futures_lite::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use h2ring_conn::Connection;

use self::conn::{Conn, Outcome};
pub use self::conn::{HEADER_READ_TIMEOUT, MAX_BUFFERED_BODY, MAX_DISCARDED_BODY};
pub use self::exchange::MAX_BUFFERED_RESPONSE;
use crate::h2::dispatch::CoreServices;
use crate::runtime::ConnInfo;
use crate::service::{ConnState, Service};

/// Serves HTTP/1.1 on `stream` (`read_ahead`: octets already read while sniffing); an
/// `Upgrade: h2c` request (cleartext only) switches the connection to HTTP/2.
pub(crate) async fn serve<S, T>(
    mut stream: T,
    read_ahead: BytesMut,
    info: ConnInfo,
    services: Rc<CoreServices<S>>,
    tls: bool,
) where
    S: Service,
    T: AsyncRead + AsyncWrite + Unpin,
{
    services.service.on_connection(&info, ConnState::New);
    let outcome = Conn::new(&mut stream, read_ahead, &services, info, tls)
        .run()
        .await;
    match outcome {
        Outcome::Close => {
            services.service.on_connection(&info, ConnState::Closed);
            let _ = stream.close().await;
        }
        Outcome::Upgrade(upgrade, rest) => {
            let (head, settings, body) = upgrade.into_h2();
            let config = services.core.conn_config().clone();
            match Connection::new_upgraded(config, Instant::now(), &settings, head, body) {
                Ok(conn) => {
                    // The HTTP/2 driver reports its own New/Closed.
                    services.service.on_connection(&info, ConnState::Closed);
                    crate::h2::io::serve(stream, rest, conn, info, services).await
                }
                Err(e) => {
                    tracing::debug!(peer = %info.peer, "h2c upgrade failed: {e}");
                    services.service.on_connection(&info, ConnState::Closed);
                    let _ = stream.close().await;
                }
            }
        }
    }
}
