//! Whether a client reads what we send it: the write side's slow-reader defences, shared
//! by the HTTP/2 and HTTP/1.1 drivers (they own the socket writes, so the accounting lives
//! here and not in the sans-IO connection).
//!
//! Two rules, both counted only while the socket refuses bytes we have for it:
//! - `write_timeout`: the socket took nothing at all for that long (a client that stopped
//!   reading; nginx's `send_timeout`, Go's `WriteByteTimeout`). Any write resets it, so on
//!   its own a client reading one byte every 100 ms defeats it.
//! - the minimum progress rule: fewer than `min_send_bytes` octets written in a
//!   `min_send_window` (Apache's `MinRate`, for writes). That one the trickle reader fails.

use std::time::{Duration, Instant};

use crate::Http2Config;

/// Why a connection's reader was given up on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TooSlow {
    /// The socket took nothing for `write_timeout`.
    Stalled,
    /// The socket took fewer than `min_send_bytes` in a `min_send_window`.
    BelowMinRate,
}

/// One connection's write progress.
#[derive(Debug)]
pub(crate) struct SendProgress {
    write_timeout: Duration,
    min_bytes: usize,
    window: Duration,
    /// Since when the socket has refused bytes we have for it, with no write since.
    blocked_since: Option<Instant>,
    /// The minimum-rate window in progress: since when, and the octets written in it.
    window_start: Option<Instant>,
    written: usize,
}

impl SendProgress {
    pub(crate) fn new(config: &Http2Config) -> Self {
        SendProgress {
            write_timeout: config.write_timeout,
            min_bytes: config.min_send_bytes,
            window: config.min_send_window,
            blocked_since: None,
            window_start: None,
            written: 0,
        }
    }

    /// The socket took `n` octets.
    pub(crate) fn wrote(&mut self, n: usize) {
        self.blocked_since = None;
        if self.window_start.is_some() {
            self.written = self.written.saturating_add(n);
        }
    }

    /// The socket refused bytes we have for it; returns since when it has.
    pub(crate) fn refused(&mut self, now: Instant) -> Instant {
        if self.min_bytes > 0 && self.window_start.is_none() {
            self.window_start = Some(now);
            self.written = 0;
        }
        *self.blocked_since.get_or_insert(now)
    }

    /// Everything we had is written: nothing is pending, both rules start over.
    pub(crate) fn drained(&mut self) {
        self.blocked_since = None;
        self.window_start = None;
        self.written = 0;
    }

    /// Applies both rules at `now`; a window that ends with enough written starts the next.
    pub(crate) fn check(&mut self, now: Instant) -> Result<(), TooSlow> {
        if self
            .blocked_since
            .is_some_and(|since| now.saturating_duration_since(since) >= self.write_timeout)
        {
            return Err(TooSlow::Stalled);
        }
        if let Some(start) = self.window_start {
            if now.saturating_duration_since(start) >= self.window {
                if self.written < self.min_bytes {
                    return Err(TooSlow::BelowMinRate);
                }
                self.window_start = Some(now);
                self.written = 0;
            }
        }
        Ok(())
    }

    /// When [`SendProgress::check`] must run next, if a rule is counting.
    pub(crate) fn deadline(&self) -> Option<Instant> {
        let stall = self.blocked_since.map(|since| since + self.write_timeout);
        let window = self.window_start.map(|start| start + self.window);
        match (stall, window) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(write_timeout: u64, min_bytes: usize, window: u64) -> Http2Config {
        let mut c = Http2Config::default();
        c.write_timeout = Duration::from_secs(write_timeout);
        c.min_send_bytes = min_bytes;
        c.min_send_window = Duration::from_secs(window);
        c
    }

    #[test]
    fn a_trickle_fails_the_rate_rule_but_not_the_stall_rule() {
        let t0 = Instant::now();
        let mut p = SendProgress::new(&config(30, 1000, 10));
        p.refused(t0);
        assert_eq!(p.deadline(), Some(t0 + Duration::from_secs(10)));
        // One octet every 100 ms: never blocked for long.
        for tenth in 1..100 {
            let now = t0 + Duration::from_millis(100 * tenth);
            p.wrote(1);
            p.refused(now);
            assert_eq!(p.check(now), Ok(()));
        }
        assert_eq!(
            p.check(t0 + Duration::from_secs(10)),
            Err(TooSlow::BelowMinRate)
        );
    }

    #[test]
    fn enough_per_window_starts_the_next_window() {
        let t0 = Instant::now();
        let mut p = SendProgress::new(&config(30, 1000, 10));
        p.refused(t0);
        p.wrote(1000);
        p.refused(t0);
        let end = t0 + Duration::from_secs(10);
        assert_eq!(p.check(end), Ok(()));
        assert_eq!(p.deadline(), Some(end + Duration::from_secs(10)));
        // The next window is judged on its own octets.
        p.wrote(999);
        p.refused(end);
        assert_eq!(
            p.check(end + Duration::from_secs(10)),
            Err(TooSlow::BelowMinRate)
        );
    }

    #[test]
    fn octets_before_the_socket_refused_do_not_count() {
        let t0 = Instant::now();
        let mut p = SendProgress::new(&config(30, 1000, 10));
        p.wrote(1 << 20);
        p.refused(t0);
        assert_eq!(
            p.check(t0 + Duration::from_secs(10)),
            Err(TooSlow::BelowMinRate)
        );
    }

    #[test]
    fn draining_resets_both_rules() {
        let t0 = Instant::now();
        let mut p = SendProgress::new(&config(5, 1000, 10));
        p.refused(t0);
        p.drained();
        assert_eq!(p.deadline(), None);
        assert_eq!(p.check(t0 + Duration::from_secs(60)), Ok(()));
    }

    #[test]
    fn a_stalled_socket_hits_write_timeout_first() {
        let t0 = Instant::now();
        let mut p = SendProgress::new(&config(5, 1000, 10));
        p.refused(t0);
        p.refused(t0 + Duration::from_secs(4));
        assert_eq!(p.deadline(), Some(t0 + Duration::from_secs(5)));
        assert_eq!(p.check(t0 + Duration::from_secs(5)), Err(TooSlow::Stalled));
    }

    #[test]
    fn zero_octets_disables_the_rate_rule() {
        let t0 = Instant::now();
        let mut p = SendProgress::new(&config(30, 0, 10));
        p.refused(t0);
        assert_eq!(p.deadline(), Some(t0 + Duration::from_secs(30)));
        p.wrote(1);
        assert_eq!(p.deadline(), None);
        assert_eq!(p.check(t0 + Duration::from_secs(29)), Ok(()));
    }
}
