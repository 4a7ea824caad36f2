//! Control frames we send: SETTINGS ACK, PING ACK, WINDOW_UPDATE, RST_STREAM, GOAWAY, and
//! the bound on how many may pile up unread (Go's maxQueuedControlFrames).

use std::time::Instant;

use bytes::{Bytes, BytesMut};
use h2ring_frame::{ErrorCode, Frame, GoAway, Ping, RstStream, Settings, StreamId, WindowUpdate};

use super::{Connection, Phase};
use crate::closed::HowClosed;
use crate::event::Event;
use crate::store::StreamKey;

pub(super) fn encode_window_update(stream_id: StreamId, increment: u32, dst: &mut BytesMut) {
    Frame::WindowUpdate(WindowUpdate {
        stream_id,
        increment,
    })
    .encode(dst);
}

impl Connection {
    /// Counts a control frame the peer made us queue. A peer that keeps making us answer
    /// without reading the answers is cut off: memory stays bounded.
    fn count_control(&mut self, now: Instant) -> bool {
        self.queued_control += 1;
        if self.queued_control > self.config.max_queued_control_frames {
            // Drop the unread answers, but not our SETTINGS (RFC 9113 §3.4): the GOAWAY
            // must not be the first frame the peer sees.
            self.out.truncate(self.preface_out);
            self.queued_control = 0;
            self.connection_error(ErrorCode::EnhanceYourCalm, "control frame flood", now);
            return false;
        }
        true
    }

    pub(super) fn queue_settings_ack(&mut self, now: Instant) {
        if self.count_control(now) {
            Frame::Settings(Settings::ack()).encode(&mut self.out);
        }
    }

    pub(super) fn queue_ping_ack(&mut self, payload: [u8; 8], now: Instant) {
        if self.count_control(now) {
            Frame::Ping(Ping { ack: true, payload }).encode(&mut self.out);
        }
    }

    pub(super) fn queue_rst_stream(&mut self, stream_id: StreamId, code: ErrorCode, now: Instant) {
        if self.count_control(now) {
            Frame::RstStream(RstStream { stream_id, code }).encode(&mut self.out);
            self.stats.resets_sent.add(code);
        }
    }

    /// Announces connection-window credit once enough is owed.
    pub(super) fn flush_connection_window_update(&mut self) {
        if let Some(inc) = self.conn_recv.take_update() {
            encode_window_update(StreamId::ZERO, inc, &mut self.out);
        }
    }

    /// Sends GOAWAY for an error, with the last stream id we processed.
    pub(super) fn send_goaway(&mut self, code: ErrorCode, debug: &'static [u8]) {
        if let Some((_, sent)) = self.goaway_sent {
            // A graceful GOAWAY may be followed by an error one; never two of a kind.
            if sent == code || code == ErrorCode::NoError {
                return;
            }
        }
        self.write_goaway(self.last_processed_stream, code, debug);
    }

    pub(super) fn write_goaway(
        &mut self,
        last_stream_id: StreamId,
        code: ErrorCode,
        debug: &'static [u8],
    ) {
        Frame::GoAway(GoAway {
            last_stream_id,
            code,
            debug_data: Bytes::from_static(debug),
        })
        .encode(&mut self.out);
        if self.goaway_sent.is_none() {
            self.events.push_back(Event::Closing { code });
        }
        self.goaway_sent = Some((last_stream_id, code));
        self.stats.goaway_sent.add(code);
    }

    /// A connection error (RFC 9113 §5.4.1): GOAWAY with the code, every stream ends, and
    /// input is discarded until the linger deadline lets the peer read the GOAWAY.
    pub(super) fn connection_error(&mut self, code: ErrorCode, reason: &'static str, now: Instant) {
        if matches!(self.phase, Phase::Lingering | Phase::Closed) {
            return;
        }
        if self.phase == Phase::Preface {
            // Not HTTP/2: close without a word.
            self.phase = Phase::Closed;
            return;
        }
        self.send_goaway(code, reason.as_bytes());
        for key in self.store.keys() {
            if let Some(stream) = self.store.remove(key) {
                self.scheduler.remove(key);
                self.queued_total -= stream.queued_len;
                self.events.push_back(Event::Reset {
                    stream: stream.id,
                    code,
                    by_peer: false,
                });
            }
        }
        self.block = None;
        self.phase = Phase::Lingering;
        self.timers.linger(now, &self.config);
    }

    /// A stream error (RFC 9113 §5.4.2) on a stream we hold: RST_STREAM, tell the
    /// application, forget the stream. Errors the peer caused count against its reset
    /// budget; CANCEL (our own timeouts and drain deadline) does not.
    pub(super) fn reset_key(&mut self, key: StreamKey, code: ErrorCode, now: Instant) {
        if self.store.get(key).is_none() {
            return;
        }
        if code != ErrorCode::Cancel && !self.charge_reset(now) {
            return;
        }
        let Some(stream) = self.store.get(key) else {
            return;
        };
        let id = stream.id;
        self.queue_rst_stream(id, code, now);
        self.remove_stream(key, HowClosed::ResetByUs);
        self.events.push_back(Event::Reset {
            stream: id,
            code,
            by_peer: false,
        });
        self.on_stream_count_changed(now);
    }

    /// A stream error for an id that may or may not be in the store.
    pub(super) fn stream_error(&mut self, id: StreamId, code: ErrorCode, now: Instant) {
        match self.store.key(id) {
            Some(key) => self.reset_key(key, code, now),
            None => {
                if !self.charge_reset(now) {
                    return;
                }
                self.queue_rst_stream(id, code, now);
                if self.closed.lookup(id, now).is_none() {
                    self.closed.record(id, HowClosed::ResetByUs, now);
                }
            }
        }
    }

    /// Called by the driver (or the reference test harness) when `poll_transmit` output was
    /// handed over; resets the control-frame flood counter.
    pub(super) fn control_frames_flushed(&mut self) {
        self.queued_control = 0;
    }
}
