//! A counting global allocator: per-thread live bytes, peak and largest
//! single request, so that a target can check that decoding an input did not
//! reserve more memory than the input justifies.
//!
//! Counters are thread-local (`const`-initialised `Cell`s, which never
//! allocate), so targets running on several threads, or the tests of this
//! crate running in parallel, do not see each other's allocations. Memory
//! freed on another thread than the one that allocated it skews the counts of
//! both threads; the targets do not hand memory across threads.

#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// The allocator: the system allocator plus counting.
pub struct CountingAlloc;

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc;

thread_local! {
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
    static LARGEST: Cell<usize> = const { Cell::new(0) };
}

fn grow(size: usize) {
    // `try_with`: a thread being torn down has no counters left; skip it.
    let _ = LIVE.try_with(|live| {
        let now = live.get().saturating_add(size as isize);
        live.set(now);
        let _ = PEAK.try_with(|peak| peak.set(peak.get().max(now)));
    });
    let _ = LARGEST.try_with(|largest| largest.set(largest.get().max(size)));
}

fn shrink(size: usize) {
    let _ = LIVE.try_with(|live| live.set(live.get().saturating_sub(size as isize)));
}

// SAFETY: every method forwards to `System` with the caller's arguments
// unchanged; the counting touches only thread-local `Cell`s and never
// allocates.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        grow(layout.size());
        // SAFETY: forwarded contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        grow(layout.size());
        // SAFETY: forwarded contract.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        shrink(layout.size());
        // SAFETY: forwarded contract.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        shrink(layout.size());
        grow(new_size);
        // SAFETY: forwarded contract.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// What one measured call allocated on this thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Usage {
    /// Highest live heap above the level at the start of the call, in bytes.
    pub peak: usize,
    /// The largest single allocation request during the call, in bytes.
    pub largest: usize,
}

/// Runs `f`, returning its value and the heap it used on this thread.
pub fn measure<T>(f: impl FnOnce() -> T) -> (T, Usage) {
    let start = LIVE.with(Cell::get);
    PEAK.with(|p| p.set(start));
    LARGEST.with(|l| l.set(0));
    let value = f();
    let peak = PEAK.with(Cell::get).saturating_sub(start).max(0) as usize;
    let largest = LARGEST.with(Cell::get);
    (value, Usage { peak, largest })
}
