//! Connection limits and timeouts, each with a documented default.

use std::time::Duration;

use crate::budget::RateBudget;

/// Everything a server connection can be tuned with. `Config::default()` is what `h2ring` ships.
///
/// Values outside what RFC 9113 allows are clamped by [`Config::normalized`], which the
/// connection applies on construction, so a `Config` can never put the protocol in an illegal
/// state.
///
/// Fields are public and the struct is `#[non_exhaustive]`: start from
/// `Config::default()` and set what differs, so a new setting is not a breaking change.
///
/// ```
/// use std::time::Duration;
///
/// let mut config = h2ring_conn::Config::default();
/// config.max_concurrent_streams = 250;
/// config.idle_timeout = Some(Duration::from_secs(120));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Config {
    /// SETTINGS_MAX_CONCURRENT_STREAMS we advertise; streams beyond it are refused with
    /// REFUSED_STREAM (RFC 9113 §5.1.2). Default 100, the least RFC 9113 §6.5.2
    /// recommends and what nghttpd and h2o advertise.
    pub max_concurrent_streams: u32,
    /// Receive window of each stream, i.e. how many request-body octets a client may send
    /// before the application reads them (Go: MaxUploadBufferPerStream). Default 1 MiB;
    /// at least 65 535 (the window the client assumes before it sees our SETTINGS).
    pub stream_window: u32,
    /// Receive window of the whole connection (Go: MaxUploadBufferPerConnection). Default
    /// 1 MiB; at least 65 535. Raised with a WINDOW_UPDATE right after our SETTINGS.
    pub connection_window: u32,
    /// SETTINGS_MAX_FRAME_SIZE: the largest frame payload we accept. Default 16 384.
    pub max_frame_size: u32,
    /// SETTINGS_MAX_HEADER_LIST_SIZE, counted as RFC 9113 §6.5.2 does (name + value + 32
    /// per field). A request over it gets a 431. Default 16 KiB.
    pub max_header_list_size: u32,
    /// Raw (compressed) header-block octets, HEADERS plus CONTINUATION, after which the
    /// connection is closed without waiting for END_HEADERS (CONTINUATION floods). Default
    /// 4 × `max_header_list_size` + 16 KiB: Huffman codes can be up to 30 bits per octet.
    pub max_header_block_bytes: usize,
    /// Accept RFC 8441 extended CONNECT (`:protocol`); advertised with
    /// SETTINGS_ENABLE_CONNECT_PROTOCOL. Default off.
    pub extended_connect: bool,
    /// Whether the application may push (it still needs the client's ENABLE_PUSH). Default on.
    pub allow_push: bool,
    /// Control frames (SETTINGS ACK, PING ACK, RST_STREAM, WINDOW_UPDATE) we may hold queued
    /// because the peer is not reading; past it the connection is closed to bound memory
    /// (Go's maxQueuedControlFrames). Default 10 000.
    pub max_queued_control_frames: usize,
    /// Response body octets buffered per stream before the application's writes wait for
    /// the flow-control window (backpressure). Default 64 KiB.
    pub stream_send_buffer: usize,
    /// Streams the peer may make us open and then abandon: streams it resets before we
    /// finished them, and streams we refuse or reset for its errors. Rapid reset
    /// (CVE-2023-44487) empties it. Default burst 200, then 100 per second.
    pub reset_budget: RateBudget,
    /// Frames that make us work without carrying a request forward: PING, SETTINGS,
    /// PRIORITY, PRIORITY_UPDATE, WINDOW_UPDATE that unblocks nothing, empty DATA or header
    /// fragments, unknown types, frames on closed streams, GOAWAY after the first (the
    /// CVE-2019-9512..9518 family). A SETTINGS frame costs one more per entry. Default
    /// burst 10 000, then 5 000 per second.
    pub idle_frame_budget: RateBudget,
    /// Entries (identifier/value pairs, known or not) one SETTINGS frame may carry; a frame
    /// with more ends the connection with ENHANCE_YOUR_CALM. RFC 9113 defines six
    /// parameters and extensions a few more, and every entry is work (a 16 KiB frame holds
    /// 2 730), so a frame this large is an attack (CVE-2020-11080). Default 100, Go's
    /// bound; at least 16 (each known parameter twice over).
    pub max_settings_entries: usize,
    /// Time allowed to complete a header block once its HEADERS frame arrived: nothing else
    /// may interleave a header block, so a stalled one blocks the connection. Default 10 s.
    pub header_block_timeout: Duration,
    /// A stream whose client could send request body (its window is open) but sends nothing
    /// for this long is reset with CANCEL (slow-loris on bodies). `None` disables. Default 60 s.
    pub stream_recv_timeout: Option<Duration>,
    /// A stream with response data queued that the peer's flow-control windows keep from
    /// being sent for this long is reset with CANCEL (zero-window / slow-read,
    /// CVE-2019-9517). `None` disables. Default 60 s.
    pub stream_send_timeout: Option<Duration>,
    /// How long the socket may refuse to take the bytes we have for it before the
    /// connection is closed (a client that stops reading; CVE-2019-9517). The connection
    /// cannot see the socket, so the runtime's driver applies this one (in h2ring to
    /// HTTP/1.1 connections too). Any octet written restarts it, so a client that reads a
    /// trickle is left to `min_send_bytes`. Default 30 s.
    pub write_timeout: Duration,
    /// The minimum-progress rule for slow readers, with [`Config::min_send_window`]: while
    /// the socket refuses bytes we have for it, at least this many octets must go out in
    /// every window, or the connection is closed. `write_timeout` alone is defeated by a
    /// client that reads a trickle (one byte every 100 ms makes every write partial but
    /// never blocked for long) and keeps a response and its buffers alive indefinitely;
    /// this rule is Apache's `MinRate` for the write side. Output the peer's HTTP/2
    /// flow-control windows hold back is not "refused by the socket" (that is
    /// `stream_send_timeout`'s business). `0` disables the rule. Applied by the runtime's
    /// driver, to HTTP/1.1 connections too. Default 16 KiB per 30 s window (≈ 550 octets
    /// per second, several times below even a 2G GPRS link: no real reader is cut, a
    /// trickle reader is within a minute).
    pub min_send_bytes: usize,
    /// The window of the minimum-progress rule (see [`Config::min_send_bytes`]): counted
    /// from the moment the socket first refuses bytes, restarted at the end of each window
    /// while output stays pending, reset once everything pending is written. Long, because
    /// the kernel wakes a writer only once a third of its send buffer is free, so a socket
    /// takes bytes in bursts. Default 30 s.
    pub min_send_window: Duration,
    /// The most time one response may take, from its request's head having arrived to its
    /// last octet being written (Go's `WriteTimeout`; handler time included). An HTTP/2
    /// stream still sending then is reset with CANCEL; an HTTP/1.1 connection is closed
    /// (nothing else can end a response in progress). `None` disables. Default `None`: a
    /// large download over a slow but honest link may take any time, and slow readers are
    /// already bounded by `min_send_bytes` and `write_timeout`; set it when every response
    /// is small (an API server).
    pub response_send_timeout: Option<Duration>,
    /// Time allowed for the 24-octet client preface. Default 10 s.
    pub preface_timeout: Duration,
    /// Time allowed, after the preface, for the client's first SETTINGS frame. Default 2 s.
    pub first_settings_timeout: Duration,
    /// Time the client has to acknowledge our SETTINGS; then SETTINGS_TIMEOUT. Default 10 s.
    pub settings_ack_timeout: Duration,
    /// A connection with no open stream for this long gets GOAWAY(NO_ERROR) and is closed.
    /// PING does not count as activity. `None` disables it. Default 60 s.
    pub idle_timeout: Option<Duration>,
    /// How long a graceful shutdown lets open streams finish before the connection is closed.
    /// Default 30 s. In h2ring this is the server's one drain timeout
    /// (`ServerBuilder::drain_timeout` sets it), for HTTP/1.1 connections too.
    pub drain_timeout: Duration,
    /// After a GOAWAY for an error, how long we keep reading (and discarding) before closing,
    /// so that the kernel sends FIN rather than RST and the peer gets to read the GOAWAY
    /// (the reason behind Go's goAwayTimeout). Default 1 s.
    pub goaway_linger: Duration,
    /// How long a closed stream is remembered with how it closed, so that frames the peer
    /// sent before it saw the close are judged by RFC 9113 §5.1 (ignored after our
    /// RST_STREAM; STREAM_CLOSED after a normal close) instead of as frames on a stream
    /// closed long ago (a HEADERS frame there is a PROTOCOL_ERROR for the whole
    /// connection). Like hyper's `reset_stream_duration`. Default 10 s.
    pub closed_stream_memory: Duration,
    /// At most this many closed streams are remembered (oldest forgotten first), so a flood
    /// of short streams cannot grow the memory: about 24 octets each; a connection gone
    /// idle keeps only the streams it reset. Default 1 024.
    pub max_closed_streams: usize,
}

/// The window a peer assumes before it has seen our SETTINGS (RFC 9113 §6.9.2).
pub(crate) const PROTOCOL_DEFAULT_WINDOW: u32 = 65_535;

impl Default for Config {
    fn default() -> Self {
        let max_header_list_size = 16 * 1024;
        Config {
            max_concurrent_streams: 100,
            stream_window: 1 << 20,
            connection_window: 1 << 20,
            max_frame_size: h2ring_frame::DEFAULT_MAX_FRAME_SIZE,
            max_header_list_size,
            max_header_block_bytes: 4 * max_header_list_size as usize + 16 * 1024,
            extended_connect: false,
            allow_push: true,
            max_queued_control_frames: 10_000,
            stream_send_buffer: 64 * 1024,
            reset_budget: RateBudget {
                burst: 200,
                per_second: 100,
            },
            idle_frame_budget: RateBudget {
                burst: 10_000,
                per_second: 5_000,
            },
            max_settings_entries: 100,
            header_block_timeout: Duration::from_secs(10),
            stream_recv_timeout: Some(Duration::from_secs(60)),
            stream_send_timeout: Some(Duration::from_secs(60)),
            write_timeout: Duration::from_secs(30),
            min_send_bytes: 16 * 1024,
            min_send_window: Duration::from_secs(30),
            response_send_timeout: None,
            preface_timeout: Duration::from_secs(10),
            first_settings_timeout: Duration::from_secs(2),
            settings_ack_timeout: Duration::from_secs(10),
            idle_timeout: Some(Duration::from_secs(60)),
            drain_timeout: Duration::from_secs(30),
            goaway_linger: Duration::from_secs(1),
            closed_stream_memory: Duration::from_secs(10),
            max_closed_streams: 1024,
        }
    }
}

impl Config {
    /// Clamps every value into the range RFC 9113 allows.
    pub fn normalized(mut self) -> Self {
        let max_window = h2ring_frame::MAX_WINDOW_SIZE;
        self.stream_window = self
            .stream_window
            .clamp(PROTOCOL_DEFAULT_WINDOW, max_window);
        self.connection_window = self
            .connection_window
            .clamp(PROTOCOL_DEFAULT_WINDOW, max_window);
        self.max_frame_size = self.max_frame_size.clamp(
            h2ring_frame::DEFAULT_MAX_FRAME_SIZE,
            h2ring_frame::MAX_MAX_FRAME_SIZE,
        );
        self.max_header_block_bytes = self.max_header_block_bytes.max(1024);
        self.max_queued_control_frames = self.max_queued_control_frames.max(16);
        self.stream_send_buffer = self.stream_send_buffer.max(1);
        self.max_settings_entries = self.max_settings_entries.max(16);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalized_clamps_into_protocol_ranges() {
        let c = Config {
            stream_window: 10,
            connection_window: u32::MAX,
            max_frame_size: 1,
            ..Config::default()
        }
        .normalized();
        assert_eq!(c.stream_window, 65_535);
        assert_eq!(c.connection_window, (1 << 31) - 1);
        assert_eq!(c.max_frame_size, 16_384);
    }
}
