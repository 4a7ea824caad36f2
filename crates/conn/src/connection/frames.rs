//! Receiving: the preface, then frame by frame, each checked against RFC 9113 §5.1 and §6.

use std::time::Instant;

use bytes::BytesMut;
use h2ring_frame::{
    check_preface, Data, ErrorCode, Frame, FrameError, GoAway, Ping, PrefaceStatus, PriorityUpdate,
    RstStream, StreamId, WindowUpdate, PREFACE,
};

use super::{Connection, Phase};
use crate::closed::HowClosed;
use crate::event::Event;
use crate::priority::Priority;

/// The frame decoder's reason for a WINDOW_UPDATE with a zero increment (its only stream
/// PROTOCOL_ERROR besides a PRIORITY that depends on itself, which is legal on idle streams).
const ZERO_WINDOW_INCREMENT: &str = "WINDOW_UPDATE increment is 0";

/// Where a stream id stands for us.
pub(super) enum Lookup {
    Active(crate::store::StreamKey),
    /// Never used yet (§5.1 "idle").
    Idle,
    /// Used and over; `Some` if remembered with how it ended.
    Closed(Option<HowClosed>),
}

impl Connection {
    /// Feeds received octets. Complete frames are consumed from `buf` (DATA payloads are
    /// zero-copy slices of it); a partial frame is left for the next call.
    pub fn recv(&mut self, buf: &mut BytesMut, now: Instant) {
        self.clock = now;
        self.stats.bytes_in += buf.len() as u64;
        loop {
            match self.phase {
                Phase::Closed | Phase::Lingering => {
                    // After a connection error nothing the peer says matters any more.
                    buf.clear();
                    return;
                }
                Phase::Preface => match check_preface(buf) {
                    Ok(PrefaceStatus::Matched) => {
                        let _ = buf.split_to(PREFACE.len());
                        self.phase = Phase::FirstSettings;
                        self.timers.preface_received(now, &self.config);
                    }
                    Ok(PrefaceStatus::Incomplete) => return,
                    Err(_) => {
                        self.phase = Phase::Closed;
                        buf.clear();
                        return;
                    }
                },
                Phase::FirstSettings | Phase::Open | Phase::Draining => {
                    match self.decoder.decode(buf) {
                        Ok(Some(frame)) => {
                            self.stats.frames_in += 1;
                            self.on_frame(frame, now);
                        }
                        Ok(None) => return,
                        Err(err) => self.on_frame_error(err, now),
                    }
                }
            }
        }
    }

    fn on_frame_error(&mut self, err: FrameError, now: Instant) {
        match err {
            FrameError::Connection { code, reason } => self.connection_error(code, reason, now),
            FrameError::Stream {
                stream_id,
                code,
                reason,
            } => {
                if self.block.is_some() {
                    // §4.3: nothing but CONTINUATION may interleave a header block.
                    self.connection_error(
                        ErrorCode::ProtocolError,
                        "frame inside header block",
                        now,
                    );
                } else if self.phase == Phase::FirstSettings {
                    self.connection_error(
                        ErrorCode::ProtocolError,
                        "first frame not SETTINGS",
                        now,
                    );
                } else if reason == ZERO_WINDOW_INCREMENT
                    && matches!(self.lookup(stream_id), Lookup::Idle)
                {
                    // A zero WINDOW_UPDATE increment on an idle stream: §6.9 makes it a
                    // stream error, but §5.1 allows only HEADERS and PRIORITY on an idle
                    // stream and §6.4 forbids RST_STREAM there, so the connection ends.
                    self.connection_error(
                        ErrorCode::ProtocolError,
                        "WINDOW_UPDATE on idle stream",
                        now,
                    );
                } else {
                    // A malformed PRIORITY (allowed on idle streams, §5.3.1) or a zero
                    // WINDOW_UPDATE increment on a stream in use: that stream only (§6.9).
                    self.stream_error(stream_id, code, now);
                }
            }
        }
    }

    pub(super) fn lookup(&self, id: StreamId) -> Lookup {
        if let Some(key) = self.store.key(id) {
            return Lookup::Active(key);
        }
        let highest = if id.is_client_initiated() {
            self.last_client_stream
        } else {
            self.last_pushed_stream
        };
        if id > highest {
            Lookup::Idle
        } else {
            Lookup::Closed(self.closed.lookup(id, self.clock))
        }
    }

    fn on_frame(&mut self, frame: Frame, now: Instant) {
        if self.phase == Phase::FirstSettings {
            // §3.4: the client preface ends with a SETTINGS frame.
            match &frame {
                Frame::Settings(s) if !s.ack => {
                    self.phase = Phase::Open;
                    self.timers.first_settings_received(now, &self.config);
                }
                _ => {
                    return self.connection_error(
                        ErrorCode::ProtocolError,
                        "first frame not SETTINGS",
                        now,
                    )
                }
            }
        }
        if self.is_idle_frame(&frame) && !self.charge_idle_frame(now) {
            return;
        }
        if self.block.is_some() {
            return match frame {
                Frame::Continuation(c) => self.on_continuation(c, now),
                // §4.3, §6.10: a header block is one contiguous run of frames.
                _ => self.connection_error(
                    ErrorCode::ProtocolError,
                    "frame inside header block",
                    now,
                ),
            };
        }
        match frame {
            Frame::Data(f) => self.on_data(f, now),
            Frame::Headers(f) => self.on_headers(f, now),
            // RFC 9113 §5.3.2: PRIORITY is deprecated; accepted in any state, not used.
            Frame::Priority(_) => {}
            Frame::RstStream(f) => self.on_rst_stream(f, now),
            Frame::Settings(f) => self.on_settings(f, now),
            Frame::PushPromise(_) => {
                // §8.4: a client cannot push.
                self.connection_error(ErrorCode::ProtocolError, "PUSH_PROMISE from client", now)
            }
            Frame::Ping(f) => self.on_ping(f, now),
            Frame::GoAway(f) => self.on_goaway(f, now),
            Frame::WindowUpdate(f) => self.on_window_update(f, now),
            Frame::Continuation(_) => self.connection_error(
                ErrorCode::ProtocolError,
                "CONTINUATION without HEADERS",
                now,
            ),
            Frame::PriorityUpdate(f) => self.on_priority_update(f, now),
            // §5.5: unknown frame types are ignored.
            Frame::Unknown(_) => {}
        }
    }

    /// Frames that cost us work but carry no request forward (the CVE-2019-9512..9518
    /// family); each one is charged to the idle-frame budget. O(1): no frame is judged by
    /// looking at every stream.
    fn is_idle_frame(&self, frame: &Frame) -> bool {
        match frame {
            // The one PING we send times a graceful shutdown; any other ACK answers nothing.
            Frame::Ping(p) => !p.ack || p.payload != super::SHUTDOWN_PING,
            Frame::Settings(s) => !s.ack,
            Frame::Priority(_) | Frame::PriorityUpdate(_) | Frame::Unknown(_) => true,
            // Empty, or for a stream that is gone (dropped, and refunded at once).
            Frame::Data(d) => {
                (d.data.is_empty() && !d.end_stream) || self.store.key(d.stream_id).is_none()
            }
            Frame::Headers(h) => h.fragment.is_empty() && !h.end_headers,
            Frame::Continuation(c) => c.fragment.is_empty() && !c.end_headers,
            Frame::RstStream(r) => self.store.key(r.stream_id).is_none(),
            // §6.8 leaves room for a second GOAWAY; more than that only repeats itself.
            Frame::GoAway(_) => self.goaway_received,
            // A WINDOW_UPDATE is useful only if the window it opens holds something back.
            Frame::WindowUpdate(w) => {
                if w.stream_id.is_zero() {
                    !self.connection_window_holds_data_back()
                } else {
                    self.store
                        .key(w.stream_id)
                        .and_then(|k| self.store.get(k))
                        .is_none_or(|s| !s.needs_window())
                }
            }
            Frame::PushPromise(_) => false,
        }
    }

    /// Whether more response data is queued than the connection window lets through, so
    /// that a connection WINDOW_UPDATE moves something (§6.9.1). Streams held back by
    /// their own windows count: a client may open the connection window first. A peer
    /// that keeps one such stream blocked still pays once the window covers what is queued.
    fn connection_window_holds_data_back(&self) -> bool {
        self.queued_total > self.conn_send.available() as usize
    }

    fn on_data(&mut self, f: Data, now: Instant) {
        let len = f.flow_controlled_len();
        // §6.9: connection-level flow control applies whatever the stream's state.
        if !self.conn_recv.receive(len) {
            return self.connection_error(
                ErrorCode::FlowControlError,
                "connection window exceeded",
                now,
            );
        }
        let key = match self.lookup(f.stream_id) {
            Lookup::Active(key) => key,
            Lookup::Idle => {
                return self.connection_error(ErrorCode::ProtocolError, "DATA on idle stream", now)
            }
            Lookup::Closed(how) => {
                // Not going to be consumed: refund the connection window at once.
                self.conn_recv.release(len);
                self.flush_connection_window_update();
                if how != Some(HowClosed::ResetByUs) && self.accepts_frames_on(f.stream_id) {
                    self.stream_error(f.stream_id, ErrorCode::StreamClosed, now);
                }
                return;
            }
        };
        let Some(stream) = self.store.get_mut(key) else {
            return;
        };
        if stream.state() == crate::StreamState::ReservedLocal {
            // §5.1 reserved (local): anything but RST_STREAM, PRIORITY or WINDOW_UPDATE
            // is a connection PROTOCOL_ERROR.
            return self.connection_error(
                ErrorCode::ProtocolError,
                "DATA on a reserved stream",
                now,
            );
        }
        if !stream.recv_open {
            // §5.1 half-closed (remote): DATA is a STREAM_CLOSED stream error.
            self.conn_recv.release(len);
            self.flush_connection_window_update();
            return self.reset_key(key, ErrorCode::StreamClosed, now);
        }
        if !stream.recv_window.receive(len) {
            self.conn_recv.release(len);
            self.flush_connection_window_update();
            return self.reset_key(key, ErrorCode::FlowControlError, now);
        }
        let data_len = f.data.len() as u32;
        let padding = len - data_len;
        stream.body_received += u64::from(data_len);
        if !stream.is_draining_unread_body() {
            stream.last_recv = now;
        }
        // §8.1.1: content-length must equal the sum of DATA payload lengths.
        let too_long = stream
            .content_length
            .is_some_and(|cl| stream.body_received > cl);
        let too_short = f.end_stream
            && stream
                .content_length
                .is_some_and(|cl| stream.body_received != cl);
        if too_long || too_short {
            self.conn_recv.release(len);
            self.flush_connection_window_update();
            return self.reset_key(key, ErrorCode::ProtocolError, now);
        }
        let id = stream.id;
        let discard = stream.body_discarded;
        // Padding is never handed to the application: refund it now (Go does the same).
        let refund = if discard { len } else { padding };
        if discard {
            stream.recv_window.release(len);
        } else {
            stream.recv_window.release(padding);
            stream.unconsumed += data_len;
        }
        if refund > 0 {
            self.conn_recv.release(refund);
            self.flush_stream_window_update(key);
            self.flush_connection_window_update();
        }
        if !discard && (data_len > 0 || f.end_stream) {
            self.events.push_back(Event::Data {
                stream: id,
                data: f.data,
                end_stream: f.end_stream,
            });
        }
        if f.end_stream {
            self.recv_end_stream(key, now);
        } else if self
            .store
            .get(key)
            .is_some_and(|s| s.is_draining_unread_body() && s.recv_window.available() == 0)
        {
            // The client used up its window on a body nobody reads: ask it to stop (§8.1).
            self.end_unread_body(key, now);
        }
    }

    /// After our GOAWAY, streams above its last id are not ours to answer (§6.8).
    pub(super) fn accepts_frames_on(&self, id: StreamId) -> bool {
        match self.goaway_sent {
            Some((last, _)) => id <= last,
            None => true,
        }
    }

    /// The peer finished its side of the stream.
    pub(super) fn recv_end_stream(&mut self, key: crate::store::StreamKey, now: Instant) {
        if let Some(stream) = self.store.get_mut(key) {
            stream.recv_open = false;
        }
        self.close_if_finished(key, now);
    }

    fn on_rst_stream(&mut self, f: RstStream, now: Instant) {
        self.stats.resets_received.add(f.code);
        match self.lookup(f.stream_id) {
            Lookup::Idle => {
                // §6.4: RST_STREAM on an idle stream is a connection PROTOCOL_ERROR.
                self.connection_error(ErrorCode::ProtocolError, "RST_STREAM on idle stream", now)
            }
            Lookup::Closed(_) => {}
            Lookup::Active(key) => {
                // A stream abandoned before we finished it is charged (rapid reset).
                let unfinished = self
                    .store
                    .get(key)
                    .is_some_and(|s| s.send != crate::stream::SendHalf::Done);
                if unfinished && !self.charge_reset(now) {
                    return;
                }
                if let Some(stream) = self.store.get(key) {
                    let id = stream.id;
                    self.remove_stream(key, HowClosed::Finished);
                    self.events.push_back(Event::Reset {
                        stream: id,
                        code: f.code,
                        by_peer: true,
                    });
                    self.on_stream_count_changed(now);
                }
            }
        }
    }

    fn on_ping(&mut self, f: Ping, now: Instant) {
        // §6.7: answer a PING with the same payload; an ACK needs no answer — except the
        // one that times our graceful shutdown.
        if !f.ack {
            self.queue_ping_ack(f.payload, now);
        } else if f.payload == super::SHUTDOWN_PING {
            self.send_final_goaway(now);
        }
    }

    fn on_goaway(&mut self, f: GoAway, now: Instant) {
        // §6.8: the peer opens no more streams; we finish what is open and stop pushing.
        self.goaway_received = true;
        self.events.push_back(Event::GoAwayReceived {
            last_stream_id: f.last_stream_id,
            code: f.code,
        });
        self.start_shutdown(now);
    }

    fn on_window_update(&mut self, f: WindowUpdate, now: Instant) {
        if f.stream_id.is_zero() {
            if self.conn_send.adjust(i64::from(f.increment)).is_err() {
                // §6.9.1: a connection window above 2^31-1.
                return self.connection_error(
                    ErrorCode::FlowControlError,
                    "connection window overflow",
                    now,
                );
            }
            // Streams waiting only for the connection window are still queued (see
            // `write_data`): nothing to reschedule, so this costs O(1).
            return;
        }
        match self.lookup(f.stream_id) {
            Lookup::Idle => self.connection_error(
                ErrorCode::ProtocolError,
                "WINDOW_UPDATE on idle stream",
                now,
            ),
            // §5.1: WINDOW_UPDATE may arrive on a stream that just closed.
            Lookup::Closed(_) => {}
            Lookup::Active(key) => {
                let overflow = match self.store.get_mut(key) {
                    Some(stream) => stream.send_window.adjust(i64::from(f.increment)).is_err(),
                    None => return,
                };
                if overflow {
                    // §6.9.1: a stream window above 2^31-1 is a stream FLOW_CONTROL_ERROR.
                    self.reset_key(key, ErrorCode::FlowControlError, now);
                } else {
                    self.schedule_if_ready(key);
                }
            }
        }
    }

    fn on_priority_update(&mut self, f: PriorityUpdate, now: Instant) {
        let id = f.prioritized_stream_id;
        if !id.is_client_initiated() {
            // RFC 9218 §7.1: a client may only reprioritize request streams.
            return self.connection_error(
                ErrorCode::ProtocolError,
                "PRIORITY_UPDATE for push stream",
                now,
            );
        }
        match self.lookup(id) {
            Lookup::Active(key) => {
                let Some(stream) = self.store.get_mut(key) else {
                    return;
                };
                let priority = Priority::parse_with_base(&f.field_value, Priority::default());
                stream.priority = priority;
                let id = stream.id.value();
                self.scheduler.reprioritize(key, id, priority);
            }
            Lookup::Idle => {
                // RFC 9218 §7.1: remember it for when the stream opens; bounded by our
                // concurrency limit so a peer cannot grow it without end.
                let bound = self.config.max_concurrent_streams.max(1) as usize;
                if self.early_priorities.len() >= bound {
                    self.early_priorities.pop_front();
                }
                let priority = Priority::parse_with_base(&f.field_value, Priority::default());
                self.early_priorities.push_back((id, priority));
            }
            Lookup::Closed(_) => {}
        }
    }

    pub(super) fn take_early_priority(&mut self, id: StreamId) -> Option<Priority> {
        let pos = self.early_priorities.iter().rposition(|(s, _)| *s == id)?;
        self.early_priorities.remove(pos).map(|(_, p)| p)
    }
}
