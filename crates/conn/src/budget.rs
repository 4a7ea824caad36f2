//! Rate budgets that bound how much work a peer can make us do without doing useful work
//! itself: the defence against rapid reset (CVE-2023-44487) and the "cheap frame" floods
//! of the CVE-2019-9512..9518 family (PING, SETTINGS, PRIORITY, empty frames, WINDOW_UPDATE
//! churn). A token bucket: `burst` tokens, refilled at `per_second`; a peer that empties it
//! gets GOAWAY(ENHANCE_YOUR_CALM).

use std::time::Instant;

/// A burst and a sustained rate, per connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateBudget {
    /// Events allowed back to back.
    pub burst: u32,
    /// Events allowed per second, sustained.
    pub per_second: u32,
}

impl RateBudget {
    /// No limit at all (for tests and trusted peers).
    pub const UNLIMITED: RateBudget = RateBudget {
        burst: u32::MAX,
        per_second: u32::MAX,
    };
}

/// The live bucket for one [`RateBudget`].
#[derive(Debug, Clone)]
pub(crate) struct Bucket {
    budget: RateBudget,
    tokens: f64,
    last: Instant,
}

impl Bucket {
    pub(crate) fn new(budget: RateBudget, now: Instant) -> Self {
        Bucket {
            budget,
            tokens: f64::from(budget.burst),
            last: now,
        }
    }

    /// Spends one token; `false` when the budget is exhausted.
    pub(crate) fn spend(&mut self, now: Instant) -> bool {
        self.spend_n(1, now)
    }

    /// Spends `n` tokens at once; `false` (and nothing spent) when fewer are left.
    pub(crate) fn spend_n(&mut self, n: u32, now: Instant) -> bool {
        if self.budget == RateBudget::UNLIMITED {
            return true;
        }
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + elapsed * f64::from(self.budget.per_second))
            .min(f64::from(self.budget.burst));
        if self.tokens >= f64::from(n) {
            self.tokens -= f64::from(n);
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn burst_then_refill() {
        let t0 = Instant::now();
        let mut b = Bucket::new(
            RateBudget {
                burst: 3,
                per_second: 2,
            },
            t0,
        );
        assert!(b.spend(t0) && b.spend(t0) && b.spend(t0));
        assert!(!b.spend(t0));
        // Half a second refills one token at 2/s.
        assert!(b.spend(t0 + Duration::from_millis(500)));
        assert!(!b.spend(t0 + Duration::from_millis(500)));
        // Never more than the burst, however long the pause.
        let later = t0 + Duration::from_secs(100);
        assert!(b.spend(later) && b.spend(later) && b.spend(later));
        assert!(!b.spend(later));
    }

    #[test]
    fn spending_several_at_once_needs_them_all() {
        let t0 = Instant::now();
        let mut b = Bucket::new(
            RateBudget {
                burst: 10,
                per_second: 10,
            },
            t0,
        );
        assert!(b.spend_n(7, t0));
        assert!(!b.spend_n(4, t0), "only 3 left");
        assert!(b.spend_n(3, t0));
        assert!(!b.spend(t0));
        assert!(b.spend_n(5, t0 + Duration::from_millis(500)));
    }

    #[test]
    fn unlimited_never_runs_out() {
        let t0 = Instant::now();
        let mut b = Bucket::new(RateBudget::UNLIMITED, t0);
        assert!((0..100_000).all(|_| b.spend(t0)));
    }
}
