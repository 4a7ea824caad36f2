//! Sending: the application's response API, peer SETTINGS that shape what we send, and
//! `poll_transmit`, which writes control frames first and then DATA in scheduler order.

use std::time::Instant;

use bytes::{Buf, Bytes, BytesMut};
use h2ring_frame::{
    encode_data_header, encode_header_block, frame_header_block_in_place, ErrorCode, StreamId,
    FRAME_HEADER_LEN,
};
use h2ring_hpack::PreparedFields;
use http::{HeaderMap, HeaderValue, StatusCode};

use super::{Connection, Phase};
use crate::closed::HowClosed;
use crate::error::SendError;
use crate::event::Event;
use crate::store::StreamKey;
use crate::stream::{SendHalf, Stream};

/// `poll_transmit` stops adding DATA once the output holds this much: large enough for
/// few syscalls, small enough that one connection cannot monopolise a core's turn.
pub const WRITE_BUDGET: usize = 128 * 1024;

/// RFC 9113 §6.5.2 header-list accounting: name + value + 32 per field.
fn header_list_size(headers: &HeaderMap) -> usize {
    headers
        .iter()
        .map(|(n, v)| n.as_str().len() + v.len() + 32)
        .sum::<usize>()
}

/// `content-length: <length>` as a header-list entry.
fn content_length_field_size(length: u64) -> usize {
    let digits = length.checked_ilog10().unwrap_or(0) as usize + 1;
    "content-length".len() + digits + 32
}

/// `:status` as a header-list entry (three digits).
const STATUS_FIELD_SIZE: usize = ":status".len() + 3 + 32;

/// The fields of a response head besides `:status`.
#[derive(Clone, Copy)]
pub(super) enum HeadFields<'a> {
    Plain(&'a HeaderMap),
    /// The fields, then `content-length` with the given value.
    Sized(&'a HeaderMap, u64),
    /// Prepared fields (encoded once, then replayed) followed by per-response ones.
    Prepared(&'a PreparedFields, &'a HeaderMap),
}

impl HeadFields<'_> {
    /// The head's header list size, `:status` included (RFC 9113 §6.5.2).
    fn list_size(self) -> usize {
        STATUS_FIELD_SIZE
            + match self {
                HeadFields::Plain(headers) => header_list_size(headers),
                HeadFields::Sized(headers, length) => {
                    header_list_size(headers) + content_length_field_size(length)
                }
                HeadFields::Prepared(prepared, extra) => {
                    prepared.list_size() + header_list_size(extra)
                }
            }
    }
}

impl Connection {
    fn key_of(&self, id: StreamId) -> Result<StreamKey, SendError> {
        if self.phase == Phase::Closed {
            return Err(SendError::ConnectionClosed);
        }
        self.store.key(id).ok_or(SendError::UnknownStream)
    }

    /// Sends a response head: any number of 1xx (e.g. 100, 103 Early Hints) then one final
    /// head. With `end_stream` the response has no body.
    pub fn send_response(
        &mut self,
        id: StreamId,
        status: StatusCode,
        headers: &HeaderMap,
        end_stream: bool,
        now: Instant,
    ) -> Result<(), SendError> {
        let key = self.key_of(id)?;
        self.send_head(key, status, HeadFields::Plain(headers), end_stream, now)
    }

    /// [`send_response`](Self::send_response) of a final head followed by
    /// `content-length: content_length`, without a field map entry for it. A 1xx is
    /// refused: it never carries content-length (RFC 9110 §8.6).
    pub fn send_sized_response(
        &mut self,
        id: StreamId,
        status: StatusCode,
        headers: &HeaderMap,
        content_length: u64,
        end_stream: bool,
        now: Instant,
    ) -> Result<(), SendError> {
        if status.is_informational() {
            return Err(SendError::InvalidStatus);
        }
        let key = self.key_of(id)?;
        let fields = HeadFields::Sized(headers, content_length);
        self.send_head(key, status, fields, end_stream, now)
    }

    /// [`send_response`](Self::send_response) with `prepared` fields followed by `extra`
    /// ones. The octets `status` + `prepared` encode to are remembered and replayed while
    /// the HPACK table is unchanged, so a hot head (a static file's 200) is encoded once
    /// per connection.
    pub fn send_prepared_response(
        &mut self,
        id: StreamId,
        status: StatusCode,
        prepared: &PreparedFields,
        extra: &HeaderMap,
        end_stream: bool,
        now: Instant,
    ) -> Result<(), SendError> {
        let key = self.key_of(id)?;
        let fields = HeadFields::Prepared(prepared, extra);
        self.send_head(key, status, fields, end_stream, now)
    }

    /// Sets the `date` every final response head gets unless it carries its own
    /// (RFC 9110 §6.6.1), or none (the default). The connection reads no clock: the
    /// caller sets a new value when the second changes. See
    /// [`HeadEncoder::set_date`](h2ring_hpack::HeadEncoder::set_date) for how it is encoded.
    pub fn set_response_date(&mut self, date: Option<&HeaderValue>) {
        self.encoder.set_date(date);
    }

    /// Sets the `server` every final response head gets unless it carries its own, or
    /// none (the default).
    pub fn set_server_header(&mut self, server: Option<&HeaderValue>) {
        self.encoder.set_server(server);
    }

    pub(super) fn send_head(
        &mut self,
        key: StreamKey,
        status: StatusCode,
        fields: HeadFields<'_>,
        end_stream: bool,
        now: Instant,
    ) -> Result<(), SendError> {
        let Some(stream) = self.store.get(key) else {
            return Err(SendError::UnknownStream);
        };
        if stream.send != SendHalf::AwaitingHead {
            return Err(SendError::HeadAlreadySent);
        }
        let informational = status.is_informational();
        // §8.6: 101 does not exist in HTTP/2; a 1xx never ends a stream (§8.1).
        if status == StatusCode::SWITCHING_PROTOCOLS || (informational && end_stream) {
            return Err(SendError::InvalidStatus);
        }
        let id = stream.id;
        // Check the peer's advisory limit before encoding, so a refused head never
        // touches the HPACK state the peer mirrors.
        if let Some(limit) = self.peer.max_header_list_size {
            let stamp = if informational {
                0
            } else {
                self.encoder.stamp_list_size()
            };
            if fields.list_size() + stamp > limit as usize {
                self.app_reset(key, ErrorCode::InternalError, now);
                return Err(SendError::HeaderListTooLarge);
            }
        }
        // Encoded straight into the output behind a gap for the frame header: the block is
        // not copied again unless it needs CONTINUATION frames.
        let start = self.out.len();
        self.out.extend_from_slice(&[0; FRAME_HEADER_LEN]);
        match fields {
            HeadFields::Plain(headers) => {
                self.encoder.encode_response(status, headers, &mut self.out);
            }
            HeadFields::Sized(headers, length) => {
                self.encoder
                    .encode_sized_response(status, headers, length, &mut self.out);
            }
            HeadFields::Prepared(prepared, extra) => {
                self.encoder
                    .encode_prepared_response(status, prepared, extra, &mut self.out);
            }
        }
        frame_header_block_in_place(
            id,
            end_stream,
            self.peer.max_frame_size,
            &mut self.out,
            start,
        );
        let Some(stream) = self.store.get_mut(key) else {
            return Ok(());
        };
        if informational {
            if status == StatusCode::CONTINUE {
                stream.expect_continue = false;
            }
            return Ok(());
        }
        stream.expect_continue = false;
        stream.send = SendHalf::Streaming;
        if end_stream {
            self.send_finished(key, now);
        }
        Ok(())
    }

    /// The stream whose response body may still be added to: head sent, end not queued.
    fn body_stream(&mut self, id: StreamId) -> Result<(StreamKey, &mut Stream), SendError> {
        let key = self.key_of(id)?;
        let stream = self.store.get_mut(key).ok_or(SendError::UnknownStream)?;
        match stream.send {
            SendHalf::AwaitingHead => Err(SendError::HeadNotSent),
            SendHalf::Done => Err(SendError::AlreadyEnded),
            SendHalf::Streaming if stream.end_queued => Err(SendError::AlreadyEnded),
            SendHalf::Streaming => Ok((key, stream)),
        }
    }

    /// Queues response body. Data beyond the flow-control window waits in the connection;
    /// use [`Connection::send_capacity`] to apply backpressure.
    pub fn send_data(
        &mut self,
        id: StreamId,
        data: Bytes,
        end_stream: bool,
    ) -> Result<(), SendError> {
        let conn_window = self.conn_send.available();
        let max_frame = self.peer.max_frame_size;
        let may_skip_queue = end_stream && self.scheduler.is_empty() && self.phase == Phase::Open;
        let (key, stream) = self.body_stream(id)?;
        let n = u32::try_from(data.len()).unwrap_or(u32::MAX);
        // With nothing queued for the scheduler to order against, a small body that ends
        // the stream and fits every window is what the scheduler would send next anyway:
        // written now, behind the head, it skips the queue.
        if may_skip_queue
            && stream.queued_len == 0
            && stream.trailers.is_none()
            && n as usize <= SMALL_WHOLE_BODY
            && n <= stream.send_window.available()
            && n <= conn_window
            && n <= max_frame
        {
            stream.send_window.consume(n);
            self.conn_send.consume(n);
            encode_data_header(id, n, true, &mut self.out);
            self.out.extend_from_slice(&data);
            let now = self.clock;
            self.send_finished(key, now);
            return Ok(());
        }
        let Some(stream) = self.store.get_mut(key) else {
            return Err(SendError::UnknownStream);
        };
        if !data.is_empty() {
            stream.queued_len += data.len();
            self.queued_total += data.len();
            stream.queue.push_back(data);
        }
        stream.end_queued = end_stream;
        self.schedule_if_ready(key);
        Ok(())
    }

    /// Ends the response with trailers (a HEADERS frame with END_STREAM after the body).
    ///
    /// Trailers over the peer's SETTINGS_MAX_HEADER_LIST_SIZE (§6.5.2) are refused with
    /// [`SendError::HeaderListTooLarge`] and the stream is reset with INTERNAL_ERROR, as
    /// for a response head: the response cannot end as the application meant.
    pub fn send_trailers(&mut self, id: StreamId, trailers: HeaderMap) -> Result<(), SendError> {
        let limit = self.peer.max_header_list_size;
        let (key, _) = self.body_stream(id)?;
        if limit.is_some_and(|limit| header_list_size(&trailers) > limit as usize) {
            let now = self.clock;
            self.app_reset(key, ErrorCode::InternalError, now);
            return Err(SendError::HeaderListTooLarge);
        }
        let Some(stream) = self.store.get_mut(key) else {
            return Err(SendError::UnknownStream);
        };
        stream.trailers = Some(Box::new(trailers));
        stream.end_queued = true;
        self.schedule_if_ready(key);
        Ok(())
    }

    /// Room left in the stream's response buffer. When it is 0 the application should wait
    /// for [`Event::SendReady`] before sending more.
    pub fn send_capacity(&mut self, id: StreamId) -> Result<usize, SendError> {
        let key = self.key_of(id)?;
        let limit = self.config.stream_send_buffer;
        let stream = self.store.get_mut(key).ok_or(SendError::UnknownStream)?;
        let room = limit.saturating_sub(stream.queued_len);
        if room == 0 {
            stream.writer_blocked = true;
        }
        Ok(room)
    }

    /// The application resets a stream (cancelled work, a panicking handler: use
    /// INTERNAL_ERROR; RFC 9113 §8.1 allows NO_ERROR once a full response was sent).
    pub fn reset(&mut self, id: StreamId, code: ErrorCode, now: Instant) {
        if let Some(key) = self.store.key(id) {
            self.app_reset(key, code, now);
        }
    }

    fn app_reset(&mut self, key: StreamKey, code: ErrorCode, now: Instant) {
        if let Some(stream) = self.store.get(key) {
            let id = stream.id;
            self.queue_rst_stream(id, code, now);
            self.remove_stream(key, HowClosed::ResetByUs);
            self.on_stream_count_changed(now);
        }
    }

    /// The application consumed `n` octets of request body: reopen the windows, batched.
    pub fn consume(&mut self, id: StreamId, n: usize) {
        let n = u32::try_from(n).unwrap_or(u32::MAX);
        let Some(key) = self.store.key(id) else {
            // The stream is gone; its unconsumed octets were refunded when it went.
            return;
        };
        let Some(stream) = self.store.get_mut(key) else {
            return;
        };
        let n = n.min(stream.unconsumed);
        stream.unconsumed -= n;
        stream.recv_window.release(n);
        self.conn_recv.release(n);
        self.flush_stream_window_update(key);
        self.flush_connection_window_update();
    }

    /// The application started reading the request body: time for `100 Continue` if the
    /// client asked for it and no response was sent yet.
    pub fn body_wanted(&mut self, id: StreamId, now: Instant) {
        let Some(key) = self.store.key(id) else {
            return;
        };
        if self.store.get(key).is_some_and(|s| s.expect_continue) {
            let empty = HeaderMap::new();
            let _ = self.send_head(
                key,
                StatusCode::CONTINUE,
                HeadFields::Plain(&empty),
                false,
                now,
            );
        }
    }

    /// The application will not read the rest of the request body: what arrives is
    /// discarded and refunded, and once the response is complete the stream is ended with
    /// RST_STREAM(NO_ERROR) (§8.1), or, when the declared rest fits the stream's window,
    /// left to finish on its own (see `send_finished`).
    pub fn discard_body(&mut self, id: StreamId, now: Instant) {
        let Some(key) = self.store.key(id) else {
            return;
        };
        let Some(stream) = self.store.get_mut(key) else {
            return;
        };
        stream.body_discarded = true;
        let owed = std::mem::take(&mut stream.unconsumed);
        let done_sending = stream.send == SendHalf::Done;
        if owed > 0 {
            self.conn_recv.release(owed);
            self.flush_connection_window_update();
        }
        if done_sending {
            self.send_finished(key, now);
        }
    }

    pub(super) fn flush_stream_window_update(&mut self, key: StreamKey) {
        let Some(stream) = self.store.get_mut(key) else {
            return;
        };
        if !stream.recv_open || stream.body_discarded {
            return;
        }
        if let Some(inc) = stream.recv_window.take_update() {
            super::control::encode_window_update(stream.id, inc, &mut self.out);
        }
    }

    /// Our side ended. If the peer is still sending a body nobody reads, the stream stays
    /// half-closed (local) (RFC 9113 §5.1) so that what the client sends next is judged
    /// against that state, wherever the reads that bring it happen to split: the rest of
    /// the body is let in and dropped until the client's END_STREAM or RST_STREAM, until
    /// its stream window runs out, or, when its declared rest would not fit that window,
    /// for [`LATE_FRAME_GRACE`](super::timers::LATE_FRAME_GRACE); then RST_STREAM(NO_ERROR)
    /// asks it to stop (§8.1). Some clients (curl 7.88) report an early
    /// RST_STREAM(NO_ERROR) as a failed transfer even after a complete response, and a
    /// short body costs nothing to drain. A handler still reading keeps the stream open
    /// (full duplex).
    fn send_finished(&mut self, key: StreamKey, now: Instant) {
        let Some(stream) = self.store.get_mut(key) else {
            return;
        };
        stream.send = SendHalf::Done;
        stream.queue.clear();
        self.queued_total -= std::mem::take(&mut stream.queued_len);
        if stream.recv_open && stream.body_discarded {
            // From here `last_recv` is when the response ended: the grace counts from it.
            stream.last_recv = now;
            if stream.recv_window.available() == 0 {
                self.scheduler.remove(key);
                return self.end_unread_body(key, now);
            }
        }
        self.scheduler.remove(key);
        self.close_if_finished(key, now);
    }

    /// Ends a finished stream whose client is still sending a body nobody reads:
    /// RST_STREAM(NO_ERROR) (§8.1), not charged to the client.
    pub(super) fn end_unread_body(&mut self, key: StreamKey, now: Instant) {
        let Some(stream) = self.store.get(key) else {
            return;
        };
        let id = stream.id;
        self.queue_rst_stream(id, ErrorCode::NoError, now);
        self.remove_stream(key, HowClosed::ResetByUs);
        self.events.push_back(Event::StreamClosed { stream: id });
        self.on_stream_count_changed(now);
    }

    pub(super) fn schedule_if_ready(&mut self, key: StreamKey) {
        let Some(stream) = self.store.get(key) else {
            return;
        };
        if stream.is_ready_to_send() {
            let (id, priority) = (stream.id.value(), stream.priority);
            self.scheduler.schedule(key, id, priority);
        }
    }

    /// Writes everything ready into `dst`: control frames and header blocks in the order
    /// they were produced, then DATA (and trailers) in scheduler order, one frame per turn,
    /// until [`WRITE_BUDGET`]. Call it whenever the previous output has been written.
    pub fn poll_transmit(&mut self, dst: &mut BytesMut, now: Instant) {
        self.poll_transmit_up_to(dst, WRITE_BUDGET, now);
    }

    /// [`Connection::poll_transmit`] with the caller's budget for DATA instead of
    /// [`WRITE_BUDGET`]: a driver that sees the socket drain fast can ask for more per
    /// write (fewer syscalls), and less for a slow reader (less memory held).
    pub fn poll_transmit_up_to(&mut self, dst: &mut BytesMut, budget: usize, now: Instant) {
        self.clock = now;
        let start = dst.len();
        if !self.out.is_empty() {
            // Hand our buffer over instead of copying it when the caller's could not hold
            // it anyway (a large header block). Otherwise copy: the caller's buffer is
            // typically the big one DATA goes into, and swapping it away would make the
            // DATA below grow a small buffer by reallocation, copying it again each time.
            if dst.is_empty() && dst.capacity() < self.out.len() {
                std::mem::swap(dst, &mut self.out);
            } else {
                dst.extend_from_slice(&self.out);
                self.out.clear();
            }
        }
        self.control_frames_flushed();
        self.preface_out = 0;
        if matches!(self.phase, Phase::Open | Phase::Draining) {
            self.write_data(dst, budget, now);
        }
        if self.out.capacity() > 64 * 1024 && self.out.is_empty() {
            self.out = BytesMut::new();
        }
        self.stats.bytes_out += (dst.len() - start) as u64;
    }

    fn write_data(&mut self, dst: &mut BytesMut, budget: usize, now: Instant) {
        while dst.len() < budget {
            let Some(key) = self.scheduler.pop() else {
                break;
            };
            let Some(stream) = self.store.get_mut(key) else {
                continue;
            };
            if !stream.has_pending_send() {
                continue;
            }
            let id = stream.id;
            if !stream.needs_window() {
                // Only END_STREAM (bare, or as trailers) is left.
                match stream.trailers.take() {
                    Some(trailers) => {
                        let mut block = std::mem::take(&mut self.scratch);
                        block.clear();
                        self.encoder.encode_trailers(&trailers, &mut block);
                        encode_header_block(id, &block, true, None, self.peer.max_frame_size, dst);
                        self.scratch = block;
                    }
                    None => encode_data_header(id, 0, true, dst),
                }
                self.send_finished(key, now);
                continue;
            }
            let n = (stream.queued_len as u64)
                .min(u64::from(stream.send_window.available()))
                .min(u64::from(self.conn_send.available()))
                .min(u64::from(self.peer.max_frame_size)) as u32;
            if n == 0 {
                if self.conn_send.available() == 0 {
                    // Blocked on the connection window: keep its place, wait for an update.
                    self.scheduler.reschedule(key, id.value(), stream.priority);
                    break;
                }
                // Blocked on its own window: a WINDOW_UPDATE will schedule it again.
                continue;
            }
            let end =
                stream.end_queued && n as usize == stream.queued_len && stream.trailers.is_none();
            reserve_for_data(dst, n as usize, budget);
            encode_data_header(id, n, end, dst);
            let mut left = n as usize;
            while left > 0 {
                let Some(chunk) = stream.queue.front_mut() else {
                    break;
                };
                let take = left.min(chunk.len());
                dst.extend_from_slice(&chunk[..take]);
                chunk.advance(take);
                if chunk.is_empty() {
                    stream.queue.pop_front();
                }
                left -= take;
            }
            stream.queued_len -= n as usize;
            self.queued_total -= n as usize;
            stream.send_blocked_since = None;
            stream.send_window.consume(n);
            self.conn_send.consume(n);
            if stream.writer_blocked && stream.queued_len < self.config.stream_send_buffer {
                stream.writer_blocked = false;
                self.events.push_back(Event::SendReady { stream: id });
            }
            if end {
                self.send_finished(key, now);
            } else if let Some(stream) = self.store.get(key) {
                if stream.is_ready_to_send() {
                    let priority = stream.priority;
                    self.scheduler.reschedule(key, id.value(), priority);
                }
            }
        }
    }
}

/// A whole response body up to this size may skip the scheduler (see `send_data`): it is
/// copied twice (into the ordered output, then the write buffer), which only pays for
/// small ones.
const SMALL_WHOLE_BODY: usize = 4096;

/// A DATA payload this large means bulk transfer: more frames will follow up to the budget.
const BULK_FRAME: usize = 4096;

/// Makes room for one DATA frame of `n` payload bytes. For bulk transfer the buffer is
/// sized for the whole write budget at once: growing it by doubling would reallocate and
/// copy everything written so far several times per write.
fn reserve_for_data(dst: &mut BytesMut, n: usize, budget: usize) {
    let frame = FRAME_HEADER_LEN + n;
    if dst.capacity() - dst.len() >= frame {
        return;
    }
    let want = if n >= BULK_FRAME {
        // The loop may pass the budget by one frame.
        budget.saturating_sub(dst.len()) + frame
    } else {
        frame
    };
    dst.reserve(want);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bulk_data_sizes_the_buffer_for_the_whole_budget_once() {
        let mut dst = BytesMut::new();
        reserve_for_data(&mut dst, 16_384, 1 << 20);
        let sized = dst.capacity();
        assert!(sized > 1 << 20);
        // Filling it up to the budget needs no further growth.
        while dst.len() < 1 << 20 {
            reserve_for_data(&mut dst, 16_384, 1 << 20);
            dst.extend_from_slice(&[0; FRAME_HEADER_LEN + 16_384]);
        }
        assert_eq!(dst.capacity(), sized);
    }

    #[test]
    fn small_data_reserves_only_its_frame() {
        let mut dst = BytesMut::new();
        reserve_for_data(&mut dst, 100, 1 << 20);
        assert!(dst.capacity() >= FRAME_HEADER_LEN + 100);
        assert!(dst.capacity() < BULK_FRAME);
    }
}
