//! The PROXY protocol, versions 1 (text) and 2 (binary), as HAProxy's
//! `proxy-protocol.txt` defines them: a load balancer that relays TCP puts one header in
//! front of the client's bytes, naming the client's address. On a listener configured for
//! it the header is read first, before TLS and before protocol sniffing; a connection
//! without a valid one is refused. Parsing is the `ppp` crate's; this module bounds what
//! it is given (size, time) and decides what a header means for the connection.

use std::future::poll_fn;
use std::net::SocketAddr;
use std::pin::Pin;
use std::time::Duration;

use bytes::BytesMut;
use futures_lite::future;
use futures_lite::io::AsyncRead;
use ppp::v2::{Addresses, Command};
use ppp::PartialResult;

use crate::transport::scratch::{Layer, MAX_READ};

/// The v2 signature (proxy-protocol.txt §2.2): twelve octets no v1 header or HTTP request
/// can begin with.
const V2_SIGNATURE: &[u8; 12] = b"\r\n\r\n\0\r\nQUIT\n";
/// The fixed part of a v2 header: signature, version and command, family and protocol,
/// and the length of what follows.
const V2_FIXED: usize = 16;
/// The longest v1 header, `\r\n` included (proxy-protocol.txt §2.1: 107 octets).
pub(crate) const MAX_V1_HEADER: usize = 107;
/// The longest v2 header accepted, fixed part included. The format allows 16 + 65 535
/// octets; what balancers send is the addresses (at most 216 octets, for AF_UNIX) and a
/// few TLVs (AWS's VPC endpoint id, HAProxy's ALPN, authority and TLS facts: tens to
/// hundreds of octets), so 4 KiB leaves ample room while bounding what a connection
/// that has not identified itself may make us hold.
pub(crate) const MAX_V2_HEADER: usize = 4096;

/// Where a connection's client is, per its header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Source {
    /// A PROXY header for TCP over IPv4 or IPv6: the original client's address.
    Client(SocketAddr),
    /// The header names no client: v2's LOCAL command (the balancer's own health check,
    /// §2.2: "the receiver must accept this connection as valid and must use the real
    /// connection endpoints"), v1's `UNKNOWN`, or a v2 family without a socket address
    /// (UNSPEC, AF_UNIX). The connection's own peer address stands.
    Unnamed,
}

/// What the octets read so far make of the header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Parsed {
    /// A whole, valid header of `len` octets; what follows it is the client's.
    Header { len: usize, source: Source },
    /// A valid beginning: more octets are needed.
    Incomplete,
    /// Not a PROXY header, a malformed one, or one over the size bound.
    Invalid(&'static str),
}

/// Parses a header at the start of `read`. Never panics, whatever `read` holds, and
/// asks for more octets only while the header can still be valid and within its bound.
pub(crate) fn parse(read: &[u8]) -> Parsed {
    let Some(&first) = read.first() else {
        return Parsed::Incomplete;
    };
    let parsed = match first {
        b'\r' => parse_v2(read),
        b'P' => parse_v1(read),
        _ => Parsed::Invalid("no PROXY protocol header"),
    };
    // Belt and braces over the parser's own bounds: never wait past the largest header.
    match parsed {
        Parsed::Incomplete if read.len() >= MAX_V2_HEADER => {
            Parsed::Invalid("PROXY header too long")
        }
        other => other,
    }
}

fn parse_v1(read: &[u8]) -> Parsed {
    const PREFIX: &[u8] = b"PROXY ";
    let start = &read[..read.len().min(PREFIX.len())];
    if !PREFIX.starts_with(start) {
        return Parsed::Invalid("no PROXY protocol header");
    }
    // The parser is given whole lines only: on some prefixes (a line cut after the space
    // before a port) it answers "invalid" where more octets would make it valid.
    let window = &read[..read.len().min(MAX_V1_HEADER)];
    if !window.contains(&b'\n') {
        return if read.len() < MAX_V1_HEADER {
            Parsed::Incomplete
        } else {
            Parsed::Invalid("PROXY v1 header too long")
        };
    }
    match ppp::v1::Header::try_from(read) {
        Ok(header) => {
            let source = match header.addresses {
                ppp::v1::Addresses::Tcp4(a) => {
                    Source::Client(SocketAddr::new(a.source_address.into(), a.source_port))
                }
                ppp::v1::Addresses::Tcp6(a) => {
                    Source::Client(SocketAddr::new(a.source_address.into(), a.source_port))
                }
                ppp::v1::Addresses::Unknown => Source::Unnamed,
            };
            Parsed::Header {
                len: header.header.len(),
                source,
            }
        }
        Err(_) => Parsed::Invalid("malformed PROXY v1 header"),
    }
}

fn parse_v2(read: &[u8]) -> Parsed {
    let signature = &read[..read.len().min(V2_SIGNATURE.len())];
    if !V2_SIGNATURE.starts_with(signature) {
        return Parsed::Invalid("no PROXY protocol header");
    }
    if let Some(length) = read.get(V2_FIXED - 2..V2_FIXED) {
        let declared = usize::from(u16::from_be_bytes([length[0], length[1]]));
        if V2_FIXED + declared > MAX_V2_HEADER {
            return Parsed::Invalid("PROXY v2 header over the size bound");
        }
    }
    let header = match ppp::v2::Header::try_from(read) {
        Ok(header) => header,
        Err(e) if e.is_incomplete() => return Parsed::Incomplete,
        Err(_) => return Parsed::Invalid("malformed PROXY v2 header"),
    };
    let len = header.len();
    if header.command == Command::Local {
        // §2.2: LOCAL discards the protocol block, TLVs included.
        return Parsed::Header {
            len,
            source: Source::Unnamed,
        };
    }
    // TLVs are checked to tile the rest of the block exactly; none is acted on yet (a
    // CRC32C one is not verified, which §2.2.5 leaves to receivers that support it).
    if header.tlvs().any(|tlv| tlv.is_err()) {
        return Parsed::Invalid("malformed PROXY v2 TLV");
    }
    let source = match header.addresses {
        Addresses::IPv4(a) => {
            Source::Client(SocketAddr::new(a.source_address.into(), a.source_port))
        }
        Addresses::IPv6(a) => {
            Source::Client(SocketAddr::new(a.source_address.into(), a.source_port))
        }
        // §2.2: with UNSPEC the receiver may "use the real connection endpoints"; a
        // UNIX socket address is no client address either.
        Addresses::Unspecified | Addresses::Unix(_) => Source::Unnamed,
    };
    Parsed::Header { len, source }
}

/// Why a connection was refused for its header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// Its first octets were not a valid PROXY header (or one over the bound).
    Invalid(&'static str),
    /// No whole header arrived within the deadline.
    TimedOut,
}

/// What reading a header produced.
#[derive(Debug)]
pub(crate) enum HeaderRead {
    /// The header, and the octets read past it (the client's first bytes).
    Read { source: Source, rest: BytesMut },
    /// No valid header: the connection is to be closed.
    Refused(Refusal),
    /// The client closed or failed before a whole header.
    Gone,
}

/// Reads a PROXY header from `stream` within `timeout`. Octets are read in the core's
/// shared buffer, as the sniffer reads; what came after the header is handed back.
pub(crate) async fn read_header<T: AsyncRead + Unpin>(
    stream: &mut T,
    timeout: Duration,
) -> HeaderRead {
    let mut read = BytesMut::new();
    let reading = async {
        loop {
            let got = poll_fn(|cx| {
                Layer::Plaintext.poll_append(Pin::new(&mut *stream), cx, MAX_READ, &mut read)
            })
            .await;
            match got {
                Ok(0) | Err(_) => return HeaderRead::Gone,
                Ok(_) => {}
            }
            match parse(&read) {
                Parsed::Incomplete => {}
                Parsed::Invalid(why) => return HeaderRead::Refused(Refusal::Invalid(why)),
                Parsed::Header { len, source } => {
                    let rest = read.split_off(len);
                    return HeaderRead::Read { source, rest };
                }
            }
        }
    };
    let expired = async {
        glommio::timer::sleep(timeout).await;
        HeaderRead::Refused(Refusal::TimedOut)
    };
    future::or(reading, expired).await
}

#[cfg(test)]
mod tests;
