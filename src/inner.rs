//! The one allocation shared by a promise and its futures (the state word
//! with its waiter list, the count of futures, the id and the outcome), and
//! the two handles that own it: the promise's [`WriteHandle`] and a counted
//! [`ReadHandle`] per future. Every `unsafe` step of the allocation's life
//! is here, against the two invariants of [`Inner`].

use crate::epoch;
use crate::failure::{Failure, TracedFailure};
use crate::id::{FutureId, LazyId};
use crate::list::{WaitList, Wakeups};
use crate::sync::{AtomicUsize, UnsafeCell};
use crate::trampoline;
use crate::unwind;
use std::marker::PhantomData;
use std::mem::{ManuallyDrop, MaybeUninit};
use std::ops::Deref;
use std::ptr::NonNull;
use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed};

/// What a completed future holds. A failure is boxed: it is the rare path
/// (and captures a backtrace anyway), and the value path keeps the shared
/// block small, the outcome close to the state word.
pub(crate) type Outcome<T, E> = Result<T, Box<TracedFailure<E>>>;

/// Futures never reach this count: past it, cloning aborts (as `Arc` does).
const MAX_FUTURES: usize = isize::MAX as usize;

/// The shared state of one promise/future pair.
///
/// Invariant I1: `outcome` is written once, by the promise, before the state
/// word turns complete, and never written again; it is read only after an
/// Acquire load saw the word complete.
///
/// Invariant I2 (who frees): `futures` counts futures only. The promise's
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
    futures: AtomicUsize,
    /// The id, assigned on first use.
    pub(crate) id: LazyId,
    /// The outcome; initialised iff the state word is complete (I1).
    outcome: UnsafeCell<MaybeUninit<Outcome<T, E>>>,
}

/// Allocates the shared state with its promise's handle and one future's:
/// the pair's only allocation.
pub(crate) fn pair<T, E>() -> (WriteHandle<T, E>, ReadHandle<T, E>) {
    let inner = NonNull::from(Box::leak(Box::new(Inner {
        list: WaitList::new(),
        futures: AtomicUsize::new(1),
        id: LazyId::new(),
        outcome: UnsafeCell::new(MaybeUninit::uninit()),
    })));
    let write = WriteHandle {
        inner,
        _owns: PhantomData,
    };
    let read = ReadHandle {
        inner,
        _shares: PhantomData,
    };
    (write, read)
}

impl<T, E> Inner<T, E> {
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
    fn add_future(&self) {
        // ORDERING: Relaxed, as `Arc::clone`: the new handle is made from an
        // existing one, which already keeps the allocation alive.
        if self.futures.fetch_add(1, Relaxed) > MAX_FUTURES {
            std::process::abort();
        }
    }

    /// Whether the caller's future is the only one left. Then no other can
    /// appear (a clone needs a handle) and the caller may skip the RMW.
    fn is_sole_future(&self) -> bool {
        // ORDERING: Acquire pairs with the Release decrement of every other
        // future, so their uses happen before whatever the caller does next.
        self.futures.load(Acquire) == 1
    }

    /// Drops one future; the last one frees the allocation or leaves it to
    /// the promise (I2).
    ///
    /// # Safety
    /// `this` is alive, and the caller gives up its counted future.
    unsafe fn drop_future(this: NonNull<Inner<T, E>>) {
        // SAFETY: the caller's handle keeps the allocation alive until here.
        let inner = unsafe { this.as_ref() };
        if !inner.is_sole_future() {
            // ORDERING: Release orders this handle's uses before the free;
            // Acquire, for the last future, orders every other future's
            // uses (Released by their decrements) before it. An AcqRel RMW
            // rather than `Arc`'s Release RMW and Acquire fence: the same
            // `lock xadd` on x86, and ThreadSanitizer, which does not model
            // fences, sees the order too.
            if inner.futures.fetch_sub(1, AcqRel) != 1 {
                return;
            }
        }
        if inner.list.abandon() {
            // SAFETY: the last future saw the word complete, so the promise
            // is done with the allocation (I2) and nobody else can reach it.
            drop(unsafe { Box::from_raw(this.as_ptr()) });
        }
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

/// A future's counted handle: cloning counts another future, dropping gives
/// one up (the last frees the allocation or leaves it to the promise), and it
/// derefs to the shared state.
#[derive(Debug)]
pub(crate) struct ReadHandle<T, E> {
    /// Counted in `futures`, so the allocation is alive (I2).
    inner: NonNull<Inner<T, E>>,
    /// Shares (and may drop) the outcome.
    _shares: PhantomData<Outcome<T, E>>,
}

// SAFETY: handles on several threads read `&T`/`&E` concurrently (`Sync`),
// and the last handle may drop or move them out on any thread (`Send`).
unsafe impl<T: Send + Sync, E: Send + Sync> Send for ReadHandle<T, E> {}
// SAFETY: as for `Send`: `&ReadHandle` can be cloned into an owning handle.
unsafe impl<T: Send + Sync, E: Send + Sync> Sync for ReadHandle<T, E> {}

impl<T, E> Deref for ReadHandle<T, E> {
    type Target = Inner<T, E>;

    fn deref(&self) -> &Inner<T, E> {
        // SAFETY: this handle is counted, so the shared state is alive.
        unsafe { self.inner.as_ref() }
    }
}

impl<T, E> Clone for ReadHandle<T, E> {
    fn clone(&self) -> Self {
        self.add_future();
        ReadHandle {
            inner: self.inner,
            _shares: PhantomData,
        }
    }
}

impl<T, E> Drop for ReadHandle<T, E> {
    fn drop(&mut self) {
        // SAFETY: this handle is counted and gives up its count once, here.
        unsafe { Inner::drop_future(self.inner) }
    }
}

impl<T, E> ReadHandle<T, E> {
    /// Takes the outcome out and frees the allocation, if the future is
    /// complete and this is the last future. Otherwise gives the handle back.
    pub(crate) fn into_outcome(self) -> Result<Outcome<T, E>, Self> {
        if !self.is_sole_future() || !self.list.state().is_complete() {
            return Err(self);
        }
        let this = ManuallyDrop::new(self);
        // SAFETY: this is the only future and the promise is done with the
        // allocation (complete, I2), so no other reference exists; the
        // handle's count is consumed with the allocation.
        let mut boxed = unsafe { Box::from_raw(this.inner.as_ptr()) };
        // SAFETY: initialised (complete), and moved out exactly once: the
        // word is reset below so `Drop` does not drop it again.
        let outcome = boxed
            .outcome
            .with_mut(|slot| unsafe { (*slot).assume_init_read() });
        boxed.list = WaitList::new();
        Ok(outcome)
    }
}

/// The promise's handle: completes the shared state exactly once, by
/// [`WriteHandle::complete`] or, dropped unused, with
/// [`Failure::BrokenPromise`]. It is not counted (I2).
#[derive(Debug)]
pub(crate) struct WriteHandle<T, E> {
    /// Alive until this handle completes it (I2).
    inner: NonNull<Inner<T, E>>,
    /// Owns a `T`/`E` to send, not shares them.
    _owns: PhantomData<Outcome<T, E>>,
}

// SAFETY: the handle moves a `T` or an `E` into the shared state (so they
// must be `Send`), and may drop the outcome if every future is gone. It
// never hands out references to them.
unsafe impl<T: Send, E: Send> Send for WriteHandle<T, E> {}
// SAFETY: `&WriteHandle` offers only the id, which touches no `T` or `E`.
unsafe impl<T, E> Sync for WriteHandle<T, E> {}

impl<T, E> WriteHandle<T, E> {
    /// The pair's id.
    pub(crate) fn id(&self) -> FutureId {
        // SAFETY: the allocation is alive until this handle completes it.
        unsafe { self.inner.as_ref() }.id.get()
    }

    /// The list whose `ABANDONED` tag says that no future is left: this
    /// pair's own. The producer's waits for abandonment register on it.
    pub(crate) fn abandonment_list(&self) -> &WaitList {
        // SAFETY: the allocation is alive until this handle completes it,
        // which needs the handle by value, so not while `self` is borrowed.
        &unsafe { self.inner.as_ref() }.list
    }

    /// Whether every future is gone (one load).
    #[inline]
    pub(crate) fn is_abandoned(&self) -> bool {
        self.abandonment_list().state().is_abandoned()
    }

    /// Completes with `outcome` and wakes every waiter (see
    /// [`WriteHandle::complete_once`]).
    #[inline]
    pub(crate) fn complete(self, outcome: Outcome<T, E>) {
        let this = ManuallyDrop::new(self);
        // SAFETY: the handle is consumed and its `Drop` suppressed, so this
        // is the pair's only completion.
        unsafe { WriteHandle::complete_once(this.inner, outcome) };
    }

    /// Writes the outcome and publishes it (which also gives up the
    /// promise's hold on the shared state), then wakes the waiters: a woken
    /// waiter that holds the last future may take the outcome by value at
    /// once.
    ///
    /// # Safety
    /// Called once per pair, by its write handle, which never touches
    /// `inner` again.
    #[inline]
    unsafe fn complete_once(inner: NonNull<Inner<T, E>>, outcome: Outcome<T, E>) {
        // SAFETY: the write handle keeps the allocation alive until its
        // completing RMW (I2), which is inside `list.complete` below.
        let shared = unsafe { inner.as_ref() };
        let failed = outcome.is_err();
        // SAFETY: the state word is pending and only the promise writes, once
        // (I1), so nobody reads or writes `outcome` concurrently.
        shared
            .outcome
            .with_mut(|slot| unsafe { (*slot).write(outcome) });
        let wakeups = shared.list.complete(failed);
        if !wakeups.is_empty() {
            // SAFETY: `wakeups` come from completing `inner`, just now.
            unsafe { WriteHandle::wake_and_free(inner, wakeups) };
        }
    }

    /// Wakes the taken waiters, then, if no future was left, frees the
    /// shared state: after waking and unpinned, since dropping the outcome
    /// runs user code. Then runs the future's callbacks (through this
    /// thread's worklist, see `trampoline.rs`). A panic from a waker or a
    /// callback resumes last, once the future is complete, every waiter
    /// woken, the state freed and every callback run; on a thread already
    /// unwinding (resuming would abort) it is dropped instead.
    ///
    /// # Safety
    /// `wakeups` come from completing `inner`.
    #[cold]
    unsafe fn wake_and_free(inner: NonNull<Inner<T, E>>, wakeups: Wakeups) {
        let abandoned = wakeups.is_abandoned();
        let woken = wakeups.wake_all();
        if abandoned {
            // SAFETY: the word was `ABANDONED`: no future is left and none
            // can be made, so the completer owns the allocation (I2). The
            // word is complete now, so `Drop` drops the outcome just written.
            drop(unsafe { Box::from_raw(inner.as_ptr()) });
        }
        let mut first_panic = woken.panic;
        // No thread-local is touched unless the future had callbacks.
        if !woken.callbacks.is_empty() {
            // Their waiters were retired in the walk.
            epoch::collect_eagerly();
            if let Some(payload) = trampoline::run(woken.callbacks) {
                unwind::keep_first(&mut first_panic, payload);
            }
        }
        if let Some(payload) = first_panic {
            unwind::resume(payload);
        }
    }
}

impl<T, E> Drop for WriteHandle<T, E> {
    fn drop(&mut self) {
        let broken = Err(TracedFailure::here(Failure::BrokenPromise));
        // SAFETY: a handle still alive has not completed (`complete`
        // consumes it without running this), and it is dropped once.
        unsafe { WriteHandle::complete_once(self.inner, broken) };
    }
}
