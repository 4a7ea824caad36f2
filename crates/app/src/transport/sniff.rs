//! Cleartext protocol detection: reads the first octets of a connection and compares them
//! with the HTTP/2 client connection preface (RFC 9113 §3.4). The octets read are handed
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

/// What the first octets said.
#[derive(Debug, PartialEq, Eq)]
pub enum Sniffed {
    /// They began with the HTTP/2 preface: h2c with prior knowledge.
    Http2(BytesMut),
    /// Anything else: HTTP/1.1.
    Http1(BytesMut),
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

/// Reads until the preface is either complete or ruled out, within `timeout`.
pub async fn sniff<T: AsyncRead + Unpin>(stream: &mut T, timeout: Duration) -> Sniffed {
    let mut read = BytesMut::new();
    // Reads go through the core's shared buffer, so a connection that has not spoken
    // yet holds only what it sent (ten thousand connecting at once used to hold a 4 KiB
    // buffer each).
    let reading = async {
        loop {
            let got = poll_fn(|cx| {
                Layer::Plaintext.poll_append(Pin::new(&mut *stream), cx, SNIFF_CHUNK, &mut read)
            })
            .await;
            match got {
                Ok(0) | Err(_) => return Sniffed::Gone,
                Ok(_) => {}
            }
            match classify(&read) {
                Some(true) => return Sniffed::Http2(std::mem::take(&mut read)),
                Some(false) => return Sniffed::Http1(std::mem::take(&mut read)),
                None => {}
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
    use h2ring_frame::PREFACE;

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
    fn http1_is_decided_at_the_first_difference() {
        assert_eq!(classify(b"GET / HTTP/1.1\r\n"), Some(false));
        assert_eq!(classify(b"P"), None);
        assert_eq!(classify(b"POST"), Some(false));
        assert_eq!(classify(b"PRI * HTTP/1.1"), Some(false));
    }
}
