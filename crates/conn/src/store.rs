//! The stream store: a slab of streams plus an id → slab-key map, so no stream is allocated
//! or searched for twice (the layout hyperium/h2 uses).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use h2ring_frame::StreamId;
use slab::Slab;

use crate::stream::Stream;

/// Slab index of a stream; the scheduler queues these.
pub type StreamKey = usize;

/// Hasher for maps keyed by stream id. Stream ids are distinct 31-bit integers chosen by
/// the peer, and such a map never holds more than MAX_CONCURRENT_STREAMS (+ pushes) of
/// them, so a multiplicative hash is enough and far cheaper than SipHash.
#[derive(Default)]
pub struct StreamIdHasher(u64);

impl Hasher for StreamIdHasher {
    fn finish(&self) -> u64 {
        // Fold the well-mixed high half into the low bits, which pick the bucket: a plain
        // product keeps an odd id odd, leaving half the buckets unused.
        self.0 ^ (self.0 >> 32)
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_u32(&mut self, n: u32) {
        self.0 = u64::from(n).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// Stream slots an idle connection keeps allocated.
pub(crate) const KEEP_STREAM_SLOTS: usize = 4;

#[derive(Default)]
pub(crate) struct Store {
    slab: Slab<Stream>,
    ids: HashMap<u32, StreamKey, BuildHasherDefault<StreamIdHasher>>,
    client_streams: usize,
    push_streams: usize,
}

impl Store {
    pub(crate) fn insert(&mut self, stream: Stream) -> StreamKey {
        let id = stream.id;
        if id.is_client_initiated() {
            self.client_streams += 1;
        } else {
            self.push_streams += 1;
        }
        let key = self.slab.insert(stream);
        self.ids.insert(id.value(), key);
        key
    }

    pub(crate) fn key(&self, id: StreamId) -> Option<StreamKey> {
        self.ids.get(&id.value()).copied()
    }

    pub(crate) fn get(&self, key: StreamKey) -> Option<&Stream> {
        self.slab.get(key)
    }

    pub(crate) fn get_mut(&mut self, key: StreamKey) -> Option<&mut Stream> {
        self.slab.get_mut(key)
    }

    pub(crate) fn remove(&mut self, key: StreamKey) -> Option<Stream> {
        let stream = self.slab.try_remove(key)?;
        self.ids.remove(&stream.id.value());
        if stream.id.is_client_initiated() {
            self.client_streams -= 1;
        } else {
            self.push_streams -= 1;
        }
        Some(stream)
    }

    /// Client-initiated streams that count against our MAX_CONCURRENT_STREAMS.
    pub(crate) fn client_streams(&self) -> usize {
        self.client_streams
    }

    /// Server-initiated (pushed) streams that count against the peer's limit.
    pub(crate) fn push_streams(&self) -> usize {
        self.push_streams
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.slab.is_empty()
    }

    pub(crate) fn len(&self) -> usize {
        self.slab.len()
    }

    pub(crate) fn keys(&self) -> Vec<StreamKey> {
        self.slab.iter().map(|(k, _)| k).collect()
    }

    /// Response octets queued on all streams, counted the slow way (to check the
    /// connection's running total).
    #[cfg(test)]
    pub(crate) fn queued_len_sum(&self) -> usize {
        self.slab.iter().map(|(_, s)| s.queued_len).sum()
    }

    pub(crate) fn iter_mut(&mut self) -> impl Iterator<Item = (StreamKey, &mut Stream)> {
        self.slab.iter_mut()
    }

    /// Gives memory back when the connection goes idle (Go's first TODO: idle connections
    /// should cost little) — but only past [`KEEP_STREAM_SLOTS`], so a client that sends
    /// one request at a time does not pay an allocation per request.
    pub(crate) fn shrink_if_empty(&mut self) {
        if self.slab.is_empty() && self.slab.capacity() > KEEP_STREAM_SLOTS {
            self.slab = Slab::new();
            self.ids = HashMap::default();
        }
    }
}
