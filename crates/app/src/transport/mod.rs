//! Transports between the runtime's TCP streams and the protocol drivers: TLS (rustls,
//! ALPN, RFC 9113 §9.2 policy), sniffing the protocol of a cleartext connection, and the
//! per-core read buffers every layer reads into.

pub(crate) mod scratch;
pub(crate) mod sniff;
pub(crate) mod tls;
