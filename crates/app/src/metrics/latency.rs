//! Request latency as fixed Prometheus histogram buckets, one set per protocol: recording
//! is a bucket search over 17 constants and two `Cell` increments, and the counts of
//! different cores add up bucket by bucket, which a summary's quantiles cannot.

use std::cell::Cell;
use std::time::Duration;

/// Upper bounds (`le`, inclusive) of the latency buckets in microseconds: 50 µs to 10 s,
/// about three per decade, so a loopback hit (tens of µs) and a slow upstream (seconds)
/// both land in a bucket of their own size. A last, implicit bucket is `+Inf`.
pub(crate) const LATENCY_BUCKETS_MICROS: [u64; 17] = [
    50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000,
    1_000_000, 2_500_000, 5_000_000, 10_000_000,
];
/// Buckets including `+Inf`.
const SLOTS: usize = LATENCY_BUCKETS_MICROS.len() + 1;

/// The protocol a request came over: the `protocol` label of the latency histogram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Protocol {
    /// HTTP/1.1 (and HTTP/1.0).
    Http1,
    /// HTTP/2, over TLS or cleartext.
    Http2,
}

impl Protocol {
    /// Every protocol, in rendering order.
    pub(crate) const ALL: [Protocol; 2] = [Protocol::Http1, Protocol::Http2];

    /// The label value.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Protocol::Http1 => "h1",
            Protocol::Http2 => "h2",
        }
    }

    pub(crate) fn index(self) -> usize {
        match self {
            Protocol::Http1 => 0,
            Protocol::Http2 => 1,
        }
    }
}

/// One core's live latency buckets for one protocol. Only touched from its own core.
#[derive(Default)]
pub(crate) struct LatencyCells {
    /// Per-bucket (not cumulative) counts; the last is `+Inf`.
    counts: [Cell<u64>; SLOTS],
    sum_micros: Cell<u64>,
}

impl LatencyCells {
    /// Counts one request that took `latency`.
    pub(crate) fn record(&self, latency: Duration) {
        let micros = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        // First bucket whose bound is >= the value: `le` is inclusive.
        let slot = LATENCY_BUCKETS_MICROS.partition_point(|&bound| bound < micros);
        if let Some(cell) = self.counts.get(slot) {
            cell.set(cell.get().wrapping_add(1));
        }
        self.sum_micros
            .set(self.sum_micros.get().wrapping_add(micros));
    }

    pub(crate) fn snapshot(&self) -> LatencyCounts {
        LatencyCounts {
            counts: self.counts.each_ref().map(Cell::get),
            sum_micros: self.sum_micros.get(),
        }
    }
}

/// A `Send` copy of [`LatencyCells`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct LatencyCounts {
    /// Per-bucket (not cumulative) counts; the last is `+Inf`.
    pub counts: [u64; SLOTS],
    /// Sum of the recorded latencies in microseconds.
    pub sum_micros: u64,
}

impl LatencyCounts {
    /// Requests recorded.
    pub(crate) fn count(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// Adds `other` bucket by bucket.
    pub(crate) fn merge(&mut self, other: &LatencyCounts) {
        for (a, b) in self.counts.iter_mut().zip(other.counts) {
            *a += b;
        }
        self.sum_micros += other.sum_micros;
    }

    /// `(le, cumulative count)` for every bucket, `+Inf` last, as Prometheus wants them.
    pub(crate) fn cumulative(&self) -> impl Iterator<Item = (String, u64)> + '_ {
        let bounds = LATENCY_BUCKETS_MICROS
            .iter()
            .map(|&b| micros_to_secs(b))
            .chain(std::iter::once("+Inf".to_string()));
        let mut running = 0;
        bounds.zip(self.counts).map(move |(le, n)| {
            running += n;
            (le, running)
        })
    }
}

/// Seconds in the shortest decimal form (`50` µs → `0.00005`, `1 000 000` µs → `1`).
pub(crate) fn micros_to_secs(micros: u64) -> String {
    let whole = micros / 1_000_000;
    let frac = micros % 1_000_000;
    if frac == 0 {
        return whole.to_string();
    }
    let digits = format!("{frac:06}");
    format!("{whole}.{}", digits.trim_end_matches('0'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_are_inclusive_and_overflow_goes_to_inf() {
        let cells = LatencyCells::default();
        for micros in [0, 50, 51, 100, 10_000_000, 10_000_001, u64::MAX / 2] {
            cells.record(Duration::from_micros(micros));
        }
        let snap = cells.snapshot();
        assert_eq!(snap.counts[0], 2, "0 and 50 µs are <= 50 µs");
        assert_eq!(snap.counts[1], 2, "51 and 100 µs");
        assert_eq!(snap.counts[16], 1, "10 s");
        assert_eq!(snap.counts[17], 2, "+Inf");
        assert_eq!(snap.count(), 7);
    }

    #[test]
    fn cumulative_counts_end_at_the_total() {
        let cells = LatencyCells::default();
        for micros in [10, 700, 700, 3_000_000] {
            cells.record(Duration::from_micros(micros));
        }
        let rows: Vec<(String, u64)> = cells.snapshot().cumulative().collect();
        assert_eq!(rows[0], ("0.00005".to_string(), 1));
        assert_eq!(rows[3], ("0.0005".to_string(), 1));
        assert_eq!(rows[4], ("0.001".to_string(), 3));
        assert_eq!(rows[13], ("1".to_string(), 3));
        assert_eq!(rows[15], ("5".to_string(), 4));
        assert_eq!(rows[17], ("+Inf".to_string(), 4));
    }

    #[test]
    fn seconds_are_printed_short() {
        assert_eq!(micros_to_secs(0), "0");
        assert_eq!(micros_to_secs(2_500), "0.0025");
        assert_eq!(micros_to_secs(2_500_000), "2.5");
        assert_eq!(micros_to_secs(4_010), "0.00401");
    }
}
