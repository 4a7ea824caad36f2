//! h2ring: thread-per-core io_uring HTTP/2 server runtime.
