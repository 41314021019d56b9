//! The waker slot of a consumer that sleeps on a ready stack for its whole
//! life (`as_completed_async`, a `CompletionQueue`): an `AtomicWaker` behind
//! a pointer, replaced by a fresh one if storing a waker panics.
//!
//! atomic-waker's `register` is not unwind-safe: a `Waker::clone` (or an
//! old waker's `drop`) that panics inside it leaves the slot locked, and a
//! locked slot never wakes again. A stream cannot drop its registration and
//! start over as a single wait does, so it swaps the slot instead: the
//! locked one is retired through the epoch (a waker pinned before the swap
//! may still be reading it) and the waker stuck inside it is leaked, never
//! dropped inside a pin (the caller drops one the slot still gives back).
//!
//! # Orderings
//! The swap is `Release` and a waker's load `Acquire`, so a waker that
//! loads the fresh slot sees it initialised. A waker that must wake the
//! consumer loads the slot after an `Acquire` that saw the consumer's
//! sleep flag, set by a `Release` CAS after its `register` (see
//! `ready.rs`), so it loads the slot that registration used or a later
//! one. That holds because every sleep starts from a take, which clears
//! the flag: a flag a waker sees was always set after the last swap.

use crate::sync::{self, AtomicPtr, AtomicWaker};
use crate::{epoch, unwind};
use std::mem::ManuallyDrop;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed};
use std::task::Waker;

/// An `AtomicWaker` that is never dropped: what it holds when it is freed
/// is a waker a panic left stuck in it, leaked rather than dropped inside
/// some thread's epoch pin (its `Drop` is user code).
type Slot = ManuallyDrop<AtomicWaker>;

/// One consumer's waker, stored by the consumer alone and woken by any
/// thread.
#[derive(Debug)]
pub(crate) struct WakerSlot {
    /// The slot in use: from `Box::into_raw`, freed by `register` (through
    /// the epoch) when it replaces it, or by `drop`.
    current: AtomicPtr<Slot>,
}

impl WakerSlot {
    /// An empty slot.
    pub(crate) fn new() -> WakerSlot {
        WakerSlot {
            current: AtomicPtr::new(Box::into_raw(Box::new(ManuallyDrop::new(
                AtomicWaker::new(),
            )))),
        }
    }

    /// Stores `waker` for the next [`WakerSlot::wake`]. Called by the one
    /// consumer only. If the waker's `clone` or the old waker's `drop`
    /// panics, the slot is replaced by an empty one before the panic
    /// resumes, so a later `register` works again.
    pub(crate) fn register(&self, waker: &Waker) {
        // ORDERING: Relaxed: only this consumer ever writes the pointer.
        let slot = self.current.load(Relaxed);
        // SAFETY: the slot in use is freed only by this consumer (below, or
        // in `drop`), so it is alive here.
        let stored = catch_unwind(AssertUnwindSafe(|| unsafe {
            sync::register_waker(&*slot, waker);
        }));
        if let Err(panic) = stored {
            let mut first = Some(panic);
            // SAFETY: still the slot in use, alive as above.
            let left = sync::take_waker(unsafe { &*slot });
            let fresh = Box::into_raw(Box::new(ManuallyDrop::new(AtomicWaker::new())));
            // ORDERING: Release publishes the fresh slot's initialisation
            // to the Acquire load in `wake`.
            let locked = self.current.swap(fresh, AcqRel);
            let guard = epoch::pin();
            // SAFETY: no thread that pins from now on loads `locked`, and
            // threads pinned earlier hold the epoch back until they unpin.
            // It came from `Box::into_raw` and is retired once, here; its
            // drop frees the memory and runs no user code (`Slot`).
            unsafe { guard.defer_unchecked(move || drop(Box::from_raw(locked))) };
            drop(guard);
            epoch::collect_eagerly();
            // A slot the panic left unlocked (loom's, which clones before it
            // locks) gives its waker back: dropped here, unpinned.
            if let Err(second) = catch_unwind(AssertUnwindSafe(|| drop(left))) {
                unwind::keep_first(&mut first, second);
            }
            if let Some(panic) = first {
                resume_unwind(panic);
            }
        }
    }

    /// Wakes the waker stored last, if any.
    pub(crate) fn wake(&self) {
        let _guard = epoch::pin();
        // ORDERING: Acquire pairs with the Release swap in `register`.
        let slot = self.current.load(Acquire);
        // SAFETY: loaded while pinned: a slot replaced after this load is
        // freed only once this thread unpins.
        unsafe { (*slot).wake() };
    }

    /// Takes the stored waker out, so that freeing the slot later runs no
    /// user code. `None` if none is stored, or a concurrent `wake` is
    /// taking it (that wake then drops it).
    pub(crate) fn take(&self) -> Option<Waker> {
        // ORDERING: Relaxed: only the consumer, which calls this, writes
        // the pointer.
        let slot = self.current.load(Relaxed);
        // SAFETY: freed only by the consumer, as in `register`.
        sync::take_waker(unsafe { &*slot })
    }
}

impl Drop for WakerSlot {
    fn drop(&mut self) {
        // ORDERING: Relaxed: `&mut self`, nobody else reaches the slot.
        let slot = self.current.load(Relaxed);
        // SAFETY: from `Box::into_raw`, freed once, here; no thread reaches
        // it any more (the stack holding it is freed after every pin that
        // could). Its drop runs no user code (`Slot`).
        drop(unsafe { Box::from_raw(slot) });
    }
}
