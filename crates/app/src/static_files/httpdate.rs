//! HTTP dates for static files: `last-modified` in IMF-fixdate and conditional request
//! dates in any of the three forms recipients must accept (RFC 9110 §5.6.7: IMF-fixdate,
//! RFC 850, asctime), through the `httpdate` crate (hyper's).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The last second `httpdate` formats (9999-12-31T23:59:59Z); it panics past it.
const LAST_FORMATTABLE: u64 = 253_402_300_799;

/// Formats `time` as IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), to the second. A file
/// time before 1970 or after 9999 (the format's range) is clamped into it.
pub fn format_http_date(time: SystemTime) -> String {
    let secs = time
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
        .min(LAST_FORMATTABLE);
    httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs(secs))
}

/// Parses an HTTP-date in any of its three forms; `None` for anything else (a
/// conditional header that does not parse is ignored, RFC 9110 §13.1.3). An RFC 850
/// date's two-digit year is read as 1970–2069.
pub fn parse_http_date(s: &str) -> Option<SystemTime> {
    httpdate::parse_http_date(s).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 9110 §5.6.7's example instant.
    const EXAMPLE: u64 = 784_111_777;

    #[test]
    fn formats_rfc_example() {
        let t = UNIX_EPOCH + Duration::from_secs(EXAMPLE);
        assert_eq!(format_http_date(t), "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(
            format_http_date(UNIX_EPOCH),
            "Thu, 01 Jan 1970 00:00:00 GMT"
        );
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400);
        assert_eq!(format_http_date(leap), "Tue, 29 Feb 2000 00:00:00 GMT");
    }

    #[test]
    fn out_of_range_times_are_clamped_not_panics() {
        let before = UNIX_EPOCH - Duration::from_secs(86_400);
        assert_eq!(format_http_date(before), "Thu, 01 Jan 1970 00:00:00 GMT");
        let after = UNIX_EPOCH + Duration::from_secs(LAST_FORMATTABLE + 86_400 * 400);
        assert_eq!(format_http_date(after), "Fri, 31 Dec 9999 23:59:59 GMT");
    }

    #[test]
    fn parses_what_it_formats() {
        for secs in [0u64, EXAMPLE, 951_782_400, 1_700_000_000, 4_102_444_800] {
            let t = UNIX_EPOCH + Duration::from_secs(secs);
            assert_eq!(parse_http_date(&format_http_date(t)), Some(t));
        }
    }

    /// RFC 9110 §5.6.7: the same instant in all three forms.
    #[test]
    fn parses_all_three_forms() {
        let t = Some(UNIX_EPOCH + Duration::from_secs(EXAMPLE));
        assert_eq!(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), t);
        assert_eq!(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), t);
        assert_eq!(parse_http_date("Sun Nov  6 08:49:37 1994"), t);
        assert_eq!(parse_http_date(" Sun Nov  6 08:49:37 1994 "), t);
    }

    #[test]
    fn rejects_malformed_dates() {
        for bad in [
            "",
            "Sun, 06 Nov 1994 08:49:37 UTC",
            "Sun, 06 Foo 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 25:49:37 GMT",
            "Sun, +6 Nov 1994 08:49:37 GMT",
            "Mon, 06 Nov 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 08:49:37 GMT; length=3",
            "Sunday, 06-Nov-1994 08:49:37 GMT",
            "Sun Nov 06 08:49:37 94",
            "1994-11-06T08:49:37Z",
        ] {
            assert_eq!(parse_http_date(bad), None, "{bad}");
        }
    }
}
