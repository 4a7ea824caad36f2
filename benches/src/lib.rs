//! Shared pieces for the criterion benches in `benches/benches/`: an allocation-counting
//! global allocator (each bench binary installs it) and scripted client input.

#![warn(missing_docs)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::BytesMut;
use h2ring_hpack::hpack;

pub mod h2_client;

/// A request's header block as one HPACK encoder writes it the first time (literals that
/// fill the dynamic table) and from then on (every field a table index, as h2load sends a
/// repeated request).
pub fn first_and_repeated_blocks(fields: &[(&[u8], &[u8])]) -> (BytesMut, BytesMut) {
    let mut encoder = hpack::Encoder::new();
    let mut block = || {
        let mut out = BytesMut::new();
        encoder.begin_block(&mut out);
        for &(name, value) in fields {
            encoder.encode_field(name, value, &mut out);
        }
        out
    };
    let first = block();
    (first, block())
}

/// Counts every allocation (and reallocation) made through it, and the octets live.
pub struct CountingAllocator;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);
/// Octets allocated and not yet freed (requested sizes, not the allocator's rounding).
static LIVE_BYTES: AtomicU64 = AtomicU64::new(0);

// SAFETY: every call is forwarded unchanged to the system allocator; the counter is a
// relaxed atomic that never affects the memory handed out.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        LIVE_BYTES.fetch_add(layout.size() as u64, Ordering::Relaxed);
        report_site(layout.size());
        // SAFETY: same contract as ours, forwarded.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE_BYTES.fetch_sub(layout.size() as u64, Ordering::Relaxed);
        // SAFETY: same contract as ours, forwarded.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        report_site(new_size);
        // SAFETY: same contract as ours, forwarded.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            LIVE_BYTES.fetch_add(new_size as u64, Ordering::Relaxed);
            LIVE_BYTES.fetch_sub(layout.size() as u64, Ordering::Relaxed);
        }
        new
    }
}

/// How many of the next allocations print their call stack (see [`report_sites`]).
static SITES_LEFT: AtomicU64 = AtomicU64::new(0);

thread_local! {
    // Set while a call stack is being captured and printed: those allocations are the
    // report's own.
    static REPORTING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Prints the call stacks of the next `n` allocations (any thread) to stderr: where a
/// counted allocation comes from, when a bench's count goes up.
pub fn report_sites(n: u64) {
    SITES_LEFT.store(n, Ordering::Relaxed);
}

fn report_site(size: usize) {
    if SITES_LEFT.load(Ordering::Relaxed) == 0 {
        return;
    }
    // `try_with`: an allocation during thread teardown must not panic in the allocator.
    let _ = REPORTING.try_with(|reporting| {
        if reporting.replace(true) {
            return;
        }
        if SITES_LEFT
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
            .is_ok()
        {
            eprintln!(
                "allocation site ({size} octets):\n{}",
                std::backtrace::Backtrace::force_capture()
            );
        }
        reporting.set(false);
    });
}

/// Allocations so far (process-wide).
pub fn allocations() -> u64 {
    ALLOCATIONS.load(Ordering::Relaxed)
}

/// Heap octets live now (process-wide), as requested of the allocator.
pub fn live_bytes() -> u64 {
    LIVE_BYTES.load(Ordering::Relaxed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[global_allocator]
    static GLOBAL: CountingAllocator = CountingAllocator;

    #[test]
    fn counts_allocations() {
        let before = allocations();
        let v: Vec<u8> = Vec::with_capacity(10);
        std::hint::black_box(&v);
        assert!(allocations() > before);
    }

    #[test]
    fn tracks_live_bytes() {
        // Other tests run on other threads, so only this allocation's own size is certain
        // to be in the count while it lives: compare with a large, unusual size.
        let v: Vec<u8> = Vec::with_capacity(3 << 20);
        std::hint::black_box(&v);
        assert!(live_bytes() >= 3 << 20);
    }
}
