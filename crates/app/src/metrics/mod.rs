//! Metrics: the server's per-core counters and latency histograms, the [`Counter`] and
//! [`Histogram`] an application registers on a core, and the Prometheus text that the
//! admin endpoint's `GET /metrics` serves (`docs/OPERATIONS.md` lists every series).
//!
//! Everything is recorded on the core that serves the request, in `Cell`s: no atomics and
//! no cross-core traffic on the hot path. Each core copies its values into a `Send`
//! snapshot now and then (once a second, and core 0 on every scrape); the admin endpoint
//! renders the latest snapshot of every core.
//!
//! ```no_run
//! use h2ring::{service_fn, Body, Context, Request, Response, Server};
//!
//! Server::builder()
//!     .admin_addr(Some("127.0.0.1:9090".parse().unwrap()))
//!     .build()?
//!     .serve(|core| {
//!         // Registered once per core; `/metrics` shows `app_greetings_total{core="…"}`.
//!         let greetings = core.counter("app_greetings_total", "Greetings sent.");
//!         let sizes = core.histogram("app_name_octets", "Length of the names greeted.", &[4.0, 16.0, 64.0]);
//!         service_fn(move |req: Request, _cx: Context| {
//!             greetings.inc();
//!             sizes.observe(req.uri().path().len() as f64);
//!             async { Response::new(Body::from("hello\n")) }
//!         })
//!     })?;
//! # Ok::<(), h2ring::StartError>(())
//! ```

mod custom;
mod latency;
mod render;

use std::cell::Cell;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use self::custom::{Counter, Histogram};
pub(crate) use self::custom::{CustomSample, Registry};
pub(crate) use self::latency::Protocol;
use self::latency::{LatencyCells, LatencyCounts};
pub(crate) use self::render::render_prometheus;

/// RFC 9113 §7 error code names, indexed by code value.
pub(crate) const ERROR_CODE_NAMES: [&str; 14] = [
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
pub(crate) const UNKNOWN_ERROR_CODE: &str = "UNKNOWN";

const ERROR_SLOTS: usize = ERROR_CODE_NAMES.len() + 1;

/// Why a connection on a PROXY protocol listener was closed before HTTP: the `reason`
/// label of `h2ring_proxy_refused_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ProxyRefusal {
    /// Its first octets were no valid header, or one over the size bound.
    Invalid = 0,
    /// No whole header within the deadline.
    Timeout = 1,
}

impl ProxyRefusal {
    /// The label values, indexed by the variant.
    pub(crate) const NAMES: [&'static str; 2] = ["invalid", "timeout"];
}

/// One core's live counters. Only touched from its own core.
pub(crate) struct CoreMetrics {
    /// The CPU core (the `core` label).
    core: usize,
    connections_opened: Cell<u64>,
    connections_closed: Cell<u64>,
    connections_forced: Cell<u64>,
    streams_opened: Cell<u64>,
    handler_panics: Cell<u64>,
    slow_readers: Cell<u64>,
    /// Indexed by [`ProxyRefusal`].
    proxy_refused: [Cell<u64>; 2],
    access_log_dropped: Cell<u64>,
    requests: [Cell<u64>; 5],
    errors: [Cell<u64>; ERROR_SLOTS],
    bytes_in: Cell<u64>,
    bytes_out: Cell<u64>,
    /// Indexed by [`Protocol::index`].
    latency: [LatencyCells; 2],
    custom: Registry,
}

fn bump(cell: &Cell<u64>, n: u64) {
    cell.set(cell.get().wrapping_add(n));
}

impl CoreMetrics {
    /// Fresh counters for CPU core `core`.
    pub(crate) fn new(core: usize) -> Self {
        CoreMetrics {
            core,
            connections_opened: Cell::new(0),
            connections_closed: Cell::new(0),
            connections_forced: Cell::new(0),
            streams_opened: Cell::new(0),
            handler_panics: Cell::new(0),
            slow_readers: Cell::new(0),
            proxy_refused: Default::default(),
            access_log_dropped: Cell::new(0),
            requests: Default::default(),
            errors: Default::default(),
            bytes_in: Cell::new(0),
            bytes_out: Cell::new(0),
            latency: Default::default(),
            custom: Registry::default(),
        }
    }

    /// Counts an accepted connection.
    pub(crate) fn connection_opened(&self) {
        bump(&self.connections_opened, 1);
    }
    /// Counts a finished connection; `forced` when the drain deadline cut it.
    pub(crate) fn connection_closed(&self, forced: bool) {
        bump(&self.connections_closed, 1);
        if forced {
            bump(&self.connections_forced, 1);
        }
    }
    /// Counts a newly opened HTTP/2 stream or HTTP/1.1 exchange.
    pub(crate) fn stream_opened(&self) {
        bump(&self.streams_opened, 1);
    }
    /// Counts a task spawned for a request (`Context::spawn`) that panicked.
    pub(crate) fn handler_panicked(&self) {
        bump(&self.handler_panics, 1);
    }
    /// Counts a connection closed because its client did not read what we sent (the
    /// socket refused our bytes for `write_timeout`, or took fewer than the minimum send
    /// rate; for HTTP/1.1 also a response past `response_send_timeout`).
    pub(crate) fn slow_reader_closed(&self) {
        bump(&self.slow_readers, 1);
    }
    /// Counts a connection closed on a PROXY protocol listener for its header.
    pub(crate) fn proxy_refused(&self, why: ProxyRefusal) {
        bump(&self.proxy_refused[why as usize], 1);
    }
    /// Counts access-log lines dropped because the log's writer thread was behind.
    pub(crate) fn access_log_dropped(&self, lines: u64) {
        bump(&self.access_log_dropped, lines);
    }
    /// Counts a completed request by its status class and records its server-side
    /// latency under its protocol.
    pub(crate) fn request_completed(&self, protocol: Protocol, status: u16, latency: Duration) {
        // Statuses outside 100..=599 are invalid (RFC 9110 §15); count as 5xx.
        let class = match status / 100 {
            c @ 1..=5 => usize::from(c) - 1,
            _ => 4,
        };
        if let Some(cell) = self.requests.get(class) {
            bump(cell, 1);
        }
        if let Some(cells) = self.latency.get(protocol.index()) {
            cells.record(latency);
        }
    }
    /// Counts an HTTP/2 error (stream or connection) by RFC 9113 §7 code.
    pub(crate) fn error(&self, code: u32) {
        let slot = usize::try_from(code)
            .ok()
            .filter(|&c| c < ERROR_CODE_NAMES.len())
            .unwrap_or(ERROR_CODE_NAMES.len());
        if let Some(cell) = self.errors.get(slot) {
            bump(cell, 1);
        }
    }
    /// Adds received bytes.
    pub(crate) fn bytes_in(&self, n: u64) {
        bump(&self.bytes_in, n);
    }
    /// Adds sent bytes.
    pub(crate) fn bytes_out(&self, n: u64) {
        bump(&self.bytes_out, n);
    }
    /// The application's metrics on this core.
    pub(crate) fn custom(&self) -> &Registry {
        &self.custom
    }
    /// Copies the counters into a `Send` snapshot.
    pub(crate) fn snapshot(&self) -> MetricsSnapshot {
        MetricsSnapshot {
            core: self.core,
            cores: 1,
            connections_opened: self.connections_opened.get(),
            connections_closed: self.connections_closed.get(),
            connections_forced: self.connections_forced.get(),
            streams_opened: self.streams_opened.get(),
            handler_panics: self.handler_panics.get(),
            slow_readers: self.slow_readers.get(),
            proxy_refused: self.proxy_refused.each_ref().map(Cell::get),
            access_log_dropped: self.access_log_dropped.get(),
            requests: self.requests.each_ref().map(Cell::get),
            errors: self.errors.each_ref().map(Cell::get),
            bytes_in: self.bytes_in.get(),
            bytes_out: self.bytes_out.get(),
            latency: self.latency.each_ref().map(LatencyCells::snapshot),
            custom: self.custom.snapshot(),
        }
    }
}

/// A point-in-time copy of one core's metrics, or (after [`merge`](Self::merge)) the
/// sum of several cores' counters.
#[derive(Debug, Clone, Default)]
pub(crate) struct MetricsSnapshot {
    /// The CPU core it was taken on (of a merged snapshot: the first one's).
    pub core: usize,
    /// Number of cores merged into this snapshot.
    pub cores: u64,
    pub connections_opened: u64,
    pub connections_closed: u64,
    /// Connections force-closed at the drain deadline.
    pub connections_forced: u64,
    pub streams_opened: u64,
    /// Tasks spawned for requests that panicked.
    pub handler_panics: u64,
    /// Connections closed because their client did not read what we sent.
    pub slow_readers: u64,
    /// Connections refused for their PROXY protocol header, by [`ProxyRefusal`].
    pub proxy_refused: [u64; 2],
    /// Access-log lines dropped because the writer thread was behind.
    pub access_log_dropped: u64,
    /// Requests by status class, index 0 = 1xx … 4 = 5xx.
    pub requests: [u64; 5],
    /// Errors by RFC 9113 code; the last slot counts unknown codes.
    pub errors: [u64; ERROR_SLOTS],
    pub bytes_in: u64,
    pub bytes_out: u64,
    /// Request latency, indexed by [`Protocol::index`].
    pub latency: [LatencyCounts; 2],
    /// The application's metrics (not merged: rendered per core).
    pub custom: Vec<CustomSample>,
}

impl MetricsSnapshot {
    /// Adds `other`'s counters and latency buckets into `self` (not its custom metrics,
    /// which are rendered per core).
    pub(crate) fn merge(&mut self, other: &MetricsSnapshot) {
        if self.cores == 0 {
            self.core = other.core;
        }
        self.cores += other.cores;
        self.connections_opened += other.connections_opened;
        self.connections_closed += other.connections_closed;
        self.connections_forced += other.connections_forced;
        self.streams_opened += other.streams_opened;
        self.handler_panics += other.handler_panics;
        self.slow_readers += other.slow_readers;
        for (a, b) in self.proxy_refused.iter_mut().zip(other.proxy_refused) {
            *a += b;
        }
        self.access_log_dropped += other.access_log_dropped;
        for (a, b) in self.requests.iter_mut().zip(other.requests) {
            *a += b;
        }
        for (a, b) in self.errors.iter_mut().zip(other.errors) {
            *a += b;
        }
        self.bytes_in += other.bytes_in;
        self.bytes_out += other.bytes_out;
        for (a, b) in self.latency.iter_mut().zip(&other.latency) {
            a.merge(b);
        }
    }

    /// Total requests over all classes.
    pub(crate) fn requests_total(&self) -> u64 {
        self.requests.iter().sum()
    }

    /// Connections open at snapshot time.
    pub(crate) fn connections_active(&self) -> u64 {
        self.connections_opened
            .saturating_sub(self.connections_closed)
    }
}

/// Where cores publish snapshots for the admin endpoint. Off the hot path,
/// so a `Mutex` is fine.
#[derive(Clone, Default)]
pub(crate) struct MetricsHub {
    slots: Arc<Mutex<Vec<Option<MetricsSnapshot>>>>,
}

impl MetricsHub {
    /// A hub with one slot per core.
    pub(crate) fn new(cores: usize) -> Self {
        MetricsHub {
            slots: Arc::new(Mutex::new(vec![None; cores])),
        }
    }

    /// Stores core `index`'s latest snapshot.
    pub(crate) fn publish(&self, index: usize, snapshot: MetricsSnapshot) {
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(slot) = slots.get_mut(index) {
            *slot = Some(snapshot);
        }
    }

    /// The Prometheus text of the latest snapshot of every core that has published.
    pub(crate) fn render(&self) -> String {
        let slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        let published: Vec<&MetricsSnapshot> = slots.iter().flatten().collect();
        render_prometheus(&published)
    }

    /// Merges the latest snapshot of every core that has published.
    #[cfg(test)]
    pub(crate) fn merged(&self) -> MetricsSnapshot {
        let slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        let mut total = MetricsSnapshot::default();
        for snap in slots.iter().flatten() {
            total.merge(snap);
        }
        total
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A core's metrics after `requests` (status, µs) over HTTP/2 and `errors` (codes);
    /// shared with `render`'s tests.
    pub(super) fn core_with(core: usize, requests: &[(u16, u64)], errors: &[u32]) -> CoreMetrics {
        let m = CoreMetrics::new(core);
        for &(status, micros) in requests {
            let latency = Duration::from_micros(micros);
            m.request_completed(Protocol::Http2, status, latency);
        }
        for &code in errors {
            m.error(code);
        }
        m
    }

    #[test]
    fn merge_adds_every_counter_and_histogram() {
        let a = core_with(3, &[(200, 100), (404, 300)], &[1]);
        a.connection_opened();
        a.connection_opened();
        a.connection_closed(false);
        a.bytes_in(10);
        let b = core_with(5, &[(200, 200), (503, 1000), (101, 5)], &[1, 0x3, 0x99]);
        b.connection_opened();
        b.connection_closed(true);
        b.bytes_out(7);
        b.request_completed(Protocol::Http1, 200, Duration::from_micros(40));
        a.slow_reader_closed();
        b.slow_reader_closed();
        a.proxy_refused(ProxyRefusal::Invalid);
        b.proxy_refused(ProxyRefusal::Timeout);
        b.proxy_refused(ProxyRefusal::Timeout);
        let mut merged = MetricsSnapshot::default();
        merged.merge(&a.snapshot());
        merged.merge(&b.snapshot());
        assert_eq!(merged.cores, 2);
        assert_eq!(merged.core, 3);
        assert_eq!(merged.requests, [1, 3, 0, 1, 1]);
        assert_eq!(merged.connections_opened, 3);
        assert_eq!(merged.connections_closed, 2);
        assert_eq!(merged.connections_forced, 1);
        assert_eq!(merged.slow_readers, 2);
        assert_eq!(merged.proxy_refused, [1, 2]);
        assert_eq!(merged.connections_active(), 1);
        assert_eq!(merged.errors[1], 2);
        assert_eq!(merged.errors[3], 1);
        assert_eq!(merged.errors[14], 1);
        assert_eq!((merged.bytes_in, merged.bytes_out), (10, 7));
        let h2 = merged.latency[Protocol::Http2.index()];
        assert_eq!(h2.count(), 5);
        assert_eq!(h2.sum_micros, 1605);
        assert_eq!(merged.latency[Protocol::Http1.index()].count(), 1);
    }

    #[test]
    fn hub_keeps_the_latest_publication_per_core() {
        let hub = MetricsHub::new(2);
        let a = core_with(0, &[(200, 1)], &[]);
        hub.publish(0, a.snapshot());
        a.request_completed(Protocol::Http2, 200, Duration::from_micros(1));
        hub.publish(0, a.snapshot());
        hub.publish(1, core_with(1, &[(404, 1)], &[]).snapshot());
        hub.publish(5, core_with(5, &[(404, 1)], &[]).snapshot());
        let merged = hub.merged();
        assert_eq!(merged.requests, [0, 2, 0, 1, 0]);
        assert_eq!(merged.cores, 2);
        assert!(hub.render().contains("\nh2ring_cores 2\n"));
    }
}
