//! Metrics an application registers on a core: [`Counter`] and [`Histogram`]. Each core
//! keeps its own cells (a registration on one core is invisible to the others), so an
//! increment is a plain `Cell` write; `/metrics` renders every core's values with a
//! `core` label, like the server's own series.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::Arc;

/// A monotonically increasing count on one core, rendered by `/metrics` as a Prometheus
/// `counter` labelled `core`. Register it with
/// [`CoreContext::counter`](crate::CoreContext::counter) in the service factory and clone
/// it into the service; cloning shares the count. `!Send`: it belongs to its core.
#[derive(Clone)]
pub struct Counter {
    value: Rc<Cell<u64>>,
}

impl std::fmt::Debug for Counter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Counter").field(&self.get()).finish()
    }
}

impl Counter {
    /// Adds one.
    pub fn inc(&self) {
        self.add(1);
    }

    /// Adds `n` (wrapping at `u64::MAX`, which no real count reaches).
    pub fn add(&self, n: u64) {
        self.value.set(self.value.get().wrapping_add(n));
    }

    /// This core's count so far.
    pub fn get(&self) -> u64 {
        self.value.get()
    }
}

/// A distribution of observed values on one core, rendered by `/metrics` as a Prometheus
/// `histogram` (`_bucket{le=…}`, `_sum`, `_count`) labelled `core`. Register it with
/// [`CoreContext::histogram`](crate::CoreContext::histogram); cloning shares the buckets.
/// `!Send`: it belongs to its core.
#[derive(Clone)]
pub struct Histogram {
    cells: Rc<HistogramCells>,
}

struct HistogramCells {
    /// Finite upper bounds, strictly increasing; `+Inf` is implicit.
    bounds: Arc<[f64]>,
    /// Per-bucket (not cumulative) counts, one more than `bounds` for `+Inf`.
    counts: Box<[Cell<u64>]>,
    sum: Cell<f64>,
}

impl std::fmt::Debug for Histogram {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Histogram")
            .field("bounds", &self.cells.bounds)
            .field("count", &self.count())
            .finish()
    }
}

impl Histogram {
    /// Records one observation (seconds for a duration, octets for a size: the unit the
    /// metric's name says). A NaN is ignored.
    pub fn observe(&self, value: f64) {
        if value.is_nan() {
            return;
        }
        let slot = self.cells.bounds.partition_point(|&bound| bound < value);
        if let Some(cell) = self.cells.counts.get(slot) {
            cell.set(cell.get().wrapping_add(1));
        }
        self.cells.sum.set(self.cells.sum.get() + value);
    }

    /// Observations recorded on this core so far.
    pub fn count(&self) -> u64 {
        self.cells.counts.iter().map(Cell::get).sum()
    }
}

/// Why a registration was refused (a programming error: the methods that register panic
/// with this text).
#[derive(Debug, PartialEq)]
pub(crate) enum Refusal {
    Name(&'static str),
    Reserved(&'static str),
    Buckets(&'static str),
    KindClash(&'static str),
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::Name(n) => write!(
                f,
                "metric name {n:?} is not a Prometheus name ([a-zA-Z_:][a-zA-Z0-9_:]*)"
            ),
            Refusal::Reserved(n) => {
                write!(f, "metric name {n:?}: the h2ring_ prefix is the server's")
            }
            Refusal::Buckets(n) => write!(
                f,
                "histogram {n:?}: bucket bounds must be finite and strictly increasing"
            ),
            Refusal::KindClash(n) => {
                write!(f, "metric {n:?} is already registered as another kind")
            }
        }
    }
}

/// Prometheus metric names: `[a-zA-Z_:][a-zA-Z0-9_:]*` (exposition format, "Metric names").
fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':');
    first_ok && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

enum Kind {
    Counter(Counter),
    Histogram(Histogram),
}

struct Registered {
    name: &'static str,
    help: &'static str,
    kind: Kind,
}

/// One core's registered metrics.
#[derive(Default)]
pub(crate) struct Registry {
    entries: RefCell<Vec<Registered>>,
}

impl Registry {
    fn check_name(name: &'static str) -> Result<(), Refusal> {
        if !valid_name(name) {
            return Err(Refusal::Name(name));
        }
        if name.starts_with("h2ring_") {
            return Err(Refusal::Reserved(name));
        }
        Ok(())
    }

    /// The counter `name`, registered now or earlier on this core.
    pub(crate) fn counter(
        &self,
        name: &'static str,
        help: &'static str,
    ) -> Result<Counter, Refusal> {
        Self::check_name(name)?;
        let mut entries = self.entries.borrow_mut();
        if let Some(found) = entries.iter().find(|e| e.name == name) {
            return match &found.kind {
                Kind::Counter(c) => Ok(c.clone()),
                Kind::Histogram(_) => Err(Refusal::KindClash(name)),
            };
        }
        let counter = Counter {
            value: Rc::new(Cell::new(0)),
        };
        let kind = Kind::Counter(counter.clone());
        entries.push(Registered { name, help, kind });
        Ok(counter)
    }

    /// The histogram `name` with `bounds`, registered now or earlier on this core (the
    /// earlier registration's bounds win).
    pub(crate) fn histogram(
        &self,
        name: &'static str,
        help: &'static str,
        bounds: &[f64],
    ) -> Result<Histogram, Refusal> {
        Self::check_name(name)?;
        let increasing = bounds.windows(2).all(|w| matches!(w, [a, b] if a < b));
        if !increasing || bounds.iter().any(|b| !b.is_finite()) {
            return Err(Refusal::Buckets(name));
        }
        let mut entries = self.entries.borrow_mut();
        if let Some(found) = entries.iter().find(|e| e.name == name) {
            return match &found.kind {
                Kind::Histogram(h) => Ok(h.clone()),
                Kind::Counter(_) => Err(Refusal::KindClash(name)),
            };
        }
        let histogram = Histogram {
            cells: Rc::new(HistogramCells {
                bounds: bounds.into(),
                counts: (0..=bounds.len()).map(|_| Cell::new(0)).collect(),
                sum: Cell::new(0.0),
            }),
        };
        let kind = Kind::Histogram(histogram.clone());
        entries.push(Registered { name, help, kind });
        Ok(histogram)
    }

    /// `Send` copies of every registered metric's current values.
    pub(crate) fn snapshot(&self) -> Vec<CustomSample> {
        let entries = self.entries.borrow();
        entries
            .iter()
            .map(|e| CustomSample {
                name: e.name,
                help: e.help,
                value: match &e.kind {
                    Kind::Counter(c) => CustomValue::Counter(c.get()),
                    Kind::Histogram(h) => CustomValue::Histogram {
                        bounds: Arc::clone(&h.cells.bounds),
                        counts: h.cells.counts.iter().map(Cell::get).collect(),
                        sum: h.cells.sum.get(),
                    },
                },
            })
            .collect()
    }
}

/// One registered metric's values at snapshot time.
#[derive(Debug, Clone)]
pub(crate) struct CustomSample {
    pub name: &'static str,
    pub help: &'static str,
    pub value: CustomValue,
}

/// A counter's count or a histogram's buckets.
#[derive(Debug, Clone)]
pub(crate) enum CustomValue {
    Counter(u64),
    Histogram {
        bounds: Arc<[f64]>,
        /// Per-bucket (not cumulative), `+Inf` last.
        counts: Vec<u64>,
        sum: f64,
    },
}

impl CustomValue {
    /// The Prometheus type.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            CustomValue::Counter(_) => "counter",
            CustomValue::Histogram { .. } => "histogram",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_exposition_format() {
        let r = Registry::default();
        assert!(r.counter("app_hits_total", "").is_ok());
        assert!(r.counter("app:ratio", "").is_ok());
        assert_eq!(
            r.counter("9lives", "").unwrap_err(),
            Refusal::Name("9lives")
        );
        assert_eq!(r.counter("a-b", "").unwrap_err(), Refusal::Name("a-b"));
        assert_eq!(r.counter("", "").unwrap_err(), Refusal::Name(""));
        assert_eq!(
            r.counter("h2ring_x", "").unwrap_err(),
            Refusal::Reserved("h2ring_x")
        );
    }

    #[test]
    fn registering_again_shares_the_cells_and_kinds_cannot_clash() {
        let r = Registry::default();
        let a = r.counter("app_total", "help").unwrap();
        let b = r.counter("app_total", "other help").unwrap();
        a.inc();
        b.add(2);
        assert_eq!(a.get(), 3);
        assert_eq!(
            r.histogram("app_total", "", &[1.0]).unwrap_err(),
            Refusal::KindClash("app_total")
        );
        let snap = r.snapshot();
        assert_eq!(snap.len(), 1);
        assert!(matches!(snap[0].value, CustomValue::Counter(3)));
        assert_eq!(snap[0].help, "help");
    }

    #[test]
    fn histogram_buckets_are_inclusive_and_checked() {
        let r = Registry::default();
        for bad in [&[1.0, 1.0][..], &[2.0, 1.0], &[f64::NAN], &[f64::INFINITY]] {
            assert_eq!(
                r.histogram("bad", "", bad).unwrap_err(),
                Refusal::Buckets("bad")
            );
        }
        let h = r.histogram("app_seconds", "", &[0.1, 1.0]).unwrap();
        for v in [0.05, 0.1, 0.5, 7.0, f64::NAN] {
            h.observe(v);
        }
        assert_eq!(h.count(), 4);
        let snap = r.snapshot();
        let CustomValue::Histogram { counts, sum, .. } = &snap[0].value else {
            panic!("not a histogram");
        };
        assert_eq!(counts, &vec![2, 1, 1]);
        assert!((sum - 7.65).abs() < 1e-9);
    }
}
