//! HPACK codec (RFC 7541) and validated HTTP/2 heads (RFC 9113 §8).
