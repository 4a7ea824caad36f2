//! The connection's deadlines. The driver asks for the earliest with `poll_timeout` and
//! calls `handle_timeout` when it passes; the connection never reads a clock.

use std::time::Instant;

use h2ring_frame::ErrorCode;

use super::{Connection, Phase};
use crate::config::Config;

#[derive(Debug, Default)]
pub(crate) struct Timers {
    preface: Option<Instant>,
    first_settings: Option<Instant>,
    settings_ack: Option<Instant>,
    idle: Option<Instant>,
    drain: Option<Instant>,
    linger: Option<Instant>,
    /// The binding GOAWAY of a graceful shutdown goes out by then at the latest.
    final_goaway: Option<Instant>,
    /// A header block must be complete by then.
    header_block: Option<Instant>,
    /// Next scan of per-stream receive/send timeouts.
    stream_scan: Option<Instant>,
}

/// How often open streams are checked for receive/send timeouts: coarse on purpose, the
/// timeouts are tens of seconds and a scan touches at most MAX_CONCURRENT_STREAMS streams.
pub(crate) const STREAM_SCAN_INTERVAL: std::time::Duration = std::time::Duration::from_secs(1);

/// How long a complete response waits for the rest of a request body nobody reads before
/// RST_STREAM(NO_ERROR) stops the client (RFC 9113 §8.1), when the declared rest would not
/// fit the window the client has. Meanwhile the stream is half-closed (local) and frames
/// the client sent before it saw the response are judged against that state (§5.1). The
/// stream scan applies it, so the reset goes out between one and two seconds after the
/// response.
pub(crate) const LATE_FRAME_GRACE: std::time::Duration = std::time::Duration::from_secs(1);

impl Timers {
    pub(crate) fn new(config: &Config, now: Instant) -> Self {
        Timers {
            preface: Some(now + config.preface_timeout),
            ..Timers::default()
        }
    }

    pub(crate) fn preface_received(&mut self, now: Instant, config: &Config) {
        self.preface = None;
        self.first_settings = Some(now + config.first_settings_timeout);
    }

    pub(crate) fn first_settings_received(&mut self, now: Instant, config: &Config) {
        self.first_settings = None;
        self.became_idle(now, config);
    }

    pub(crate) fn settings_sent(&mut self, now: Instant, config: &Config) {
        if self.settings_ack.is_none() {
            self.settings_ack = Some(now + config.settings_ack_timeout);
        }
    }

    pub(crate) fn settings_acked(&mut self) {
        self.settings_ack = None;
    }

    pub(crate) fn became_idle(&mut self, now: Instant, config: &Config) {
        if self.idle.is_none() {
            self.idle = config.idle_timeout.map(|t| now + t);
        }
    }

    pub(crate) fn no_streams(&mut self) {
        self.stream_scan = None;
    }

    pub(crate) fn became_active(&mut self) {
        self.idle = None;
    }

    pub(crate) fn final_goaway(&mut self, now: Instant, config: &Config) {
        self.final_goaway = Some(now + config.goaway_linger);
    }

    pub(crate) fn final_goaway_done(&mut self) {
        self.final_goaway = None;
    }

    pub(crate) fn header_block_started(&mut self, now: Instant, config: &Config) {
        if self.header_block.is_none() {
            self.header_block = Some(now + config.header_block_timeout);
        }
    }

    pub(crate) fn header_block_done(&mut self) {
        self.header_block = None;
    }

    /// Streams are open: make sure their timeouts get checked.
    pub(crate) fn streams_open(&mut self, now: Instant) {
        // Always: besides the configured timeouts, the scan ends unread bodies after
        // `LATE_FRAME_GRACE`.
        if self.stream_scan.is_none() {
            self.stream_scan = Some(now + STREAM_SCAN_INTERVAL);
        }
    }

    pub(crate) fn drain_started(&mut self, now: Instant, config: &Config) {
        self.drain = Some(now + config.drain_timeout);
        self.idle = None;
    }

    pub(crate) fn linger(&mut self, now: Instant, config: &Config) {
        self.linger = Some(now + config.goaway_linger);
        self.idle = None;
        self.drain = None;
        self.settings_ack = None;
        self.first_settings = None;
        self.preface = None;
        self.header_block = None;
        self.stream_scan = None;
        self.final_goaway = None;
    }

    fn earliest(&self) -> Option<Instant> {
        [
            self.preface,
            self.first_settings,
            self.settings_ack,
            self.idle,
            self.drain,
            self.linger,
            self.header_block,
            self.stream_scan,
            self.final_goaway,
        ]
        .into_iter()
        .flatten()
        .min()
    }
}

fn due(deadline: Option<Instant>, now: Instant) -> bool {
    deadline.is_some_and(|d| d <= now)
}

impl Connection {
    /// Resets streams whose client stopped sending a body it could send, streams whose
    /// response the client's windows have kept from moving, for longer than configured,
    /// and streams whose response is not done by `response_send_timeout`.
    fn scan_stream_timeouts(&mut self, now: Instant) {
        let recv_limit = self.config.stream_recv_timeout;
        let send_limit = self.config.stream_send_timeout;
        let response_limit = self.config.response_send_timeout;
        let conn_window_open = self.conn_send.available() > 0;
        let mut expired = Vec::new();
        let mut unread = Vec::new();
        for (key, stream) in self.store.iter_mut() {
            if stream.is_draining_unread_body()
                && !stream.declared_rest_fits_window()
                && now.saturating_duration_since(stream.last_recv) >= LATE_FRAME_GRACE
            {
                unread.push(key);
                continue;
            }
            // Go's WriteTimeout: the whole response, handler time included, has a deadline.
            if stream.send != crate::stream::SendHalf::Done
                && response_limit
                    .is_some_and(|t| now.saturating_duration_since(stream.opened_at) >= t)
            {
                expired.push(key);
                continue;
            }
            // A discarded body is waited for only once the response is done (the rest is
            // then let in to be dropped, see `send_finished`).
            let waiting_for_body = stream.recv_open
                && (!stream.body_discarded || stream.send == crate::stream::SendHalf::Done)
                && stream.recv_window.has_room();
            if waiting_for_body {
                if recv_limit.is_some_and(|t| now.saturating_duration_since(stream.last_recv) >= t)
                {
                    expired.push(key);
                    continue;
                }
            } else {
                // Not the client's fault: the application is not reading.
                stream.last_recv = now;
            }
            let blocked =
                stream.needs_window() && (stream.send_window.available() == 0 || !conn_window_open);
            match (blocked, stream.send_blocked_since) {
                (false, _) => stream.send_blocked_since = None,
                (true, None) => stream.send_blocked_since = Some(now),
                (true, Some(since)) => {
                    if send_limit.is_some_and(|t| now.saturating_duration_since(since) >= t) {
                        expired.push(key);
                    }
                }
            }
        }
        for key in expired {
            self.reset_key(key, ErrorCode::Cancel, now);
        }
        for key in unread {
            self.end_unread_body(key, now);
        }
    }

    /// The next instant at which [`Connection::handle_timeout`] must be called, if any.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.phase == Phase::Closed {
            return None;
        }
        self.timers.earliest()
    }

    /// Applies every deadline that has passed at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.clock = now;
        let t = &self.timers;
        if due(t.linger, now) {
            self.timers.linger = None;
            self.phase = Phase::Closed;
            return;
        }
        if due(t.preface, now) {
            // Not an HTTP/2 peer (or a slowloris): nothing to say to it.
            self.timers.preface = None;
            self.phase = Phase::Closed;
            return;
        }
        if due(t.first_settings, now) {
            self.timers.first_settings = None;
            self.connection_error(ErrorCode::SettingsTimeout, "no SETTINGS from client", now);
            return;
        }
        if due(t.settings_ack, now) {
            // RFC 9113 §6.5.3: no ACK in time → SETTINGS_TIMEOUT.
            self.timers.settings_ack = None;
            self.connection_error(ErrorCode::SettingsTimeout, "SETTINGS not acknowledged", now);
            return;
        }
        if due(t.final_goaway, now) {
            self.send_final_goaway(now);
        }
        let t = &self.timers;
        if due(t.header_block, now) {
            // Nothing may interleave a header block (§4.3): a stalled one stalls the
            // whole connection, so it ends it.
            self.timers.header_block = None;
            self.connection_error(
                ErrorCode::EnhanceYourCalm,
                "header block not completed in time",
                now,
            );
            return;
        }
        if due(t.stream_scan, now) {
            self.timers.stream_scan = None;
            self.scan_stream_timeouts(now);
            if !self.store.is_empty() {
                self.timers.streams_open(now);
            }
        }
        let t = &self.timers;
        if due(t.drain, now) {
            // The drain deadline bounds a graceful shutdown: what is still open is cut.
            self.timers.drain = None;
            for key in self.store.keys() {
                self.reset_key(key, ErrorCode::Cancel, now);
            }
            self.phase = Phase::Lingering;
            self.timers.linger(now, &self.config);
            return;
        }
        if due(t.idle, now) {
            self.timers.idle = None;
            if self.store.is_empty() {
                self.start_shutdown(now);
            }
        }
    }
}
