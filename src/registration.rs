//! A registration: one waiter linked into the lists of the futures it waits
//! on, owned by the wait call (blocking or async) and unlinked when dropped.

use crate::callback::Callback;
use crate::decision::Decision;
use crate::epoch;
use crate::list::{Node, WaitList};
use crate::ready::ReadyStack;
use crate::return_when::ReturnWhen;
use crate::sync::{self, thread};
use crate::trampoline;
use crate::waiter::{Nodes, Parker, Waiter};
use std::marker::PhantomData;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::ptr::NonNull;
use std::task::Waker;
use std::time::{Duration, Instant};

/// The owner's handle on a registered waiter. Dropping it detaches every node
/// and retires the waiter through the epoch.
#[derive(Debug)]
pub(crate) struct Registration<'a> {
    /// Points to a `Box<Waiter>` leaked at registration, freed by the epoch.
    waiter: NonNull<Waiter>,
    /// How many nodes, from the first, registration tried to push.
    pushed: usize,
    /// The lists the nodes point to must outlive the registration.
    lists: PhantomData<&'a WaitList>,
}

// SAFETY: the registration only hands out `&Decision`/`&Parker` (both `Sync`
// and `Send`: atomics, `Thread`, `AtomicWaker`, and cells each reached by
// one thread at a time, see `CallbackSlot` and `ReadyStack`) and, on drop,
// detaches nodes from lists it borrows for `'a` with a `Sync` API; nothing
// in it is tied to the thread that created it.
unsafe impl Send for Registration<'_> {}
// SAFETY: `&Registration` gives access to the same `Sync` parts only.
unsafe impl Sync for Registration<'_> {}

impl<'a> Registration<'a> {
    /// Links one waiter into every list, in order, stopping early once the
    /// decision is satisfied. A list found complete is notified by the
    /// registrar itself, so every future counts exactly once.
    ///
    /// One allocation for one list, two for more: the waiter, and its
    /// nodes (see [`Nodes::collect`]).
    pub(crate) fn new(
        lists: impl IntoIterator<Item = &'a WaitList>,
        return_when: ReturnWhen,
        parker: Parker,
    ) -> Registration<'a> {
        // Built before the waiter, so a panicking iterator leaks nothing.
        let nodes = Nodes::collect(
            lists
                .into_iter()
                .enumerate()
                .map(|(index, list)| Node::new(list, index)),
        );
        let decision = Decision::new(return_when, nodes.len());
        // SAFETY: each node's list is one of `lists`, borrowed for `'a`.
        unsafe { Registration::with_decision(nodes, decision, Decision::is_over, parker) }
    }

    /// A registration that pushes each completion's node index on `stack`,
    /// the consumer's ready stack. The indices must be below the stack's
    /// count (a push of another panics).
    ///
    /// # Safety
    /// Every node's list outlives `'a`, and the nodes' indices are distinct
    /// (the stack's push of an index must come once: see
    /// [`ReadyStack::push`]).
    pub(crate) unsafe fn ready(nodes: Vec<Node>, stack: ReadyStack) -> Registration<'a> {
        let parker = Parker::Ready(Box::new(stack));
        // `every` is never over: no look before each push.
        let nodes = Nodes::from_vec(nodes);
        // SAFETY: the caller's guarantee.
        unsafe { Registration::with_decision(nodes, Decision::every(), |_| false, parker) }
    }

    /// Links a waiter owning `nodes` into each one's list, with `decision`
    /// and `is_over` (what [`Decision::is_over`] says of it) looked at
    /// before each push.
    ///
    /// # Safety
    /// Every node's list outlives `'a`.
    unsafe fn with_decision(
        nodes: Nodes,
        decision: Decision,
        is_over: impl Fn(&Decision) -> bool,
        parker: Parker,
    ) -> Registration<'a> {
        let waiter = Waiter::allocate(decision, parker, nodes);
        // SAFETY: the waiter stays allocated until `drop` retires it.
        let shared = unsafe { waiter.as_ref() };
        let mut pushed = 0;
        for node in shared.nodes() {
            if is_over(shared.decision()) {
                break;
            }
            pushed += 1;
            // SAFETY: the list outlives `'a` (the caller's guarantee), which
            // the returned registration cannot outlive. The node is fresh,
            // lives in the waiter's allocation (stable address), and is
            // detached in `drop` before retirement.
            if let Err(state) = unsafe { node.list().push(node) } {
                // The registrar counts this future itself.
                shared.notify_unlinked(node.index(), state.is_failure());
            }
        }
        shared.decision().end_registration();
        Registration {
            waiter,
            pushed,
            lists: PhantomData,
        }
    }

    fn waiter(&self) -> &Waiter {
        // SAFETY: the waiter is freed only after `drop`, and the reference
        // cannot outlive `&self`.
        unsafe { self.waiter.as_ref() }
    }

    /// The decision word.
    pub(crate) fn decision(&self) -> &Decision {
        self.waiter().decision()
    }

    /// The ready stack, if made by [`Registration::ready`].
    pub(crate) fn ready_stack(&self) -> Option<&ReadyStack> {
        self.waiter().parker().ready_stack()
    }

    /// An async wait's registration with `waker` in place, for a poll about
    /// to check the decision: the one in `slot` with its waker replaced (a
    /// re-poll registers nothing anew), or a new one on `lists`.
    ///
    /// If the waker's `clone` (or the old waker's `drop`) panics while
    /// atomic-waker stores it, the slot is locked for good and would never
    /// wake again. The registration is then dropped (leaking the waker stuck
    /// in it, see [`Parker::Task`]) before the panic goes on, so a later
    /// poll registers afresh and no wake-up is lost.
    pub(crate) fn with_waker<'s, L: IntoIterator<Item = &'a WaitList>>(
        slot: &'s mut Option<Registration<'a>>,
        waker: &Waker,
        lists: impl FnOnce() -> L,
        return_when: ReturnWhen,
    ) -> &'s Registration<'a> {
        if let Some(registration) = slot {
            let stored = catch_unwind(AssertUnwindSafe(|| registration.set_waker(waker)));
            if let Err(panic) = stored {
                *slot = None;
                resume_unwind(panic);
            }
        }
        slot.get_or_insert_with(|| Registration::new(lists(), return_when, Parker::task(waker)))
    }

    /// Replaces the task's waker.
    fn set_waker(&self, waker: &Waker) {
        if let Parker::Task(slot) = self.waiter().parker() {
            sync::register_waker(slot, waker);
        }
    }

    /// Blocks the calling thread (whose parker this must be) until the
    /// decision is over or `deadline` passes. Returns whether it is over.
    /// Spurious wake-ups are absorbed; no epoch guard is held.
    pub(crate) fn park(&self, deadline: Option<Instant>) -> bool {
        // No spinning before the first park: on a machine with few cores a
        // spinning waiter steals the time the completer needs (measured: it
        // doubled the cross-thread round trip on 2 cores).
        let decision = self.decision();
        loop {
            if decision.is_over() {
                return true;
            }
            match deadline {
                None => thread::park(),
                Some(deadline) => {
                    if sync::park_until(deadline) {
                        return decision.is_over();
                    }
                }
            }
        }
    }
}

impl Drop for Registration<'_> {
    fn drop(&mut self) {
        let waiter = self.waiter();
        waiter.decision().cancel();
        // Dropped last, unpinned, once the waiter is detached and retired:
        // the task's waker is user code, and may panic or block.
        let waker = waiter.parker().take_waker();
        let guard = epoch::pin();
        // Newest first: a future listed several times has its newest node at
        // the head, so each detach unlinks at the head instead of walking
        // past every later duplicate (oldest first is quadratic).
        for node in waiter.nodes()[..self.pushed].iter().rev() {
            // SAFETY: the lists outlive `'a`, this registration owns the node,
            // detaches it once, and `guard` is held until the retirement below.
            unsafe { node.list().detach(node, &guard) };
        }
        // SAFETY: allocated in `new`, retired once, here; every node is now
        // unreachable for a thread that pins later (detach's guarantee).
        unsafe { Waiter::retire(self.waiter, &guard) };
        drop(guard);
        epoch::collect_eagerly();
        drop(waker);
    }
}

/// Blocks the calling thread on `lists` under `return_when` until the
/// decision is over or `deadline` passes. Returns the winning position under
/// [`ReturnWhen::FirstCompleted`] (always `Some` when `deadline` is `None`).
///
/// Called inside a callback, it first runs the callbacks queued behind that
/// one on this thread: one of them may be what completes `lists`.
pub(crate) fn block<'a>(
    lists: impl IntoIterator<Item = &'a WaitList>,
    return_when: ReturnWhen,
    deadline: Option<Instant>,
) -> Option<usize> {
    trampoline::run_queued();
    let registration = Registration::new(lists, return_when, Parker::current_thread());
    registration.park(deadline);
    registration.decision().winner()
}

/// Links a waiter that runs `callback` into `list`, for the completer to
/// run (see `Wakeups::wake_all`); `forwards_to` is the block a forward's
/// callback completes, null for others. If the list is complete already,
/// nothing stays linked and the callback is handed back for the caller to
/// run.
pub(crate) fn register_callback(
    list: &WaitList,
    callback: Callback,
    forwards_to: *const (),
) -> Option<Callback> {
    // Its one node is notified once (see `CallbackSlot`): no race to decide.
    let decision = Decision::every();
    let nodes = Nodes::One(Node::new(list, 0));
    let parker = Parker::callback(callback, forwards_to);
    let waiter = Waiter::allocate(decision, parker, nodes);
    // SAFETY: the waiter stays allocated until it is retired: by the
    // completer that takes its callback, or below.
    let shared = unsafe { waiter.as_ref() };
    // SAFETY: the node is fresh and lives in the waiter's allocation; once
    // linked it is never detached: the completion takes it with the whole
    // list, and only then is the waiter retired.
    let Err(_complete) = (unsafe { list.push(&shared.nodes()[0]) }) else {
        return None;
    };
    // Never linked: this thread is its one notifier, so it takes the callback.
    let callback = shared.take_unlinked_callback();
    // SAFETY: allocated above, never shared, retired once, here.
    unsafe { Waiter::retire(waiter, &epoch::pin()) };
    epoch::collect_eagerly();
    callback
}

/// Whether `deadline` has passed, so a wait only takes one last look. Called
/// inside a callback, it first runs the callbacks queued behind that one on
/// this thread, as a blocking wait does: one of them may complete what the
/// look is for.
pub(crate) fn time_is_up(deadline: Option<Instant>) -> bool {
    let up = deadline.is_some_and(|deadline| Instant::now() >= deadline);
    if up {
        trampoline::run_queued();
    }
    up
}

/// The deadline `timeout` from now; `None` (wait forever) when it is too far
/// to represent, so `Duration::MAX` never panics.
pub(crate) fn deadline_after(timeout: Duration) -> Option<Instant> {
    Instant::now().checked_add(timeout)
}
