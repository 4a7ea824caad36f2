//! Closing a connection abortively: for a client that does not read, a normal close (FIN)
//! would leave the kernel sending it what is still queued, at its pace, long after we gave
//! up on it (nginx's `reset_timedout_connection` exists for the same reason).

use std::os::fd::{AsRawFd, BorrowedFd};
use std::time::Duration;

use super::tls::TlsStream;

/// A transport whose close can be made abortive.
pub(crate) trait ResetOnClose {
    /// Makes closing the connection send RST and drop whatever the kernel still holds
    /// unsent (`SO_LINGER` with a zero timeout), instead of delivering it and then FIN.
    fn reset_on_close(&self);
}

impl ResetOnClose for glommio::net::TcpStream {
    fn reset_on_close(&self) {
        // SAFETY: `self` owns the descriptor and is borrowed for this whole call, so the
        // descriptor stays open (and is not reused) while the `BorrowedFd` exists.
        let fd = unsafe { BorrowedFd::borrow_raw(self.as_raw_fd()) };
        if let Err(e) = socket2::SockRef::from(&fd).set_linger(Some(Duration::ZERO)) {
            tracing::debug!("SO_LINGER 0 failed: {e}");
        }
    }
}

impl<T: ResetOnClose> ResetOnClose for TlsStream<T> {
    fn reset_on_close(&self) {
        self.transport().reset_on_close();
    }
}
