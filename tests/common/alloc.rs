//! A counting global allocator: live allocations and bytes for the whole
//! process, and allocations made by the calling thread. Register it with
//! `#[global_allocator]` in the one test binary that measures memory.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

/// Allocations not yet freed, all threads together.
static LIVE_ALLOCS: AtomicUsize = AtomicUsize::new(0);
/// Bytes not yet freed, all threads together.
static LIVE_BYTES: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// Allocations made by this thread (const-initialised, no destructor, so
    /// reading it never allocates).
    static THREAD_ALLOCS: Cell<usize> = const { Cell::new(0) };
}

/// `System`, counting.
#[derive(Debug)]
pub(crate) struct CountingAllocator;

fn counted(layout: Layout) {
    LIVE_ALLOCS.fetch_add(1, Relaxed);
    LIVE_BYTES.fetch_add(layout.size(), Relaxed);
    let _ = THREAD_ALLOCS.try_with(|n| n.set(n.get() + 1));
}

fn uncounted(layout: Layout) {
    LIVE_ALLOCS.fetch_sub(1, Relaxed);
    LIVE_BYTES.fetch_sub(layout.size(), Relaxed);
}

// SAFETY: every call is forwarded to `System` unchanged; the counters are
// plain atomics and a const thread-local that never allocate.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's guarantees.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            counted(layout);
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's guarantees.
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if !ptr.is_null() {
            counted(layout);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.dealloc(ptr, layout) };
        uncounted(layout);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded with the caller's guarantees.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            LIVE_BYTES.fetch_sub(layout.size(), Relaxed);
            LIVE_BYTES.fetch_add(new_size, Relaxed);
            let _ = THREAD_ALLOCS.try_with(|n| n.set(n.get() + 1));
        }
        new
    }
}

/// Allocations alive now, process-wide.
pub(crate) fn live_allocs() -> usize {
    LIVE_ALLOCS.load(Relaxed)
}

/// Bytes alive now, process-wide.
pub(crate) fn live_bytes() -> usize {
    LIVE_BYTES.load(Relaxed)
}

/// Allocations (and reallocations) made by the calling thread so far.
pub(crate) fn thread_allocs() -> usize {
    THREAD_ALLOCS.with(Cell::get)
}
