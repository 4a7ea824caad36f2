//! The protocol drivers: each serves one connection's protocol over a transport and hands
//! requests to the [`Service`](crate::Service) through the service layer's exchange seam.
//! `h2` is a thin glommio task around the sans-IO `h2ring-conn` connection; `http1` is
//! HTTP/1.1 (RFC 9112) with the cleartext `Upgrade: h2c` hand-over.

pub(crate) mod h2;
pub(crate) mod http1;
pub(crate) mod send_progress;
