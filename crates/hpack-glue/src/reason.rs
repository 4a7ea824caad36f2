//! Reasons carried by [`HeadError::Malformed`](crate::HeadError::Malformed), one constant per RFC 9113 §8 rule.
//!
//! The connection only needs to know that a stream is malformed; the text is for logs and
//! tests. Keeping the strings here lets callers and tests match them exactly.

/// A pseudo-header field appeared after a regular field (RFC 9113 §8.3).
pub const PSEUDO_AFTER_REGULAR: &str = "pseudo-header after regular field";
/// A pseudo-header field appeared in a trailer section (RFC 9113 §8.1).
pub const PSEUDO_IN_TRAILERS: &str = "pseudo-header in trailers";
/// A pseudo-header that is not defined for requests (RFC 9113 §8.3).
pub const UNKNOWN_PSEUDO: &str = "unknown pseudo-header";
/// A response pseudo-header (`:status`) in a request (RFC 9113 §8.3).
pub const RESPONSE_PSEUDO_IN_REQUEST: &str = ":status in request";
/// A request pseudo-header appeared more than once (RFC 9113 §8.3.1).
pub const DUPLICATE_PSEUDO: &str = "duplicate pseudo-header";
/// `:method` is missing (RFC 9113 §8.3.1).
pub const MISSING_METHOD: &str = "missing :method";
/// `:scheme` is missing on a non-CONNECT request (RFC 9113 §8.3.1).
pub const MISSING_SCHEME: &str = "missing :scheme";
/// `:path` is missing on a non-CONNECT request (RFC 9113 §8.3.1).
pub const MISSING_PATH: &str = "missing :path";
/// `:authority` is missing where CONNECT requires it (RFC 9113 §8.5, RFC 8441 §4).
pub const MISSING_AUTHORITY: &str = "missing :authority";
/// `:method` is not a valid token (RFC 9110 §9.1).
pub const INVALID_METHOD: &str = "invalid :method";
/// `:scheme` is not a valid URI scheme (RFC 3986 §3.1).
pub const INVALID_SCHEME: &str = "invalid :scheme";
/// `:authority` is not a valid authority, or carries userinfo (RFC 9113 §8.3.1).
pub const INVALID_AUTHORITY: &str = "invalid :authority";
/// `:path` is not a valid path-and-query (RFC 9113 §8.3.1).
pub const INVALID_PATH: &str = "invalid :path";
/// `:path` is present but empty (RFC 9113 §8.3.1).
pub const EMPTY_PATH: &str = "empty :path";
/// `:path` of an http/https request neither starts with `/` nor is `*` (RFC 9113 §8.3.1).
pub const PATH_NOT_ABSOLUTE: &str = ":path must start with '/'";
/// `:path` is `*` on a method other than OPTIONS (RFC 9113 §8.3.1).
pub const ASTERISK_NOT_OPTIONS: &str = ":path '*' only for OPTIONS";
/// A plain CONNECT carries `:scheme` or `:path` (RFC 9113 §8.5).
pub const CONNECT_WITH_SCHEME_OR_PATH: &str = "CONNECT with :scheme or :path";
/// `:protocol` received while we did not enable extended CONNECT (RFC 8441 §4).
pub const PROTOCOL_NOT_ENABLED: &str = ":protocol without SETTINGS_ENABLE_CONNECT_PROTOCOL";
/// `:protocol` on a method other than CONNECT (RFC 8441 §4).
pub const PROTOCOL_WITHOUT_CONNECT: &str = ":protocol on non-CONNECT request";
/// `:protocol` is not a valid token (RFC 8441 §4).
pub const INVALID_PROTOCOL: &str = "invalid :protocol";
/// A field name is empty (RFC 9113 §8.2.1).
pub const EMPTY_NAME: &str = "empty field name";
/// A field name contains an uppercase letter (RFC 9113 §8.2.1).
pub const UPPERCASE_NAME: &str = "uppercase field name";
/// A field name contains a character outside the token set (RFC 9113 §8.2.1).
pub const INVALID_NAME: &str = "invalid field name character";
/// A field value contains NUL, CR or LF (RFC 9113 §8.2.1).
pub const FORBIDDEN_VALUE_CHAR: &str = "NUL, CR or LF in field value";
/// A field value starts or ends with SP or HTAB (RFC 9113 §8.2.1).
pub const VALUE_SURROUNDING_WHITESPACE: &str = "whitespace around field value";
/// A field value is otherwise unacceptable (e.g. other control characters, RFC 9110 §5.5).
pub const INVALID_VALUE: &str = "invalid field value";
/// A connection-specific field such as `connection` (RFC 9113 §8.2.2).
pub const CONNECTION_SPECIFIC: &str = "connection-specific field";
/// A `te` field with a value other than `trailers` (RFC 9113 §8.2.2).
pub const TE_NOT_TRAILERS: &str = "te other than trailers";
/// `content-length` is not a decimal number (RFC 9110 §8.6).
pub const INVALID_CONTENT_LENGTH: &str = "invalid content-length";
/// Several `content-length` fields with different values (RFC 9110 §8.6).
pub const CONFLICTING_CONTENT_LENGTH: &str = "conflicting content-length";
/// `host` differs from `:authority` (RFC 9113 §8.3.1).
pub const HOST_MISMATCH: &str = "host differs from :authority";
