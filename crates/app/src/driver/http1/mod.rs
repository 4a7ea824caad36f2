//! HTTP/1.1 behind the same [`crate::Service`] as HTTP/2: strict parsing (RFC 9112, with
//! the request-smuggling defences of §11.2), keep-alive and pipelining, Content-Length
//! and chunked bodies both ways, `Expect: 100-continue`, HEAD, trailers on chunked
//! responses for `TE: trailers` clients, and the cleartext `Upgrade: h2c` path.

mod chunked;
mod conn;
mod exchange;
mod handler;
mod parse;
mod upgrade;

use std::rc::Rc;
use std::time::Instant;

use bytes::BytesMut;
use futures_lite::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use h2ring_conn::Connection;

use self::conn::{Conn, Outcome};
use crate::runtime::ConnInfo;
use crate::service::exchange::CoreServices;
use crate::service::{ConnState, Service};
use crate::transport::abort::ResetOnClose;

/// A connection that asked for `Upgrade: h2c` and got it: the HTTP/2 connection (its first
/// request, the upgrading one, already inside) and the octets read past the request.
pub(crate) struct Upgraded<T> {
    pub(crate) stream: T,
    pub(crate) read_ahead: BytesMut,
    pub(crate) conn: Connection,
}

/// Serves HTTP/1.1 on `stream` (`read_ahead`: octets already read while sniffing). An
/// `Upgrade: h2c` request (cleartext only, when `h2c` allows it) that succeeds ends it
/// with the connection to be served as HTTP/2 by the caller.
pub(crate) async fn serve<S, T>(
    mut stream: T,
    read_ahead: BytesMut,
    info: ConnInfo,
    services: Rc<CoreServices<S>>,
    tls: bool,
    h2c: bool,
) -> Option<Upgraded<T>>
where
    S: Service,
    T: AsyncRead + AsyncWrite + ResetOnClose + Unpin,
{
    services.service.on_connection(&info, ConnState::New);
    let outcome = Conn::new(&mut stream, read_ahead, &services, info, tls, h2c)
        .run()
        .await;
    // The HTTP/2 driver reports its own New/Closed for an upgraded connection.
    services.service.on_connection(&info, ConnState::Closed);
    match outcome {
        Outcome::Close => {
            let _ = stream.close().await;
            None
        }
        // Dropping the stream closes the socket, with an RST (see `ResetOnClose`).
        Outcome::Reset => None,
        Outcome::Upgrade(upgrade, rest) => {
            let (head, settings, body) = upgrade.into_h2();
            let config = (*services.settings.http2).clone();
            match Connection::new_upgraded(config, Instant::now(), &settings, head, body) {
                Ok(conn) => Some(Upgraded {
                    stream,
                    read_ahead: rest,
                    conn,
                }),
                Err(e) => {
                    tracing::debug!(peer = %info.peer, "h2c upgrade failed: {e}");
                    let _ = stream.close().await;
                    None
                }
            }
        }
    }
}
