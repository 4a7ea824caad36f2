//! Owns when a connection sends its next request: closed loop (as fast as slots free up,
//! optionally up to a quota), open loop (on a fixed schedule) or never (idle).

use std::time::{Duration, Instant};

use crate::client::{ClientConn, RecordWindow};
use crate::stats::Stats;

/// One connection's issuing policy; it survives reconnects, so an open-loop schedule
/// (and its backlog) and a `-n` quota carry over to the next connection.
#[derive(Clone, Debug)]
pub enum Pacer {
    /// Send whenever a stream slot is free; `quota` left for `-n` runs.
    Closed {
        /// Requests this connection may still send (`None`: until the deadline).
        quota: Option<u64>,
    },
    /// Send one request every `interval`, latency counted from its intended time.
    Open {
        /// Intended send time of the next request.
        next: Instant,
        /// Time between two intended sends on this connection.
        interval: Duration,
    },
    /// Never send.
    Idle,
}

impl Pacer {
    /// Sends what the policy allows now; true if anything was sent.
    pub fn issue(
        &mut self,
        conn: &mut ClientConn,
        now: Instant,
        deadline: Option<Instant>,
        win: &RecordWindow,
        st: &mut Stats,
    ) -> bool {
        if deadline.is_some_and(|d| now >= d) {
            return false;
        }
        let mut sent = false;
        match self {
            Pacer::Closed { quota } => {
                while conn.can_send() && quota.is_none_or(|q| q > 0) {
                    conn.send_request(now, now, win, st);
                    if let Some(q) = quota {
                        *q -= 1;
                    }
                    sent = true;
                }
            }
            Pacer::Open { next, interval } => {
                // A backlog (intended times already past) is sent as soon as slots free
                // up; its latency still counts from the intended time.
                while *next <= now && conn.can_send() {
                    conn.send_request(*next, now, win, st);
                    *next += *interval;
                    sent = true;
                }
            }
            Pacer::Idle => {}
        }
        sent
    }

    /// When the pacer next wants to run without any I/O waking it.
    pub fn next_wake(&self, now: Instant) -> Option<Instant> {
        match self {
            Pacer::Open { next, .. } if *next > now => Some(*next),
            _ => None,
        }
    }

    /// Nothing more to send (a `-n` quota is used up).
    pub fn exhausted(&self) -> bool {
        matches!(self, Pacer::Closed { quota: Some(0) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::ConnOptions;
    use crate::config::RequestSpec;

    fn conn(streams: u32) -> ClientConn {
        ClientConn::new(&ConnOptions {
            request: RequestSpec::get("h", "/"),
            streams,
            stream_window: 1 << 20,
            connection_window: 1 << 20,
        })
    }

    #[test]
    fn closed_loop_fills_slots_up_to_the_quota() {
        let now = Instant::now();
        let win = RecordWindow {
            from: now,
            until: None,
        };
        let mut st = Stats::new();
        let mut c = conn(4);
        let mut p = Pacer::Closed { quota: Some(3) };
        assert!(p.issue(&mut c, now, None, &win, &mut st));
        assert_eq!(c.in_flight(), 3);
        assert!(p.exhausted());
        assert!(!p.issue(&mut c, now, None, &win, &mut st));
    }

    #[test]
    fn open_loop_sends_on_schedule_and_keeps_the_backlog() {
        let t0 = Instant::now();
        let win = RecordWindow {
            from: t0,
            until: None,
        };
        let mut st = Stats::new();
        let mut c = conn(2);
        let ms = Duration::from_millis(1);
        let mut p = Pacer::Open {
            next: t0,
            interval: 10 * ms,
        };
        // At t0 + 35 ms four sends are due (0, 10, 20, 30) but only two slots exist.
        assert!(p.issue(&mut c, t0 + 35 * ms, None, &win, &mut st));
        assert_eq!(c.in_flight(), 2);
        let Pacer::Open { next, .. } = p else {
            panic!()
        };
        assert_eq!(next, t0 + 20 * ms);
        // The backlog means no timer is needed: the next send is already due.
        assert_eq!(p.next_wake(t0 + 35 * ms), None);
        assert_eq!(p.next_wake(t0 + 15 * ms), Some(t0 + 20 * ms));
        // Nothing is sent at or after the deadline.
        let mut c2 = conn(8);
        assert!(!p.issue(&mut c2, t0 + 35 * ms, Some(t0 + 30 * ms), &win, &mut st));
    }
}
