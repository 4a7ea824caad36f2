//! Owns the client side of HTTP/2: a sans-IO connection that sends requests and counts
//! responses, and the recording window its measurements fall into.

mod conn;
mod frames;
mod streams;

use std::time::Instant;

pub use conn::{ClientConn, ConnOptions};

/// The part of a run whose events are recorded: responses completing and octets moving
/// inside `[from, until)` count; the warm-up before `from` does not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecordWindow {
    /// End of the warm-up.
    pub from: Instant,
    /// End of the run, when it is time-bounded.
    pub until: Option<Instant>,
}

impl RecordWindow {
    /// Whether an event at `t` is recorded.
    pub fn contains(&self, t: Instant) -> bool {
        t >= self.from && self.until.is_none_or(|u| t < u)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn window_is_half_open() {
        let from = Instant::now();
        let until = from + Duration::from_secs(1);
        let w = RecordWindow {
            from,
            until: Some(until),
        };
        assert!(w.contains(from));
        assert!(!w.contains(until));
        assert!(!w.contains(from - Duration::from_millis(1)));
        let open = RecordWindow { from, until: None };
        assert!(open.contains(until + Duration::from_secs(100)));
    }
}
