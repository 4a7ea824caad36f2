//! Certificate reload on SIGHUP: a small signal thread re-reads the PEM files and swaps
//! them into the shared resolver. New handshakes get the new certificates; established
//! sessions are untouched, so no connection is dropped.

use std::io;
use std::sync::Arc;

use signal_hook::consts::SIGHUP;
use signal_hook::iterator::Signals;

use super::TlsAcceptor;

/// Spawns the thread that reloads `acceptor`'s certificates on every SIGHUP and reports
/// the result on stderr (a failed reload keeps the old certificates).
pub fn reload_on_sighup(acceptor: Arc<TlsAcceptor>) -> io::Result<()> {
    let mut signals = Signals::new([SIGHUP])?;
    std::thread::Builder::new()
        .name("h2ring-reload".to_string())
        .spawn(move || {
            for _ in signals.forever() {
                match acceptor.reload() {
                    Ok(()) => eprintln!("h2ring: reloaded TLS certificates"),
                    Err(e) => {
                        eprintln!("h2ring: TLS reload failed, keeping the old certificates: {e}")
                    }
                }
            }
        })?;
    Ok(())
}
