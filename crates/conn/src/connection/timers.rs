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
}

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

    pub(crate) fn became_active(&mut self) {
        self.idle = None;
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
    }

    fn earliest(&self) -> Option<Instant> {
        [
            self.preface,
            self.first_settings,
            self.settings_ack,
            self.idle,
            self.drain,
            self.linger,
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
    /// The next instant at which [`Connection::handle_timeout`] must be called, if any.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.phase == Phase::Closed {
            return None;
        }
        self.timers.earliest()
    }

    /// Applies every deadline that has passed at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
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
