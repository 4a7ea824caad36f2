//! Owns what a run measures: the latency histogram, request/byte counters and errors by kind.

use std::collections::BTreeMap;
use std::fmt;

use h2ring_frame::ErrorCode;
use hdrhistogram::Histogram;

use crate::config::{HISTOGRAM_SIGFIG, MAX_TRACKED_LATENCY_US};

/// Why a request (or connection) failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ErrorKind {
    /// TCP connect (or TLS/HTTP/2 handshake) failed or timed out.
    Connect,
    /// The server closed the connection with requests outstanding.
    Closed,
    /// The server broke the protocol (or sent something we cannot decode).
    Protocol,
    /// The server reset the stream with this RFC 9113 §7 code.
    Reset(u32),
    /// The server sent GOAWAY with this code; counted once per GOAWAY.
    GoAway(u32),
    /// A final response outside 2xx/3xx.
    Status(u16),
    /// No complete response within the request timeout.
    Timeout,
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorKind::Connect => f.write_str("connect"),
            ErrorKind::Closed => f.write_str("connection closed"),
            ErrorKind::Protocol => f.write_str("protocol error"),
            ErrorKind::Reset(c) => write!(f, "RST_STREAM {}", ErrorCode::from_u32(*c)),
            ErrorKind::GoAway(c) => write!(f, "GOAWAY {}", ErrorCode::from_u32(*c)),
            ErrorKind::Status(s) => write!(f, "status {s}"),
            ErrorKind::Timeout => f.write_str("timeout"),
        }
    }
}

/// Counters of one thread (merged at the end).
#[derive(Clone, Debug)]
pub struct Stats {
    /// Latency in µs of every recorded response (any status).
    pub latency: Histogram<u64>,
    /// Requests sent (recorded window only).
    pub requests: u64,
    /// Responses completed with a 2xx/3xx status (recorded window only).
    pub succeeded: u64,
    /// Responses completed with another status (also in `errors`).
    pub failed_status: u64,
    /// Response octets off the wire (frame headers included), recorded window only.
    pub bytes_in: u64,
    /// Response DATA payload octets, recorded window only.
    pub body_bytes: u64,
    /// Octets written (requests, bodies, control frames), recorded window only.
    pub bytes_out: u64,
    /// Errors by kind.
    pub errors: BTreeMap<ErrorKind, u64>,
    /// Connections that completed the HTTP/2 handshake.
    pub connections_ok: u64,
}

impl Default for Stats {
    fn default() -> Self {
        Stats::new()
    }
}

impl Stats {
    /// Empty counters and histogram.
    pub fn new() -> Stats {
        let latency = Histogram::new_with_bounds(1, MAX_TRACKED_LATENCY_US, HISTOGRAM_SIGFIG)
            .expect("constant histogram bounds are within hdrhistogram's range");
        Stats {
            latency,
            requests: 0,
            succeeded: 0,
            failed_status: 0,
            bytes_in: 0,
            body_bytes: 0,
            bytes_out: 0,
            errors: BTreeMap::new(),
            connections_ok: 0,
        }
    }

    /// Records one latency in µs (clamped into the tracked range).
    pub fn record_latency_us(&mut self, us: u64) {
        self.latency
            .saturating_record(us.clamp(1, MAX_TRACKED_LATENCY_US));
    }

    /// Counts one error.
    pub fn error(&mut self, kind: ErrorKind) {
        *self.errors.entry(kind).or_insert(0) += 1;
    }

    /// Total errors of every kind.
    pub fn error_total(&self) -> u64 {
        self.errors.values().sum()
    }

    /// Adds another thread's counters to these.
    pub fn merge(&mut self, other: &Stats) {
        // Both histograms share bounds, so adding cannot fail; clamp defensively anyway.
        if self.latency.add(&other.latency).is_err() {
            for v in other.latency.iter_recorded() {
                self.latency
                    .saturating_record_n(v.value_iterated_to(), v.count_at_value());
            }
        }
        self.requests += other.requests;
        self.succeeded += other.succeeded;
        self.failed_status += other.failed_status;
        self.bytes_in += other.bytes_in;
        self.body_bytes += other.body_bytes;
        self.bytes_out += other.bytes_out;
        self.connections_ok += other.connections_ok;
        for (k, v) in &other.errors {
            *self.errors.entry(*k).or_insert(0) += v;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_adds_counts_histograms_and_errors() {
        let mut a = Stats::new();
        a.record_latency_us(100);
        a.requests = 2;
        a.error(ErrorKind::Reset(7));
        let mut b = Stats::new();
        b.record_latency_us(300);
        b.record_latency_us(0);
        b.requests = 3;
        b.error(ErrorKind::Reset(7));
        b.error(ErrorKind::Status(503));
        a.merge(&b);
        assert_eq!(a.requests, 5);
        assert_eq!(a.latency.len(), 3);
        assert_eq!(a.latency.min(), 1);
        assert_eq!(a.latency.max(), 300);
        assert_eq!(a.errors.get(&ErrorKind::Reset(7)), Some(&2));
        assert_eq!(a.error_total(), 3);
    }

    #[test]
    fn error_kinds_name_rfc_codes() {
        assert_eq!(ErrorKind::Reset(7).to_string(), "RST_STREAM REFUSED_STREAM");
        assert_eq!(ErrorKind::GoAway(0).to_string(), "GOAWAY NO_ERROR");
        assert_eq!(ErrorKind::Status(404).to_string(), "status 404");
    }
}
