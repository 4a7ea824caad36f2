//! The peer's SETTINGS (RFC 9113 §6.5): what each parameter changes for us, and the bound
//! on how much work one frame may ask for (the CVE-2020-11080 class: frames of thousands of
//! SETTINGS_INITIAL_WINDOW_SIZE entries, each of which used to walk every stream).

use std::time::Instant;

use h2ring_frame::{ErrorCode, Setting, Settings};

use super::Connection;

/// What a frame's SETTINGS_INITIAL_WINDOW_SIZE entries add up to.
#[derive(Clone, Copy)]
struct WindowChange {
    /// The last value: the one in force once the frame is applied.
    last: u32,
    /// The largest value: where every stream window peaks while the entries apply in turn.
    peak: u32,
}

impl Connection {
    pub(super) fn on_settings(&mut self, f: Settings, now: Instant) {
        if f.ack {
            if self.unacked_settings == 0 {
                // §6.5.3 leaves this open; an ACK for nothing means the peer is confused.
                return self.connection_error(
                    ErrorCode::ProtocolError,
                    "unexpected SETTINGS ACK",
                    now,
                );
            }
            self.unacked_settings -= 1;
            if self.unacked_settings == 0 {
                self.timers.settings_acked();
            }
            return;
        }
        // The frame itself was charged as an idle frame; each entry is work too.
        let entries = f.entry_count();
        if entries > self.config.max_settings_entries {
            // Not a protocol violation (§6.5 sets no bound), so not PROTOCOL_ERROR as in
            // Go: excessive load is what ENHANCE_YOUR_CALM means (§7), as in nghttpd.
            return self.connection_error(
                ErrorCode::EnhanceYourCalm,
                "too many SETTINGS entries",
                now,
            );
        }
        if !self.charge_idle_frames(entries as u32, now) {
            return;
        }
        if let Err(code) = self.apply_peer_settings(&f) {
            return self.connection_error(code, "invalid SETTINGS", now);
        }
        // §6.5.3: acknowledge after applying.
        self.queue_settings_ack(now);
    }

    /// Applies one SETTINGS frame's parameters in order (§6.5.3), with at most one pass
    /// over the streams however many SETTINGS_INITIAL_WINDOW_SIZE entries it carries, and
    /// no allocation.
    pub(super) fn apply_peer_settings(&mut self, settings: &Settings) -> Result<(), ErrorCode> {
        let mut window: Option<WindowChange> = None;
        for setting in settings {
            match setting {
                // Each value replaces the one before it, so only the last one stays; the
                // largest one is the only one that could overflow a window on the way.
                Setting::InitialWindowSize(n) => {
                    let peak = window.map_or(n, |w| w.peak.max(n));
                    window = Some(WindowChange { last: n, peak });
                }
                other => self.apply_peer_setting(other),
            }
        }
        match window {
            Some(change) => self.change_initial_window(change),
            None => Ok(()),
        }
    }

    /// Applies one parameter other than SETTINGS_INITIAL_WINDOW_SIZE (§6.5.2). Range checks
    /// were done by the frame decoder.
    fn apply_peer_setting(&mut self, setting: Setting) {
        match setting {
            Setting::HeaderTableSize(n) => self.encoder.set_peer_max_table_size(n as usize),
            Setting::EnablePush(on) => self.peer.enable_push = on,
            Setting::MaxConcurrentStreams(n) => self.peer.max_concurrent_streams = Some(n),
            Setting::InitialWindowSize(_) => {}
            Setting::MaxFrameSize(n) => self.peer.max_frame_size = n,
            Setting::MaxHeaderListSize(n) => self.peer.max_header_list_size = Some(n),
            // Meaningful only from a server (RFC 8441 §3, RFC 9218 §2.1).
            Setting::EnableConnectProtocol(_) | Setting::NoRfc7540Priorities(_) => {}
        }
    }

    /// §6.9.2: a new SETTINGS_INITIAL_WINDOW_SIZE changes every stream's send window by the
    /// difference, and a window pushed past 2^31-1 is a connection FLOW_CONTROL_ERROR. The
    /// entries of one frame apply in turn, so each window passes through every value; it is
    /// highest at the largest, so checking that one is checking them all. One pass.
    fn change_initial_window(&mut self, change: WindowChange) -> Result<(), ErrorCode> {
        let old = i64::from(self.peer.initial_window);
        let delta = i64::from(change.last) - old;
        let rise = i64::from(change.peak) - old;
        self.peer.initial_window = change.last;
        if delta == 0 && rise <= 0 {
            return Ok(());
        }
        #[cfg(test)]
        {
            self.stats.stream_visits += self.store.len() as u64;
        }
        for (key, stream) in self.store.iter_mut() {
            // `rise` ≥ `delta`, so the second step only lowers the window: it cannot fail.
            if stream.send_window.adjust(rise).is_err()
                || stream.send_window.adjust(delta - rise).is_err()
            {
                return Err(ErrorCode::FlowControlError);
            }
            // A stream held back by its own window may go now; ones already queued keep
            // their place (`schedule` is a no-op for them).
            if delta > 0 && stream.is_ready_to_send() {
                self.scheduler
                    .schedule(key, stream.id.value(), stream.priority);
            }
        }
        Ok(())
    }
}
