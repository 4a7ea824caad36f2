//! The HPACK static table (RFC 7541 Appendix A) and lookups into it.

/// Number of static entries; dynamic indices start right after (§2.3.3).
pub(crate) const STATIC_LEN: usize = 61;

/// Appendix A, in order: `STATIC_TABLE[i - 1]` is index `i`.
pub(crate) static STATIC_TABLE: [(&[u8], &[u8]); STATIC_LEN] = [
    (b":authority", b""),
    (b":method", b"GET"),
    (b":method", b"POST"),
    (b":path", b"/"),
    (b":path", b"/index.html"),
    (b":scheme", b"http"),
    (b":scheme", b"https"),
    (b":status", b"200"),
    (b":status", b"204"),
    (b":status", b"206"),
    (b":status", b"304"),
    (b":status", b"400"),
    (b":status", b"404"),
    (b":status", b"500"),
    (b"accept-charset", b""),
    (b"accept-encoding", b"gzip, deflate"),
    (b"accept-language", b""),
    (b"accept-ranges", b""),
    (b"accept", b""),
    (b"access-control-allow-origin", b""),
    (b"age", b""),
    (b"allow", b""),
    (b"authorization", b""),
    (b"cache-control", b""),
    (b"content-disposition", b""),
    (b"content-encoding", b""),
    (b"content-language", b""),
    (b"content-length", b""),
    (b"content-location", b""),
    (b"content-range", b""),
    (b"content-type", b""),
    (b"cookie", b""),
    (b"date", b""),
    (b"etag", b""),
    (b"expect", b""),
    (b"expires", b""),
    (b"from", b""),
    (b"host", b""),
    (b"if-match", b""),
    (b"if-modified-since", b""),
    (b"if-none-match", b""),
    (b"if-range", b""),
    (b"if-unmodified-since", b""),
    (b"last-modified", b""),
    (b"link", b""),
    (b"location", b""),
    (b"max-forwards", b""),
    (b"proxy-authenticate", b""),
    (b"proxy-authorization", b""),
    (b"range", b""),
    (b"referer", b""),
    (b"refresh", b""),
    (b"retry-after", b""),
    (b"server", b""),
    (b"set-cookie", b""),
    (b"strict-transport-security", b""),
    (b"transfer-encoding", b""),
    (b"user-agent", b""),
    (b"vary", b""),
    (b"via", b""),
    (b"www-authenticate", b""),
];

/// Entry at 1-based `index`, if it is a static index.
pub(crate) fn get(index: usize) -> Option<(&'static [u8], &'static [u8])> {
    index
        .checked_sub(1)
        .and_then(|i| STATIC_TABLE.get(i))
        .copied()
}

/// The range `[start, end)` of 0-based static-table positions whose name is `name`.
/// Dispatching on the length first means a lookup compares against at most a handful of
/// names instead of scanning all 61 entries.
fn name_range(name: &[u8]) -> Option<(usize, usize)> {
    let range = match name.len() {
        3 => match name {
            b"age" => (20, 21),
            b"via" => (59, 60),
            _ => return None,
        },
        4 => match name {
            b"date" => (32, 33),
            b"etag" => (33, 34),
            b"from" => (36, 37),
            b"host" => (37, 38),
            b"link" => (44, 45),
            b"vary" => (58, 59),
            _ => return None,
        },
        5 => match name {
            b":path" => (3, 5),
            b"allow" => (21, 22),
            b"range" => (49, 50),
            _ => return None,
        },
        6 => match name {
            b"accept" => (18, 19),
            b"cookie" => (31, 32),
            b"expect" => (34, 35),
            b"server" => (53, 54),
            _ => return None,
        },
        7 => match name {
            b":method" => (1, 3),
            b":scheme" => (5, 7),
            b":status" => (7, 14),
            b"expires" => (35, 36),
            b"referer" => (50, 51),
            b"refresh" => (51, 52),
            _ => return None,
        },
        8 => match name {
            b"if-match" => (38, 39),
            b"if-range" => (41, 42),
            b"location" => (45, 46),
            _ => return None,
        },
        10 => match name {
            b":authority" => (0, 1),
            b"set-cookie" => (54, 55),
            b"user-agent" => (57, 58),
            _ => return None,
        },
        11 => match name {
            b"retry-after" => (52, 53),
            _ => return None,
        },
        12 => match name {
            b"content-type" => (30, 31),
            b"max-forwards" => (46, 47),
            _ => return None,
        },
        13 => match name {
            b"accept-ranges" => (17, 18),
            b"authorization" => (22, 23),
            b"cache-control" => (23, 24),
            b"content-range" => (29, 30),
            b"if-none-match" => (40, 41),
            b"last-modified" => (43, 44),
            _ => return None,
        },
        14 => match name {
            b"accept-charset" => (14, 15),
            b"content-length" => (27, 28),
            _ => return None,
        },
        15 => match name {
            b"accept-encoding" => (15, 16),
            b"accept-language" => (16, 17),
            _ => return None,
        },
        16 => match name {
            b"content-encoding" => (25, 26),
            b"content-language" => (26, 27),
            b"content-location" => (28, 29),
            b"www-authenticate" => (60, 61),
            _ => return None,
        },
        17 => match name {
            b"if-modified-since" => (39, 40),
            b"transfer-encoding" => (56, 57),
            _ => return None,
        },
        18 => match name {
            b"proxy-authenticate" => (47, 48),
            _ => return None,
        },
        19 => match name {
            b"content-disposition" => (24, 25),
            b"if-unmodified-since" => (42, 43),
            b"proxy-authorization" => (48, 49),
            _ => return None,
        },
        25 => match name {
            b"strict-transport-security" => (55, 56),
            _ => return None,
        },
        27 => match name {
            b"access-control-allow-origin" => (19, 20),
            _ => return None,
        },
        _ => return None,
    };
    Some(range)
}

/// Best static match for a field: `(index, value_matches)`. A full match wins
/// over a name-only match; among name matches the lowest index is returned.
pub(crate) fn find(name: &[u8], value: &[u8]) -> Option<(usize, bool)> {
    let (start, end) = name_range(name)?;
    for (i, &(_, v)) in STATIC_TABLE.iter().enumerate().take(end).skip(start) {
        if v == value {
            return Some((i + 1, true));
        }
    }
    Some((start + 1, false))
}

/// The plain scan [`find`] replaces, kept as its test oracle.
#[cfg(test)]
fn find_by_scan(name: &[u8], value: &[u8]) -> Option<(usize, bool)> {
    let mut name_match = None;
    for (i, &(n, v)) in STATIC_TABLE.iter().enumerate() {
        if n != name {
            continue;
        }
        if v == value {
            return Some((i + 1, true));
        }
        name_match.get_or_insert((i + 1, false));
    }
    name_match
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds() {
        assert_eq!(get(0), None);
        assert_eq!(get(1), Some((&b":authority"[..], &b""[..])));
        assert_eq!(get(61), Some((&b"www-authenticate"[..], &b""[..])));
        assert_eq!(get(62), None);
    }

    #[test]
    fn find_matches_the_plain_scan_for_every_entry() {
        for &(n, v) in STATIC_TABLE.iter() {
            assert_eq!(find(n, v), find_by_scan(n, v));
            assert_eq!(find(n, b"other value"), find_by_scan(n, b"other value"));
        }
        for name in [&b""[..], b"x", b"x-custom", b":statu", b"accept-charsetx"] {
            assert_eq!(find(name, b""), find_by_scan(name, b""));
        }
    }

    #[test]
    fn find_prefers_full_match() {
        assert_eq!(find(b":status", b"404"), Some((13, true)));
        assert_eq!(find(b":status", b"302"), Some((8, false)));
        assert_eq!(find(b":method", b"POST"), Some((3, true)));
        assert_eq!(find(b"accept-encoding", b"gzip, deflate"), Some((16, true)));
        assert_eq!(find(b"cookie", b"a=b"), Some((32, false)));
        assert_eq!(find(b"x-custom", b""), None);
    }
}
