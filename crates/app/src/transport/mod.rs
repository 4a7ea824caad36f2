//! Transports between the runtime's TCP streams and the protocol drivers: the PROXY
//! protocol header a balancer puts first, TLS (rustls, ALPN, RFC 9113 §9.2 policy),
//! sniffing the protocol of a cleartext connection, and the per-core read buffers every
//! layer reads into.

pub(crate) mod abort;
pub(crate) mod proxy;
pub(crate) mod scratch;
pub(crate) mod sniff;
pub(crate) mod tls;

/// A connection refused before it got going, on a port that speaks HTTP/2: the server
/// preface cut short (RFC 9113 §3.4: an empty SETTINGS frame first), then GOAWAY with last
/// stream id 0 and error `code`. 9 + 17 octets.
pub(crate) const fn settings_then_goaway(code: u32) -> [u8; 26] {
    let c = code.to_be_bytes();
    [
        0, 0, 0, 0x4, 0, 0, 0, 0, 0, // SETTINGS, no parameters
        0, 0, 8, 0x7, 0, 0, 0, 0, 0, // GOAWAY, 8 octets, stream 0
        0, 0, 0, 0, // last stream id 0
        c[0], c[1], c[2], c[3], // the error code
    ]
}
