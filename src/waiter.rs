//! A waiter: one parker (a thread or a task's waker), one decision word, and
//! one list node per future it waits on, all freed together through the
//! epoch once every node is unreachable.

use crate::decision::{Decision, Rule};
use crate::list::{Node, WaitList};
use crate::sync::{self, AtomicWaker, Thread, thread};
use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::ptr::NonNull;
use std::task::Waker;
use std::time::Instant;

/// What a satisfied decision wakes.
#[derive(Debug)]
pub(crate) enum Parker {
    /// A thread blocked in `park`.
    Thread(Thread),
    /// An async task, through its latest waker. Never dropped: it is empty
    /// by the time the waiter is freed (see `Registration::drop`), except
    /// when a panicking `Waker::clone` left atomic-waker's slot locked with
    /// the old waker inside; that waker is leaked rather than dropped
    /// inside some thread's epoch pin.
    Task(ManuallyDrop<AtomicWaker>),
}

impl Parker {
    /// A parker for the calling thread.
    pub(crate) fn current_thread() -> Parker {
        Parker::Thread(thread::current())
    }

    /// A parker for a task, already holding `waker`, so a completion that
    /// lands during registration is not lost.
    pub(crate) fn task(waker: &Waker) -> Parker {
        let slot = AtomicWaker::new();
        sync::register_waker(&slot, waker);
        Parker::Task(ManuallyDrop::new(slot))
    }

    fn wake(&self) {
        match self {
            Parker::Thread(thread) => thread.unpark(),
            Parker::Task(slot) => slot.wake(),
        }
    }

    /// Takes a task's waker out, so that freeing the waiter later (inside
    /// some thread's epoch pin) runs no user code. `None` for a thread, an
    /// empty slot, or a slot a concurrent `wake` is emptying (that wake then
    /// owns and drops the waker).
    fn take_waker(&self) -> Option<Waker> {
        match self {
            Parker::Thread(_) => None,
            Parker::Task(slot) => sync::take_waker(slot),
        }
    }
}

/// The shared part of one wait call. Never reused: freed only through
/// `defer_unchecked`, which is what keeps every CAS against it ABA-free.
#[derive(Debug)]
pub(crate) struct Waiter {
    /// Decides when the wait is over, and who wakes the parker.
    decision: Decision,
    /// Woken by the notifier that satisfied `decision`.
    parker: Parker,
    /// One node per future, in input order.
    nodes: Box<[Node]>,
}

impl Waiter {
    /// Called by a completer (or by registration) for the node at `index`.
    pub(crate) fn notify(&self, index: usize, failed: bool) {
        if self.decision.notify(index, failed) {
            self.parker.wake();
        }
    }
}

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
// and `Send`: atomics, `Thread`, `AtomicWaker`) and, on drop, detaches nodes
// from lists it borrows for `'a` with a `Sync` API; nothing in it is tied to
// the thread that created it.
unsafe impl Send for Registration<'_> {}
// SAFETY: `&Registration` gives access to the same `Sync` parts only.
unsafe impl Sync for Registration<'_> {}

impl<'a> Registration<'a> {
    /// Links one waiter into every list, in order, stopping early once the
    /// decision is satisfied. A list found complete is notified by the
    /// registrar itself, so every future counts exactly once.
    ///
    /// Two allocations: the waiter, and its nodes. The nodes' buffer is
    /// sized by the iterator's upper bound, which every caller keeps to a
    /// count it has already scanned (a collected `Vec`, or `take(pending)`),
    /// so a loose lower bound (a `filter` upstream) costs no regrowth; an
    /// iterator that then yields fewer costs one shrinking reallocation.
    pub(crate) fn new(
        lists: impl IntoIterator<Item = &'a WaitList>,
        rule: Rule,
        parker: Parker,
    ) -> Registration<'a> {
        let lists = lists.into_iter();
        let (lower, upper) = lists.size_hint();
        let mut nodes = Vec::with_capacity(upper.unwrap_or(lower));
        // Built before the waiter, so a panicking iterator leaks nothing.
        nodes.extend(
            lists
                .enumerate()
                .map(|(index, list)| Node::new(list, index)),
        );
        let nodes = nodes.into_boxed_slice();
        let waiter = NonNull::from(Box::leak(Box::new(Waiter {
            decision: Decision::new(rule, nodes.len()),
            parker,
            nodes,
        })));
        // SAFETY: nothing else refers to the waiter yet. Every node gets the
        // very pointer the waiter is later read and freed through, so the
        // pointers stay valid for as long as the allocation.
        for node in unsafe { &mut (*waiter.as_ptr()).nodes } {
            node.attach(waiter.as_ptr());
        }
        // SAFETY: the waiter stays allocated until `drop` retires it.
        let shared = unsafe { waiter.as_ref() };
        let mut pushed = 0;
        for node in &shared.nodes {
            if shared.decision.is_satisfied() {
                break;
            }
            pushed += 1;
            // SAFETY: the list is borrowed for `'a`, which outlives `self`. The
            // node is fresh, lives in the waiter's allocation (stable
            // address), and is detached in `drop` before retirement.
            if let Err(state) = unsafe { node.list().push(node) } {
                // The registrar counts this future itself. It owes no wake-up:
                // its caller checks the decision before it parks or pends.
                shared.decision.notify(pushed - 1, state.is_failure());
            }
        }
        shared.decision.end_registration();
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
        &self.waiter().decision
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
        rule: Rule,
    ) -> &'s Registration<'a> {
        if let Some(registration) = slot {
            let stored = catch_unwind(AssertUnwindSafe(|| registration.set_waker(waker)));
            if let Err(panic) = stored {
                *slot = None;
                resume_unwind(panic);
            }
        }
        slot.get_or_insert_with(|| Registration::new(lists(), rule, Parker::task(waker)))
    }

    /// Replaces the task's waker.
    fn set_waker(&self, waker: &Waker) {
        if let Parker::Task(slot) = &self.waiter().parker {
            sync::register_waker(slot, waker);
        }
    }

    /// Blocks the calling thread (whose parker this must be) until the
    /// decision is satisfied or `deadline` passes. Returns whether it is
    /// satisfied. Spurious wake-ups are absorbed; no epoch guard is held.
    pub(crate) fn park(&self, deadline: Option<Instant>) -> bool {
        // No spinning before the first park: on a machine with few cores a
        // spinning waiter steals the time the completer needs (measured: it
        // doubled the cross-thread round trip on 2 cores).
        let decision = self.decision();
        loop {
            if decision.is_satisfied() {
                return true;
            }
            match deadline {
                None => thread::park(),
                Some(deadline) => {
                    if sync::park_until(deadline) {
                        return decision.is_satisfied();
                    }
                }
            }
        }
    }
}

impl Drop for Registration<'_> {
    fn drop(&mut self) {
        let waiter = self.waiter();
        waiter.decision.cancel();
        // Dropped last, unpinned, once the waiter is detached and retired:
        // the task's waker is user code, and may panic or block.
        let waker = waiter.parker.take_waker();
        let guard = sync::pin();
        // Newest first: a future listed several times has its newest node at
        // the head, so each detach unlinks at the head instead of walking
        // past every later duplicate (oldest first is quadratic).
        for node in waiter.nodes[..self.pushed].iter().rev() {
            // SAFETY: the lists outlive `'a`, this registration owns the node,
            // detaches it once, and `guard` is held until the retirement below.
            unsafe { node.list().detach(node, &guard) };
        }
        let retired = self.waiter.as_ptr();
        // SAFETY: every node is now unreachable for any thread that pins
        // later (detach's guarantee), and threads pinned earlier hold the
        // epoch back until they unpin, so the waiter is freed after its last
        // use. It was allocated by `Box` in `new` and is retired once; its
        // owned parts drop on whichever thread collects it, and run no user
        // code there: a `Thread`, and an `AtomicWaker` that is never dropped
        // (see `Parker::Task`).
        unsafe {
            guard.defer_unchecked(move || drop(Box::from_raw(retired)));
        }
        drop(guard);
        sync::collect_eagerly();
        drop(waker);
    }
}
