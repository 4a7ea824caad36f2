//! The per-core connection callback that picks the protocol: over TLS, ALPN decides
//! (`h2` → HTTP/2, otherwise HTTP/1.1); in cleartext, the first octets decide (the HTTP/2
//! client preface → h2c prior knowledge, anything else → HTTP/1.1, which may upgrade).

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{ready, Context as TaskContext, Poll};
use std::time::Duration;

use bytes::BytesMut;

use crate::h2::dispatch::CoreServices;
use crate::runtime::{ConnInfo, ConnectionFn, ConnectionFuture, CoreContext};
use crate::service::{Context, Request, Response, Service};
use crate::sniff::{sniff, Sniffed};
use crate::tls::{handshake, NegotiatedProtocol, TlsAcceptor, TlsInfo};

/// How long a cleartext client gets to send its first octets (the preface or a request
/// line) before it is disconnected, unless the connection config's `preface_timeout`
/// says otherwise (it does: the two are the same deadline seen from two layers).
pub const DEFAULT_FIRST_BYTES_TIMEOUT: Duration = Duration::from_secs(10);

/// Builds the per-core connection callback serving `service` over HTTP/2 and HTTP/1.1,
/// over TLS when `tls` is given, else in cleartext. Called once per core by the
/// [`crate::Server::start`] factory.
pub fn connection_fn<S: Service>(
    core: &CoreContext,
    service: S,
    tls: Option<&Arc<TlsAcceptor>>,
) -> ConnectionFn {
    let shared = Rc::new(PerCore {
        service: Rc::new(service),
        core: core.clone(),
        handlers: Rc::new(Cell::new(0)),
        tls: tls.map(|a| (a.for_core(), a.handshake_timeout())),
    });
    Rc::new(move |stream, info| serve_connection(stream, info, shared.clone()))
}

/// What every connection on one core shares.
struct PerCore<S> {
    service: Rc<S>,
    core: CoreContext,
    handlers: Rc<Cell<usize>>,
    tls: Option<(Arc<rustls::ServerConfig>, Duration)>,
}

impl<S: Service> PerCore<S> {
    fn services(&self) -> Rc<CoreServices<S>> {
        Rc::new(CoreServices {
            service: self.service.clone(),
            core: self.core.clone(),
            handlers: self.handlers.clone(),
        })
    }

    fn services_with_tls(&self, info: TlsInfo) -> Rc<CoreServices<WithTls<S>>> {
        Rc::new(CoreServices {
            service: Rc::new(WithTls {
                inner: self.service.clone(),
                info,
            }),
            core: self.core.clone(),
            handlers: self.handlers.clone(),
        })
    }
}

/// Puts the connection's [`TlsInfo`] into every request's extensions.
pub(crate) struct WithTls<S> {
    inner: Rc<S>,
    info: TlsInfo,
}

impl<S> WithTls<S> {
    /// Once per request, also when `call_now` handed it back to `call`.
    fn tag(&self, req: &mut Request) {
        if req.extensions().get::<TlsInfo>().is_none() {
            req.extensions_mut().insert(self.info.clone());
        }
    }
}

impl<S: Service> Service for WithTls<S> {
    fn call(
        &self,
        mut req: Request,
        cx: Context,
    ) -> impl std::future::Future<Output = Response> + 'static {
        self.tag(&mut req);
        self.inner.call(req, cx)
    }

    fn call_now(&self, req: &mut Request, cx: &Context) -> Option<Response> {
        self.tag(req);
        self.inner.call_now(req, cx)
    }

    fn on_connection(&self, info: &ConnInfo, state: crate::ConnState) {
        self.inner.on_connection(info, state);
    }
}

/// The connection's future. Each path (TLS or cleartext) is its own [`Handoff`]: the
/// connection holds only the path it runs, and once the protocol is known only that
/// protocol's serve loop, not what it took to get there (a TLS handshake is kilobytes, the
/// sniffer's read buffer 4 KiB; idle h2c connections should cost little).
fn serve_connection<S: Service>(
    stream: glommio::net::TcpStream,
    info: ConnInfo,
    per_core: Rc<PerCore<S>>,
) -> ConnectionFuture {
    match per_core.tls.clone() {
        Some((config, timeout)) => serve_tls(stream, info, config, timeout, per_core),
        None => serve_cleartext(stream, info, per_core),
    }
}

fn serve_tls<S: Service>(
    stream: glommio::net::TcpStream,
    info: ConnInfo,
    config: Arc<rustls::ServerConfig>,
    timeout: Duration,
    per_core: Rc<PerCore<S>>,
) -> ConnectionFuture {
    Handoff::boxed(async move {
        let done = match handshake(stream, config, timeout).await {
            Ok(done) => done,
            Err(e) => {
                tracing::debug!(peer = %info.peer, "TLS handshake failed: {e}");
                return None;
            }
        };
        let services = per_core.services_with_tls(done.info);
        let serving: ConnectionFuture = match done.protocol {
            NegotiatedProtocol::Http2 => Box::pin(crate::h2::io::serve_new(
                done.stream,
                BytesMut::new(),
                info,
                services,
            )),
            NegotiatedProtocol::Http11 => Box::pin(crate::http1::serve(
                done.stream,
                BytesMut::new(),
                info,
                services,
                true,
            )),
        };
        Some(serving)
    })
}

fn serve_cleartext<S: Service>(
    mut stream: glommio::net::TcpStream,
    info: ConnInfo,
    per_core: Rc<PerCore<S>>,
) -> ConnectionFuture {
    Handoff::boxed(async move {
        let timeout = per_core.core.conn_config().preface_timeout;
        let services = per_core.services();
        let serving: ConnectionFuture = match sniff(&mut stream, timeout).await {
            Sniffed::Http2(read) => {
                Box::pin(crate::h2::io::serve_new(stream, read, info, services))
            }
            Sniffed::Http1(read) => {
                Box::pin(crate::http1::serve(stream, read, info, services, false))
            }
            Sniffed::Gone => return None,
        };
        Some(serving)
    })
}

/// A connection served in two steps: a first one (a TLS handshake, sniffing the protocol)
/// that ends by building the second (that protocol's serve loop). One `async fn` awaiting
/// both would keep the first step's state, and the transport it moved on, in the
/// connection's future for as long as the connection lives; here the first step's box is
/// freed when the second starts, and what stays is two pointers.
enum Handoff<F> {
    Preparing(Pin<Box<F>>),
    Serving(ConnectionFuture),
    Done,
}

impl<F> Handoff<F>
where
    F: Future<Output = Option<ConnectionFuture>> + 'static,
{
    fn boxed(first: F) -> ConnectionFuture {
        Box::pin(Handoff::Preparing(Box::pin(first)))
    }
}

impl<F> Future for Handoff<F>
where
    F: Future<Output = Option<ConnectionFuture>>,
{
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<()> {
        // Every variant holds its future behind a `Pin<Box>`: `Handoff` is `Unpin`.
        let this = self.get_mut();
        loop {
            match this {
                Handoff::Preparing(first) => match first.as_mut().poll(cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(Some(serving)) => *this = Handoff::Serving(serving),
                    Poll::Ready(None) => *this = Handoff::Done,
                },
                Handoff::Serving(serving) => {
                    ready!(serving.as_mut().poll(cx));
                    *this = Handoff::Done;
                }
                Handoff::Done => return Poll::Ready(()),
            }
        }
    }
}

#[cfg(test)]
mod future_sizes {
    //! Every connection, idle ones included, holds its serving future: keep it small
    //! (issue target: under 8 KiB of server memory per idle HTTP/2 connection).

    fn size_of_future<F, A, B, C, Fut>(_: F) -> usize
    where
        F: Fn(A, B, C) -> Fut,
    {
        std::mem::size_of::<Fut>()
    }

    type Svc =
        crate::ServiceFn<fn(crate::Request, crate::Context) -> std::future::Ready<crate::Response>>;

    #[test]
    fn connection_futures_stay_small() {
        // What an idle h2c connection's task holds: the handoff (two pointers' worth) and
        // the HTTP/2 driver's future behind it; the sniffer's state is gone by then.
        type Step = std::future::Ready<Option<crate::runtime::ConnectionFuture>>;
        let handoff = std::mem::size_of::<super::Handoff<Step>>();
        let h2 = size_of_future(
            |a: glommio::net::TcpStream,
             b: crate::ConnInfo,
             c: std::rc::Rc<crate::h2::dispatch::CoreServices<Svc>>| {
                crate::h2::io::serve(
                    a,
                    bytes::BytesMut::new(),
                    h2ring_conn::Connection::new(
                        h2ring_conn::Config::default(),
                        std::time::Instant::now(),
                    ),
                    b,
                    c,
                )
            },
        );
        assert!(handoff <= 24, "connection handoff is {handoff} bytes");
        assert!(h2 <= 1024, "h2 driver future is {h2} bytes");
    }
}
