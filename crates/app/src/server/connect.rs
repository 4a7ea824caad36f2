//! The per-core connection callbacks: on a PROXY protocol listener they read the header
//! first; then they pick the protocol: over TLS, ALPN decides
//! (`h2` → HTTP/2, otherwise HTTP/1.1); in cleartext, the port's [`Protocols`] and then
//! the first octets decide (the HTTP/2 client preface → h2c prior knowledge, an HTTP/1.x
//! request line → HTTP/1.1, which may upgrade, anything else → GOAWAY(PROTOCOL_ERROR)).

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{ready, Context as TaskContext, Poll};
use std::time::Duration;

use bytes::BytesMut;

use super::listener::ListenerConfig;
use super::protocols::Protocols;
use crate::driver::{h2, http1};
use crate::metrics::ProxyRefusal;
use crate::runtime::{ConnInfo, ConnectionFn, ConnectionFuture, CoreContext};
use crate::service::exchange::{CoreServices, CoreSettings};
use crate::service::{ConnState, Context, Request, Response, Service};
use crate::transport::proxy::{self, HeaderRead, Refusal, Source};
use crate::transport::sniff::{sniff, Sniffed, NOT_HTTP_ANSWER};
use crate::transport::tls::{handshake, NegotiatedProtocol, TlsAcceptor, TlsInfo};

/// Builds the per-core connection callbacks, one per listener, serving `service` over
/// HTTP/2 and HTTP/1.1, over TLS when `tls` is given, else in cleartext speaking
/// `protocols`; on the listeners whose `proxy_protocol` is set, after the PROXY protocol
/// header.
pub(crate) fn connection_fns<S: Service>(
    core: &CoreContext,
    service: S,
    settings: CoreSettings,
    protocols: Protocols,
    tls: Option<&TlsAcceptor>,
    listeners: &[ListenerConfig],
) -> Vec<ConnectionFn> {
    let shared = Rc::new(PerCore {
        service: Rc::new(service),
        core: core.clone(),
        settings: Rc::new(settings),
        protocols,
        handlers: Rc::new(Cell::new(0)),
        tls: tls.map(|a| (a.for_core(), a.handshake_timeout())),
    });
    let callback = |proxy_protocol: bool| -> ConnectionFn {
        let shared = shared.clone();
        Rc::new(move |stream, info| serve_connection(stream, info, shared.clone(), proxy_protocol))
    };
    listeners
        .iter()
        .map(|l| callback(l.proxy_protocol))
        .collect()
}

/// What every connection on one core shares.
struct PerCore<S> {
    service: Rc<S>,
    core: CoreContext,
    settings: Rc<CoreSettings>,
    /// What the cleartext listeners speak.
    protocols: Protocols,
    handlers: Rc<Cell<usize>>,
    tls: Option<(Arc<rustls::ServerConfig>, Duration)>,
}

impl<S: Service> PerCore<S> {
    fn services(&self) -> Rc<CoreServices<S>> {
        self.services_of(self.service.clone())
    }

    fn services_with_tls(&self, info: TlsInfo) -> Rc<CoreServices<WithTls<S>>> {
        self.services_of(Rc::new(WithTls {
            inner: self.service.clone(),
            info,
        }))
    }

    fn services_of<T>(&self, service: Rc<T>) -> Rc<CoreServices<T>> {
        Rc::new(CoreServices {
            service,
            core: self.core.clone(),
            settings: self.settings.clone(),
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

    fn on_connection(&self, info: &ConnInfo, state: ConnState) {
        self.inner.on_connection(info, state);
    }
}

/// The connection's future: on a PROXY protocol listener the header first, then TLS or
/// the cleartext protocol. The steps before the protocol's serve loop run in one
/// [`Handoff`]: the connection holds only that serve loop once it starts, not what it
/// took to get there (a TLS handshake is kilobytes, the sniffer's read buffer 4 KiB; idle
/// h2c connections should cost little).
fn serve_connection<S: Service>(
    mut stream: glommio::net::TcpStream,
    mut info: ConnInfo,
    per_core: Rc<PerCore<S>>,
    proxy_protocol: bool,
) -> ConnectionFuture {
    Handoff::boxed(async move {
        let mut read = BytesMut::new();
        if proxy_protocol {
            read = proxy_header(&mut stream, &mut info, &per_core).await?;
        }
        match per_core.tls.clone() {
            Some((config, timeout)) => {
                serve_tls(stream, read, info, config, timeout, per_core).await
            }
            None => serve_cleartext(stream, read, info, per_core).await,
        }
    })
}

/// Reads the PROXY protocol header within the connection's first-octets deadline (the
/// TLS handshake timeout, or the HTTP/2 preface timeout in cleartext) and puts the
/// client's address it names into `info`. Returns the octets read past the header, or
/// `None` when the connection is to be closed: no valid header (counted), or the client
/// left.
async fn proxy_header<S: Service>(
    stream: &mut glommio::net::TcpStream,
    info: &mut ConnInfo,
    per_core: &PerCore<S>,
) -> Option<BytesMut> {
    let timeout = match &per_core.tls {
        Some((_, handshake)) => *handshake,
        None => per_core.settings.http2.preface_timeout,
    };
    let refused = match proxy::read_header(stream, timeout).await {
        HeaderRead::Read { source, rest } => {
            if let Source::Client(client) = source {
                info.proxy = Some(info.peer);
                info.peer = client;
            }
            return Some(rest);
        }
        HeaderRead::Gone => return None,
        HeaderRead::Refused(refused) => refused,
    };
    let metric = match refused {
        Refusal::Invalid(why) => {
            tracing::debug!(peer = %info.peer, "PROXY protocol: {why}; connection closed");
            ProxyRefusal::Invalid
        }
        Refusal::TimedOut => {
            tracing::debug!(peer = %info.peer, "PROXY protocol: no header in {timeout:?}");
            ProxyRefusal::Timeout
        }
    };
    per_core.core.metrics().proxy_refused(metric);
    None
}

async fn serve_tls<S: Service>(
    stream: glommio::net::TcpStream,
    read: BytesMut,
    info: ConnInfo,
    config: Arc<rustls::ServerConfig>,
    timeout: Duration,
    per_core: Rc<PerCore<S>>,
) -> Option<ConnectionFuture> {
    let done = match handshake(stream, read.to_vec(), config, timeout).await {
        Ok(done) => done,
        Err(e) => {
            tracing::debug!(peer = %info.peer, "TLS handshake failed: {e}");
            return None;
        }
    };
    let services = per_core.services_with_tls(done.info);
    let serving: ConnectionFuture = match done.protocol {
        NegotiatedProtocol::Http2 => {
            Box::pin(h2::serve_new(done.stream, BytesMut::new(), info, services))
        }
        NegotiatedProtocol::Http11 => Box::pin(async move {
            // No h2c over TLS: ALPN is how a TLS client asks for HTTP/2.
            let _ = http1::serve(done.stream, BytesMut::new(), info, services, true, false).await;
        }),
    };
    Some(serving)
}

async fn serve_cleartext<S: Service>(
    mut stream: glommio::net::TcpStream,
    read: BytesMut,
    info: ConnInfo,
    per_core: Rc<PerCore<S>>,
) -> Option<ConnectionFuture> {
    let timeout = per_core.settings.http2.preface_timeout;
    let services = per_core.services();
    let protocols = per_core.protocols;
    let sniffed = match (protocols.http1(), protocols.h2c()) {
        // HTTP/2 only: the connection checks the preface itself and closes on
        // anything else (RFC 9113 §3.4), no HTTP/1.1 answer.
        (false, _) => Sniffed::Http2(read),
        // HTTP/1.1 only: whatever comes is HTTP/1.1's to answer, no h2c.
        (true, false) => Sniffed::Http1(read),
        (true, true) => sniff(&mut stream, read, timeout).await,
    };
    let serving: ConnectionFuture = match sniffed {
        Sniffed::Http2(read) => Box::pin(h2::serve_new(stream, read, info, services)),
        Sniffed::Http1(read) => Box::pin(async move {
            let h2c = protocols.h2c();
            let upgraded = http1::serve(stream, read, info, services.clone(), false, h2c).await;
            if let Some(up) = upgraded {
                h2::serve(up.stream, up.read_ahead, up.conn, info, services).await;
            }
        }),
        Sniffed::NotHttp => Box::pin(async move {
            // Neither the HTTP/2 preface nor an HTTP/1.x request line: on a port that
            // speaks HTTP/2 this is an invalid connection preface, a connection error
            // of type PROTOCOL_ERROR (RFC 9113 §3.4). Our SETTINGS, then the GOAWAY.
            use futures_lite::AsyncWriteExt;
            let _ = stream.write_all(&NOT_HTTP_ANSWER).await;
            let _ = stream.close().await;
        }),
        Sniffed::Gone => return None,
    };
    Some(serving)
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

    type Svc = crate::service::ServiceFn<
        fn(
            crate::service::Request,
            crate::service::Context,
        ) -> std::future::Ready<crate::service::Response>,
    >;

    #[test]
    fn connection_futures_stay_small() {
        // What an idle h2c connection's task holds: the handoff (two pointers' worth) and
        // the HTTP/2 driver's future behind it; the sniffer's state is gone by then.
        type Step = std::future::Ready<Option<crate::runtime::ConnectionFuture>>;
        let handoff = std::mem::size_of::<super::Handoff<Step>>();
        let h2 = size_of_future(
            |a: glommio::net::TcpStream,
             b: crate::runtime::ConnInfo,
             c: std::rc::Rc<crate::service::exchange::CoreServices<Svc>>| {
                crate::driver::h2::serve(
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
