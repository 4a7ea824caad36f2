//! The server connection: one `!Send` state machine per HTTP/2 connection.
//!
//! Inputs are methods ([`Connection::recv`], [`Connection::handle_timeout`], the send API);
//! outputs are polled ([`Connection::poll_event`], [`Connection::poll_transmit`],
//! [`Connection::poll_timeout`]). Time is passed in, never read.

mod block;
mod control;
mod frames;
mod peer_settings;
mod push;
pub(crate) mod send;
#[cfg(test)]
mod tests;
mod timers;
mod upgrade;

use std::collections::VecDeque;
use std::rc::Rc;
use std::time::Instant;

use bytes::BytesMut;
use h2ring_frame::{
    Decoder, ErrorCode, Frame, Ping, Setting, StreamId, DEFAULT_INITIAL_WINDOW_SIZE,
};
use h2ring_hpack::{HeadDecoder, HeadEncoder, HeadLimits, RequestHead};

use crate::budget::Bucket;
use crate::closed::{ClosedStreams, HowClosed};
use crate::config::{Config, PROTOCOL_DEFAULT_WINDOW};
use crate::event::Event;
use crate::flow::{RecvWindow, SendWindow};
use crate::priority::Priority;
use crate::scheduler::{ExtensiblePriorityScheduler, Scheduler};
use crate::stats::Stats;
use crate::store::{Store, StreamKey};

use self::block::HeaderBlock;
pub use self::send::WRITE_BUDGET;
use self::timers::Timers;
pub use self::upgrade::UpgradeError;

/// Payload of the PING that times the two-step graceful GOAWAY.
pub(crate) const SHUTDOWN_PING: [u8; 8] = *b"h2r-shut";

/// Where the connection is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Waiting for the 24-octet client preface (RFC 9113 §3.4).
    Preface,
    /// Preface read; the client's first frame must be SETTINGS.
    FirstSettings,
    /// Serving.
    Open,
    /// We sent GOAWAY(NO_ERROR): open streams finish, new ones are ignored.
    Draining,
    /// We sent GOAWAY for an error (or finished draining): input is discarded until the
    /// linger deadline, so the peer can read our GOAWAY before the socket closes.
    Lingering,
    /// Done: the driver flushes what `poll_transmit` gives and closes the socket.
    Closed,
}

/// What the peer told us in its SETTINGS (RFC 9113 §6.5.2), with protocol defaults.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PeerSettings {
    pub(crate) max_frame_size: u32,
    pub(crate) initial_window: u32,
    pub(crate) max_concurrent_streams: Option<u32>,
    pub(crate) enable_push: bool,
    pub(crate) max_header_list_size: Option<u32>,
}

impl Default for PeerSettings {
    fn default() -> Self {
        PeerSettings {
            max_frame_size: h2ring_frame::DEFAULT_MAX_FRAME_SIZE,
            initial_window: DEFAULT_INITIAL_WINDOW_SIZE,
            max_concurrent_streams: None,
            enable_push: true,
            max_header_list_size: None,
        }
    }
}

/// A sans-IO HTTP/2 server connection.
///
/// Not `Send`: it lives on the core that accepted the connection, and so does everything
/// that refers to it.
pub struct Connection {
    config: Rc<Config>,
    phase: Phase,
    decoder: Decoder,
    heads: HeadDecoder,
    encoder: HeadEncoder,
    store: Store,
    scheduler: Box<dyn Scheduler>,
    peer: PeerSettings,
    conn_send: SendWindow,
    conn_recv: RecvWindow,
    /// Response body octets queued on all streams (the sum of their `queued_len`): what a
    /// connection WINDOW_UPDATE could let through, kept so judging one is O(1).
    queued_total: usize,
    /// Highest client stream id seen in a HEADERS frame (§5.1.1).
    last_client_stream: StreamId,
    /// Highest client stream id we processed (opened, refused or rejected): the last
    /// stream id of our GOAWAY.
    last_processed_stream: StreamId,
    /// Whether the binding GOAWAY of a graceful shutdown went out.
    final_goaway_sent: bool,
    /// Highest stream id we promised.
    last_pushed_stream: StreamId,
    /// The header block being received (HEADERS without END_HEADERS so far).
    block: Option<HeaderBlock>,
    /// Control frames and header blocks, in the order they were produced (HPACK order).
    out: BytesMut,
    /// Reused for encoding header blocks before they are framed.
    scratch: BytesMut,
    /// Control frames in `out` the peer has not been handed yet (flood bound).
    queued_control: usize,
    /// Octets at the front of `out` that are our connection preface (SETTINGS and the
    /// connection WINDOW_UPDATE), not yet handed to the driver: kept when a flood drops
    /// the rest of `out`, since RFC 9113 §3.4 makes SETTINGS our first frame.
    preface_out: usize,
    events: VecDeque<Event>,
    /// SETTINGS frames we sent and the peer has not acknowledged.
    unacked_settings: u32,
    /// The GOAWAY we sent: last stream id and code.
    goaway_sent: Option<(StreamId, ErrorCode)>,
    goaway_received: bool,
    closed: ClosedStreams,
    /// PRIORITY_UPDATE frames for streams not opened yet (RFC 9218 §7.1), bounded.
    early_priorities: VecDeque<(StreamId, Priority)>,
    timers: Timers,
    /// The latest time we were given (for calls that take none).
    clock: Instant,
    /// Rapid-reset budget (streams the peer opens and abandons).
    resets: Bucket,
    /// Budget for frames that make us work without moving a request forward.
    idle_frames: Bucket,
    stats: Stats,
    /// Keeps the connection `!Send` and `!Sync` by construction.
    _not_send: std::marker::PhantomData<Rc<()>>,
}

/// `config` brought into the protocol's ranges, still shared when it already was.
fn normalized_shared(config: Rc<Config>) -> Rc<Config> {
    let normalized = (*config).clone().normalized();
    if normalized == *config {
        config
    } else {
        Rc::new(normalized)
    }
}

impl Connection {
    /// A connection that has just been accepted. Our SETTINGS (and the connection-window
    /// WINDOW_UPDATE) are queued at once: the server preface may be sent without waiting
    /// for the client's (§3.4).
    ///
    /// `config` may be a `Config` or an `Rc<Config>`: a server passes the one its core
    /// shares, so each connection holds a pointer to it instead of its own copy (idle
    /// connections should cost little).
    pub fn new(config: impl Into<Rc<Config>>, now: Instant) -> Self {
        Self::with_scheduler(config, Box::new(ExtensiblePriorityScheduler::new()), now)
    }

    /// Same, with another write scheduler.
    pub fn with_scheduler(
        config: impl Into<Rc<Config>>,
        scheduler: Box<dyn Scheduler>,
        now: Instant,
    ) -> Self {
        let config = normalized_shared(config.into());
        let mut decoder = Decoder::new();
        decoder.set_max_frame_size(config.max_frame_size);
        let limits = HeadLimits {
            max_header_list_size: config.max_header_list_size,
            extended_connect: config.extended_connect,
        };
        let heads = HeadDecoder::new(limits, h2ring_frame::DEFAULT_HEADER_TABLE_SIZE as usize);
        let mut conn = Connection {
            phase: Phase::Preface,
            decoder,
            heads,
            encoder: HeadEncoder::new(),
            store: Store::default(),
            scheduler,
            peer: PeerSettings::default(),
            conn_send: SendWindow::new(DEFAULT_INITIAL_WINDOW_SIZE),
            conn_recv: RecvWindow::new(PROTOCOL_DEFAULT_WINDOW, config.connection_window),
            queued_total: 0,
            last_client_stream: StreamId::ZERO,
            last_processed_stream: StreamId::ZERO,
            final_goaway_sent: false,
            last_pushed_stream: StreamId::ZERO,
            block: None,
            out: BytesMut::new(),
            scratch: BytesMut::new(),
            queued_control: 0,
            preface_out: 0,
            events: VecDeque::new(),
            unacked_settings: 0,
            goaway_sent: None,
            goaway_received: false,
            closed: ClosedStreams::new(config.closed_stream_memory, config.max_closed_streams),
            early_priorities: VecDeque::new(),
            timers: Timers::new(&config, now),
            clock: now,
            resets: Bucket::new(config.reset_budget, now),
            idle_frames: Bucket::new(config.idle_frame_budget, now),
            stats: Stats::default(),
            _not_send: std::marker::PhantomData,
            config,
        };
        conn.send_initial_settings(now);
        conn
    }

    /// The settings we advertise (RFC 9113 §6.5.2; RFC 8441 §3; RFC 9218 §2.1).
    fn local_settings(&self) -> Vec<Setting> {
        let mut settings = vec![
            Setting::MaxConcurrentStreams(self.config.max_concurrent_streams),
            Setting::InitialWindowSize(self.config.stream_window),
            Setting::MaxFrameSize(self.config.max_frame_size),
            Setting::MaxHeaderListSize(self.config.max_header_list_size),
        ];
        if self.config.extended_connect {
            settings.push(Setting::EnableConnectProtocol(true));
        }
        // We schedule by RFC 9218 priorities and ignore the deprecated RFC 7540 tree.
        settings.push(Setting::NoRfc7540Priorities(true));
        settings
    }

    fn send_initial_settings(&mut self, now: Instant) {
        let settings = h2ring_frame::Settings::new(self.local_settings());
        h2ring_frame::Frame::Settings(settings).encode(&mut self.out);
        self.unacked_settings += 1;
        self.timers.settings_sent(now, &self.config);
        // RFC 9113 §6.9.2: the connection window starts at 65 535 and only WINDOW_UPDATE
        // changes it, so a larger configured window is opened right away.
        let extra = self
            .config
            .connection_window
            .saturating_sub(PROTOCOL_DEFAULT_WINDOW);
        if extra > 0 {
            self.conn_recv.release(extra);
            if let Some(inc) = self.conn_recv.take_update_now() {
                control::encode_window_update(StreamId::ZERO, inc, &mut self.out);
            }
        }
        self.preface_out = self.out.len();
    }

    /// Where the connection is in its life.
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// True once the driver should flush what [`Connection::poll_transmit`] gives and close.
    pub fn is_closed(&self) -> bool {
        self.phase == Phase::Closed
    }

    /// Streams currently open (either direction still going).
    pub fn open_streams(&self) -> usize {
        self.store.len()
    }

    /// True when no stream is open and nothing waits to be written: the driver may shrink
    /// its buffers.
    pub fn is_idle(&self) -> bool {
        self.store.is_empty() && self.out.is_empty() && self.block.is_none()
    }

    /// Gives back the memory a burst of streams left behind (the stream store, the record
    /// of closed streams, the scheduler's queues, the event queue's capacity, the output
    /// buffer, the HPACK memos) when the connection is idle; a no-op otherwise. For the
    /// driver to call once a connection has stayed idle for a while (not between two
    /// bursts of a busy one, which would reallocate all of it per burst), so that a
    /// connection that once served many streams costs no more while idle than a new one.
    pub fn release_idle_memory(&mut self) {
        if !self.is_idle() {
            return;
        }
        self.store.shrink_if_empty();
        self.closed.shrink(self.clock);
        self.scheduler.release_memory();
        self.heads.release_memory();
        self.encoder.release_memory();
        if self.events.is_empty() && self.events.capacity() > 0 {
            self.events = VecDeque::new();
        }
        if self.out.capacity() > 0 {
            self.out = BytesMut::new();
        }
        if self.scratch.capacity() > 0 {
            self.scratch = BytesMut::new();
        }
    }

    /// The RFC 9113 §5.1 state of a stream, or `None` if it is idle or closed.
    pub fn stream_state(&self, id: StreamId) -> Option<crate::StreamState> {
        self.store
            .key(id)
            .and_then(|k| self.store.get(k))
            .map(|s| s.state())
    }

    /// Per-connection counters.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// The configuration in force (normalized).
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The next event for the application.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// Hands back the box of an [`Event::Request`]'s head once the application has taken
    /// what it needs out of it, so the next request reuses it instead of allocating. The
    /// head travels boxed because it is large (about 256 octets) and moving it through the
    /// event queue into the application cost more than the box.
    ///
    /// Put back what the head still holds (fields, method, URI parts) rather than
    /// dropping it: a repeated request refills that memory in place (see
    /// [`HeadDecoder::recycle_request_head`](h2ring_hpack::HeadDecoder::recycle_request_head)).
    pub fn recycle_request_head(&mut self, head: Box<RequestHead>) {
        self.heads.recycle_request_head(head);
    }

    /// `head` in a box, a recycled one when there is one.
    pub(crate) fn boxed_head(&mut self, head: RequestHead) -> Box<RequestHead> {
        self.heads.boxed_head(head)
    }

    /// Begins a graceful shutdown: GOAWAY(NO_ERROR) with the last stream we will process,
    /// no new streams, open ones finish within `drain_timeout` (RFC 9113 §6.8).
    pub fn start_shutdown(&mut self, now: Instant) {
        match self.phase {
            Phase::Preface => self.phase = Phase::Closed,
            Phase::FirstSettings | Phase::Open => {
                // RFC 9113 §6.8: first GOAWAY with the largest stream id, so requests
                // already on the wire are still served; after a round trip (our PING comes
                // back, or `goaway_linger` passes) the real last stream id follows.
                self.write_goaway(StreamId::MAX, ErrorCode::NoError, b"");
                Frame::Ping(Ping {
                    ack: false,
                    payload: SHUTDOWN_PING,
                })
                .encode(&mut self.out);
                self.phase = Phase::Draining;
                self.timers.drain_started(now, &self.config);
                self.timers.final_goaway(now, &self.config);
            }
            Phase::Draining | Phase::Lingering | Phase::Closed => {}
        }
    }

    /// The second, binding GOAWAY of a graceful shutdown: streams above its id are not
    /// processed (RFC 9113 §6.8).
    fn send_final_goaway(&mut self, now: Instant) {
        if self.phase != Phase::Draining || self.final_goaway_sent {
            return;
        }
        self.final_goaway_sent = true;
        self.timers.final_goaway_done();
        self.write_goaway(self.last_processed_stream, ErrorCode::NoError, b"");
        self.maybe_finish_draining(now);
    }

    /// Records a stream's end and forgets it.
    fn remove_stream(&mut self, key: StreamKey, how: HowClosed) {
        if let Some(stream) = self.store.remove(key) {
            self.scheduler.remove(key);
            self.queued_total -= stream.queued_len;
            self.closed.record(stream.id, how, self.clock);
            // Body octets the application never consumed still count against the
            // connection window; give them back now that nobody will (§6.9).
            if stream.unconsumed > 0 {
                self.conn_recv.release(stream.unconsumed);
                self.flush_connection_window_update();
            }
        }
    }

    /// Closes a stream whose both halves are done.
    fn close_if_finished(&mut self, key: StreamKey, now: Instant) {
        let Some(stream) = self.store.get(key) else {
            return;
        };
        if stream.is_closed() {
            let id = stream.id;
            self.remove_stream(key, HowClosed::Finished);
            self.events.push_back(Event::StreamClosed { stream: id });
            self.on_stream_count_changed(now);
        }
    }

    /// Idle timer and drain completion depend on how many streams are open.
    fn on_stream_count_changed(&mut self, now: Instant) {
        if self.store.is_empty() {
            self.timers.became_idle(now, &self.config);
            self.timers.no_streams();
        } else {
            self.timers.became_active();
            self.timers.streams_open(now);
        }
        self.maybe_finish_draining(now);
    }

    /// Charges the peer for a stream it abandoned or broke; past the budget the
    /// connection ends with ENHANCE_YOUR_CALM (rapid reset, CVE-2023-44487).
    fn charge_reset(&mut self, now: Instant) -> bool {
        if self.resets.spend(now) {
            return true;
        }
        self.connection_error(ErrorCode::EnhanceYourCalm, "too many reset streams", now);
        false
    }

    /// Charges the peer for a frame that did no useful work.
    fn charge_idle_frame(&mut self, now: Instant) -> bool {
        self.charge_idle_frames(1, now)
    }

    /// Charges the peer `n` units of idle-frame budget (a frame's worth of work each).
    fn charge_idle_frames(&mut self, n: u32, now: Instant) -> bool {
        if self.idle_frames.spend_n(n, now) {
            #[cfg(test)]
            {
                self.stats.charged += u64::from(n);
            }
            return true;
        }
        self.connection_error(ErrorCode::EnhanceYourCalm, "too many idle frames", now);
        false
    }

    fn maybe_finish_draining(&mut self, now: Instant) {
        if self.phase == Phase::Draining
            && self.final_goaway_sent
            && self.store.is_empty()
            && self.block.is_none()
        {
            self.phase = Phase::Lingering;
            self.timers.linger(now, &self.config);
        }
    }
}
