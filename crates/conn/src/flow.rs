//! Flow-control windows (RFC 9113 §5.2, §6.9): what we may send, and what we let the peer send.

use h2ring_frame::MAX_WINDOW_SIZE;

/// A window that limits what we send. It can go negative when the peer shrinks
/// SETTINGS_INITIAL_WINDOW_SIZE (§6.9.2), so it is kept as `i64`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SendWindow(i64);

/// The window would pass 2^31-1 (§6.9.1): a FLOW_CONTROL_ERROR.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct WindowOverflow;

impl SendWindow {
    pub(crate) fn new(initial: u32) -> Self {
        SendWindow(i64::from(initial))
    }

    /// Octets we may send now (0 when the window is exhausted or negative).
    pub(crate) fn available(self) -> u32 {
        self.0.clamp(0, i64::from(MAX_WINDOW_SIZE)) as u32
    }

    pub(crate) fn consume(&mut self, n: u32) {
        self.0 -= i64::from(n);
    }

    /// A WINDOW_UPDATE increment, or an INITIAL_WINDOW_SIZE delta (which may be negative).
    pub(crate) fn adjust(&mut self, delta: i64) -> Result<(), WindowOverflow> {
        let next = self.0 + delta;
        if next > i64::from(MAX_WINDOW_SIZE) {
            return Err(WindowOverflow);
        }
        self.0 = next;
        Ok(())
    }
}

/// A window that limits what the peer sends us, plus the credit the application has given
/// back but we have not yet announced with WINDOW_UPDATE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RecvWindow {
    /// Octets the peer may still send.
    available: u32,
    /// Octets consumed by the application (or refunded) and not yet announced.
    unannounced: u32,
    /// The window size we aim to keep open; updates are batched until half of it is owed.
    target: u32,
}

impl RecvWindow {
    pub(crate) fn new(initial: u32, target: u32) -> Self {
        RecvWindow {
            available: initial,
            unannounced: 0,
            target,
        }
    }

    /// Debits a received flow-controlled frame; `false` if it exceeds the window (§6.9.1).
    pub(crate) fn receive(&mut self, n: u32) -> bool {
        match self.available.checked_sub(n) {
            Some(rest) => {
                self.available = rest;
                true
            }
            None => false,
        }
    }

    /// Gives `n` octets back (the application consumed them, or they were padding/discarded).
    pub(crate) fn release(&mut self, n: u32) {
        self.unannounced = self.unannounced.saturating_add(n);
    }

    /// The increment to announce now, if enough credit is owed to be worth a frame. Batching
    /// at half the target keeps us from sending one WINDOW_UPDATE per small read while never
    /// letting a peer that respects the window stall.
    pub(crate) fn take_update(&mut self) -> Option<u32> {
        if self.unannounced == 0 || self.unannounced < self.target / 2 {
            return None;
        }
        self.take_update_now()
    }

    /// The whole owed increment regardless of batching (used for refunds that must not wait).
    pub(crate) fn take_update_now(&mut self) -> Option<u32> {
        let room = MAX_WINDOW_SIZE - self.available.min(MAX_WINDOW_SIZE);
        let inc = self.unannounced.min(room);
        if inc == 0 {
            return None;
        }
        self.unannounced -= inc;
        self.available += inc;
        Some(inc)
    }

    /// Whether the peer may send anything now.
    pub(crate) fn has_room(&self) -> bool {
        self.available > 0
    }

    /// Octets the peer may still send without a WINDOW_UPDATE from us.
    pub(crate) fn available(&self) -> u32 {
        self.available
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn send_window_goes_negative_and_rejects_overflow() {
        let mut w = SendWindow::new(100);
        w.consume(100);
        assert_eq!(w.available(), 0);
        w.adjust(-50).unwrap();
        assert_eq!(w.available(), 0);
        w.adjust(60).unwrap();
        assert_eq!(w.available(), 10);
        assert_eq!(w.adjust(i64::from(MAX_WINDOW_SIZE)), Err(WindowOverflow));
    }

    #[test]
    fn recv_window_batches_updates_until_half_the_target() {
        let mut w = RecvWindow::new(1000, 1000);
        assert!(w.receive(600));
        assert!(!w.receive(401));
        w.release(100);
        assert_eq!(w.take_update(), None);
        w.release(400);
        assert_eq!(w.take_update(), Some(500));
        assert_eq!(w.available(), 900);
        assert_eq!(w.take_update(), None);
    }
}
