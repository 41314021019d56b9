//! The one allocation shared by a promise and its futures (the state word
//! with its waiter list, the count of futures, the id and the outcome), and
//! the two handles that own it: the promise's [`WriteHandle`] and a counted
//! [`ReadHandle`] per future. Every `unsafe` step of the allocation's life
//! is here, against the two invariants of [`Inner`].

use crate::callback::Callback;
use crate::epoch;
use crate::failure::{Failure, TracedFailure};
use crate::id::{FutureId, LazyId};
use crate::list::{WaitList, Wakeups};
use crate::registration::register_callback;
use crate::sync::{AtomicUsize, UnsafeCell};
use crate::trampoline;
use std::backtrace::Backtrace;
use std::marker::PhantomData;
use std::mem::{ManuallyDrop, MaybeUninit};
use std::ops::Deref;
use std::ptr::NonNull;
use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed};

/// What a completed future holds. The rare outcomes are boxed (a failure,
/// which captures a backtrace anyway, or a forward), so the value path keeps
/// the shared block small, the outcome close to the state word.
pub(crate) type Outcome<T, E> = Result<T, Box<Indirect<T, E>>>;

/// An outcome kept out of line.
pub(crate) enum Indirect<T, E> {
    /// A failure, with the backtrace captured where it was set.
    Failed(TracedFailure<E>),
    /// The outcome of the future this one was forwarded to wait for
    /// (`Promise::forward`): complete, and never itself `Forwarded` (a
    /// forward from a forwarded future takes that one's source), so a read
    /// follows at most one handle.
    Forwarded(ReadHandle<T, E>),
}

impl<T, E> Indirect<T, E> {
    /// The value or failure stored here or in the source.
    #[cold]
    fn settled(&self) -> Result<&T, &TracedFailure<E>> {
        match self {
            Indirect::Failed(traced) => Err(traced),
            Indirect::Forwarded(source) => match source.outcome() {
                Some(Ok(value)) => Ok(value),
                // Never chained (see `Indirect`): this recurses once.
                Some(Err(indirect)) => indirect.settled(),
                None => unreachable!("a forward's source is complete"),
            },
        }
    }

    /// Whether [`Indirect::take`] can move the outcome out: a forwarded
    /// one only from its source's last handle.
    fn can_take(&self) -> bool {
        match self {
            Indirect::Failed(_) => true,
            Indirect::Forwarded(source) => source.is_sole_future(),
        }
    }

    /// The outcome stored here or in the source, moved out.
    #[cold]
    fn take(self) -> Result<T, TracedFailure<E>> {
        match self {
            Indirect::Failed(traced) => Err(traced),
            Indirect::Forwarded(source) => match source.into_stored() {
                Ok(Ok(value)) => Ok(value),
                // Never chained (see `Indirect`): this recurses once.
                Ok(Err(indirect)) => (*indirect).take(),
                Err(_) => unreachable!("checked by `can_take`: the source's last handle"),
            },
        }
    }
}

/// `failure` as an outcome, with a backtrace of the caller.
pub(crate) fn failed<T, E>(failure: Failure<E>) -> Outcome<T, E> {
    let backtrace = Backtrace::capture();
    Err(Box::new(Indirect::Failed(TracedFailure {
        failure,
        backtrace,
    })))
}

/// Whether `outcome` is a failure, as the state word will say.
fn is_failure<T, E>(outcome: &Outcome<T, E>) -> bool {
    match outcome {
        Ok(_) => false,
        Err(indirect) => match &**indirect {
            Indirect::Failed(_) => true,
            Indirect::Forwarded(source) => source.list.state().is_failure(),
        },
    }
}

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
///
/// Invariant I3 (links, see `state.rs`): a linked block has no future and
/// no waiter; its write handle alone owns it, and its link holds the
/// promise's part (I2) of the block it links to.
#[derive(Debug)]
#[repr(align(8))] // a link is a pointer to a block with a tag in 3 low bits
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
    /// The outcome, if the future is complete: its value or its failure,
    /// wherever it is stored.
    #[inline]
    pub(crate) fn settled(&self) -> Option<Result<&T, &TracedFailure<E>>> {
        Some(match self.outcome()? {
            Ok(value) => Ok(value),
            Err(indirect) => indirect.settled(),
        })
    }

    /// The stored outcome, if the future is complete.
    fn outcome(&self) -> Option<&Outcome<T, E>> {
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

impl<T, E> Inner<T, E> {
    /// Moves the outcome out of a complete block and frees the block.
    ///
    /// # Safety
    /// The block is complete and the caller holds the only reference to it.
    unsafe fn take_outcome(this: NonNull<Inner<T, E>>) -> Outcome<T, E> {
        // SAFETY: the caller's guarantee: nobody else can reach the block.
        let mut boxed = unsafe { Box::from_raw(this.as_ptr()) };
        // SAFETY: initialised (complete), and moved out exactly once: the
        // word is reset below so `Drop` does not drop it again.
        let outcome = boxed
            .outcome
            .with_mut(|slot| unsafe { (*slot).assume_init_read() });
        boxed.list = WaitList::new();
        outcome
    }
}

impl<T, E> Drop for Inner<T, E> {
    fn drop(&mut self) {
        if self.list.state().is_complete() {
            // SAFETY: complete means initialised (I1), and `&mut self` means
            // no handle can read it any more; it is read out once, here.
            let outcome = self
                .outcome
                .with_mut(|slot| unsafe { (*slot).assume_init_read() });
            // Each arm drops its own part, so no drop glue of the whole
            // `Result` is called (a call where `T` needs no drop).
            match outcome {
                Ok(value) => drop(value),
                Err(indirect) => drop_indirect(indirect),
            }
        }
    }
}

/// Drops a rare outcome out of line, so that freeing a block with a value
/// inlines without the failure's drop.
#[cold]
#[inline(never)]
fn drop_indirect<T, E>(indirect: Box<Indirect<T, E>>) {
    drop(indirect);
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
    /// Takes the outcome out (its value, or its failure with the backtrace)
    /// and frees the allocation, if the future is complete and this is its
    /// last future, and, for a forwarded future, its source's too.
    /// Otherwise gives the handle back.
    pub(crate) fn into_outcome(self) -> Result<Result<T, TracedFailure<E>>, Self> {
        if !self.is_sole_future() {
            return Err(self);
        }
        // Sole and complete: nobody can reach a forward's source handle but
        // through this outcome any more, so its count can only fall, and
        // `can_take` stays true once seen true.
        match self.outcome() {
            None => Err(self),
            Some(Err(indirect)) if !indirect.can_take() => Err(self),
            Some(_) => match self.into_stored()? {
                Ok(value) => Ok(Ok(value)),
                Err(indirect) => Ok((*indirect).take()),
            },
        }
    }

    /// Takes the stored outcome out and frees the allocation, if the future
    /// is complete and this is its last future; otherwise gives the handle
    /// back.
    fn into_stored(self) -> Result<Outcome<T, E>, Self> {
        if !self.is_sole_future() || !self.list.state().is_complete() {
            return Err(self);
        }
        let this = ManuallyDrop::new(self);
        // SAFETY: this is the only future and the promise is done with the
        // allocation (complete, I2), so no other reference exists; the
        // handle's count is consumed with the allocation.
        Ok(unsafe { Inner::take_outcome(this.inner) })
    }

    /// The outcome of a future forwarded to this complete one: this future,
    /// or the one it was itself forwarded to (see `Indirect`), or, if this
    /// is the last handle, its outcome moved out.
    fn into_forwarded(self) -> Outcome<T, E> {
        let this = match self.into_stored() {
            Ok(outcome) => return outcome,
            Err(this) => this,
        };
        let source = match this.outcome() {
            Some(Err(indirect)) => match &**indirect {
                Indirect::Forwarded(source) => source.clone(),
                Indirect::Failed(_) => this,
            },
            _ => this,
        };
        Err(Box::new(Indirect::Forwarded(source)))
    }

    /// The block, as the target of a link or a forward.
    pub(crate) fn block(&self) -> *const () {
        self.inner.as_ptr().cast_const().cast()
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
// SAFETY: `&WriteHandle` offers only the id and the abandonment list and
// tag, none of which touches a `T` or an `E`.
unsafe impl<T, E> Sync for WriteHandle<T, E> {}

impl<T, E> WriteHandle<T, E> {
    /// The pair's id.
    pub(crate) fn id(&self) -> FutureId {
        // SAFETY: the allocation is alive until this handle completes it.
        unsafe { self.inner.as_ref() }.id.get()
    }

    /// The shared state.
    fn inner(&self) -> &Inner<T, E> {
        // SAFETY: the allocation is alive until this handle completes it
        // (I2), or, linked, for as long as this handle owns it (I3).
        unsafe { self.inner.as_ref() }
    }

    /// Whether every future is gone (one load, and one per link).
    #[inline]
    pub(crate) fn is_abandoned(&self) -> bool {
        self.abandonment_list().state().is_abandoned()
    }
}

/// Where a promise's abandonment shows, for [`crate::Abandoned`], which
/// does not name `T` and `E`.
pub(crate) trait Abandonable {
    /// The list whose `ABANDONED` tag says that no future is left: that of
    /// the block the promise completes, at the end of its links (I3). It
    /// changes when a forward links the promise's block; the producer's
    /// waits for abandonment register on it.
    fn abandonment_list(&self) -> &WaitList;
}

impl<T, E> Abandonable for WriteHandle<T, E> {
    fn abandonment_list(&self) -> &WaitList {
        let mut block = self.inner();
        while let Some(target) = block.list.state().link() {
            // SAFETY: a link holds its target's promise part (I3), so the
            // target lives until this handle completes, which needs it by
            // value, so not while `self` is borrowed.
            block = unsafe { &*target.cast::<Inner<T, E>>() };
        }
        &block.list
    }
}

impl<T, E> WriteHandle<T, E> {
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
        // SAFETY: the caller's guarantee.
        let failed = unsafe { WriteHandle::write_outcome(inner, outcome) };
        // SAFETY: the caller's handle keeps the allocation alive until its
        // completing RMW (I2), which is inside `complete_and_wake`.
        let list = unsafe { &inner.as_ref().list };
        // The common case ends there: a future holds the allocation, so
        // there is nothing to free or follow, only waiters to wake.
        if let Some(wakeups) = list.complete_and_wake(failed) {
            // SAFETY: `wakeups` come from completing `inner`, just now.
            unsafe { WriteHandle::wake_and_free(inner, wakeups) };
        }
    }

    /// Writes `outcome` into `inner` and completes its word.
    ///
    /// # Safety
    /// The caller holds `inner`'s promise part, and gives it up.
    #[inline]
    unsafe fn publish(inner: NonNull<Inner<T, E>>, outcome: Outcome<T, E>) -> Option<Wakeups> {
        // SAFETY: the caller's guarantee.
        let failed = unsafe { WriteHandle::write_outcome(inner, outcome) };
        // SAFETY: the write handle keeps the allocation alive until its
        // completing RMW (I2), which is inside `complete`.
        unsafe { inner.as_ref() }.list.complete(failed)
    }

    /// Writes `outcome` into `inner`, not complete yet; returns whether it
    /// is a failure, as the completed word will say.
    ///
    /// # Safety
    /// The caller holds `inner`'s promise part, and has not completed it.
    #[inline]
    unsafe fn write_outcome(inner: NonNull<Inner<T, E>>, outcome: Outcome<T, E>) -> bool {
        // SAFETY: the write handle keeps the allocation alive until its
        // completing RMW (I2), which comes after this.
        let shared = unsafe { inner.as_ref() };
        let failed = is_failure(&outcome);
        // SAFETY: the state word is not complete and only the promise writes,
        // once (I1), so nobody reads or writes `outcome` concurrently.
        shared
            .outcome
            .with_mut(|slot| unsafe { (*slot).write(outcome) });
        failed
    }

    /// A completion that found a link or no future left. Follows a link
    /// (the block's only future was forwarded, I3) to the block it leads
    /// to, then wakes the taken waiters, then, if no future was left, frees
    /// the shared state: after waking and unpinned, since dropping the
    /// outcome runs user code. Then runs the future's callbacks (through
    /// this thread's worklist, see `trampoline.rs`). A panic from a waker or a callback resumes last,
    /// once the future is complete, every waiter woken, the state freed and
    /// every callback run; on a thread already unwinding (resuming would
    /// abort) it is dropped instead.
    ///
    /// # Safety
    /// `wakeups` come from completing `inner`.
    #[cold]
    unsafe fn wake_and_free(mut inner: NonNull<Inner<T, E>>, mut wakeups: Wakeups) {
        // A loop, not a call per link: a chain of links costs no stack.
        while let Some(target) = wakeups.linked() {
            drop(wakeups);
            // SAFETY: the completing swap took a link, so this handle owned
            // the block alone (I3), which is complete now: the outcome goes
            // on to the linked block, whose promise part the link held.
            let outcome = unsafe { Inner::take_outcome(inner) };
            // SAFETY: a link points to a live block (I3): non-null.
            inner = unsafe { NonNull::new_unchecked(target.cast()) };
            // SAFETY: the link's promise part is this handle's now.
            wakeups = match unsafe { WriteHandle::publish(inner, outcome) } {
                Some(wakeups) if !wakeups.is_empty() => wakeups,
                _ => return,
            };
        }
        if !wakeups.is_abandoned() {
            // A future holds the allocation: nothing to free.
            return wakeups.wake();
        }
        let woken = wakeups.wake_all();
        // SAFETY: the word was `ABANDONED`: no future is left and none can
        // be made, so the completer owns the allocation (I2). The word is
        // complete now, so `Drop` drops the outcome just written.
        drop(unsafe { Box::from_raw(inner.as_ptr()) });
        woken.settle();
    }

    /// This handle's part moved to the block that completing its own block
    /// would complete: it follows the links its block holds (I3), freeing
    /// each linked block on the way, which only it owned.
    fn into_root(self) -> WriteHandle<T, E> {
        let mut this = ManuallyDrop::new(self);
        while let Some(target) = this.inner().list.state().link() {
            // SAFETY: linked, so this handle owns the block alone (I3), and
            // it is not complete: its outcome was never written.
            drop(unsafe { Box::from_raw(this.inner.as_ptr()) });
            // SAFETY: the link held the target's promise part (I3).
            this.inner = unsafe { NonNull::new_unchecked(target.cast()) };
        }
        ManuallyDrop::into_inner(this)
    }

    /// Whether `block` waits, through forwards, for this handle's block
    /// to complete: whether it is a block that a forwarding node on this
    /// block's list completes, or a link from it leads to, or one of those
    /// from such a block, and so on.
    fn is_awaited_by(&self, block: *const ()) -> bool {
        let guard = epoch::pin();
        let mut to_visit = vec![self.inner.as_ptr().cast_const().cast::<()>()];
        while let Some(next) = to_visit.pop() {
            // SAFETY: `next` is this handle's block, or a block that a
            // forwarding node on a visited list completes, or a visited
            // block links to. That node or link holds the block's promise
            // part (I2, I3), and acts only once the visited block completes,
            // which waits, step by step, on this handle's block: on this
            // handle, which is here. So every visited block is alive, and
            // its type is this one (a forward's source and target have the
            // same `T` and `E`).
            let list = &unsafe { &*next.cast::<Inner<T, E>>() }.list;
            let mut found = false;
            let mut visit = |target: *const ()| {
                found |= std::ptr::eq(target, block);
                to_visit.push(target);
            };
            // A linked block's completion completes its link's target, which
            // the link holds alive (I3).
            if let Some(target) = list.state().link() {
                visit(target.cast_const());
            }
            list.forward_targets(&guard, &mut visit);
            if found {
                return true;
            }
        }
        false
    }

    /// `Promise::forward`: completes this handle's block with `source`'s
    /// outcome once `source` completes, without blocking. A cycle (a
    /// `source` that waits for this block) completes with
    /// `Failure::BrokenPromise`.
    pub(crate) fn forward(self, source: ReadHandle<T, E>)
    where
        T: Send + Sync + 'static,
        E: Send + Sync + 'static,
    {
        let root = self.into_root();
        if root.inner().list.state().is_abandoned() {
            // Nobody can read the outcome: let go of `source` now.
            drop(source);
            return root.complete(failed(Failure::BrokenPromise));
        }
        root.inner().list.mark_forwarded();
        // `source` can wait on `root` only if its own promise was forwarded
        // too: only then is the walk of `root`'s waiting blocks needed.
        let block = source.block();
        let closes_cycle = std::ptr::eq(root.inner.as_ptr().cast_const().cast(), block)
            || (source.list.state().is_forwarded() && root.is_awaited_by(block));
        if closes_cycle {
            drop(source);
            return root.complete(failed(Failure::BrokenPromise));
        }
        let (source, root) = match source.link_to(root) {
            Ok(()) => return,
            Err(both) => both,
        };
        if source.list.state().is_complete() {
            return root.complete(source.into_forwarded());
        }
        let target = root.inner.as_ptr().cast_const().cast();
        let list = source.clone();
        let callback = Callback::new(move || root.complete(source.into_forwarded()));
        if let Some(callback) = register_callback(&list.list, callback, target) {
            trampoline::run_now(callback);
        }
    }
}

impl<T, E> ReadHandle<T, E> {
    /// Links this future's block to `root`'s, if this is its only future:
    /// `root`'s promise part moves into the link (I3), and this future is
    /// gone; a producer waiting for the block's abandonment is woken to
    /// look where the link leads. Otherwise, hands both back (the block is
    /// complete, or shared).
    fn link_to(self, root: WriteHandle<T, E>) -> Result<(), (Self, WriteHandle<T, E>)> {
        let linked = match self.is_sole_future() {
            true => self.list.try_link(root.inner.as_ptr().cast()),
            false => None,
        };
        let Some(woken) = linked else {
            return Err((self, root));
        };
        // The block's promise owns it now (I3); the link owns `root`'s part.
        std::mem::forget(self);
        std::mem::forget(root);
        // What the producer's wakers made due or threw, once nothing is
        // left to undo.
        woken.settle();
        Ok(())
    }
}

impl<T, E> Drop for WriteHandle<T, E> {
    fn drop(&mut self) {
        let broken = failed(Failure::BrokenPromise);
        // SAFETY: a handle still alive has not completed (`complete`
        // consumes it without running this), and it is dropped once.
        unsafe { WriteHandle::complete_once(self.inner, broken) };
    }
}
