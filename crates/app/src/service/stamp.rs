//! The `date` every final response carries (RFC 9110 §6.6.1), formatted at most once a
//! second per core: each core's thread keeps the current IMF-fixdate as a `HeaderValue`
//! and formats a new one only when a clock read it is given has passed the second's end.
//!
//! The clock reads are the ones the drivers make anyway (the HTTP/2 connection turn's,
//! the HTTP/1.1 request's); the wall clock is read once per new second, so a request
//! costs a comparison and no formatting or allocation.

use std::cell::RefCell;
use std::time::{Duration, Instant, SystemTime};

use http::HeaderValue;

/// The date of the current second on this core.
struct DateCache {
    value: HeaderValue,
    /// When the second `value` names ends, on the monotonic clock.
    until: Instant,
    /// Counts the values formatted, so a connection can tell a new one cheaply.
    serial: u64,
}

thread_local! {
    /// One per thread, and h2ring runs one thread per core.
    static DATE: RefCell<Option<DateCache>> = const { RefCell::new(None) };
}

impl DateCache {
    fn at(now: Instant, serial: u64) -> DateCache {
        let wall = SystemTime::now();
        let text = httpdate::fmt_http_date(wall);
        let value = HeaderValue::from_maybe_shared(bytes::Bytes::from(text))
            .unwrap_or_else(|_| HeaderValue::from_static("Thu, 01 Jan 1970 00:00:00 GMT"));
        let into_second = wall
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(Duration::ZERO, |d| {
                Duration::from_nanos(u64::from(d.subsec_nanos()))
            });
        DateCache {
            value,
            until: now + (Duration::from_secs(1) - into_second),
            serial,
        }
    }
}

/// Calls `f` with the current date's serial number (a new value, a new number) and its
/// value, formatting a new one first if `now` is past the end of the cached second.
pub(crate) fn with_date<T>(now: Instant, f: impl FnOnce(u64, &HeaderValue) -> T) -> T {
    DATE.with(|cell| {
        let mut cache = cell.borrow_mut();
        let cache = match &mut *cache {
            Some(cache) if now < cache.until => cache,
            slot => {
                let serial = slot.as_ref().map_or(1, |c| c.serial + 1);
                slot.insert(DateCache::at(now, serial))
            }
        };
        f(cache.serial, &cache.value)
    })
}

/// Brings the date up to `now` (for a response written outside the turn that read `now`).
pub(crate) fn refresh(now: Instant) {
    with_date(now, |_, _| ());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_value_per_second() {
        let now = Instant::now();
        let (serial, value) = with_date(now, |s, v| (s, v.clone()));
        assert_eq!(value.len(), 29, "{value:?}");
        assert!(value.to_str().unwrap().ends_with(" GMT"));
        let parsed = httpdate::parse_http_date(value.to_str().unwrap()).ok();
        let age = SystemTime::now().duration_since(parsed.unwrap()).unwrap();
        assert!(age < Duration::from_secs(2), "{age:?}");
        // Within the second: the same value, the same serial.
        assert_eq!(
            with_date(now, |s, v| (s, v.clone())),
            (serial, value.clone())
        );
        // A clock read past the second's end formats the next one.
        let later = now + Duration::from_millis(1001);
        let (next, _) = with_date(later, |s, v| (s, v.clone()));
        assert_eq!(next, serial + 1);
    }
}
