//! A waiter: one parker (a thread, a task's waker, a callback, a ready
//! stack or a queue's slab), one decision word, and one list node per
//! future it waits on, freed through the epoch once every node is
//! unreachable. A waiter on one future (a single wait, an await, a
//! callback, a forward) holds its node inline: one allocation; a group
//! wait's nodes, `as_completed`'s and a queue slab's are a second.

use crate::callback::Callback;
use crate::decision::Decision;
use crate::list::Node;
use crate::ready::{QueueSlab, ReadyStack};
use crate::sync::{self, AtomicWaker, Thread, UnsafeCell, thread};
use crate::trampoline::Walk;
use crossbeam_epoch::Guard;
use std::mem::ManuallyDrop;
use std::ptr::NonNull;
use std::task::Waker;

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
    /// A callback, handed to the notifier that ends the decision, to run
    /// once it has woken every other waiter and unpinned.
    Callback(CallbackSlot),
    /// A consumer taking completions in order: each notification pushes
    /// its position (see `ready.rs`). Its decision is `Decision::every`,
    /// which passes every notification, so the push skips it.
    Ready(Box<ReadyStack>),
    /// A slab of a `CompletionQueue`'s nodes, one per pushed future: each
    /// notification pushes its node onto the queue's stack (see
    /// `ready.rs`). Its decision is `Decision::every`, not asked either.
    Queued(Box<QueueSlab>),
}

/// A callback waiting for its future. Invariant: its waiter's one node is
/// notified exactly once, and only that notifier takes the callback out, so
/// the cell is never accessed by two threads at once. The notifier is the
/// completer whose swap took the node, or the registrar if its push never
/// linked it: nobody detaches a callback's node, and no walk for
/// abandonment or a link reaches it, since the callback holds a future of
/// its block until it runs (the block is neither abandoned nor the sole
/// future's to link). So its decision needs no word (`Decision::every`).
#[derive(Debug)]
pub(crate) struct CallbackSlot {
    /// The callback, until the notifier takes it.
    callback: UnsafeCell<Option<Callback>>,
    /// For a forward (`Promise::forward`): the block the callback completes;
    /// null for a user's callback. Written before the waiter is shared.
    forwards_to: *const (),
}

// SAFETY: the callback is `Send`, and by the invariant above only one thread
// ever reaches the cell after the waiter is shared.
unsafe impl Sync for CallbackSlot {}

impl CallbackSlot {
    /// Takes the callback out, for the node's one notifier.
    fn take(&self) -> Option<Callback> {
        // SAFETY: the caller is the node's one notifier, so the only one to
        // reach the cell (the invariant above).
        self.callback.with_mut(|cell| unsafe { (*cell).take() })
    }
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

    /// A parker that hands `callback` to the notifier; `forwards_to` is
    /// the block a forward's callback completes (null for others).
    pub(crate) fn callback(callback: Callback, forwards_to: *const ()) -> Parker {
        Parker::Callback(CallbackSlot {
            callback: UnsafeCell::new(Some(callback)),
            forwards_to,
        })
    }

    /// The rest of a wake-up that [`Waiter::begin_notify`] said it owes:
    /// wakes the task or the sleeping consumer, or hands back the callback
    /// to run. A waker (user code) runs inside `walk`, the notifier's.
    #[inline(always)]
    fn finish_wake(&self, walk: &mut Walk) -> Option<Callback> {
        match self {
            Parker::Ready(stack) => walk.run_waker(|| stack.wake_consumer()),
            Parker::Queued(slab) => walk.run_waker(|| slab.wake_consumer()),
            Parker::Task(slot) => walk.run_waker(|| slot.wake()),
            Parker::Callback(slot) => return slot.take(),
            // Unparked by `begin_notify`, which owes nothing then.
            Parker::Thread(_) => {}
        }
        None
    }

    /// Takes a task's waker out, so that freeing the waiter later (inside
    /// some thread's epoch pin) runs no user code. `None` for a thread, an
    /// empty slot, or a slot a concurrent `wake` is emptying (that wake then
    /// owns and drops the waker).
    pub(crate) fn take_waker(&self) -> Option<Waker> {
        match self {
            // A queue's waker is its stack's, taken out by the queue.
            Parker::Thread(_) | Parker::Callback(_) | Parker::Queued(_) => None,
            Parker::Task(slot) => sync::take_waker(slot),
            Parker::Ready(stack) => stack.take_waker(),
        }
    }

    /// The slab, for a waiter whose nodes a queue hands out.
    pub(crate) fn queue_slab(&self) -> Option<&QueueSlab> {
        match self {
            Parker::Queued(slab) => Some(slab),
            _ => None,
        }
    }

    /// The ready stack, for a consumer taking completions in order.
    pub(crate) fn ready_stack(&self) -> Option<&ReadyStack> {
        match self {
            Parker::Ready(stack) => Some(stack),
            _ => None,
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
    nodes: Nodes,
}

/// A waiter's nodes, in input order.
#[derive(Debug)]
pub(crate) enum Nodes {
    /// A single node (a wait on one future), inside the waiter.
    One(Node),
    /// Any other count, in their own allocation (none for zero).
    Many(Box<[Node]>),
}

impl Nodes {
    /// The nodes `nodes` yields: inline if its upper bound is one (a wait
    /// on one future) and it yields one.
    ///
    /// The buffer of several is sized by the iterator's upper bound, which
    /// every caller keeps to a count it has already scanned (a collected
    /// `Vec`, or `take(pending)`), so a loose lower bound (a `filter`
    /// upstream) costs no regrowth; an iterator that then yields fewer
    /// costs one shrinking reallocation.
    #[inline]
    pub(crate) fn collect(mut nodes: impl Iterator<Item = Node>) -> Nodes {
        let (lower, upper) = nodes.size_hint();
        if upper == Some(1) {
            let Some(only) = nodes.next() else {
                return Nodes::Many(Box::default());
            };
            return match nodes.next() {
                None => Nodes::One(only),
                // Past its own bound: collected as any other.
                Some(second) => Nodes::Many([only, second].into_iter().chain(nodes).collect()),
            };
        }
        let mut all = Vec::with_capacity(upper.unwrap_or(lower));
        all.extend(nodes);
        Nodes::Many(all.into_boxed_slice())
    }

    /// The nodes of `nodes`: inline if it holds one.
    pub(crate) fn from_vec(mut nodes: Vec<Node>) -> Nodes {
        match nodes.len() {
            1 => Nodes::One(nodes.remove(0)),
            _ => Nodes::Many(nodes.into_boxed_slice()),
        }
    }

    /// How many nodes.
    pub(crate) fn len(&self) -> usize {
        self.as_slice().len()
    }

    /// The nodes as one slice.
    fn as_slice(&self) -> &[Node] {
        match self {
            Nodes::One(node) => std::slice::from_ref(node),
            Nodes::Many(nodes) => nodes,
        }
    }
}

impl Waiter {
    /// Allocates a waiter owning `nodes`, each attached to it. The waiter
    /// lives until [`Waiter::retire`].
    pub(crate) fn allocate(decision: Decision, parker: Parker, nodes: Nodes) -> NonNull<Waiter> {
        let waiter = NonNull::from(Box::leak(Box::new(Waiter {
            decision,
            parker,
            nodes,
        })));
        // SAFETY: nothing else refers to the waiter yet. Every node gets the
        // very pointer the waiter is later read and freed through, so the
        // pointers stay valid for as long as the allocation.
        match unsafe { &mut (*waiter.as_ptr()).nodes } {
            Nodes::One(node) => node.attach(waiter.as_ptr()),
            // A plain slice loop, which the compiler unrolls.
            Nodes::Many(nodes) => nodes
                .iter_mut()
                .for_each(|node| node.attach(waiter.as_ptr())),
        }
        waiter
    }

    /// Frees the waiter once every pinned thread has unpinned.
    ///
    /// # Safety
    /// `this` comes from [`Waiter::allocate`], is retired once, and every
    /// one of its nodes is unreachable for a thread that pins from now on.
    pub(crate) unsafe fn retire(this: NonNull<Waiter>, guard: &Guard) {
        let retired = this.as_ptr();
        // SAFETY: no thread that pins later can reach the waiter (the
        // caller's guarantee), and threads pinned earlier hold the epoch
        // back until they unpin, so it is freed after its last use. It was
        // allocated by `Box` in `allocate` and is retired once; its owned
        // parts drop on whichever thread collects it, and run no user code
        // there: a `Thread`, an `AtomicWaker` that is never dropped (see
        // `Parker::Task` and `WakerSlot`), an empty callback slot (a
        // callback waiter is retired only after its callback was taken
        // out), or a `QueueSlab` (pointers, numbers, and cells whose
        // futures were moved out: a slab is retired once each is).
        unsafe {
            guard.defer_unchecked(move || drop(Box::from_raw(retired)));
        }
    }

    /// The decision word.
    pub(crate) fn decision(&self) -> &Decision {
        &self.decision
    }

    /// The parker.
    pub(crate) fn parker(&self) -> &Parker {
        &self.parker
    }

    /// The nodes, in input order.
    pub(crate) fn nodes(&self) -> &[Node] {
        self.nodes.as_slice()
    }

    /// The block this waiter's callback completes, if it is a forward's.
    pub(crate) fn forwards_to(&self) -> Option<*const ()> {
        match &self.parker {
            Parker::Callback(slot) if !slot.forwards_to.is_null() => Some(slot.forwards_to),
            _ => None,
        }
    }

    /// Called by a walk (a completion's, or one for abandonment or a
    /// link) for `node`, one of this waiter's; `walk` is that walk.
    /// The caller that ends the decision wakes the parker; if that is a
    /// callback, it is handed back for the caller to run (unpinned).
    #[inline]
    pub(crate) fn notify(&self, node: &Node, failed: bool, walk: &mut Walk) -> Option<Callback> {
        if self.begin_notify(node, failed) {
            self.finish_notify(walk)
        } else {
            None
        }
    }

    /// The part of [`Waiter::notify`] that runs no user code and hands
    /// nothing out: counts the notification in the decision, and if that
    /// ends it, unparks the thread; for a ready stack or a queue's slab
    /// (whose decisions pass every notification, and are not asked),
    /// pushes `node` (its index, for a ready stack) on the consumer's
    /// stack. Returns whether the notification still owes
    /// [`Waiter::finish_notify`] (a task's waker or a callback, once it
    /// ended the decision; or a stack's consumer that the push found
    /// asleep): then the caller must call it, within its walk, before it
    /// notifies any other node.
    #[inline(always)]
    pub(crate) fn begin_notify(&self, node: &Node, failed: bool) -> bool {
        match &self.parker {
            // SAFETY: a linked node is notified once (only the swap that
            // takes it off its list reaches it: abandonment and link
            // wake-ups notify producers' nodes), and a ready stack's
            // nodes have distinct indices (`Registration::ready`).
            Parker::Ready(stack) => unsafe { stack.push(node.index()) },
            Parker::Queued(slab) => slab.push(node),
            Parker::Thread(thread) => {
                if self.decision.notify(node.index(), failed) {
                    thread.unpark();
                }
                false
            }
            Parker::Task(_) | Parker::Callback(_) => self.decision.notify(node.index(), failed),
        }
    }

    /// The rest of a notification [`Waiter::begin_notify`] said it owes:
    /// runs the waker within `walk`, or hands back the callback.
    #[inline(always)]
    pub(crate) fn finish_notify(&self, walk: &mut Walk) -> Option<Callback> {
        self.parker.finish_wake(walk)
    }

    /// Takes the callback out of a callback's waiter whose one node its
    /// registrar found complete: the registrar is then its one notifier.
    pub(crate) fn take_unlinked_callback(&self) -> Option<Callback> {
        match &self.parker {
            Parker::Callback(slot) => slot.take(),
            _ => None,
        }
    }

    /// Called by the registrar for a node with `index`, whose push found the
    /// future complete: counts it in the decision, and owes no wake-up (the
    /// registrar checks the decision before it parks or pends); for a ready
    /// stack, pushes `index` instead (nobody sleeps on it yet, so nobody is
    /// woken).
    pub(crate) fn notify_unlinked(&self, index: usize, failed: bool) {
        if let Parker::Ready(stack) = &self.parker {
            // SAFETY: the node's push found its future complete, so no
            // completer notifies it: the registrar is its one notifier, and
            // the indices are distinct (`Registration::ready`).
            let asleep = unsafe { stack.push(index) };
            debug_assert!(!asleep, "nobody sleeps on a stack still registering");
        } else {
            self.decision.notify(index, failed);
        }
    }
}
