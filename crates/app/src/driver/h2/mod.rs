//! The HTTP/2 connection driver: a thin glommio task around the sans-IO
//! [`h2ring_conn::Connection`]. One task per connection does all its I/O in a single poll
//! function — read what the socket has, feed the connection, route events to handlers,
//! apply timers, write everything produced in as few `send`s as possible — and sleeps until
//! the socket, a handler, a timer or shutdown wakes it.

mod dispatch;
mod io;
mod shared;

pub(crate) use self::io::{serve, serve_new};
