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

/// Best static match for a field: `(index, value_matches)`. A full match wins
/// over a name-only match; among name matches the lowest index is returned.
pub(crate) fn find(name: &[u8], value: &[u8]) -> Option<(usize, bool)> {
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
    fn find_prefers_full_match() {
        assert_eq!(find(b":status", b"404"), Some((13, true)));
        assert_eq!(find(b":status", b"302"), Some((8, false)));
        assert_eq!(find(b":method", b"POST"), Some((3, true)));
        assert_eq!(find(b"accept-encoding", b"gzip, deflate"), Some((16, true)));
        assert_eq!(find(b"cookie", b"a=b"), Some((32, false)));
        assert_eq!(find(b"x-custom", b""), None);
    }
}
