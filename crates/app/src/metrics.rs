//! Metrics: per-core counters in `Cell`s plus a latency histogram, snapshots
//! merged across cores, and the Prometheus text rendering.

use std::cell::{Cell, RefCell};
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hdrhistogram::Histogram;

/// RFC 9113 §7 error code names, indexed by code value.
pub const ERROR_CODE_NAMES: [&str; 14] = [
    "NO_ERROR",
    "PROTOCOL_ERROR",
    "INTERNAL_ERROR",
    "FLOW_CONTROL_ERROR",
    "SETTINGS_TIMEOUT",
    "STREAM_CLOSED",
    "FRAME_SIZE_ERROR",
    "REFUSED_STREAM",
    "CANCEL",
    "COMPRESSION_ERROR",
    "CONNECT_ERROR",
    "ENHANCE_YOUR_CALM",
    "INADEQUATE_SECURITY",
    "HTTP_1_1_REQUIRED",
];
/// Label used for error codes outside the RFC 9113 table (RFC 9113 §7:
/// unknown codes must not trigger special behaviour, but we still count them).
pub const UNKNOWN_ERROR_CODE: &str = "UNKNOWN";
/// Highest latency the histogram records, in microseconds (60 s); larger
/// values are clamped.
pub const LATENCY_MAX_MICROS: u64 = 60_000_000;
/// Significant decimal digits the latency histogram keeps.
pub const LATENCY_SIGFIG: u8 = 3;
/// Quantiles rendered for the latency summary.
pub const LATENCY_QUANTILES: [f64; 4] = [0.5, 0.9, 0.99, 0.999];

const CLASS_NAMES: [&str; 5] = ["1xx", "2xx", "3xx", "4xx", "5xx"];
const ERROR_SLOTS: usize = ERROR_CODE_NAMES.len() + 1;

fn new_histogram() -> Histogram<u64> {
    // Bounds are compile-time constants (1 ≤ max/2, sigfig ≤ 5), never input.
    Histogram::new_with_bounds(1, LATENCY_MAX_MICROS, LATENCY_SIGFIG)
        .expect("constant latency histogram bounds are valid")
}

/// One core's live counters. Only touched from its own core.
pub struct CoreMetrics {
    connections_opened: Cell<u64>,
    connections_closed: Cell<u64>,
    connections_forced: Cell<u64>,
    streams_opened: Cell<u64>,
    handler_panics: Cell<u64>,
    requests: [Cell<u64>; 5],
    errors: [Cell<u64>; ERROR_SLOTS],
    bytes_in: Cell<u64>,
    bytes_out: Cell<u64>,
    latency_sum_micros: Cell<u64>,
    latency: RefCell<Histogram<u64>>,
}

impl Default for CoreMetrics {
    fn default() -> Self {
        CoreMetrics {
            connections_opened: Cell::new(0),
            connections_closed: Cell::new(0),
            connections_forced: Cell::new(0),
            streams_opened: Cell::new(0),
            handler_panics: Cell::new(0),
            requests: Default::default(),
            errors: Default::default(),
            bytes_in: Cell::new(0),
            bytes_out: Cell::new(0),
            latency_sum_micros: Cell::new(0),
            latency: RefCell::new(new_histogram()),
        }
    }
}

fn bump(cell: &Cell<u64>, n: u64) {
    cell.set(cell.get().wrapping_add(n));
}

impl CoreMetrics {
    /// Counts an accepted connection.
    pub fn connection_opened(&self) {
        bump(&self.connections_opened, 1);
    }
    /// Counts a finished connection; `forced` when the drain deadline cut it.
    pub fn connection_closed(&self, forced: bool) {
        bump(&self.connections_closed, 1);
        if forced {
            bump(&self.connections_forced, 1);
        }
    }
    /// Counts a newly opened HTTP/2 stream.
    pub fn stream_opened(&self) {
        bump(&self.streams_opened, 1);
    }
    /// Counts a task spawned for a request (`Context::spawn`) that panicked.
    pub fn handler_panicked(&self) {
        bump(&self.handler_panics, 1);
    }
    /// Counts a completed request by its status class and records its
    /// server-side latency.
    pub fn request_completed(&self, status: u16, latency: Duration) {
        // Statuses outside 100..=599 are invalid (RFC 9110 §15); count as 5xx.
        let class = match status / 100 {
            c @ 1..=5 => usize::from(c) - 1,
            _ => 4,
        };
        if let Some(cell) = self.requests.get(class) {
            bump(cell, 1);
        }
        let micros = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        bump(&self.latency_sum_micros, micros);
        let clamped = micros.clamp(1, LATENCY_MAX_MICROS);
        // Cannot fail: the value is clamped inside the histogram's bounds.
        let _ = self.latency.borrow_mut().record(clamped);
    }
    /// Counts an HTTP/2 error (stream or connection) by RFC 9113 §7 code.
    pub fn error(&self, code: u32) {
        let slot = usize::try_from(code)
            .ok()
            .filter(|&c| c < ERROR_CODE_NAMES.len())
            .unwrap_or(ERROR_CODE_NAMES.len());
        if let Some(cell) = self.errors.get(slot) {
            bump(cell, 1);
        }
    }
    /// Adds received bytes.
    pub fn bytes_in(&self, n: u64) {
        bump(&self.bytes_in, n);
    }
    /// Adds sent bytes.
    pub fn bytes_out(&self, n: u64) {
        bump(&self.bytes_out, n);
    }
    /// Copies the counters into a `Send` snapshot.
    pub fn snapshot(&self) -> MetricsSnapshot {
        MetricsSnapshot {
            cores: 1,
            connections_opened: self.connections_opened.get(),
            connections_closed: self.connections_closed.get(),
            connections_forced: self.connections_forced.get(),
            streams_opened: self.streams_opened.get(),
            handler_panics: self.handler_panics.get(),
            requests: self.requests.each_ref().map(Cell::get),
            errors: self.errors.each_ref().map(Cell::get),
            bytes_in: self.bytes_in.get(),
            bytes_out: self.bytes_out.get(),
            latency_sum_micros: self.latency_sum_micros.get(),
            latency: self.latency.borrow().clone(),
        }
    }
}

/// A point-in-time copy of one core's (or, merged, all cores') metrics.
#[derive(Debug, Clone)]
pub struct MetricsSnapshot {
    /// Number of cores merged into this snapshot.
    pub cores: u64,
    /// Connections accepted.
    pub connections_opened: u64,
    /// Connections finished (gracefully or forced).
    pub connections_closed: u64,
    /// Connections force-closed at the drain deadline.
    pub connections_forced: u64,
    /// HTTP/2 streams opened.
    pub streams_opened: u64,
    /// Tasks spawned for requests that panicked.
    pub handler_panics: u64,
    /// Requests by status class, index 0 = 1xx … 4 = 5xx.
    pub requests: [u64; 5],
    /// Errors by RFC 9113 code; the last slot counts unknown codes.
    pub errors: [u64; ERROR_SLOTS],
    /// Bytes received.
    pub bytes_in: u64,
    /// Bytes sent.
    pub bytes_out: u64,
    /// Sum of request latencies in microseconds.
    pub latency_sum_micros: u64,
    /// Request latency in microseconds.
    pub latency: Histogram<u64>,
}

impl Default for MetricsSnapshot {
    fn default() -> Self {
        CoreMetrics::default().snapshot_empty()
    }
}

impl CoreMetrics {
    fn snapshot_empty(&self) -> MetricsSnapshot {
        let mut s = self.snapshot();
        s.cores = 0;
        s
    }
}

impl MetricsSnapshot {
    /// Adds `other` into `self`.
    pub fn merge(&mut self, other: &MetricsSnapshot) {
        self.cores += other.cores;
        self.connections_opened += other.connections_opened;
        self.connections_closed += other.connections_closed;
        self.connections_forced += other.connections_forced;
        self.streams_opened += other.streams_opened;
        self.handler_panics += other.handler_panics;
        for (a, b) in self.requests.iter_mut().zip(other.requests) {
            *a += b;
        }
        for (a, b) in self.errors.iter_mut().zip(other.errors) {
            *a += b;
        }
        self.bytes_in += other.bytes_in;
        self.bytes_out += other.bytes_out;
        self.latency_sum_micros += other.latency_sum_micros;
        // Both histograms share bounds, so adding cannot go out of range.
        let _ = self.latency.add(&other.latency);
    }

    /// Total requests over all classes.
    pub fn requests_total(&self) -> u64 {
        self.requests.iter().sum()
    }

    /// Connections open at snapshot time.
    pub fn connections_active(&self) -> u64 {
        self.connections_opened
            .saturating_sub(self.connections_closed)
    }
}

/// Where cores publish snapshots for the admin endpoint. Off the hot path,
/// so a `Mutex` is fine.
#[derive(Clone, Default)]
pub struct MetricsHub {
    slots: Arc<Mutex<Vec<Option<MetricsSnapshot>>>>,
}

impl MetricsHub {
    /// A hub with one slot per core.
    pub fn new(cores: usize) -> Self {
        MetricsHub {
            slots: Arc::new(Mutex::new(vec![None; cores])),
        }
    }

    /// Stores core `index`'s latest snapshot.
    pub fn publish(&self, index: usize, snapshot: MetricsSnapshot) {
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(slot) = slots.get_mut(index) {
            *slot = Some(snapshot);
        }
    }

    /// Merges the latest snapshot of every core that has published.
    pub fn merged(&self) -> MetricsSnapshot {
        let slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        let mut total = MetricsSnapshot::default();
        for snap in slots.iter().flatten() {
            total.merge(snap);
        }
        total
    }
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

fn scalar(out: &mut String, name: &str, kind: &str, help: &str, value: u64) {
    header(out, name, kind, help);
    let _ = writeln!(out, "{name} {value}");
}

/// Renders a snapshot in the Prometheus text exposition format 0.0.4.
pub fn render_prometheus(m: &MetricsSnapshot) -> String {
    let mut out = String::with_capacity(2048);
    scalar(&mut out, "h2ring_cores", "gauge", "Cores serving.", m.cores);
    let counters = [
        (
            "h2ring_connections_opened_total",
            "Connections accepted.",
            m.connections_opened,
        ),
        (
            "h2ring_connections_closed_total",
            "Connections finished.",
            m.connections_closed,
        ),
        (
            "h2ring_connections_forced_total",
            "Connections force-closed at the drain deadline.",
            m.connections_forced,
        ),
        (
            "h2ring_streams_opened_total",
            "HTTP/2 streams opened.",
            m.streams_opened,
        ),
        (
            "h2ring_handler_panics_total",
            "Tasks spawned for requests (Context::spawn) that panicked; each cost its stream.",
            m.handler_panics,
        ),
        ("h2ring_bytes_received_total", "Bytes received.", m.bytes_in),
        ("h2ring_bytes_sent_total", "Bytes sent.", m.bytes_out),
    ];
    for (name, help, value) in counters {
        scalar(&mut out, name, "counter", help, value);
    }
    let active = m.connections_active();
    scalar(
        &mut out,
        "h2ring_connections_active",
        "gauge",
        "Connections open now.",
        active,
    );
    header(
        &mut out,
        "h2ring_requests_total",
        "counter",
        "Requests by status class.",
    );
    for (class, value) in CLASS_NAMES.iter().zip(m.requests) {
        let _ = writeln!(out, "h2ring_requests_total{{class=\"{class}\"}} {value}");
    }
    header(
        &mut out,
        "h2ring_errors_total",
        "counter",
        "HTTP/2 errors by RFC 9113 code.",
    );
    let names = ERROR_CODE_NAMES.iter().chain([&UNKNOWN_ERROR_CODE]);
    for (code, value) in names.zip(m.errors) {
        let _ = writeln!(out, "h2ring_errors_total{{code=\"{code}\"}} {value}");
    }
    render_latency(&mut out, m);
    out
}

fn render_latency(out: &mut String, m: &MetricsSnapshot) {
    let name = "h2ring_request_duration_seconds";
    header(out, name, "summary", "Server-side request latency.");
    for q in LATENCY_QUANTILES {
        let micros = if m.latency.is_empty() {
            0
        } else {
            m.latency.value_at_quantile(q)
        };
        let _ = writeln!(out, "{name}{{quantile=\"{q}\"}} {}", micros_to_secs(micros));
    }
    let _ = writeln!(out, "{name}_sum {}", micros_to_secs(m.latency_sum_micros));
    let _ = writeln!(out, "{name}_count {}", m.latency.len());
}

fn micros_to_secs(micros: u64) -> String {
    format!("{}.{:06}", micros / 1_000_000, micros % 1_000_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn core_with(requests: &[(u16, u64)], errors: &[u32]) -> CoreMetrics {
        let m = CoreMetrics::default();
        for &(status, micros) in requests {
            m.request_completed(status, Duration::from_micros(micros));
        }
        for &code in errors {
            m.error(code);
        }
        m
    }

    #[test]
    fn merge_adds_every_counter_and_histogram() {
        let a = core_with(&[(200, 100), (404, 300)], &[1]);
        a.connection_opened();
        a.connection_opened();
        a.connection_closed(false);
        a.bytes_in(10);
        let b = core_with(&[(200, 200), (503, 1000), (101, 5)], &[1, 0x3, 0x99]);
        b.connection_opened();
        b.connection_closed(true);
        b.bytes_out(7);
        let mut merged = MetricsSnapshot::default();
        merged.merge(&a.snapshot());
        merged.merge(&b.snapshot());
        assert_eq!(merged.cores, 2);
        assert_eq!(merged.requests, [1, 2, 0, 1, 1]);
        assert_eq!(merged.connections_opened, 3);
        assert_eq!(merged.connections_closed, 2);
        assert_eq!(merged.connections_forced, 1);
        assert_eq!(merged.connections_active(), 1);
        assert_eq!(merged.errors[1], 2);
        assert_eq!(merged.errors[3], 1);
        assert_eq!(merged.errors[14], 1);
        assert_eq!((merged.bytes_in, merged.bytes_out), (10, 7));
        assert_eq!(merged.latency.len(), 5);
        assert_eq!(merged.latency_sum_micros, 1605);
        assert_eq!(merged.latency.max(), 1000);
    }

    #[test]
    fn prometheus_text_has_exact_counter_lines() {
        let a = core_with(&[(200, 1500), (200, 2500), (500, 10)], &[0xb]);
        a.connection_opened();
        let text = render_prometheus(&a.snapshot());
        let expected = [
            "# HELP h2ring_requests_total Requests by status class.",
            "# TYPE h2ring_requests_total counter",
            "h2ring_requests_total{class=\"1xx\"} 0",
            "h2ring_requests_total{class=\"2xx\"} 2",
            "h2ring_requests_total{class=\"5xx\"} 1",
            "# TYPE h2ring_connections_opened_total counter",
            "h2ring_connections_opened_total 1",
            "h2ring_connections_active 1",
            "h2ring_errors_total{code=\"ENHANCE_YOUR_CALM\"} 1",
            "h2ring_errors_total{code=\"NO_ERROR\"} 0",
            "# TYPE h2ring_request_duration_seconds summary",
            "h2ring_request_duration_seconds_sum 0.004010",
            "h2ring_request_duration_seconds_count 3",
            "h2ring_cores 1",
        ];
        let lines: Vec<&str> = text.lines().collect();
        for line in expected {
            assert!(lines.contains(&line), "missing {line:?} in\n{text}");
        }
        let p99 = lines
            .iter()
            .find(|l| l.starts_with("h2ring_request_duration_seconds{quantile=\"0.99\"}"))
            .unwrap();
        // 2500 µs recorded with 3 significant digits.
        assert!(
            p99.ends_with(" 0.002500") || p99.ends_with(" 0.002501"),
            "{p99}"
        );
        // Every sample line belongs to a declared metric family.
        for line in lines.iter().filter(|l| !l.starts_with('#')) {
            let family = line.split(['{', ' ']).next().unwrap();
            let family = family
                .strip_suffix("_sum")
                .or_else(|| family.strip_suffix("_count"))
                .unwrap_or(family);
            assert!(text.contains(&format!("# TYPE {family} ")), "{line}");
        }
    }

    #[test]
    fn empty_snapshot_renders_zero_quantiles() {
        let text = render_prometheus(&MetricsSnapshot::default());
        assert!(text.contains("h2ring_request_duration_seconds{quantile=\"0.5\"} 0.000000\n"));
        assert!(text.contains("h2ring_cores 0\n"));
    }

    #[test]
    fn hub_merges_latest_publication_per_core() {
        let hub = MetricsHub::new(2);
        let a = core_with(&[(200, 1)], &[]);
        hub.publish(0, a.snapshot());
        a.request_completed(200, Duration::from_micros(1));
        hub.publish(0, a.snapshot());
        hub.publish(1, core_with(&[(404, 1)], &[]).snapshot());
        hub.publish(5, core_with(&[(404, 1)], &[]).snapshot());
        let merged = hub.merged();
        assert_eq!(merged.requests, [0, 2, 0, 1, 0]);
        assert_eq!(merged.cores, 2);
    }
}
