//! `Upgrade: h2c` (RFC 7540 §3.2, kept by RFC 9113 §3.1 as deprecated but still sent by
//! curl): recognising an upgrade request, decoding `HTTP2-Settings`, collecting the
//! request body that precedes the switch, and turning the request into stream 1.

use bytes::{Bytes, BytesMut};
use h2ring_conn::RequestHead;
use http::header::{self, HeaderName};
use http::uri::Scheme;
use http::{StatusCode, Version};

use super::parse::{has_token, Framing, Head, Reject};

/// The answer that switches the connection (RFC 7540 §3.2).
pub const SWITCHING_PROTOCOLS: &[u8] =
    b"HTTP/1.1 101 Switching Protocols\r\nconnection: Upgrade\r\nupgrade: h2c\r\n\r\n";
/// Largest request body collected before switching; a larger one is served over
/// HTTP/1.1 without upgrading (the upgrade is optional for the server).
pub const MAX_UPGRADE_BODY: u64 = 64 * 1024;

const HTTP2_SETTINGS: HeaderName = HeaderName::from_static("http2-settings");

/// `None`: not an (eligible) h2c upgrade, serve as HTTP/1.1. `Some(Ok(payload))`: upgrade
/// with this decoded SETTINGS payload. `Some(Err)`: a broken `HTTP2-Settings`.
pub fn h2c_upgrade(head: &Head) -> Option<Result<Vec<u8>, Reject>> {
    if head.version != Version::HTTP_11
        || !has_token(&head.headers, header::UPGRADE, "h2c")
        || !has_token(&head.headers, header::CONNECTION, "upgrade")
        || !has_token(&head.headers, header::CONNECTION, "http2-settings")
    {
        return None;
    }
    let eligible_body = match head.framing {
        Framing::None => true,
        Framing::Length(n) => n <= MAX_UPGRADE_BODY,
        Framing::Chunked => false,
    };
    let mut values = head.headers.get_all(HTTP2_SETTINGS).iter();
    // RFC 7540 §3.2.1: exactly one HTTP2-Settings, else no upgrade.
    let (Some(value), None, true) = (values.next(), values.next(), eligible_body) else {
        return None;
    };
    Some(decode_base64url(value.as_bytes()).ok_or(Reject {
        status: StatusCode::BAD_REQUEST,
        reason: "invalid HTTP2-Settings",
    }))
}

/// Decodes base64url (RFC 4648 §5), padding optional; `None` if invalid.
pub fn decode_base64url(text: &[u8]) -> Option<Vec<u8>> {
    let text = match text.iter().position(|&b| b == b'=') {
        Some(i) if text[i..].iter().all(|&b| b == b'=') && text[i..].len() <= 2 => &text[..i],
        Some(_) => return None,
        None => text,
    };
    if text.len() % 4 == 1 {
        return None;
    }
    let value = |b: u8| -> Option<u32> {
        Some(match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'-' => 62,
            b'_' => 63,
            _ => return None,
        } as u32)
    };
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    for group in text.chunks(4) {
        let mut acc = 0u32;
        for (i, &b) in group.iter().enumerate() {
            acc |= value(b)? << (18 - 6 * i);
        }
        let bytes = acc.to_be_bytes();
        out.extend_from_slice(&bytes[1..group.len()]);
    }
    Some(out)
}

/// An upgrade in progress: the request, its settings, and its body as it arrives.
pub(crate) struct Upgrade {
    pub(crate) head: Head,
    pub(crate) settings: Vec<u8>,
    pub(crate) body: BytesMut,
    left: u64,
    /// The 101 is queued.
    pub(crate) answered: bool,
}

impl Upgrade {
    pub(crate) fn new(head: Head, settings: Vec<u8>) -> Self {
        let left = match head.framing {
            Framing::Length(n) => n,
            _ => 0,
        };
        Upgrade {
            head,
            settings,
            body: BytesMut::new(),
            left,
            answered: false,
        }
    }

    /// Takes body octets from `rbuf`; true if any.
    pub(crate) fn feed(&mut self, rbuf: &mut BytesMut) -> bool {
        let take = (rbuf.len() as u64).min(self.left) as usize;
        self.left -= take as u64;
        self.body.extend_from_slice(&rbuf.split_to(take));
        take > 0
    }

    /// The whole body is here.
    pub(crate) fn ready(&self) -> bool {
        self.left == 0
    }

    /// The request as an HTTP/2 head for stream 1, and its body.
    pub(crate) fn into_h2(self) -> (RequestHead, Vec<u8>, Bytes) {
        let head = self.head;
        let mut headers = head.headers;
        // RFC 9113 §8.2.2: connection-specific fields do not exist in HTTP/2.
        for name in [
            header::CONNECTION,
            header::UPGRADE,
            HTTP2_SETTINGS,
            header::TRANSFER_ENCODING,
            header::TE,
            HeaderName::from_static("keep-alive"),
            HeaderName::from_static("proxy-connection"),
        ] {
            headers.remove(name);
        }
        let authority = headers
            .get(header::HOST)
            .and_then(|h| http::uri::Authority::try_from(h.as_bytes()).ok());
        let content_length = match head.framing {
            Framing::Length(n) => Some(n),
            _ => None,
        };
        let request = RequestHead {
            method: head.method,
            scheme: Some(Scheme::HTTP),
            authority,
            path: head.uri.path_and_query().cloned(),
            protocol: None,
            headers,
            content_length,
            expect_continue: false,
        };
        (request, self.settings, self.body.freeze())
    }
}

#[cfg(test)]
mod tests {
    use super::super::parse::parse_head;
    use super::*;

    #[test]
    fn base64url() {
        assert_eq!(decode_base64url(b"").unwrap(), b"");
        assert_eq!(
            decode_base64url(b"AAMAAABkAAQCAAAAAAIAAAAA").unwrap(),
            [0, 3, 0, 0, 0, 100, 0, 4, 2, 0, 0, 0, 0, 2, 0, 0, 0, 0]
        );
        assert_eq!(decode_base64url(b"-_8").unwrap(), [0xfb, 0xff]);
        assert_eq!(decode_base64url(b"-_8=").unwrap(), [0xfb, 0xff]);
        assert!(decode_base64url(b"A").is_none());
        assert!(decode_base64url(b"AA+A").is_none());
        assert!(decode_base64url(b"A=A=").is_none());
    }

    fn head(raw: &str) -> Head {
        parse_head(raw.as_bytes()).unwrap().unwrap()
    }

    #[test]
    fn recognises_curl_style_upgrades_only() {
        let curl = "GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n\r\n";
        assert_eq!(h2c_upgrade(&head(curl)).unwrap().unwrap().len(), 18);
        let no_conn =
            "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABk\r\n\r\n";
        assert!(h2c_upgrade(&head(no_conn)).is_none());
        let twice = "GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABk\r\nHTTP2-Settings: AAMAAABk\r\n\r\n";
        assert!(h2c_upgrade(&head(twice)).is_none());
        let chunked = "POST / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABk\r\nTransfer-Encoding: chunked\r\n\r\n";
        assert!(h2c_upgrade(&head(chunked)).is_none());
        let broken = "GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: A\r\n\r\n";
        assert_eq!(h2c_upgrade(&head(broken)).unwrap().unwrap_err().status, 400);
    }

    #[test]
    fn stream_one_has_no_connection_fields() {
        let raw = "POST /up HTTP/1.1\r\nHost: example.com\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: \r\nContent-Length: 3\r\nX-A: 1\r\n\r\n";
        let mut up = Upgrade::new(head(raw), Vec::new());
        let mut rbuf = BytesMut::from(&b"abcGET"[..]);
        assert!(up.feed(&mut rbuf));
        assert!(up.ready());
        assert_eq!(&rbuf[..], b"GET");
        let (h2, _, body) = up.into_h2();
        assert_eq!(&body[..], b"abc");
        assert_eq!(h2.authority.unwrap(), "example.com");
        assert_eq!(h2.path.unwrap(), "/up");
        assert_eq!(h2.content_length, Some(3));
        assert!(h2.headers.get("connection").is_none());
        assert!(h2.headers.get("http2-settings").is_none());
        assert_eq!(h2.headers["x-a"], "1");
    }
}
