//! The intrusive waiter list of one future, kept in its state word: push,
//! complete (take the whole list and wake it), and Harris-style detach.
//!
//! # Protocol
//! - *Push*: CAS the word from `head` to `node` with `node.next = head`,
//!   unless the word is complete. ABA cannot hurt a push: whatever node is at
//!   `head` when the CAS succeeds is the one `node.next` points to.
//! - *Complete*: one swap of the word to its terminal value takes the list;
//!   the completer walks it and notifies the waiter of every unmarked node.
//!   It pins an epoch before the swap, so no node it walks can be freed under
//!   it. With nobody waiting, one CAS completes and nothing is pinned. A
//!   panicking waker does not end the walk: it is caught, the walk goes on,
//!   and the panic is handed back to the promise.
//! - *Abandon*: the last future sets the word's `ABANDONED` tag (one RMW);
//!   from then on every push fails. If nodes were linked (the producer
//!   waits for this, see `state.rs`), it pinned before the mark, and walks
//!   and notifies them as a completion does, leaving them linked for the
//!   producer to detach.
//! - *Detach*: the owner marks `node.next` (tag bit), then walks from the word
//!   unlinking every marked node it meets (CAS on the predecessor's link; the
//!   word is the first link), restarting from the word when a CAS fails. A
//!   marked node's `next` never changes again, so only marked nodes are ever
//!   unlinked and a completer walking the same chain never skips a live node.
//!   The walk ends when it has unlinked `node`, reaches the end of the list,
//!   or finds the word complete: from then on no thread that pins can reach
//!   `node`, and the owner may retire it through the epoch. Fast path: a
//!   node alone in its list (head, no successor) is unlinked by one CAS of
//!   the word back to empty, without marking, since nobody can change a
//!   `next` that has no successor behind it.
//!
//! # Orderings
//! Every CAS that publishes a pointer (push, unlink, the completing swap) is
//! `Release` and every load that follows a pointer is `Acquire`, so whoever
//! reaches a node happens-after the node was initialised by its owner. The
//! completing swap is also the `Release` that publishes the outcome (the
//! outcome is written before it); readers pair with it through
//! [`WaitList::state`].
//!
//! Some of these are implied by others, so no loom model fails when one is
//! weakened (loom-tests/README.md): every write to the word is a
//! read-modify-write, so an `Acquire` read of it (or the completing swap)
//! synchronises with *every* earlier push, and each node reachable from what
//! it read was initialised before its push; the `Acquire` on each `next`
//! load and the `Release` of the unlinking CAS add nothing to that. They are
//! kept so that each pointer a walk follows carries its own pairing. Two
//! orderings are needed but cannot be shown by loom: the swap's `Release`
//! (under loom an outermost pin just before it carries a `SeqCst` fence,
//! which also releases, and a completion nested in another's walk is
//! ordered by that walk's; a nested pin issues no barrier in crossbeam
//! either; crossbeam's x86 pin is a `SeqCst` read-modify-write, which in
//! the language's model does not) and the `Release` of `abandon` (it orders
//! the futures' last atomic accesses before the promise frees the
//! allocation; loom does not check a free against atomic accesses).

use crate::callback::{Callback, Callbacks};
use crate::state;
use crate::sync::{AtomicPtr, UnsafeCell};
use crate::trampoline::Walk;
use crate::unwind::{PanicPayload, keep_first};
use crate::waiter::Waiter;
use crossbeam_epoch::Guard;
use std::ptr::NonNull;
use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed, Release};

/// The state word of a list of [`Node`]s.
pub(crate) type State = state::State<Node>;

/// Tag bit on `Node::next`: the owner is detaching this node.
const MARK: usize = 0b1;

fn is_marked(link: *mut Node) -> bool {
    link.addr() & MARK != 0
}

fn unmarked(link: *mut Node) -> *mut Node {
    link.map_addr(|a| a & !MARK)
}

/// One waiter's link into one future's list.
///
/// Nodes live inside their [`Waiter`]'s allocation and are freed with it,
/// through epoch deferral, only once no thread that pins can reach them.
#[repr(align(16))] // four tag bits in a pending word, see `state.rs`
#[derive(Debug)]
pub(crate) struct Node {
    /// The next node (older push); low bit [`MARK`] once the owner detaches.
    next: AtomicPtr<Node>,
    /// The waiter this node notifies; it outlives the node. Set by
    /// [`Node::attach`] before the node is pushed anywhere.
    waiter: *const Waiter,
    /// The list this node is pushed on; it outlives the waiter's wait.
    /// Only the waiter's owner touches it (to push and detach the node): a
    /// queue's node gets its list when the queue hands it out.
    list: UnsafeCell<*const WaitList>,
    /// The future's index for the waiter: its place among the lists the
    /// waiter registered (for `wait_any`, its input position), for
    /// `as_completed` its input position, for a queue's its place in the
    /// slab.
    index: usize,
}

impl Node {
    /// A node for `list` with index `index`, not attached to a waiter yet.
    pub(crate) fn new(list: *const WaitList, index: usize) -> Node {
        Node {
            next: AtomicPtr::new(std::ptr::null_mut()),
            waiter: std::ptr::null(),
            list: UnsafeCell::new(list),
            index,
        }
    }

    /// The index the node notifies its waiter with.
    pub(crate) fn index(&self) -> usize {
        self.index
    }

    /// The waiter the node notifies.
    pub(crate) fn waiter(&self) -> *const Waiter {
        self.waiter
    }

    /// Makes the node notify `waiter`: done once, before the node is shared.
    pub(crate) fn attach(&mut self, waiter: *const Waiter) {
        self.waiter = waiter;
    }

    /// Gives the node its list, for its owner, before pushing it there.
    pub(crate) fn set_list(&self, list: &WaitList) {
        // SAFETY: only the waiter's owner, the caller, touches `list`, and
        // no reference to it outlives its access.
        self.list.with_mut(|cell| unsafe { *cell = list });
    }

    /// The list this node belongs to.
    ///
    /// # Safety
    /// The list must still be alive: true while the wait that owns the node
    /// borrows its futures.
    pub(crate) unsafe fn list(&self) -> &WaitList {
        // SAFETY: only the waiter's owner, the caller, touches `list`; the
        // caller guarantees the list outlives this borrow.
        self.list.with(|cell| unsafe { &**cell })
    }
}

/// The waiters a completion took from a list, still to be notified.
#[must_use = "the taken waiters must be woken"]
#[derive(Debug)]
pub(crate) struct Wakeups {
    /// Pinned before the list was taken; keeps every taken waiter alive.
    guard: Guard,
    /// The word the completion replaced: its head is the first taken node
    /// (null when nobody waited). `ABANDONED`: the last future was gone,
    /// the completer owns the allocation now, and frees it after waking (so
    /// no outcome's drop runs while pinned). A link (see `state.rs`):
    /// nobody was taken, and the completer owns the allocation and must
    /// complete the linked block instead.
    taken: State,
    /// How the future completed.
    failed: bool,
}

impl Wakeups {
    /// The nodes linked in `word` when a future's last drop marked it
    /// abandoned or a forward linked it: the producer's waits for
    /// abandonment, to wake (as notified, not failed). `guard` was pinned
    /// before `word` was taken from the list.
    fn producers(guard: Guard, word: *mut Node) -> Wakeups {
        Wakeups {
            guard,
            // Only the nodes: the tags are the producer's, not the waker's.
            taken: State::EMPTY.with_head(State::from_raw(word).head()),
            failed: false,
        }
    }

    /// Whether no future was left, so the completer must free the allocation.
    #[inline]
    pub(crate) fn is_abandoned(&self) -> bool {
        self.taken.is_abandoned()
    }

    /// The block the word linked to, if it was a link.
    #[inline]
    pub(crate) fn linked(&self) -> Option<*mut ()> {
        self.taken.link()
    }

    /// Whether there is nothing left to do: nobody was taken to wake, and a
    /// future still holds the allocation (dropping `self` just unpins).
    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.taken.head().is_null() && !self.is_abandoned() && self.linked().is_none()
    }

    /// Wakes every taken waiter, then, unpinned, runs the callbacks and
    /// resumes the first panic ([`Woken::settle`]): a completion with
    /// nothing else to do in between.
    ///
    /// Lean while no notification runs user code or hands out a callback
    /// (threads unparked, pushes onto stacks whose consumer is awake,
    /// decisions not ended): it then keeps only the chain and the guard,
    /// and sets up no [`Walk`] and no [`Woken`]. The first notification
    /// that owes more goes on, with the rest of the chain, in
    /// [`Wakeups::wake_rest`], which sets them up.
    #[inline(always)]
    pub(crate) fn wake(self) {
        let Wakeups {
            guard,
            taken,
            failed,
        } = self;
        let mut cursor = taken.head();
        // SAFETY: every node reachable from the taken chain was reachable
        // after `guard` pinned, so its waiter is freed no earlier than
        // `guard` is dropped (see the module docs).
        while let Some(node) = unsafe { cursor.as_ref() } {
            // ORDERING: Acquire pairs with the Release that linked the successor.
            let next = node.next.load(Acquire);
            cursor = unmarked(next);
            // SAFETY: as above, the waiter outlives `guard`.
            if !is_marked(next) && unsafe { &*node.waiter }.begin_notify(node, failed) {
                // Settled only once `wake_rest` has returned: the
                // callbacks may free `node`'s waiter, which its
                // reference argument must outlive.
                return Wakeups::wake_rest(guard, node, cursor, failed).settle();
            }
        }
        // Unpin only now: the last waiter woken may be freed from here on.
        drop(guard);
    }

    /// [`Wakeups::wake`] from `owed`, whose notification was begun and
    /// owes the rest ([`Waiter::finish_notify`]), on through the chain
    /// from `rest`; unpins, and leaves [`Woken::settle`] to the caller.
    /// Inline: out of line, its own prologue and the moves into it cost a
    /// task's or a callback's completion more than the lean loop saves
    /// (about 18 instructions).
    #[inline(always)]
    fn wake_rest(guard: Guard, owed: &Node, rest: *mut Node, failed: bool) -> Woken {
        let mut callbacks = Callbacks::default();
        let mut walk = Walk::begin();
        // SAFETY: `owed` was reached from the taken chain, so its waiter
        // outlives `guard` (see `walk_from`).
        let waiter = unsafe { &*owed.waiter };
        if let Some(callback) = waiter.finish_notify(&mut walk) {
            Wakeups::keep_callback(&mut callbacks, callback, owed, &guard);
        }
        Wakeups::walk_from(guard, rest, failed, callbacks, walk)
    }

    /// Notifies the waiter of every node not being detached, for a caller
    /// with work to do before [`Woken::settle`].
    pub(crate) fn wake_all(self) -> Woken {
        let Wakeups {
            guard,
            taken,
            failed,
        } = self;
        Wakeups::walk_from(
            guard,
            taken.head(),
            failed,
            Callbacks::default(),
            Walk::begin(),
        )
    }

    /// Notifies the waiter of every node not being detached, from
    /// `cursor` on, within `walk`, adding callbacks to `callbacks`; then
    /// unpins. No allocation, no retry: one pass over the taken chain.
    ///
    /// A task's `Waker::wake` is user code and may panic: the pass goes on
    /// regardless (each waker runs in [`Walk::run_waker`]), so every waiter
    /// is still woken, and the first panic is returned for the caller to
    /// resume once its own work is done.
    /// Callbacks are user code too: they are collected, not run, and their
    /// waiters retired, so the caller runs them once it has unpinned.
    #[inline(always)]
    fn walk_from(
        guard: Guard,
        mut cursor: *mut Node,
        failed: bool,
        mut callbacks: Callbacks,
        mut walk: Walk,
    ) -> Woken {
        // SAFETY: every node reachable from the taken chain was reachable
        // after `guard` pinned, so its waiter is freed no earlier than
        // `guard` is dropped (see the module docs).
        while let Some(node) = unsafe { cursor.as_ref() } {
            // ORDERING: Acquire pairs with the Release that linked the successor.
            let next = node.next.load(Acquire);
            if !is_marked(next) {
                // SAFETY: as above, the waiter outlives `guard`.
                let waiter = unsafe { &*node.waiter };
                if let Some(callback) = waiter.notify(node, failed, &mut walk) {
                    Wakeups::keep_callback(&mut callbacks, callback, node, &guard);
                }
            }
            cursor = unmarked(next);
        }
        let (queued, panic) = walk.finish();
        // Unpin only now: the last waiter woken may be freed from here on.
        drop(guard);
        Woken {
            panic,
            callbacks,
            queued,
        }
    }

    /// Keeps `callback`, which notifying `node` handed out, for the
    /// caller to run unpinned, and retires its waiter. `node`'s `next` was
    /// read already.
    #[inline(always)]
    fn keep_callback(callbacks: &mut Callbacks, callback: Callback, node: &Node, guard: &Guard) {
        callbacks.push(callback);
        // SAFETY: `node.waiter` is the pointer the waiter was allocated
        // through, set before the node was published, so non-null. A
        // callback waiter has no owner to detach or retire it: the
        // notifier that took its callback retires it, once. Only a
        // completion's walk reaches a callback's node (its callback holds
        // a future of the block, so no walk for abandonment or a link
        // does: `CallbackSlot`'s invariant), so the node was in the chain
        // this completion's swap took, which no thread pinning later can
        // reach, and its `next` was read before.
        unsafe {
            let raw = NonNull::new_unchecked(node.waiter.cast_mut());
            Waiter::retire(raw, guard);
        }
    }
}

/// What a completion's walk leaves to its caller, to deal with unpinned.
#[derive(Debug, Default)]
pub(crate) struct Woken {
    /// The first panic of a waker.
    pub(crate) panic: Option<PanicPayload>,
    /// The callbacks of the future, to run.
    pub(crate) callbacks: Callbacks,
    /// Whether callbacks were queued on this thread during the walk (a
    /// waker completed a promise): the caller runs them too, unpinned.
    pub(crate) queued: bool,
}

impl Woken {
    /// Runs the callbacks, those of the future and those queued during the
    /// walk (through this thread's worklist, see `trampoline.rs`), then
    /// resumes the first panic of a waker or a callback (on a thread
    /// already unwinding, where resuming would abort, drops it). Called
    /// unpinned, with the caller's own work done.
    #[inline(always)]
    pub(crate) fn settle(self) {
        let Woken {
            mut panic,
            callbacks,
            queued,
        } = self;
        // The worklist is not touched unless there are callbacks to run.
        if queued || !callbacks.is_empty() {
            // Their waiters were retired in the walk.
            crate::epoch::collect_eagerly();
            if let Some(payload) = crate::trampoline::run(callbacks) {
                keep_first(&mut panic, payload);
            }
        }
        if let Some(payload) = panic {
            crate::unwind::resume(payload);
        }
    }
}

/// The state word of one future, which is also the head of its waiter list.
///
/// (`pub` only because the sealed `Waitable` trait names it; it is not
/// reachable from outside the crate.)
#[allow(unreachable_pub)]
#[derive(Debug)]
pub struct WaitList {
    /// See the table in `state.rs`.
    word: AtomicPtr<Node>,
}

impl WaitList {
    /// A pending list with no waiter.
    #[inline]
    pub(crate) fn new() -> WaitList {
        WaitList {
            word: AtomicPtr::new(State::EMPTY.into_raw()),
        }
    }

    /// The current state.
    #[inline]
    pub(crate) fn state(&self) -> State {
        // ORDERING: Acquire pairs with the Release of the completing swap or
        // CAS in `complete`, so a complete state makes the outcome readable.
        State::from_raw(self.word.load(Acquire))
    }

    /// Links `node` at the head, or returns the state if the future is
    /// already complete or abandoned, or the word is a link (then `node` is
    /// not linked).
    ///
    /// # Safety
    /// `node` must not be linked anywhere, must stay at its address, and must
    /// be retired only after [`WaitList::detach`] returned for it, or after
    /// a completion took it (then from the completer's pin).
    pub(crate) unsafe fn push(&self, node: &Node) -> Result<(), State> {
        let mut head = self.word.load(Relaxed);
        loop {
            let state = State::from_raw(head);
            // A consumer never finds `ABANDONED` or a link (it borrows a
            // future); the producer waiting for abandonment finds its wait
            // over, and looks again where the link leads.
            if !state.is_open() {
                // ORDERING: the failed CAS or the load was Relaxed; re-read
                // with Acquire so the caller may read the outcome.
                return Err(self.state());
            }
            node.next.store(state.head(), Relaxed);
            // ORDERING: Release publishes `node` (its fields and `next`) to
            // the completer and to detachers, which load the word with Acquire.
            match self.word.compare_exchange_weak(
                head,
                state
                    .with_head(std::ptr::from_ref(node).cast_mut())
                    .into_raw(),
                Release,
                Relaxed,
            ) {
                Ok(_) => return Ok(()),
                Err(current) => head = current,
            }
        }
    }

    /// Publishes completion and takes every waiter linked at that moment.
    /// Called once, by the promise, after the outcome is written. The
    /// returned [`Wakeups`] no longer need this list, so the promise may
    /// release its handle before waking anybody. `None` when the word was
    /// empty: nobody to wake, nothing pinned, nothing else to do.
    ///
    /// Wait-free: at most one failed CAS, then one swap.
    #[inline]
    pub(crate) fn complete(&self, failed: bool) -> Option<Wakeups> {
        let done = State::completed(failed).into_raw();
        if self.complete_unwatched(done) {
            return None;
        }
        Some(self.take_waiters(done, failed))
    }

    /// [`WaitList::complete`], then [`Wakeups::wake`] at once, unless the
    /// word was `ABANDONED` or a link: then the caller gets the wakeups back
    /// to free the allocation or complete the linked block first. `None`
    /// when nothing is left to do: the common case is one CAS inline, and
    /// otherwise one call that takes and wakes.
    #[inline]
    pub(crate) fn complete_and_wake(&self, failed: bool) -> Option<Wakeups> {
        let done = State::completed(failed).into_raw();
        if self.complete_unwatched(done) {
            return None;
        }
        self.take_and_wake(done, failed)
    }

    /// Completes the word to `done` if it is empty, untagged: whether it
    /// did. Nobody waits then, so there is nothing to walk and no need to
    /// pin; otherwise nothing changed.
    #[inline]
    fn complete_unwatched(&self, done: *mut Node) -> bool {
        // ORDERING: Release publishes the outcome.
        self.word
            .compare_exchange(State::EMPTY.into_raw(), done, Release, Relaxed)
            .is_ok()
    }

    /// `complete_and_wake` when somebody waits (or the word is tagged or a
    /// link). Nothing here touches `self` after the swap: once the word is
    /// complete, a woken waiter or a callback may drop the last future,
    /// which frees the list. Holding `&self` across that free is sound only
    /// because a `WaitList` is all atomic (interior mutability: the
    /// reference is not assumed to stay dereferenceable, as in
    /// `Arc::drop`); it must never gain a plain field.
    #[inline(never)]
    fn take_and_wake(&self, done: *mut Node, failed: bool) -> Option<Wakeups> {
        let wakeups = self.take_waiters(done, failed);
        // Only this completion completes the word, so the word it took is
        // pending: not open, it is `ABANDONED` or a link.
        if !wakeups.taken.is_open() {
            return Some(wakeups);
        }
        // `wake`, inlined: the taken word stays in a register.
        wakeups.wake();
        None
    }

    /// `complete` when somebody waits (or the word is tagged or a link).
    #[inline]
    fn take_waiters(&self, done: *mut Node, failed: bool) -> Wakeups {
        // Pin before taking the list: a detacher that sees the word complete
        // retires its waiter at once, and only this pin keeps it alive.
        let guard = crate::epoch::pin();
        // ORDERING: Release publishes the outcome; Acquire makes the nodes
        // pushed (Release) before this swap readable, and, if the word was
        // `ABANDONED` or a link, every future's use of the allocation
        // (Released in `abandon` or `try_link`) happen before the completer
        // frees it.
        let taken = State::from_raw(self.word.swap(done, AcqRel));
        Wakeups {
            guard,
            taken,
            failed,
        }
    }

    /// Called by the last future on its way out. Returns `true` if the
    /// future is complete, so the caller frees the allocation; otherwise
    /// marks the word `ABANDONED` (the promise will free it) and wakes the
    /// producer's waits for that, if any (see `state.rs`).
    ///
    /// Unpinned and one RMW when nothing is linked, as on every path but a
    /// producer waiting; one load when complete.
    #[inline]
    pub(crate) fn abandon(&self) -> bool {
        // ORDERING (all three): Release hands this handle's (and, through
        // the refcount's Acquire, every earlier handle's) uses to the
        // promise; Acquire on a complete word pairs with the completing
        // Release, so the outcome and the promise's last use happen before
        // the free. (`Inner`'s `Drop` re-reads the word with Acquire before
        // it drops the outcome, so the outcome is ordered twice; the
        // success ordering's Acquire half orders nothing the future uses on
        // this path: no model can fail without it.)
        let word = self.word.load(Acquire);
        let state = State::from_raw(word);
        if state.is_complete() {
            return true;
        }
        if state.head().is_null()
            && self
                .word
                .compare_exchange(word, state.with_abandoned().into_raw(), AcqRel, Acquire)
                .is_ok()
        {
            return false;
        }
        self.abandon_watched()
    }

    /// `abandon` when a node is linked (or the word changed under it): the
    /// producer waits to hear of it. Walks and notifies the nodes linked at
    /// the mark, pinned from before it, as a completion does; the list stays
    /// in the word for the producer to unlink its nodes. A waker's panic is
    /// resumed once the walk is done; the allocation is the promise's by
    /// then and nothing else is left to do.
    #[cold]
    fn abandon_watched(&self) -> bool {
        // Pin before the mark: a producer that times out unlinks and
        // retires its node as soon as it likes, and only this pin keeps the
        // node alive for the walk.
        let guard = crate::epoch::pin();
        // ORDERING: as in `abandon`; the Acquire also makes the pushed
        // nodes (Released by their push) readable for the walk.
        let marked = self.word.fetch_update(AcqRel, Acquire, |word| {
            let state = State::from_raw(word);
            (!state.is_complete()).then(|| state.with_abandoned().into_raw())
        });
        let Ok(word) = marked else { return true };
        // After the mark no push succeeds, so the list walked is the whole
        // list; a node unlinked meanwhile is marked and skipped, and what
        // this walk reaches is freed no earlier than `guard` is dropped.
        // A callback's node holds a future: none is linked here; a waker
        // may have made some due elsewhere.
        Wakeups::producers(guard, word).wake();
        false
    }

    /// Links this pending block to `block` (see `state.rs`); `None` if it
    /// did not: the word is complete (or abandoned, which the caller's
    /// future rules out). Called by a forward that holds the block's only
    /// future, so no consumer can wait on it: a node linked here is the
    /// producer's, waiting for abandonment (or a leaked wait's), and is
    /// woken to look where the link leads. The first panic of its waker is
    /// returned, for the caller to resume once the link is in place. A
    /// `FORWARDED` block links too: whatever completes it follows the link.
    pub(crate) fn try_link(&self, block: *mut ()) -> Option<Woken> {
        let mut word = self.word.load(Relaxed);
        loop {
            let state = State::from_raw(word);
            if state.is_complete() || state.is_abandoned() {
                return None;
            }
            if !state.head().is_null() {
                return self.link_watched(block);
            }
            // ORDERING: Release orders the forwarding thread's uses of this
            // block before the promise, which takes the link with an AcqRel
            // swap (or reads it in `state` with Acquire), frees it; the
            // promise re-reads the word before it reads the outcome. A
            // failure (a producer's push, the completion) retries.
            match self.word.compare_exchange(
                word,
                State::linked_to(block).into_raw(),
                Release,
                Relaxed,
            ) {
                Ok(_) => return Some(Woken::default()),
                Err(current) => word = current,
            }
        }
    }

    /// `try_link` when nodes are linked: link, then wake them, pinned from
    /// before the link as `abandon_watched` is.
    #[cold]
    fn link_watched(&self, block: *mut ()) -> Option<Woken> {
        let guard = crate::epoch::pin();
        // ORDERING: as in `try_link`; the Acquire also makes the pushed
        // nodes (Released by their push) readable for the walk.
        let linked = self.word.fetch_update(AcqRel, Acquire, |word| {
            let state = State::from_raw(word);
            (!state.is_complete() && !state.is_abandoned())
                .then(|| State::linked_to(block).into_raw())
        });
        let word = linked.ok()?;
        // After the link no push succeeds, so the list walked is the whole
        // list; what this walk reaches is freed no earlier than `guard` is
        // dropped.
        Some(Wakeups::producers(guard, word).wake_all())
    }

    /// Sets `FORWARDED` (see `state.rs`): the block's promise was forwarded.
    /// Called by the forward that takes the promise's part, before it
    /// links or registers anything.
    pub(crate) fn mark_forwarded(&self) {
        // ORDERING: Release pairs with the Acquire of a later forward's
        // `state`, which then looks for the cycle this forward may close.
        let _ = self.word.fetch_update(Release, Relaxed, |word| {
            let state = State::from_raw(word);
            (!state.is_complete() && state.link().is_none())
                .then(|| state.with_forwarded().into_raw())
        });
    }

    /// Calls `visit` with the block each forwarding node linked in this
    /// pending list completes (see `Promise::forward`).
    pub(crate) fn forward_targets(&self, _guard: &Guard, mut visit: impl FnMut(*const ())) {
        let mut cursor = self.state().head();
        // SAFETY: `_guard` pins this thread, and every node reached here was
        // in the list after it pinned, so neither it nor its waiter is freed
        // during the walk.
        while let Some(node) = unsafe { cursor.as_ref() } {
            // ORDERING: Acquire pairs with the Release that linked the successor.
            let next = node.next.load(Acquire);
            if !is_marked(next) {
                // SAFETY: as above.
                if let Some(target) = unsafe { &*node.waiter }.forwards_to() {
                    visit(target);
                }
            }
            cursor = unmarked(next);
        }
    }

    /// Unlinks `node` (pushed on this list or never linked) so that no thread
    /// pinning after this returns can reach it.
    ///
    /// # Safety
    /// Only the node's owner may call this, once, and `guard` must be held
    /// until the node is retired.
    #[inline]
    pub(crate) unsafe fn detach(&self, node: &Node, guard: &Guard) {
        let target = std::ptr::from_ref(node).cast_mut();
        let state = self.state();
        if state.is_complete() {
            // The completer took the whole list: nothing to unlink.
            return;
        }
        // Fast path, the common case of one waiter per future: `node` is the
        // head and has no successor. Then nothing can change `node.next` (no
        // successor to unlink, and only the word receives pushes), so one CAS
        // of the word from `node` to empty unlinks it without marking; it
        // fails if anything was pushed or the future completed meanwhile.
        // ORDERING: Relaxed load: a null `next` publishes nothing to follow.
        if state.head() == target && node.next.load(Relaxed).is_null() {
            // ORDERING: Relaxed: the word goes back to empty (its tag kept);
            // nothing is published and nothing read through it.
            if self
                .word
                .compare_exchange(
                    state.into_raw(),
                    state.with_head(std::ptr::null_mut()).into_raw(),
                    Relaxed,
                    Relaxed,
                )
                .is_ok()
            {
                return;
            }
        }
        // SAFETY: the caller's guarantees, passed on.
        unsafe { self.detach_marked(node, guard) }
    }

    /// `detach` when `node` is not alone at the head: mark it, then unlink
    /// every marked node met walking from the word.
    ///
    /// # Safety
    /// As [`WaitList::detach`].
    #[cold]
    unsafe fn detach_marked(&self, node: &Node, _guard: &Guard) {
        let target = std::ptr::from_ref(node).cast_mut();
        // Mark: from now on `node.next` never changes and any walker may
        // unlink `node`. ORDERING: Relaxed, the mark publishes no data; the
        // unlinking CASes below order what matters.
        let _ = node
            .next
            .fetch_update(Relaxed, Relaxed, |next| Some(next.map_addr(|a| a | MARK)));
        'restart: loop {
            let state = self.state();
            if state.is_complete() {
                return;
            }
            let mut link = &self.word;
            // While `link` is the word: its tag, kept by an unlink there.
            let mut word = Some(state);
            let mut cursor = state.head();
            // SAFETY: `guard` pins this thread, and every node reached here was
            // in the list after it pinned, so none is freed during the walk.
            while let Some(current) = unsafe { cursor.as_ref() } {
                // ORDERING: Acquire pairs with the Release that linked the successor.
                let next = current.next.load(Acquire);
                if !is_marked(next) {
                    link = &current.next;
                    word = None;
                    cursor = next;
                    continue;
                }
                let successor = unmarked(next);
                let (expected, new) = match word {
                    Some(state) => (
                        state.with_head(cursor).into_raw(),
                        state.with_head(successor).into_raw(),
                    ),
                    None => (cursor, successor),
                };
                // ORDERING: Release passes on the happens-before this thread
                // has with `successor`'s initialisation; a failure restarts
                // with an Acquire load.
                if link
                    .compare_exchange(expected, new, Release, Relaxed)
                    .is_err()
                {
                    continue 'restart;
                }
                if cursor == target {
                    return;
                }
                cursor = successor;
            }
            return;
        }
    }
}
