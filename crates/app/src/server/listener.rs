//! One listener's settings: its address, and what each of its connections sends before
//! HTTP (or TLS) starts.

use std::net::SocketAddr;

/// One address to listen on and how its connections begin. Every core binds its own
/// `SO_REUSEPORT` socket for it.
///
/// ```
/// use h2ring::{ListenerConfig, Server};
///
/// // Behind an L4 balancer that sends the PROXY protocol header (HAProxy `send-proxy`,
/// // an AWS NLB with proxy protocol v2 on): handlers see the client's address.
/// let mut behind_balancer = ListenerConfig::new("0.0.0.0:8443".parse().unwrap());
/// behind_balancer.proxy_protocol = true;
/// let server = Server::builder()
///     .listener(behind_balancer)
///     .listen("127.0.0.1:8080".parse().unwrap())
///     .build()?;
/// assert!(server.config().listen[0].proxy_protocol);
/// assert!(!server.config().listen[1].proxy_protocol);
/// # Ok::<(), h2ring::StartError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ListenerConfig {
    /// The address, IP:port (port 0: any free port, see
    /// [`RunningServer::local_addrs`](crate::RunningServer::local_addrs)).
    pub addr: SocketAddr,
    /// Every connection starts with a PROXY protocol header, version 1 or 2 (default
    /// `false`). Its source address becomes the connection's
    /// [`ConnInfo::peer`](crate::ConnInfo::peer), and the balancer's own address
    /// [`ConnInfo::proxy`](crate::ConnInfo::proxy). A connection whose first octets are
    /// no valid header, or whose header does not arrive within the first-octets deadline
    /// (the TLS handshake timeout with TLS, `Http2Config::preface_timeout` without), is
    /// closed. Turn it on only where every client is a balancer you trust: anyone who
    /// can connect directly could claim any address.
    pub proxy_protocol: bool,
}

impl ListenerConfig {
    /// A listener on `addr` with default settings.
    pub fn new(addr: SocketAddr) -> Self {
        ListenerConfig {
            addr,
            proxy_protocol: false,
        }
    }
}
