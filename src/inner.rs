//! The one allocation shared by a promise and its futures: the state word
//! (with its waiter list), the handle count, the id, and the outcome.

use crate::failure::Failure;
use crate::id::LazyId;
use crate::list::{WaitList, Wakeups};
use crate::sync::{AtomicUsize, UnsafeCell};
use std::backtrace::Backtrace;
use std::mem::MaybeUninit;
use std::ptr::NonNull;
use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed};

/// A failure with the backtrace captured where it was set.
#[derive(Debug)]
pub(crate) struct Failed<E> {
    /// What went wrong.
    pub(crate) failure: Failure<E>,
    /// Where it was set (honours `RUST_BACKTRACE`).
    pub(crate) backtrace: Backtrace,
}

impl<E> Failed<E> {
    /// `failure`, with a backtrace of the caller, boxed for [`Outcome`].
    pub(crate) fn here(failure: Failure<E>) -> Box<Failed<E>> {
        Box::new(Failed {
            failure,
            backtrace: Backtrace::capture(),
        })
    }
}

/// What a completed future holds. A failure is boxed: it is the rare path
/// (and captures a backtrace anyway), and the value path keeps the shared
/// block small, the outcome close to the state word.
pub(crate) type Outcome<T, E> = Result<T, Box<Failed<E>>>;

/// Handles never reach this count: past it, cloning aborts (as `Arc` does).
const MAX_REFS: usize = isize::MAX as usize;

/// The shared state of one promise/future pair.
///
/// Invariant I1: `outcome` is written once, by the promise, before the state
/// word turns complete, and never written again; it is read only after an
/// Acquire load saw the word complete.
///
/// Invariant I2 (who frees): `refs` counts futures only. The promise's
/// completing RMW is also its release: after it, the promise never touches
/// the allocation unless the word was `ABANDONED`. The last future frees if
/// the word is complete, else marks it `ABANDONED` for the promise to free
/// (see `state.rs`). So the common path costs one RMW for the promise and
/// none for a sole future.
#[derive(Debug)]
pub(crate) struct Inner<T, E> {
    /// The state word and waiter list.
    pub(crate) list: WaitList,
    /// Live futures (the promise is not counted, see I2).
    refs: AtomicUsize,
    /// The id, assigned on first use.
    pub(crate) id: LazyId,
    /// The outcome; initialised iff the state word is complete (I1).
    outcome: UnsafeCell<MaybeUninit<Outcome<T, E>>>,
}

impl<T, E> Inner<T, E> {
    /// Allocates the shared state with one future counted: the pair's only
    /// allocation.
    pub(crate) fn allocate() -> NonNull<Inner<T, E>> {
        NonNull::from(Box::leak(Box::new(Inner {
            list: WaitList::new(),
            refs: AtomicUsize::new(1),
            id: LazyId::new(),
            outcome: UnsafeCell::new(MaybeUninit::uninit()),
        })))
    }

    /// Writes the outcome, publishes it, and takes the waiters to wake. If
    /// every future was gone ([`Wakeups::abandoned`]), the caller now owns
    /// the allocation and frees it with [`Inner::free_abandoned`] once the
    /// waiters are woken.
    ///
    /// # Safety
    /// Called once per pair, by the promise, which then never touches
    /// `this` again (but for `free_abandoned`).
    pub(crate) unsafe fn complete(this: NonNull<Inner<T, E>>, outcome: Outcome<T, E>) -> Wakeups {
        // SAFETY: the promise keeps the allocation alive until its completing
        // RMW (I2), which is inside `list.complete` below.
        let inner = unsafe { this.as_ref() };
        let failed = outcome.is_err();
        // SAFETY: the state word is pending and only the promise writes, once
        // (I1), so nobody reads or writes `outcome` concurrently.
        inner
            .outcome
            .with_mut(|slot| unsafe { (*slot).write(outcome) });
        inner.list.complete(failed)
    }

    /// Frees the allocation after a completion found every future gone.
    ///
    /// # Safety
    /// `this` was just completed by [`Inner::complete`], whose wake-ups said
    /// [`Wakeups::abandoned`].
    pub(crate) unsafe fn free_abandoned(this: NonNull<Inner<T, E>>) {
        // SAFETY: the word was `ABANDONED`: no future is left and none can be
        // made, so the completer owns the allocation (I2). The word is
        // complete now, so `Drop` drops the outcome just written.
        drop(unsafe { Box::from_raw(this.as_ptr()) });
    }

    /// The outcome, if the future is complete.
    pub(crate) fn outcome(&self) -> Option<&Outcome<T, E>> {
        if !self.list.state().is_complete() {
            return None;
        }
        // SAFETY: the Acquire load above saw the word complete, so the outcome
        // is initialised and never written again (I1); it lives as long as
        // `self`, which the caller's handle keeps alive.
        Some(
            self.outcome
                .with(|slot| unsafe { (*slot).assume_init_ref() }),
        )
    }

    /// Counts one more future.
    pub(crate) fn acquire(&self) {
        // ORDERING: Relaxed, as `Arc::clone`: the new handle is made from an
        // existing one, which already keeps the allocation alive.
        if self.refs.fetch_add(1, Relaxed) > MAX_REFS {
            std::process::abort();
        }
    }

    /// Whether the caller's future is the only one left. Then no other can
    /// appear (a clone needs a handle) and the caller may skip the RMW.
    fn is_sole_future(&self) -> bool {
        // ORDERING: Acquire pairs with the Release decrement of every other
        // future, so their uses happen before whatever the caller does next.
        self.refs.load(Acquire) == 1
    }

    /// Drops one future; the last one frees the allocation or leaves it to
    /// the promise (I2).
    ///
    /// # Safety
    /// `this` must come from `allocate`, and the caller gives up its future.
    pub(crate) unsafe fn release(this: NonNull<Inner<T, E>>) {
        // SAFETY: the caller's handle keeps the allocation alive until here.
        let inner = unsafe { this.as_ref() };
        if !inner.is_sole_future() {
            // ORDERING: Release orders this handle's uses before the free;
            // Acquire, for the last future, orders every other future's
            // uses (Released by their decrements) before it. An AcqRel RMW
            // rather than `Arc`'s Release RMW and Acquire fence: the same
            // `lock xadd` on x86, and ThreadSanitizer, which does not model
            // fences, sees the order too.
            if inner.refs.fetch_sub(1, AcqRel) != 1 {
                return;
            }
        }
        if inner.list.abandon() {
            // SAFETY: the last future saw the word complete, so the promise
            // is done with the allocation (I2) and nobody else can reach it.
            drop(unsafe { Box::from_raw(this.as_ptr()) });
        }
    }

    /// Takes the outcome out and frees the allocation, if the future is
    /// complete and the caller's handle is the last one. Otherwise the
    /// handle stays the caller's and `None` is returned.
    ///
    /// # Safety
    /// `this` must come from `allocate`, and the caller owns one future.
    pub(crate) unsafe fn take_if_last(this: NonNull<Inner<T, E>>) -> Option<Outcome<T, E>> {
        // SAFETY: the caller's handle keeps the allocation alive.
        let inner = unsafe { this.as_ref() };
        if !inner.is_sole_future() || !inner.list.state().is_complete() {
            return None;
        }
        // SAFETY: the caller holds the only future and the promise is done
        // with the allocation (complete, I2), so no other reference exists.
        let mut boxed = unsafe { Box::from_raw(this.as_ptr()) };
        // SAFETY: initialised (complete), and moved out exactly once: the
        // word is reset below so `Drop` does not drop it again.
        let outcome = boxed
            .outcome
            .with_mut(|slot| unsafe { (*slot).assume_init_read() });
        boxed.list = WaitList::new();
        Some(outcome)
    }
}

impl<T, E> Drop for Inner<T, E> {
    fn drop(&mut self) {
        if self.list.state().is_complete() {
            // SAFETY: complete means initialised (I1), and `&mut self` means
            // no handle can read it any more.
            self.outcome
                .with_mut(|slot| unsafe { (*slot).assume_init_drop() });
        }
    }
}
