//! Owns the result of a run and its renderings: the h2load-like text report, a one-line
//! machine-readable summary, and the HdrHistogram percentile-distribution file.

use std::fmt::Write as _;
use std::time::Duration;

use crate::config::{Config, Mode};
use crate::stats::Stats;

/// Percentiles the report lists.
pub const REPORT_PERCENTILES: [f64; 4] = [50.0, 90.0, 99.0, 99.9];
/// Steps per halving of the remaining distance to 100% in the distribution file (as in
/// HdrHistogram's `outputPercentileDistribution` and wrk2).
pub const TICKS_PER_HALF_DISTANCE: u32 = 5;

/// Everything measured in one run.
#[derive(Clone, Debug)]
pub struct Report {
    /// Merged counters.
    pub stats: Stats,
    /// The recorded period (warm-up excluded).
    pub elapsed: Duration,
    /// Total connections.
    pub connections: usize,
    /// Streams per connection.
    pub streams: u32,
    /// Open-loop target rate, if any.
    pub rate: Option<f64>,
}

impl Report {
    /// Wraps merged counters.
    pub fn new(stats: Stats, elapsed: Duration, config: &Config) -> Report {
        let rate = match config.mode {
            Mode::Open { rate } => Some(rate),
            _ => None,
        };
        Report {
            stats,
            elapsed,
            connections: config.connections,
            streams: config.streams,
            rate,
        }
    }

    /// Successful responses per second of the recorded period.
    pub fn requests_per_sec(&self) -> f64 {
        per_sec(self.stats.succeeded, self.elapsed)
    }

    /// Octets received per second (frame headers included).
    pub fn bytes_per_sec(&self) -> f64 {
        per_sec(self.stats.bytes_in, self.elapsed)
    }

    /// Latency at `percentile` in µs (0 with no samples).
    pub fn latency_us(&self, percentile: f64) -> u64 {
        self.stats.latency.value_at_percentile(percentile)
    }

    /// The human-readable report.
    pub fn render(&self) -> String {
        let s = &self.stats;
        let mut out = String::new();
        let secs = self.elapsed.as_secs_f64();
        let _ = writeln!(
            out,
            "finished in {secs:.2}s, {:.2} req/s, {}/s",
            self.requests_per_sec(),
            human_bytes(self.bytes_per_sec())
        );
        if let Some(rate) = self.rate {
            let _ = writeln!(out, "open loop: target {rate:.1} req/s");
        }
        let _ = writeln!(
            out,
            "requests: {} sent, {} succeeded, {} failed status, {} errors",
            s.requests,
            s.succeeded,
            s.failed_status,
            s.error_total()
        );
        let _ = writeln!(
            out,
            "traffic: {} in ({} body), {} out; {} of {} connections established",
            human_bytes(s.bytes_in as f64),
            human_bytes(s.body_bytes as f64),
            human_bytes(s.bytes_out as f64),
            s.connections_ok,
            self.connections
        );
        let _ = write!(out, "latency:");
        for p in REPORT_PERCENTILES {
            let _ = write!(out, " p{p}={}", human_us(self.latency_us(p)));
        }
        let _ = writeln!(
            out,
            " max={} mean={}",
            human_us(s.latency.max()),
            human_us(s.latency.mean() as u64)
        );
        if !s.errors.is_empty() {
            let _ = writeln!(out, "errors:");
            for (kind, n) in &s.errors {
                let _ = writeln!(out, "  {kind}: {n}");
            }
        }
        out
    }

    /// One `key=value` line for scripts (latencies in µs).
    pub fn summary_line(&self) -> String {
        let s = &self.stats;
        format!(
            "RESULT rps={:.2} bps={:.0} succeeded={} errors={} p50_us={} p90_us={} p99_us={} p999_us={} max_us={} elapsed_s={:.3} mean_us={:.1}",
            self.requests_per_sec(),
            self.bytes_per_sec(),
            s.succeeded,
            s.error_total(),
            self.latency_us(50.0),
            self.latency_us(90.0),
            self.latency_us(99.0),
            self.latency_us(99.9),
            s.latency.max(),
            self.elapsed.as_secs_f64(),
            s.latency.mean()
        )
    }

    /// The percentile distribution in HdrHistogram's text format (values in ms), as
    /// `wrk2 --latency` and `HistogramLogProcessor` print it; plot it with HdrHistogram's
    /// plotter.
    pub fn percentile_distribution(&self) -> String {
        let h = &self.stats.latency;
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{:>12} {:>14} {:>10} {:>14}\n",
            "Value", "Percentile", "TotalCount", "1/(1-Percentile)"
        );
        for v in h.iter_quantiles(TICKS_PER_HALF_DISTANCE) {
            let q = v.quantile_iterated_to();
            let value_ms = h.highest_equivalent(v.value_iterated_to()) as f64 / 1000.0;
            let inverse = if q < 1.0 {
                format!("{:>14.2}", 1.0 / (1.0 - q))
            } else {
                format!("{:>14}", "inf")
            };
            let _ = writeln!(
                out,
                "{value_ms:>12.3} {q:>14.12} {:>10} {inverse}",
                v.count_since_last_iteration()
            );
        }
        let _ = writeln!(
            out,
            "#[Mean    = {:>12.3}, StdDeviation   = {:>12.3}]",
            h.mean() / 1000.0,
            h.stdev() / 1000.0
        );
        let _ = writeln!(
            out,
            "#[Max     = {:>12.3}, Total count    = {:>12}]",
            h.max() as f64 / 1000.0,
            h.len()
        );
        let _ = writeln!(
            out,
            "#[Buckets = {:>12}, SubBuckets     = {:>12}]",
            h.buckets(),
            h.distinct_values()
        );
        out
    }
}

fn per_sec(n: u64, elapsed: Duration) -> f64 {
    let secs = elapsed.as_secs_f64();
    if secs > 0.0 {
        n as f64 / secs
    } else {
        0.0
    }
}

fn human_bytes(n: f64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut v = n;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    format!("{v:.2}{}", UNITS[unit])
}

fn human_us(us: u64) -> String {
    if us >= 10_000 {
        format!("{:.2}ms", us as f64 / 1000.0)
    } else {
        format!("{us}us")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::RequestSpec;

    fn report() -> Report {
        let mut stats = Stats::new();
        for us in 1..=1000 {
            stats.record_latency_us(us * 100);
        }
        stats.succeeded = 1000;
        stats.requests = 1000;
        stats.bytes_in = 2048 * 1000;
        let c = Config::new("127.0.0.1:1".parse().unwrap(), RequestSpec::get("h", "/"));
        Report::new(stats, Duration::from_secs(2), &c)
    }

    #[test]
    fn rates_and_percentiles() {
        let r = report();
        assert_eq!(r.requests_per_sec(), 500.0);
        assert_eq!(r.bytes_per_sec(), 1_024_000.0);
        let p50 = r.latency_us(50.0);
        assert!(r.stats.latency.equivalent(p50, 50_000), "{p50}");
        let text = r.render();
        assert!(
            text.starts_with("finished in 2.00s, 500.00 req/s, 1000.00KiB/s\n"),
            "{text}"
        );
        assert!(text.contains("p50=50.0"), "{text}");
        let line = r.summary_line();
        assert!(line.starts_with("RESULT rps=500.00 bps=1024000 succeeded=1000 errors=0 p50_us="));
        let mean: f64 = line
            .rsplit_once(" mean_us=")
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(f64::NAN);
        // Samples 100, 200, ... 100 000 µs: mean 50 050 µs (the histogram keeps 3 digits).
        assert!((mean - 50_050.0).abs() < 50.0, "{line}");
    }

    #[test]
    fn distribution_file_shape() {
        let text = report().percentile_distribution();
        let mut lines = text.lines();
        assert!(lines.next().unwrap().contains("Percentile"));
        let rows: Vec<&str> = text
            .lines()
            .filter(|l| !l.is_empty() && !l.starts_with('#') && !l.contains("Value"))
            .collect();
        // First row: the smallest value (0.1 ms) at percentile 0; last row: 100%.
        assert!(rows[0].trim_start().starts_with("0.100 "), "{}", rows[0]);
        assert!(rows.last().unwrap().contains("1.000000000000"), "{text}");
        assert!(text.contains("Total count    =         1000]"), "{text}");
        // Counts add up to the total.
        let total: u64 = rows
            .iter()
            .map(|r| r.split_whitespace().nth(2).unwrap().parse::<u64>().unwrap())
            .sum();
        assert_eq!(total, 1000);
    }
}
