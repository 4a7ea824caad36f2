//! The per-listener accept loop: respects the per-core connection cap, backs
//! off on fd exhaustion, stops at shutdown, and runs each connection as a
//! local task that the drain deadline can cut short.

use std::io;
use std::rc::Rc;

use futures_lite::future;
use glommio::net::TcpStream;

use super::core::{ConnInfo, ConnectionFn, CoreState};
use super::listener::Listener;

/// What one accept attempt produced.
enum Accepted {
    Stream(TcpStream),
    Failed(io::Error),
    Shutdown,
}

/// Accepts until shutdown starts, then closes the listener so the kernel
/// stops queueing connections for this core.
pub(crate) async fn accept_loop(listener: Listener, state: Rc<CoreState>, on_conn: ConnectionFn) {
    let local = match listener.accept_side().local_addr() {
        Ok(addr) => addr,
        Err(e) => {
            tracing::error!(core = state.params.cpu, "listener has no address: {e}");
            return;
        }
    };
    loop {
        if !wait_for_capacity(&state).await {
            break;
        }
        let accept = async {
            match listener.accept_side().accept().await {
                Ok(stream) => Accepted::Stream(stream),
                Err(e) => Accepted::Failed(io::Error::from(e)),
            }
        };
        let stop = async {
            state.shutdown.wait().await;
            Accepted::Shutdown
        };
        match future::or(stop, accept).await {
            Accepted::Shutdown => break,
            Accepted::Stream(stream) => spawn_connection(&state, &on_conn, stream, local),
            Accepted::Failed(e) => {
                if !on_accept_error(&state, &e).await {
                    break;
                }
            }
        }
    }
    listener.close();
}

/// Waits while the core is at its connection cap. Returns false if shutdown
/// started meanwhile.
async fn wait_for_capacity(state: &CoreState) -> bool {
    while state.at_capacity() {
        if state.shutdown.is_fired() {
            return false;
        }
        let stop = async {
            state.shutdown.wait().await;
        };
        future::or(stop, state.changed.notified()).await;
    }
    !state.shutdown.is_fired()
}

/// Resource errors (fd table full, no memory) pause accepting for the
/// configured back-off instead of spinning or crashing; per-connection
/// errors (the peer reset before we accepted) are skipped. Returns false if
/// shutdown started during the pause.
async fn on_accept_error(state: &CoreState, err: &io::Error) -> bool {
    let resource = matches!(
        err.raw_os_error(),
        Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM)
    );
    let per_connection = matches!(
        err.raw_os_error(),
        Some(libc::ECONNABORTED | libc::EPROTO | libc::EPERM | libc::EINTR)
    );
    if per_connection {
        return true;
    }
    if resource {
        tracing::warn!(core = state.params.cpu, "accept: {err}; backing off");
    } else {
        tracing::error!(core = state.params.cpu, "accept: {err}; backing off");
    }
    let stop = async {
        state.shutdown.wait().await;
        false
    };
    let pause = async {
        glommio::timer::sleep(state.params.accept_backoff).await;
        true
    };
    future::or(stop, pause).await
}

fn spawn_connection(
    state: &Rc<CoreState>,
    on_conn: &ConnectionFn,
    stream: TcpStream,
    local: std::net::SocketAddr,
) {
    let peer = match stream.peer_addr() {
        Ok(peer) => peer,
        // The peer already went away; nothing to serve.
        Err(_) => return,
    };
    // Small HTTP/2 frames (SETTINGS ACK, WINDOW_UPDATE, HEADERS) must not
    // wait for Nagle; a failure here only costs latency.
    let _ = stream.set_nodelay(true);
    let conn_id = state.connection_opened();
    let info = ConnInfo {
        peer,
        proxy: None,
        local,
        core: state.params.cpu,
        conn_id,
    };
    let serve = on_conn(stream, info);
    let task_state = Rc::clone(state);
    let task = async move {
        let finished = async {
            serve.await;
            false
        };
        let forced = async {
            task_state.force.wait().await;
            true
        };
        // Dropping `serve` when the deadline wins closes the socket.
        let was_forced = future::or(finished, forced).await;
        task_state.connection_closed(was_forced);
    };
    match glommio::spawn_local_into(task, state.params.conn_queue) {
        Ok(task) => {
            task.detach();
        }
        Err(e) => {
            // The task (and the stream in it) was dropped unrun.
            tracing::error!(core = state.params.cpu, "cannot spawn connection task: {e}");
            state.connection_closed(false);
        }
    }
}
