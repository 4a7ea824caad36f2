//! Listening sockets: one `SO_REUSEPORT` socket per (core, address), built
//! with socket2 because glommio's `TcpListener::bind` fixes the backlog at
//! 1024 and unwraps address resolution.

use std::io;
use std::net::SocketAddr;
use std::os::fd::{FromRawFd, IntoRawFd, OwnedFd};

use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use crate::error::StartError;

/// Binds one listening socket.
///
/// The socket is left in *blocking* mode on purpose: glommio first tries a
/// speculative accept, temporarily setting O_NONBLOCK itself, and otherwise
/// submits an io_uring accept, which would fail with EAGAIN instead of
/// waiting if the file were non-blocking. IPv6 sockets are `IPV6_V6ONLY` so
/// `[::]:p` and `0.0.0.0:p` can both be listed.
pub fn bind_one(addr: SocketAddr, backlog: u32) -> io::Result<OwnedFd> {
    let socket = tcp_socket_for(addr)?;
    // Each core binds its own socket to the same address; the kernel spreads
    // incoming connections across them.
    socket.set_reuse_port(true)?;
    socket.bind(&SockAddr::from(addr))?;
    let backlog = i32::try_from(backlog).unwrap_or(i32::MAX);
    socket.listen(backlog)?;
    Ok(OwnedFd::from(socket))
}

/// Binds `copies` sockets to `addr` (one per core). When the port is 0 the
/// first bind picks the port and the others reuse it.
pub fn bind_group(
    addr: SocketAddr,
    backlog: u32,
    copies: usize,
) -> Result<(SocketAddr, Vec<OwnedFd>), StartError> {
    let bind_err = |source| StartError::Bind { addr, source };
    if addr.port() != 0 {
        // SO_REUSEPORT would let us share a port another server (even another h2ring)
        // already listens on, and silently split its traffic. A bind without it fails
        // on any listening socket, so this probe turns that into a clear start error.
        probe_exclusive(addr).map_err(bind_err)?;
    }
    let first = bind_one(addr, backlog).map_err(bind_err)?;
    let actual = local_addr(&first).map_err(bind_err)?;
    let mut fds = Vec::with_capacity(copies);
    fds.push(first);
    for _ in 1..copies {
        fds.push(bind_one(actual, backlog).map_err(bind_err)?);
    }
    Ok((actual, fds))
}

/// Binds and drops a socket without `SO_REUSEPORT`: `EADDRINUSE` when anything already
/// listens on `addr`.
fn probe_exclusive(addr: SocketAddr) -> io::Result<()> {
    tcp_socket_for(addr)?.bind(&SockAddr::from(addr))
}

/// An unbound TCP socket for `addr`'s family: `SO_REUSEADDR` (sockets of old
/// connections in TIME_WAIT must not make a restart fail) and, for IPv6,
/// `IPV6_V6ONLY`.
fn tcp_socket_for(addr: SocketAddr) -> io::Result<Socket> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_reuse_address(true)?;
    if addr.is_ipv6() {
        socket.set_only_v6(true)?;
    }
    Ok(socket)
}

/// The bound address of a socket.
pub fn local_addr(fd: &OwnedFd) -> io::Result<SocketAddr> {
    let socket = Socket::from(fd.try_clone()?);
    socket
        .local_addr()?
        .as_socket()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not an inet socket"))
}

/// A listening socket served by glommio, plus a second handle on the same
/// socket so it can be told to stop listening at once.
pub struct Listener {
    accept: glommio::net::TcpListener,
    control: OwnedFd,
}

impl Listener {
    /// The glommio side, for `accept`.
    pub fn accept_side(&self) -> &glommio::net::TcpListener {
        &self.accept
    }

    /// Stops listening now and closes the socket. Dropping alone is not
    /// enough: an accept or poll request still queued in io_uring holds a
    /// reference to the socket, which keeps it listening (and the kernel
    /// completing handshakes into its backlog) until the ring gets round to
    /// cancelling it. `shutdown(SHUT_RD)` moves a listening socket to CLOSE
    /// synchronously, whoever else holds it, and wakes the pending accept.
    pub fn close(self) {
        if let Err(e) = socket2::SockRef::from(&self.control).shutdown(std::net::Shutdown::Read) {
            tracing::debug!("listener shutdown: {e}");
        }
    }
}

/// Wraps a bound, listening socket as a glommio listener on this executor.
pub fn into_glommio(fd: OwnedFd) -> io::Result<Listener> {
    let control = fd.try_clone()?;
    // SAFETY: `fd` is an owned, open, bound and listening TCP socket; taking
    // it out of the `OwnedFd` transfers sole ownership of that descriptor to
    // the listener, which closes it on drop (`control` is a separate dup).
    // glommio 0.9 offers no safe constructor from a pre-built socket
    // (`TcpListener::bind` is the only other way).
    let accept = unsafe { glommio::net::TcpListener::from_raw_fd(fd.into_raw_fd()) };
    Ok(Listener { accept, control })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_shares_one_ephemeral_port() {
        let (addr, fds) = bind_group("127.0.0.1:0".parse().unwrap(), 16, 3).unwrap();
        assert_ne!(addr.port(), 0);
        assert_eq!(fds.len(), 3);
        for fd in &fds {
            assert_eq!(local_addr(fd).unwrap(), addr);
        }
    }

    #[test]
    fn busy_port_is_a_bind_error() {
        let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = taken.local_addr().unwrap();
        let err = bind_group(addr, 16, 2).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("cannot listen on {addr}: address already in use")
        );
    }

    #[test]
    fn close_stops_listening_while_another_reference_lives() {
        let fd = bind_one("127.0.0.1:0".parse().unwrap(), 8).unwrap();
        let addr = local_addr(&fd).unwrap();
        // Stands in for the reference an in-flight io_uring request holds.
        let lingering = fd.try_clone().unwrap();
        glommio::LocalExecutor::default().run(async move {
            let listener = into_glommio(fd).unwrap();
            assert!(std::net::TcpStream::connect(addr).is_ok());
            listener.close();
        });
        let refused =
            std::net::TcpStream::connect(addr).map(|s| s.local_addr().ok() == s.peer_addr().ok());
        assert!(!matches!(refused, Ok(false)), "still accepting after close");
        drop(lingering);
    }

    #[test]
    fn ipv6_loopback_binds_when_available() {
        let addr: SocketAddr = "[::1]:0".parse().unwrap();
        match bind_one(addr, 8) {
            Ok(fd) => assert!(local_addr(&fd).unwrap().is_ipv6()),
            // Containers without IPv6 report "address not available".
            Err(e) => assert_eq!(e.kind(), io::ErrorKind::AddrNotAvailable),
        }
    }
}
