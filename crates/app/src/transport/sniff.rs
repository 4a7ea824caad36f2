//! Cleartext protocol detection: reads the first octets of a connection and compares them
//! with the HTTP/2 client connection preface (RFC 9113 §3.4), then, once that is ruled
//! out, checks that the first line is an HTTP/1.x request line. The octets read are handed
//! on, so nothing is lost and nothing is peeked twice.

use std::future::poll_fn;
use std::pin::Pin;
use std::time::Duration;

use bytes::BytesMut;
use futures_lite::future;
use futures_lite::io::AsyncRead;

use h2ring_frame::{check_preface, PrefaceStatus};

use crate::transport::scratch::Layer;

/// Octets read per attempt while sniffing: a first packet (preface, SETTINGS, the first
/// requests) is usually read whole, so the serve loop starts with it in hand.
const SNIFF_CHUNK: usize = 16 * 1024;

/// The longest first line the sniffer waits for; a longer one is HTTP/1.1's to refuse.
const MAX_FIRST_LINE: usize = 8 * 1024;

/// What a port that speaks HTTP/2 answers to a first line that is neither the preface nor
/// an HTTP/1.x request line: GOAWAY(PROTOCOL_ERROR) after an empty SETTINGS (§3.4: an
/// invalid preface is a connection error of that type).
pub const NOT_HTTP_ANSWER: [u8; 26] = super::settings_then_goaway(0x1);

/// What the first octets said.
#[derive(Debug, PartialEq, Eq)]
pub enum Sniffed {
    /// They began with the HTTP/2 preface: h2c with prior knowledge.
    Http2(BytesMut),
    /// An HTTP/1.x request line (or a first line too long to wait for): HTTP/1.1.
    Http1(BytesMut),
    /// Neither: not HTTP/1.x, and an invalid HTTP/2 preface.
    NotHttp,
    /// The client closed, failed, or sent nothing in time.
    Gone,
}

/// Classifies `read` so far: `Some(true)` for the whole HTTP/2 preface, `Some(false)` once
/// it cannot be one, `None` while it still may be.
pub fn classify(read: &[u8]) -> Option<bool> {
    match check_preface(read) {
        Ok(PrefaceStatus::Matched) => Some(true),
        Ok(PrefaceStatus::Incomplete) => None,
        Err(_) => Some(false),
    }
}

/// Once the preface is ruled out: `Some(true)` if the first line (after the empty lines
/// RFC 9112 §2.2 lets a server skip) is an HTTP/1.x request line, `Some(false)` if it is
/// not, `None` while it is incomplete (up to [`MAX_FIRST_LINE`] octets; a longer one is
/// left to HTTP/1.1 to refuse).
pub fn first_line_is_http1(read: &[u8]) -> Option<bool> {
    let start = read
        .iter()
        .position(|&b| b != b'\r' && b != b'\n')
        .unwrap_or(read.len());
    let rest = &read[start..];
    let Some(end) = rest.iter().position(|&b| b == b'\n') else {
        return (read.len() >= MAX_FIRST_LINE).then_some(true);
    };
    let line = rest[..end].strip_suffix(b"\r").unwrap_or(&rest[..end]);
    let mut parts = line.split(|&b| b == b' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Some(false);
    };
    // RFC 9110 §5.6.2 token; RFC 9112 §3: method SP request-target SP HTTP-version.
    let tchar = |b: &u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(b);
    let ok = !method.is_empty()
        && method.iter().all(tchar)
        && !target.is_empty()
        && target.iter().all(|b| b.is_ascii_graphic())
        && version.len() == 8
        && version.starts_with(b"HTTP/1.")
        && version[7].is_ascii_digit();
    Some(ok)
}

/// What `read` decides, if it decides yet.
fn decide(read: &mut BytesMut) -> Option<Sniffed> {
    match classify(read) {
        Some(true) => Some(Sniffed::Http2(std::mem::take(read))),
        Some(false) => match first_line_is_http1(read) {
            Some(true) => Some(Sniffed::Http1(std::mem::take(read))),
            Some(false) => Some(Sniffed::NotHttp),
            None => None,
        },
        None => None,
    }
}

/// Reads until the preface is either complete or ruled out, and then the first line is
/// complete, within `timeout`. `read` holds what was already read from the connection
/// (the octets after a PROXY protocol header), looked at before anything more is read.
pub async fn sniff<T: AsyncRead + Unpin>(
    stream: &mut T,
    mut read: BytesMut,
    timeout: Duration,
) -> Sniffed {
    // Reads go through the core's shared buffer, so a connection that has not spoken
    // yet holds only what it sent (ten thousand connecting at once used to hold a 4 KiB
    // buffer each).
    let reading = async {
        loop {
            if !read.is_empty() {
                if let Some(sniffed) = decide(&mut read) {
                    return sniffed;
                }
            }
            let got = poll_fn(|cx| {
                Layer::Plaintext.poll_append(Pin::new(&mut *stream), cx, SNIFF_CHUNK, &mut read)
            })
            .await;
            match got {
                Ok(0) | Err(_) => return Sniffed::Gone,
                Ok(_) => {}
            }
        }
    };
    let expired = async {
        glommio::timer::sleep(timeout).await;
        Sniffed::Gone
    };
    future::or(reading, expired).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use h2ring_frame::{ErrorCode, Frame, GoAway, Settings, StreamId, PREFACE};

    #[test]
    fn preface_and_its_prefixes() {
        assert_eq!(classify(PREFACE), Some(true));
        assert_eq!(classify(&PREFACE[..10]), None);
        assert_eq!(classify(b""), None);
        let mut more = PREFACE.to_vec();
        more.extend_from_slice(&[0, 0, 0, 4]);
        assert_eq!(classify(&more), Some(true));
    }

    #[test]
    fn first_lines() {
        assert_eq!(first_line_is_http1(b"GET / HTTP/1.1\r\n"), Some(true));
        assert_eq!(
            first_line_is_http1(b"\r\nPOST /x?y HTTP/1.0\r\n"),
            Some(true)
        );
        assert_eq!(first_line_is_http1(b"GET / HTTP/1.1"), None);
        assert_eq!(
            first_line_is_http1(b"INVALID CONNECTION PREFACE\r\n\r\n"),
            Some(false)
        );
        assert_eq!(first_line_is_http1(b"PRI * HTTP/2.0\r\n"), Some(false));
        assert_eq!(first_line_is_http1(b"GET  / HTTP/1.1\r\n"), Some(false));
        assert_eq!(first_line_is_http1(b"GET /\r\n"), Some(false));
        assert_eq!(first_line_is_http1(&[b'a'; MAX_FIRST_LINE]), Some(true));
        let answer = {
            let mut b = bytes::BytesMut::new();
            Frame::Settings(Settings::new(vec![])).encode(&mut b);
            Frame::GoAway(GoAway::new(StreamId::ZERO, ErrorCode::ProtocolError)).encode(&mut b);
            b
        };
        assert_eq!(&answer[..], &NOT_HTTP_ANSWER[..]);
    }

    #[test]
    fn http1_is_decided_at_the_first_difference() {
        assert_eq!(classify(b"GET / HTTP/1.1\r\n"), Some(false));
        assert_eq!(classify(b"P"), None);
        assert_eq!(classify(b"POST"), Some(false));
        assert_eq!(classify(b"PRI * HTTP/1.1"), Some(false));
    }
}
