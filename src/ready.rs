//! A ready stack: the lock-free multi-producer, single-consumer stack of
//! positions that `as_completed` takes its completions from. Completers
//! push the position of their node; the consumer takes the whole stack with
//! one swap, and sleeps (flagging the word `PARKED`) only when it is empty.
//!
//! # Protocol
//! - *Push* (a completer, or the registrar for a future found complete):
//!   `links[i] = top`, then CAS the top from `top` to `i + 1` (the word
//!   counts positions from 1, 0 is empty). Each position is pushed at most
//!   once (its node is notified once), so a push never meets itself, and a
//!   push is ABA-safe: whatever top the CAS replaces is what `links[i]`
//!   names. If the replaced top carried `PARKED`, the pusher wakes the
//!   consumer's waker; otherwise it owes nothing.
//! - *Take* (the consumer): one swap of the top to 0 takes the chain,
//!   newest first.
//! - *Sleep* (the consumer, after a take found nothing): register the
//!   waker, then CAS the top from 0 to `PARKED`; a failed CAS means a push
//!   landed, so take again instead of sleeping. A push after the CAS finds
//!   `PARKED`, clears it (its CAS writes a bare position) and wakes.
//!
//! # Orderings
//! The push's CAS is `Release`: it publishes `links[i]`, and with it
//! everything the pusher did before (a completer wrote and published the
//! outcome), to the consumer's `Acquire` swap. The sleep's CAS is `Release`
//! and the push's `Acquire`, so a pusher that sees `PARKED` sees the waker
//! registered before it (atomic-waker orders its own slot too).

use crate::sync::{self, AtomicUsize, AtomicWaker};
use std::mem::ManuallyDrop;
use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed};
use std::task::Waker;

/// Flag on the top: the consumer found the stack empty and sleeps.
const PARKED: usize = 1 << (usize::BITS - 1);

/// The stack of positions whose futures completed, not yet taken.
#[derive(Debug)]
pub(crate) struct ReadyStack {
    /// Position + 1 of the newest entry (0: empty), with [`PARKED`].
    top: AtomicUsize,
    /// `links[i]`: position + 1 of the entry pushed before `i` (0: none).
    links: Box<[AtomicUsize]>,
    /// The consumer's waker, woken by a push that clears `PARKED`. Never
    /// dropped, as `Parker::Task`'s slot (its waker is taken out before
    /// the stack is retired).
    waker: ManuallyDrop<AtomicWaker>,
}

impl ReadyStack {
    /// An empty stack for positions `0..count`.
    pub(crate) fn new(count: usize) -> ReadyStack {
        ReadyStack {
            top: AtomicUsize::new(0),
            links: (0..count).map(|_| AtomicUsize::new(0)).collect(),
            waker: ManuallyDrop::new(AtomicWaker::new()),
        }
    }

    /// Pushes `index` (pushed at most once), waking the consumer if it
    /// sleeps.
    pub(crate) fn push(&self, index: usize) {
        // ORDERING: Relaxed: the CAS below orders everything.
        let mut top = self.top.load(Relaxed);
        loop {
            // ORDERING: Relaxed, published by the Release CAS below.
            self.links[index].store(top & !PARKED, Relaxed);
            // ORDERING: Release publishes the link and the completion to
            // the consumer's Acquire swap; Acquire pairs with the Release
            // CAS that set `PARKED` after registering the waker.
            match self
                .top
                .compare_exchange_weak(top, index + 1, AcqRel, Relaxed)
            {
                Ok(_) => break,
                Err(current) => top = current,
            }
        }
        if top & PARKED != 0 {
            self.waker.wake();
        }
    }

    /// Takes every entry, appending them to `into` newest first (so
    /// `into.pop()` yields them in the order they were pushed).
    pub(crate) fn take_into(&self, into: &mut Vec<usize>) {
        // ORDERING: Acquire pairs with the Release of every push it takes.
        let mut next = self.top.swap(0, Acquire) & !PARKED;
        while next != 0 {
            into.push(next - 1);
            // ORDERING: Relaxed: ordered by the swap's Acquire above.
            next = self.links[next - 1].load(Relaxed);
        }
    }

    /// Prepares to sleep: stores `waker` for the next push to wake, then
    /// flags the stack `PARKED`. Returns `false` if an entry arrived
    /// meanwhile: take it instead of sleeping.
    pub(crate) fn prepare_sleep(&self, waker: &Waker) -> bool {
        sync::register_waker(&self.waker, waker);
        // ORDERING: Release publishes the registration to the pusher that
        // sees `PARKED`; Acquire on failure: an entry to take.
        match self.top.compare_exchange(0, PARKED, AcqRel, Acquire) {
            Ok(_) => true,
            Err(top) => top == PARKED,
        }
    }

    /// Takes the consumer's waker out before the stack is retired, so that
    /// freeing it later runs no user code.
    pub(crate) fn take_waker(&self) -> Option<Waker> {
        sync::take_waker(&self.waker)
    }
}
