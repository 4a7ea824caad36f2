//! Field-by-field rules of RFC 9113 §8.2: name and value syntax, connection-specific fields,
//! and the §6.5.2 header-list size of one field.

use crate::reason;

/// Per-field overhead added to name and value lengths when sizing a header list (RFC 9113 §6.5.2).
pub const FIELD_OVERHEAD: usize = 32;

/// Size of one field in a header list: name + value + 32 octets (RFC 9113 §6.5.2).
#[inline]
pub fn field_size(name: &[u8], value: &[u8]) -> usize {
    name.len() + value.len() + FIELD_OVERHEAD
}

/// Fields that only make sense on an HTTP/1.1 connection (RFC 9113 §8.2.2). `te` is handled
/// separately because `te: trailers` is allowed.
pub const CONNECTION_SPECIFIC_FIELDS: [&[u8]; 5] = [
    b"connection",
    b"keep-alive",
    b"proxy-connection",
    b"transfer-encoding",
    b"upgrade",
];

/// Whether `name` (already lowercase) is a connection-specific field (RFC 9113 §8.2.2).
#[inline]
pub fn is_connection_specific(name: &[u8]) -> bool {
    CONNECTION_SPECIFIC_FIELDS.contains(&name)
}

/// Whether `b` is an RFC 9110 §5.6.2 `tchar`.
#[inline]
pub fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Checks a regular field name: non-empty, lowercase, token characters only (RFC 9113 §8.2.1).
pub fn validate_name(name: &[u8]) -> Result<(), &'static str> {
    if name.is_empty() {
        return Err(reason::EMPTY_NAME);
    }
    for &b in name {
        // RFC 9113 §8.2.1: uppercase in a field name makes the message malformed.
        if b.is_ascii_uppercase() {
            return Err(reason::UPPERCASE_NAME);
        }
        if !is_tchar(b) {
            return Err(reason::INVALID_NAME);
        }
    }
    Ok(())
}

/// Checks a field value: no NUL/CR/LF, no leading or trailing SP/HTAB (RFC 9113 §8.2.1).
pub fn validate_value(value: &[u8]) -> Result<(), &'static str> {
    if value.iter().any(|&b| matches!(b, 0 | b'\r' | b'\n')) {
        return Err(reason::FORBIDDEN_VALUE_CHAR);
    }
    let is_ws = |b: &u8| matches!(*b, b' ' | b'\t');
    if value.first().is_some_and(is_ws) || value.last().is_some_and(is_ws) {
        return Err(reason::VALUE_SURROUNDING_WHITESPACE);
    }
    Ok(())
}

/// Checks the connection-specific rules of RFC 9113 §8.2.2 for a valid lowercase `name`.
pub fn validate_connection_rules(name: &[u8], value: &[u8]) -> Result<(), &'static str> {
    if is_connection_specific(name) {
        return Err(reason::CONNECTION_SPECIFIC);
    }
    // RFC 9113 §8.2.2: `te` may only carry "trailers".
    if name == b"te" && !value.eq_ignore_ascii_case(b"trailers") {
        return Err(reason::TE_NOT_TRAILERS);
    }
    Ok(())
}

/// Parses a `content-length` value: one non-empty run of ASCII digits that fits in a u64
/// (RFC 9110 §8.6).
pub fn parse_content_length(value: &[u8]) -> Result<u64, &'static str> {
    if value.is_empty() {
        return Err(reason::INVALID_CONTENT_LENGTH);
    }
    value.iter().try_fold(0u64, |acc, &b| {
        if !b.is_ascii_digit() {
            return Err(reason::INVALID_CONTENT_LENGTH);
        }
        acc.checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(b - b'0')))
            .ok_or(reason::INVALID_CONTENT_LENGTH)
    })
}

/// Whether `value` is a non-empty token (RFC 9110 §5.6.2), as required of `:protocol`.
pub fn is_token(value: &[u8]) -> bool {
    !value.is_empty() && value.iter().all(|&b| is_tchar(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_size_adds_32() {
        assert_eq!(field_size(b"accept", b"*/*"), 6 + 3 + 32);
        assert_eq!(field_size(b"", b""), 32);
    }

    #[test]
    fn names() {
        assert_eq!(validate_name(b"x-custom-1"), Ok(()));
        assert_eq!(validate_name(b"a!#$%&'*+-.^_`|~9"), Ok(()));
        assert_eq!(validate_name(b""), Err(reason::EMPTY_NAME));
        assert_eq!(validate_name(b"Accept"), Err(reason::UPPERCASE_NAME));
        assert_eq!(validate_name(b"a b"), Err(reason::INVALID_NAME));
        assert_eq!(validate_name(b"a:b"), Err(reason::INVALID_NAME));
        assert_eq!(validate_name(b"a\x00"), Err(reason::INVALID_NAME));
        assert_eq!(validate_name(b"a\x7f"), Err(reason::INVALID_NAME));
        assert_eq!(validate_name(b"caf\xc3\xa9"), Err(reason::INVALID_NAME));
    }

    #[test]
    fn values() {
        assert_eq!(validate_value(b""), Ok(()));
        assert_eq!(validate_value(b"a b\tc"), Ok(()));
        assert_eq!(validate_value(b"\xff\x80"), Ok(()));
        assert_eq!(validate_value(b"a\x00b"), Err(reason::FORBIDDEN_VALUE_CHAR));
        assert_eq!(validate_value(b"a\rb"), Err(reason::FORBIDDEN_VALUE_CHAR));
        assert_eq!(validate_value(b"a\nb"), Err(reason::FORBIDDEN_VALUE_CHAR));
        assert_eq!(
            validate_value(b" a"),
            Err(reason::VALUE_SURROUNDING_WHITESPACE)
        );
        assert_eq!(
            validate_value(b"a\t"),
            Err(reason::VALUE_SURROUNDING_WHITESPACE)
        );
        assert_eq!(
            validate_value(b" "),
            Err(reason::VALUE_SURROUNDING_WHITESPACE)
        );
    }

    #[test]
    fn connection_rules() {
        for name in CONNECTION_SPECIFIC_FIELDS {
            assert_eq!(
                validate_connection_rules(name, b"x"),
                Err(reason::CONNECTION_SPECIFIC)
            );
        }
        assert_eq!(validate_connection_rules(b"te", b"trailers"), Ok(()));
        assert_eq!(validate_connection_rules(b"te", b"Trailers"), Ok(()));
        assert_eq!(
            validate_connection_rules(b"te", b"gzip"),
            Err(reason::TE_NOT_TRAILERS)
        );
        assert_eq!(validate_connection_rules(b"accept", b"*/*"), Ok(()));
    }

    #[test]
    fn content_length() {
        assert_eq!(parse_content_length(b"0"), Ok(0));
        assert_eq!(parse_content_length(b"1234"), Ok(1234));
        assert_eq!(parse_content_length(b"18446744073709551615"), Ok(u64::MAX));
        for bad in [
            &b""[..],
            b"-1",
            b"+1",
            b"1 ",
            b"12a",
            b"1,1",
            b"18446744073709551616",
        ] {
            assert_eq!(
                parse_content_length(bad),
                Err(reason::INVALID_CONTENT_LENGTH),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn tokens() {
        assert!(is_token(b"websocket"));
        assert!(!is_token(b""));
        assert!(!is_token(b"web socket"));
    }
}
