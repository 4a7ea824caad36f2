//! The Prometheus text exposition format 0.0.4 of every core's snapshot: the server's
//! counters summed over cores, latency histograms and application metrics per core.

use std::fmt::Write as _;

use super::custom::{CustomSample, CustomValue};
use super::latency::{micros_to_secs, Protocol};
use super::{MetricsSnapshot, ProxyRefusal, ERROR_CODE_NAMES, UNKNOWN_ERROR_CODE};

const CLASS_NAMES: [&str; 5] = ["1xx", "2xx", "3xx", "4xx", "5xx"];
/// The latency histogram's family name.
const LATENCY: &str = "h2ring_request_duration_seconds";

/// `# HELP` text with the format's two escapes (`\` and line feed).
fn escape_help(help: &str) -> String {
    help.replace('\\', "\\\\").replace('\n', "\\n")
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {}", escape_help(help));
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

fn scalar(out: &mut String, name: &str, kind: &str, help: &str, value: u64) {
    header(out, name, kind, help);
    let _ = writeln!(out, "{name} {value}");
}

/// Renders the latest snapshot of each core.
pub(crate) fn render_prometheus(cores: &[&MetricsSnapshot]) -> String {
    let mut m = MetricsSnapshot::default();
    for snap in cores {
        m.merge(snap);
    }
    let mut out = String::with_capacity(4096 + 2048 * cores.len());
    scalar(&mut out, "h2ring_cores", "gauge", "Cores serving.", m.cores);
    render_counters(&mut out, &m);
    render_latency(&mut out, cores);
    render_custom(&mut out, cores);
    out
}

fn render_counters(out: &mut String, m: &MetricsSnapshot) {
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
            "HTTP/2 streams and HTTP/1.1 exchanges opened.",
            m.streams_opened,
        ),
        (
            "h2ring_handler_panics_total",
            "Tasks spawned for requests (Context::spawn) that panicked; each cost its stream.",
            m.handler_panics,
        ),
        (
            "h2ring_slow_readers_closed_total",
            "Connections closed because the client did not read the response: nothing \
             written for the write timeout, or less than the minimum send rate.",
            m.slow_readers,
        ),
        (
            "h2ring_access_log_dropped_lines_total",
            "Access-log lines dropped because the log's writer thread was behind (its \
             queue of full buffers was full); a core never waits for the log.",
            m.access_log_dropped,
        ),
        (
            "h2ring_bytes_received_total",
            "HTTP/2 octets received, added when each connection closes.",
            m.bytes_in,
        ),
        (
            "h2ring_bytes_sent_total",
            "HTTP/2 octets sent, added when each connection closes.",
            m.bytes_out,
        ),
    ];
    for (name, help, value) in counters {
        scalar(out, name, "counter", help, value);
    }
    let active = m.connections_active();
    scalar(
        out,
        "h2ring_connections_active",
        "gauge",
        "Connections open now.",
        active,
    );
    header(
        out,
        "h2ring_requests_total",
        "counter",
        "Requests by status class.",
    );
    for (class, value) in CLASS_NAMES.iter().zip(m.requests) {
        let _ = writeln!(out, "h2ring_requests_total{{class=\"{class}\"}} {value}");
    }
    header(
        out,
        "h2ring_errors_total",
        "counter",
        "HTTP/2 errors by RFC 9113 code.",
    );
    let names = ERROR_CODE_NAMES.iter().chain([&UNKNOWN_ERROR_CODE]);
    for (code, value) in names.zip(m.errors) {
        let _ = writeln!(out, "h2ring_errors_total{{code=\"{code}\"}} {value}");
    }
    header(
        out,
        "h2ring_proxy_refused_total",
        "counter",
        "Connections on PROXY protocol listeners closed before HTTP: no valid header \
         (invalid) or none within the deadline (timeout).",
    );
    for (reason, value) in ProxyRefusal::NAMES.iter().zip(m.proxy_refused) {
        let _ = writeln!(
            out,
            "h2ring_proxy_refused_total{{reason=\"{reason}\"}} {value}"
        );
    }
}

/// One histogram per core and protocol, every series present even when empty, so a
/// dashboard's `rate()` has a series to start from.
fn render_latency(out: &mut String, cores: &[&MetricsSnapshot]) {
    header(
        out,
        LATENCY,
        "histogram",
        "Server-side request latency, from the request head to the response's end.",
    );
    for snap in cores {
        for protocol in Protocol::ALL {
            let Some(h) = snap.latency.get(protocol.index()) else {
                continue;
            };
            let labels = format!("core=\"{}\",protocol=\"{}\"", snap.core, protocol.label());
            for (le, count) in h.cumulative() {
                let _ = writeln!(out, "{LATENCY}_bucket{{{labels},le=\"{le}\"}} {count}");
            }
            let sum = micros_to_secs(h.sum_micros);
            let _ = writeln!(out, "{LATENCY}_sum{{{labels}}} {sum}");
            let _ = writeln!(out, "{LATENCY}_count{{{labels}}} {}", h.count());
        }
    }
}

/// Application metrics, grouped by name (the format wants a family's lines together),
/// each core's values labelled `core`.
fn render_custom(out: &mut String, cores: &[&MetricsSnapshot]) {
    let mut names: Vec<&'static str> = Vec::new();
    for snap in cores {
        for sample in &snap.custom {
            if !names.contains(&sample.name) {
                names.push(sample.name);
            }
        }
    }
    for name in names {
        let mut declared = false;
        for snap in cores {
            let Some(sample) = snap.custom.iter().find(|s| s.name == name) else {
                continue;
            };
            if !declared {
                header(out, name, sample.value.kind(), sample.help);
                declared = true;
            }
            render_sample(out, snap.core, sample);
        }
    }
}

fn render_sample(out: &mut String, core: usize, sample: &CustomSample) {
    let name = sample.name;
    match &sample.value {
        CustomValue::Counter(v) => {
            let _ = writeln!(out, "{name}{{core=\"{core}\"}} {v}");
        }
        CustomValue::Histogram {
            bounds,
            counts,
            sum,
        } => {
            let les = bounds
                .iter()
                .map(|b| b.to_string())
                .chain(std::iter::once("+Inf".to_string()));
            let mut running = 0u64;
            for (le, n) in les.zip(counts) {
                running += n;
                let _ = writeln!(
                    out,
                    "{name}_bucket{{core=\"{core}\",le=\"{le}\"}} {running}"
                );
            }
            let _ = writeln!(out, "{name}_sum{{core=\"{core}\"}} {sum}");
            let _ = writeln!(out, "{name}_count{{core=\"{core}\"}} {running}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::tests::core_with;
    use crate::metrics::CoreMetrics;
    use std::time::Duration;

    /// Every sample line belongs to the family declared last before it, and no family is
    /// declared twice (the exposition format's grouping rule).
    fn assert_well_formed(text: &str) {
        let mut current = "";
        let mut declared = Vec::new();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                current = rest.split(' ').next().unwrap();
                assert!(!declared.contains(&current), "{current} declared twice");
                declared.push(current);
                continue;
            }
            if line.starts_with('#') {
                continue;
            }
            let series = line.split(['{', ' ']).next().unwrap();
            let family = ["_bucket", "_sum", "_count"]
                .iter()
                .find_map(|s| series.strip_suffix(s).filter(|f| *f == current))
                .unwrap_or(series);
            assert_eq!(family, current, "{line}");
        }
    }

    #[test]
    fn counters_are_summed_over_cores() {
        let a = core_with(0, &[(200, 1500), (200, 2500), (500, 10)], &[0xb]);
        a.connection_opened();
        a.slow_reader_closed();
        let b = core_with(1, &[(404, 10)], &[]);
        b.slow_reader_closed();
        let text = render_prometheus(&[&a.snapshot(), &b.snapshot()]);
        let expected = [
            "# HELP h2ring_requests_total Requests by status class.",
            "# TYPE h2ring_requests_total counter",
            "h2ring_requests_total{class=\"1xx\"} 0",
            "h2ring_requests_total{class=\"2xx\"} 2",
            "h2ring_requests_total{class=\"4xx\"} 1",
            "h2ring_requests_total{class=\"5xx\"} 1",
            "# TYPE h2ring_connections_opened_total counter",
            "h2ring_connections_opened_total 1",
            "# TYPE h2ring_slow_readers_closed_total counter",
            "h2ring_slow_readers_closed_total 2",
            "h2ring_connections_active 1",
            "h2ring_errors_total{code=\"ENHANCE_YOUR_CALM\"} 1",
            "h2ring_errors_total{code=\"NO_ERROR\"} 0",
            "h2ring_cores 2",
        ];
        let lines: Vec<&str> = text.lines().collect();
        for line in expected {
            assert!(lines.contains(&line), "missing {line:?} in\n{text}");
        }
        assert_well_formed(&text);
    }

    #[test]
    fn latency_is_a_histogram_per_core_and_protocol() {
        let a = core_with(0, &[(200, 1500), (200, 2500), (500, 10)], &[]);
        a.request_completed(Protocol::Http1, 200, Duration::from_millis(30));
        let b = core_with(1, &[], &[]);
        let text = render_prometheus(&[&a.snapshot(), &b.snapshot()]);
        let lines: Vec<&str> = text.lines().collect();
        let expected = [
            "# TYPE h2ring_request_duration_seconds histogram",
            "h2ring_request_duration_seconds_bucket{core=\"0\",protocol=\"h2\",le=\"0.00005\"} 1",
            "h2ring_request_duration_seconds_bucket{core=\"0\",protocol=\"h2\",le=\"0.001\"} 1",
            "h2ring_request_duration_seconds_bucket{core=\"0\",protocol=\"h2\",le=\"0.0025\"} 3",
            "h2ring_request_duration_seconds_bucket{core=\"0\",protocol=\"h2\",le=\"+Inf\"} 3",
            "h2ring_request_duration_seconds_sum{core=\"0\",protocol=\"h2\"} 0.00401",
            "h2ring_request_duration_seconds_count{core=\"0\",protocol=\"h2\"} 3",
            "h2ring_request_duration_seconds_bucket{core=\"0\",protocol=\"h1\",le=\"0.025\"} 0",
            "h2ring_request_duration_seconds_bucket{core=\"0\",protocol=\"h1\",le=\"0.05\"} 1",
            "h2ring_request_duration_seconds_count{core=\"0\",protocol=\"h1\"} 1",
            "h2ring_request_duration_seconds_count{core=\"1\",protocol=\"h1\"} 0",
            "h2ring_request_duration_seconds_bucket{core=\"1\",protocol=\"h2\",le=\"+Inf\"} 0",
        ];
        for line in expected {
            assert!(lines.contains(&line), "missing {line:?} in\n{text}");
        }
        assert!(!text.contains("quantile"), "no summary any more");
        assert_well_formed(&text);
    }

    #[test]
    fn custom_metrics_are_grouped_by_name_with_a_core_label() {
        let a = CoreMetrics::new(0);
        let b = CoreMetrics::new(1);
        a.custom()
            .counter("app_hits_total", "Hits.\nTwo lines \\ escaped.")
            .unwrap()
            .add(3);
        b.custom().counter("app_hits_total", "Hits.").unwrap().inc();
        let h = b
            .custom()
            .histogram("app_size_bytes", "Sizes.", &[10.0, 100.0])
            .unwrap();
        h.observe(5.0);
        h.observe(50.0);
        h.observe(500.0);
        let text = render_prometheus(&[&a.snapshot(), &b.snapshot()]);
        let expected = "# HELP app_hits_total Hits.\\nTwo lines \\\\ escaped.\n\
            # TYPE app_hits_total counter\n\
            app_hits_total{core=\"0\"} 3\n\
            app_hits_total{core=\"1\"} 1\n\
            # HELP app_size_bytes Sizes.\n\
            # TYPE app_size_bytes histogram\n\
            app_size_bytes_bucket{core=\"1\",le=\"10\"} 1\n\
            app_size_bytes_bucket{core=\"1\",le=\"100\"} 2\n\
            app_size_bytes_bucket{core=\"1\",le=\"+Inf\"} 3\n\
            app_size_bytes_sum{core=\"1\"} 555\n\
            app_size_bytes_count{core=\"1\"} 3\n";
        assert!(text.ends_with(expected), "{text}");
        assert_well_formed(&text);
    }

    #[test]
    fn no_core_renders_zero_cores_and_no_latency_series() {
        let text = render_prometheus(&[]);
        assert!(text.contains("h2ring_cores 0\n"));
        assert!(text.contains("# TYPE h2ring_request_duration_seconds histogram\n"));
        assert!(!text.contains("h2ring_request_duration_seconds_count"));
    }
}
