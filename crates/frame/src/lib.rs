//! HTTP/2 frame codec (RFC 9113 §4, §6).
