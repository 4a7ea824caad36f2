//! SIGINT/SIGTERM handling for the binary: the first signal starts graceful
//! shutdown, a second one during the drain exits immediately.

use std::io;

use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

use crate::runtime::shutdown::ShutdownHandle;

/// Exit status used when a second signal cuts the drain short.
pub const FORCED_EXIT_STATUS: i32 = 1;

/// Spawns the signal thread. signal-hook's handler only writes to a pipe;
/// the thread does the real work outside signal context.
pub fn install(handle: ShutdownHandle) -> io::Result<()> {
    let mut signals = Signals::new([SIGINT, SIGTERM])?;
    std::thread::Builder::new()
        .name("h2ring-signals".to_string())
        .spawn(move || {
            let mut seen = 0u32;
            for signal in signals.forever() {
                seen += 1;
                if seen == 1 {
                    tracing::info!(signal, "shutting down gracefully");
                    handle.shutdown();
                } else {
                    eprintln!("h2ring: second signal, exiting immediately");
                    std::process::exit(FORCED_EXIT_STATUS);
                }
            }
        })?;
    Ok(())
}
