//! Parses and validates one HTTP/1.1 request head (httparse), applying the RFC 9112
//! message-framing rules strictly: every ambiguity that could let two parsers disagree on
//! where a request ends (request smuggling, RFC 9112 §11.2) is refused.

use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Method, StatusCode, Uri, Version};

/// Largest request head (request line and header section) accepted; beyond it the
/// request gets 431 (RFC 6585 §5).
pub const MAX_HEAD_BYTES: usize = 16 * 1024;
/// Most header fields in one request; more gets 431.
pub const MAX_HEADERS: usize = 100;
/// Largest request line; a longer one gets 414 (RFC 9112 §3).
pub const MAX_REQUEST_LINE: usize = 8 * 1024;

/// How the request body is delimited (RFC 9112 §6.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// No body.
    None,
    /// Exactly this many octets.
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
}

/// A parsed, validated request head.
#[derive(Debug)]
pub struct Head {
    /// Request method.
    pub method: Method,
    /// Request target as sent (origin-form, absolute-form, authority-form or `*`).
    pub uri: Uri,
    /// HTTP/1.0 or HTTP/1.1.
    pub version: Version,
    /// Header fields.
    pub headers: HeaderMap,
    /// Body delimitation.
    pub framing: Framing,
    /// Whether the connection may carry another request after this one.
    pub keep_alive: bool,
    /// `Expect: 100-continue` was sent.
    pub expect_continue: bool,
    /// `TE: trailers` was sent: trailers may follow a chunked response.
    pub te_trailers: bool,
    /// Octets the head took.
    pub len: usize,
}

/// Why a head was refused: the status to answer with, then the connection closes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reject {
    /// 400, 414, 431, 501 or 505.
    pub status: StatusCode,
    /// What was wrong (sent as the response body).
    pub reason: &'static str,
}

fn reject(status: StatusCode, reason: &'static str) -> Reject {
    Reject { status, reason }
}

fn bad(reason: &'static str) -> Reject {
    reject(StatusCode::BAD_REQUEST, reason)
}

/// Tries to parse a head from the front of `buf`: `Ok(None)` while incomplete (and still
/// within limits).
pub fn parse_head(buf: &[u8]) -> Result<Option<Head>, Reject> {
    let mut slots = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut slots);
    let len = match req.parse(buf) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => {
            check_partial(buf)?;
            return Ok(None);
        }
        Err(httparse::Error::TooManyHeaders) => {
            return Err(reject(
                StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
                "too many header fields",
            ))
        }
        Err(httparse::Error::Version) => {
            return Err(reject(
                StatusCode::HTTP_VERSION_NOT_SUPPORTED,
                "unsupported HTTP version",
            ))
        }
        // Invalid token or header bytes, obs-fold (a line starting with whitespace), space
        // before the colon: RFC 9112 §5.1-§5.2 → 400.
        Err(_) => return Err(bad("malformed request head")),
    };
    if len > MAX_HEAD_BYTES {
        return Err(reject(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "request head too large",
        ));
    }
    // RFC 9112 §2.2: a bare LF as line terminator is refused (httparse is lenient).
    if has_bare_lf(&buf[..len]) {
        return Err(bad("bare LF in request head"));
    }
    let method = req
        .method
        .and_then(|m| Method::from_bytes(m.as_bytes()).ok())
        .ok_or_else(|| bad("invalid method"))?;
    let uri: Uri = req
        .path
        .and_then(|p| p.parse().ok())
        .ok_or_else(|| bad("invalid request target"))?;
    let version = match req.version {
        Some(0) => Version::HTTP_10,
        _ => Version::HTTP_11,
    };
    let mut headers = HeaderMap::with_capacity(req.headers.len());
    for h in req.headers.iter() {
        let name =
            HeaderName::from_bytes(h.name.as_bytes()).map_err(|_| bad("invalid header name"))?;
        let value = HeaderValue::from_bytes(h.value).map_err(|_| bad("invalid header value"))?;
        headers.append(name, value);
    }
    let framing = framing(&headers)?;
    check_host(&headers, version)?;
    Ok(Some(Head {
        keep_alive: keep_alive(&headers, version),
        expect_continue: has_token(&headers, header::EXPECT, "100-continue"),
        te_trailers: has_token(&headers, header::TE, "trailers"),
        method,
        uri,
        version,
        headers,
        framing,
        len,
    }))
}

/// An incomplete head that is already too large, or a request line that is.
fn check_partial(buf: &[u8]) -> Result<(), Reject> {
    let line_end = buf.iter().position(|&b| b == b'\n');
    if line_end.unwrap_or(buf.len()) > MAX_REQUEST_LINE {
        return Err(reject(StatusCode::URI_TOO_LONG, "request line too long"));
    }
    if buf.len() > MAX_HEAD_BYTES {
        return Err(reject(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "request head too large",
        ));
    }
    if has_bare_lf(buf) {
        return Err(bad("bare LF in request head"));
    }
    Ok(())
}

fn has_bare_lf(head: &[u8]) -> bool {
    head.iter()
        .enumerate()
        .any(|(i, &b)| b == b'\n' && (i == 0 || head[i - 1] != b'\r'))
}

/// RFC 9112 §6.3: the body length, refusing every ambiguous combination.
fn framing(headers: &HeaderMap) -> Result<Framing, Reject> {
    let te: Vec<&HeaderValue> = headers.get_all(header::TRANSFER_ENCODING).iter().collect();
    let cl: Vec<&HeaderValue> = headers.get_all(header::CONTENT_LENGTH).iter().collect();
    if !te.is_empty() && !cl.is_empty() {
        // §6.3 item 3: "ought to be handled as an error"; a request with both is the
        // classic smuggling vector, so it is refused outright.
        return Err(bad("both Content-Length and Transfer-Encoding"));
    }
    if !te.is_empty() {
        let mut codings = Vec::new();
        for value in te {
            let value = value
                .to_str()
                .map_err(|_| bad("invalid Transfer-Encoding"))?;
            codings.extend(value.split(',').map(str::trim));
        }
        return match codings.as_slice() {
            [only] if only.eq_ignore_ascii_case("chunked") => Ok(Framing::Chunked),
            // §6.3 item 4: chunked must be the final coding, else 400 and close.
            [.., last] if !last.eq_ignore_ascii_case("chunked") => {
                Err(bad("chunked is not the final transfer coding"))
            }
            // §6.1: codings we do not implement.
            _ => Err(reject(
                StatusCode::NOT_IMPLEMENTED,
                "unsupported transfer coding",
            )),
        };
    }
    match cl.as_slice() {
        [] => Ok(Framing::None),
        [one] => parse_content_length(one.as_bytes()).map(Framing::Length),
        // §6.3 item 5: more than one Content-Length field is refused, even if equal.
        _ => Err(bad("duplicate Content-Length")),
    }
}

/// `Content-Length = 1*DIGIT` (RFC 9110 §8.6): no sign, no list, no spaces, no overflow.
fn parse_content_length(value: &[u8]) -> Result<u64, Reject> {
    if value.is_empty() || !value.iter().all(u8::is_ascii_digit) {
        return Err(bad("malformed Content-Length"));
    }
    std::str::from_utf8(value)
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .ok_or_else(|| bad("malformed Content-Length"))
}

/// RFC 9112 §3.2: an HTTP/1.1 request has exactly one Host field.
fn check_host(headers: &HeaderMap, version: Version) -> Result<(), Reject> {
    match headers.get_all(header::HOST).iter().count() {
        0 if version == Version::HTTP_11 => Err(bad("missing Host")),
        0 | 1 => Ok(()),
        _ => Err(bad("duplicate Host")),
    }
}

/// Whether a comma-separated header field lists `token` (case-insensitively).
pub fn has_token(headers: &HeaderMap, name: HeaderName, token: &str) -> bool {
    headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim().eq_ignore_ascii_case(token))
}

/// RFC 9112 §9.3: HTTP/1.1 persists unless `close`; HTTP/1.0 only with `keep-alive`.
fn keep_alive(headers: &HeaderMap, version: Version) -> bool {
    if has_token(headers, header::CONNECTION, "close") {
        return false;
    }
    version == Version::HTTP_11 || has_token(headers, header::CONNECTION, "keep-alive")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(raw: &str) -> Head {
        parse_head(raw.as_bytes()).unwrap().unwrap()
    }

    fn err(raw: &str) -> Reject {
        parse_head(raw.as_bytes()).unwrap_err()
    }

    #[test]
    fn simple_get() {
        let head = ok("GET /a?b=1 HTTP/1.1\r\nHost: x\r\n\r\nnext");
        assert_eq!(head.method, Method::GET);
        assert_eq!(head.uri, "/a?b=1");
        assert_eq!(head.version, Version::HTTP_11);
        assert_eq!(head.framing, Framing::None);
        assert!(head.keep_alive);
        assert_eq!(head.len, 32);
    }

    #[test]
    fn partial_is_none() {
        assert!(parse_head(b"GET / HTTP/1.1\r\nHost: x\r\n")
            .unwrap()
            .is_none());
    }

    #[test]
    fn framing_rules() {
        assert_eq!(
            ok("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 12\r\n\r\n").framing,
            Framing::Length(12)
        );
        assert_eq!(
            ok("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: Chunked\r\n\r\n").framing,
            Framing::Chunked
        );
        for (raw, status) in [
            (
                "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
                400,
            ),
            (
                "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n",
                400,
            ),
            ("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1, 1\r\n\r\n", 400),
            ("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +1\r\n\r\n", 400),
            ("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0x10\r\n\r\n", 400),
            (
                "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n",
                400,
            ),
            ("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", 400),
            ("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501),
        ] {
            assert_eq!(err(raw).status.as_u16(), status, "{raw:?}");
        }
    }

    #[test]
    fn malformed_heads_are_400() {
        for raw in [
            // obs-fold
            "GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n  continued\r\n\r\n",
            // bare LF
            "GET / HTTP/1.1\nHost: x\n\n",
            "GET / HTTP/1.1\r\nHost: x\nX: y\r\n\r\n",
            // space before colon
            "GET / HTTP/1.1\r\nHost : x\r\n\r\n",
            // control byte in a value
            "GET / HTTP/1.1\r\nHost: x\r\nX: a\x01b\r\n\r\n",
            // invalid name byte
            "GET / HTTP/1.1\r\nHost: x\r\nX\"Y: 1\r\n\r\n",
            // missing and duplicate Host
            "GET / HTTP/1.1\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
        ] {
            assert_eq!(err(raw).status, StatusCode::BAD_REQUEST, "{raw:?}");
        }
    }

    #[test]
    fn limits() {
        let big = format!(
            "GET / HTTP/1.1\r\nHost: x\r\nX: {}\r\n\r\n",
            "a".repeat(MAX_HEAD_BYTES)
        );
        assert_eq!(err(&big).status.as_u16(), 431);
        let partial = format!(
            "GET / HTTP/1.1\r\nHost: x\r\nX: {}",
            "a".repeat(MAX_HEAD_BYTES)
        );
        assert_eq!(err(&partial).status.as_u16(), 431);
        let long_line = format!("GET /{} HTTP/1.1", "a".repeat(MAX_REQUEST_LINE));
        assert_eq!(err(&long_line).status.as_u16(), 414);
        let many: String = (0..=MAX_HEADERS).map(|i| format!("X-{i}: 1\r\n")).collect();
        let raw = format!("GET / HTTP/1.1\r\nHost: x\r\n{many}\r\n");
        assert_eq!(err(&raw).status.as_u16(), 431);
        assert_eq!(
            err("GET / HTTP/2.0\r\nHost: x\r\n\r\n").status.as_u16(),
            505
        );
    }

    #[test]
    fn connection_options() {
        assert!(!ok("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").keep_alive);
        assert!(!ok("GET / HTTP/1.0\r\n\r\n").keep_alive);
        assert!(ok("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").keep_alive);
        let head = ok("POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nTE: trailers\r\nContent-Length: 3\r\n\r\n");
        assert!(head.expect_continue && head.te_trailers);
    }
}
