//! Ready stacks: the lock-free stacks completions are pushed onto, in
//! completion order, for `as_completed` and `CompletionQueue`.
//!
//! [`ReadyStack`] is the multi-producer, single-consumer stack of positions
//! that `as_completed` takes its completions from. Completers
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
//! outcome), to the consumer's `Acquire` swap. Every write to the top after
//! `new` is a read-modify-write, so the swap is ordered after every push
//! it takes, not only the newest: a take reads only links written before
//! it, which is what makes the links' plain cells sound (the top must
//! never gain a plain store). The sleep's CAS is `Release`
//! and the push's `Acquire`, so a pusher that sees `PARKED` sees the waker
//! registered before it (atomic-waker orders its own slot, and
//! `waker_slot.rs` the slot's replacement after a panic).

use crate::list::Node;
use crate::sync::{AtomicPtr, AtomicUsize, Thread, UnsafeCell};
use crate::waker_slot::WakerSlot;
use crossbeam_epoch::Guard;
use std::marker::PhantomData;
use std::mem::MaybeUninit;
use std::ptr::NonNull;
use std::sync::Arc;
use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed};
use std::task::{Wake, Waker};

/// The stack link of `node`, a queue's node.
#[inline]
fn link_of(node: &Node) -> &QueueLink {
    &QueueSlab::of(node).links[node.index()]
}

/// Wakes a consumer blocked in a thread: the waker a blocking take
/// registers on a ready stack.
#[derive(Debug)]
pub(crate) struct Unparker(pub(crate) Thread);

impl Wake for Unparker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

/// A [`ReadyStack`] link: uninitialised until its position is pushed.
type Link = UnsafeCell<MaybeUninit<usize>>;

/// Flag on the top: the consumer found the stack empty and sleeps.
const PARKED: usize = 1 << (usize::BITS - 1);

/// The stack of positions whose futures completed, not yet taken.
#[derive(Debug)]
pub(crate) struct ReadyStack {
    /// Position + 1 of the newest entry (0: empty), with [`PARKED`].
    top: AtomicUsize,
    /// `links[i]`: position + 1 of the entry pushed before `i` (0: none).
    /// Written only by `i`'s push, before the CAS that publishes `i`, and
    /// read only by a take that took `i`: uninitialised until then, so a
    /// new stack does not clear them.
    links: Box<[Link]>,
    /// The consumer's waker, woken by a push that clears `PARKED` (taken
    /// out before the stack is retired).
    waker: WakerSlot,
}

// SAFETY: the links are the only cells: link `i` is written only by `i`'s
// one push (`push`'s contract), before the CAS that publishes `i`, and read
// only by the take whose swap took `i`, ordered after that CAS; every
// other field is atomic or `Sync`.
unsafe impl Sync for ReadyStack {}

impl ReadyStack {
    /// An empty stack for positions `0..count`.
    pub(crate) fn new(count: usize) -> ReadyStack {
        ReadyStack {
            top: AtomicUsize::new(0),
            links: (0..count)
                .map(|_| UnsafeCell::new(MaybeUninit::uninit()))
                .collect(),
            waker: WakerSlot::new(),
        }
    }

    /// Pushes `index`. Returns whether the consumer sleeps: the caller
    /// then owes it [`ReadyStack::wake_consumer`].
    ///
    /// # Safety
    /// `index` is pushed at most once onto this stack: its link is a plain
    /// cell, which a second push would write while a take reads it.
    #[inline]
    #[must_use = "a sleeping consumer must be woken"]
    pub(crate) unsafe fn push(&self, index: usize) -> bool {
        // ORDERING: Relaxed: the CAS below orders everything.
        let mut top = self.top.load(Relaxed);
        loop {
            // SAFETY: only this push writes link `index` (the caller's
            // guarantee), and no take reads it before the CAS below
            // publishes `index`.
            self.links[index]
                .with_mut(|link| unsafe { link.write(MaybeUninit::new(top & !PARKED)) });
            // ORDERING: Release publishes the link and the completion to
            // the consumer's Acquire swap; Acquire pairs with the Release
            // CAS that set `PARKED` after registering the waker.
            match self
                .top
                .compare_exchange_weak(top, index + 1, AcqRel, Relaxed)
            {
                Ok(_) => return top & PARKED != 0,
                Err(current) => top = current,
            }
        }
    }

    /// Wakes the consumer, which a push found asleep.
    pub(crate) fn wake_consumer(&self) {
        self.waker.wake();
    }

    /// Takes every entry: returns the oldest (`None` if empty), and
    /// appends the others to `newer`, newest first (so `newer.pop()` goes
    /// on in the order they were pushed). A take of one entry leaves
    /// `newer` untouched.
    pub(crate) fn take(&self, newer: &mut Vec<usize>) -> Option<usize> {
        // ORDERING: Acquire pairs with the Release of every push it takes.
        let newest = self.top.swap(0, Acquire) & !PARKED;
        let index = newest.checked_sub(1)?;
        match self.link(index) {
            0 => Some(index),
            older => Some(self.take_chain(index, older, newer)),
        }
    }

    /// The rest of a take of more than one entry: appends `newest` and
    /// the chain from `older` (a link) to `newer` but the last, the
    /// oldest, which it returns. Out of line, so a take of one entry
    /// carries no vector code.
    #[inline(never)]
    fn take_chain(&self, newest: usize, older: usize, newer: &mut Vec<usize>) -> usize {
        let (mut index, mut next) = (newest, older);
        while next != 0 {
            newer.push(index);
            index = next - 1;
            next = self.link(index);
        }
        index
    }

    /// The link of `index`, which a take took.
    #[inline]
    fn link(&self, index: usize) -> usize {
        // SAFETY: `index` was taken (from the top, or from the link of an
        // entry taken), so its push wrote the link before its CAS, which
        // happens-before the take's `Acquire` swap (see the module's
        // orderings); nothing writes it again (each index is pushed once).
        self.links[index].with(|link| unsafe { (*link).assume_init() })
    }

    /// Prepares to sleep: stores `waker` for the next push to wake, then
    /// flags the stack `PARKED`. Returns `false` if an entry arrived
    /// meanwhile: take it instead of sleeping.
    pub(crate) fn prepare_sleep(&self, waker: &Waker) -> bool {
        self.waker.register(waker);
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
        self.waker.take()
    }
}

/// A growing ready stack: the lock-free multi-producer, single-consumer
/// stack of nodes that a `CompletionQueue` takes its completions from,
/// intrusive over the nodes (each links the next through its
/// [`QueueLink`]). The queue hands out the nodes of slabs of
/// [`SLAB_LEN`] (one waiter each, whose parker is a [`QueueSlab`]), one
/// node per pushed future, so the set can grow while the consumer drains it.
///
/// # Protocol
/// As [`ReadyStack`], with a node's address for a position:
/// - *Push* (a completer, from `Waiter::begin_notify`, pinned):
///   `link.next = top`, then CAS the top from `top` to the node. A node is
///   notified once and handed out once (a slab's nodes are never reused:
///   the slab is freed only through the epoch), so it is pushed at most
///   once, and the push is ABA-safe.
/// - *Take* (the consumer): one swap of the top to null takes the chain;
///   the consumer then owns every `next` in it and, if it holds more than
///   one node, reverses it in place, so it hands the futures back oldest
///   first. A slab whose every node was handed out and taken (or found
///   done, or detached) is retired through the epoch (a completer still
///   pinned in its push may read it), several at a time.
/// - *Sleep*: register the waker, then CAS the top from null to `PARKED`;
///   a push that replaces `PARKED` wakes the waker.
/// - *Drop* (the queue): take the waker out; then, pinned, detach every
///   node linked and not taken, retire every slab, and retire the stack
///   itself through the epoch: a completer pinned before the detach may
///   still push onto it.
///
/// # Orderings
/// As [`ReadyStack`]: the push's `AcqRel` CAS publishes the link and the
/// completion (the future's word was swapped complete before the walk that
/// pushes) to the take's `Acquire` swap, and sees the waker registered
/// before the sleep's `Release` CAS.
#[derive(Debug)]
pub(crate) struct QueueStack {
    /// The newest node pushed and not taken (null: empty), with the
    /// [`PARKED_TAG`] bit.
    top: AtomicPtr<Node>,
    /// The consumer's waker, as [`ReadyStack`]'s: taken out before the
    /// stack is retired.
    waker: WakerSlot,
}

/// The nodes a [`QueueStack::take`] took, oldest first, each with its
/// slab. The consumer may retire a node's slab once it has the node: the
/// node's link was read by then.
#[derive(Debug)]
pub(crate) struct Taken<'s> {
    /// The oldest node not handed over yet (null: none), whose `next`
    /// names the node pushed after it.
    oldest: *mut Node,
    /// Taken from this stack.
    _stack: PhantomData<&'s QueueStack>,
}

impl<'s> Iterator for Taken<'s> {
    type Item = (&'s Node, &'s QueueSlab);

    #[inline]
    fn next(&mut self) -> Option<(&'s Node, &'s QueueSlab)> {
        // SAFETY: every node taken was pushed by a completion, and its slab
        // is retired by the queue only once the node is handed over, after
        // its link is read here; it is freed only once the queue unpins,
        // after its last use of the node.
        let node = unsafe { self.oldest.as_ref() }?;
        let slab = QueueSlab::of(node);
        // ORDERING: Relaxed: ordered by the take's Acquire swap, or written
        // by this thread as it reversed the chain.
        self.oldest = slab.links[node.index()].next.load(Relaxed);
        Some((node, slab))
    }
}

/// Flag on [`QueueStack`]'s top: the consumer found it empty and sleeps.
/// Nodes are 16-byte aligned, so the bit is never an address's.
const PARKED_TAG: usize = 1;
const _: () = assert!(align_of::<Node>() > PARKED_TAG);

/// How many nodes a [`QueueSlab`]'s waiter holds: one allocation of the
/// waiter, one of its nodes and one of the slab per this many pushes.
/// Two under loom, so that models cross slabs.
#[cfg(not(forthcoming_loom))]
pub(crate) const SLAB_LEN: usize = 32;
#[cfg(forthcoming_loom)]
pub(crate) const SLAB_LEN: usize = 2;
const _: () = assert!(SLAB_LEN <= u32::BITS as usize);

/// A queue's future held in a [`QueueLink`], its type erased: the slab is
/// not generic, and a future is one pointer ([`QueueSlab::hold`] checks).
type Held = MaybeUninit<*const ()>;

/// The parker of a waiter whose [`SLAB_LEN`] nodes a `CompletionQueue`
/// hands out, one per pushed future: a completion notifies the node, which
/// pushes itself onto the queue's stack.
#[derive(Debug)]
pub(crate) struct QueueSlab {
    /// The stack the completions push onto; the queue retires it only
    /// after detaching every node that links to it, so it stays alive for
    /// every thread pinned while it could reach such a node.
    stack: *const QueueStack,
    /// `links[i]`: the stack link of node `i`.
    links: [QueueLink; SLAB_LEN],
    /// Bit `i` set: node `i` is outstanding, its link holding its future:
    /// linked into the future's list, in a completer's walk, or on the
    /// stack. Set once the node is linked, cleared when it is released
    /// (taken, or detached). Only the queue's owner touches it.
    outstanding: UnsafeCell<u32>,
    /// Where the queue's list of live slabs holds this one. Only the
    /// queue's owner touches it.
    position: UnsafeCell<usize>,
}

/// A node's place in a [`QueueStack`].
#[derive(Debug)]
pub(crate) struct QueueLink {
    /// The node pushed before this one (older), while on the stack.
    next: AtomicPtr<Node>,
    /// The node's future while the node is outstanding (uninitialised
    /// otherwise): written by the queue's owner once it linked the node,
    /// moved out by its take or its drop. Only the owner touches it.
    future: UnsafeCell<Held>,
}

impl QueueSlab {
    /// The slab `node`, a queue's node, was handed out from.
    #[inline]
    pub(crate) fn of(node: &Node) -> &QueueSlab {
        // SAFETY: a queue's node points to its slab's waiter, which the
        // queue retires only once the node is released (taken, detached,
        // or never linked), after its last use here.
        let waiter = unsafe { &*node.waiter() };
        waiter.parker().queue_slab().expect("a queue's node")
    }

    /// A slab for `stack`, its nodes not handed out, held at `position`
    /// of the queue's live slabs.
    pub(crate) fn new(stack: NonNull<QueueStack>, position: usize) -> QueueSlab {
        QueueSlab {
            stack: stack.as_ptr(),
            links: std::array::from_fn(|_| QueueLink {
                next: AtomicPtr::new(std::ptr::null_mut()),
                future: UnsafeCell::new(MaybeUninit::uninit()),
            }),
            outstanding: UnsafeCell::new(0),
            position: UnsafeCell::new(position),
        }
    }

    /// Pushes `node` (one of this slab's waiter's) onto the stack. Returns
    /// whether the consumer sleeps: the caller then owes it
    /// [`QueueSlab::wake_consumer`].
    #[must_use = "a sleeping consumer must be woken"]
    pub(crate) fn push(&self, node: &Node) -> bool {
        // SAFETY: the notifier is pinned and reached `node` through a list
        // it took while pinned, so the queue had not yet retired the stack,
        // which is freed only after this thread unpins. (Only a completion
        // notifies a queue's node: abandonment and link wake-ups notify
        // producers' nodes, and a queue never waits for abandonment.)
        unsafe { (*self.stack).push(node, &self.links[node.index()]) }
    }

    /// Wakes the queue's consumer, which a push found asleep.
    pub(crate) fn wake_consumer(&self) {
        // SAFETY: as in `push`, which the caller just made.
        unsafe { (*self.stack).waker.wake() }
    }

    /// Holds `future` in node `index`'s link, and counts the node
    /// outstanding: the queue's owner, once it linked the node.
    ///
    /// # Safety
    /// Node `index` is not outstanding, and `F` is the queue's future type
    /// (every node of a slab holds the same type).
    pub(crate) unsafe fn hold<F>(&self, index: usize, future: F) {
        const {
            assert!(size_of::<F>() == size_of::<Held>() && align_of::<F>() <= align_of::<Held>());
        }
        // SAFETY: only the queue's owner, the caller, touches a link's
        // `future` and the slab's `outstanding` and `position` (completers
        // use `stack` and the links' `next`), and no reference to either
        // outlives its access; the cell is as large and as aligned as `F`
        // (checked above), and holds no future (the caller's guarantee).
        self.links[index]
            .future
            .with_mut(|cell| unsafe { cell.cast::<F>().write(future) });
        // SAFETY: as above.
        self.outstanding
            .with_mut(|mask| unsafe { *mask |= 1 << index });
    }

    /// Moves node `index`'s future out and counts the node released (taken
    /// off the stack, or detached): the queue's owner. Returns the future
    /// and whether no node of the slab is outstanding any more.
    ///
    /// # Safety
    /// Node `index` is outstanding, holding an `F` (see [`QueueSlab::hold`]).
    pub(crate) unsafe fn release<F>(&self, index: usize) -> (F, bool) {
        // SAFETY: as in `hold`; the cell holds an `F` (the caller's
        // guarantee), moved out once: the node is counted released below.
        let future = self.links[index]
            .future
            .with(|cell| unsafe { cell.cast::<F>().read() });
        // SAFETY: as in `hold`.
        let left = self.outstanding.with_mut(|mask| unsafe {
            *mask &= !(1 << index);
            *mask
        });
        (future, left == 0)
    }

    /// The outstanding nodes' indices, in order, as they are now: the
    /// queue's owner.
    pub(crate) fn outstanding(&self) -> impl Iterator<Item = usize> {
        // SAFETY: as in `hold`.
        let mut mask = self.outstanding.with(|mask| unsafe { *mask });
        std::iter::from_fn(move || {
            let index = mask.trailing_zeros() as usize;
            mask &= mask.checked_sub(1)?;
            Some(index)
        })
    }

    /// Whether no node of the slab is outstanding: the queue's owner.
    pub(crate) fn is_released(&self) -> bool {
        // SAFETY: as in `hold`.
        self.outstanding.with(|mask| unsafe { *mask == 0 })
    }

    /// Where the queue's list of live slabs holds this one.
    pub(crate) fn position(&self) -> usize {
        // SAFETY: as in `hold`.
        self.position.with(|position| unsafe { *position })
    }

    /// Records that the queue's list of live slabs moved this one to
    /// `position`.
    pub(crate) fn move_to(&self, position: usize) {
        // SAFETY: as in `hold`.
        self.position.with_mut(|cell| unsafe { *cell = position });
    }
}

impl QueueStack {
    /// An empty stack, leaked: freed by [`QueueStack::retire`].
    pub(crate) fn allocate() -> NonNull<QueueStack> {
        NonNull::from(Box::leak(Box::new(QueueStack {
            top: AtomicPtr::new(std::ptr::null_mut()),
            waker: WakerSlot::new(),
        })))
    }

    /// Pushes `node`, whose stack link is `link`. Returns whether the
    /// consumer sleeps.
    fn push(&self, node: &Node, link: &QueueLink) -> bool {
        let new = std::ptr::from_ref(node).cast_mut();
        // ORDERING: Relaxed: the CAS below orders everything.
        let mut top = self.top.load(Relaxed);
        loop {
            // ORDERING: Relaxed, published by the Release CAS below.
            link.next.store(top.map_addr(|a| a & !PARKED_TAG), Relaxed);
            // ORDERING: Release publishes the link and the completion to the
            // consumer's Acquire swap; Acquire pairs with the Release CAS
            // that set `PARKED_TAG` after registering the waker.
            match self.top.compare_exchange_weak(top, new, AcqRel, Relaxed) {
                Ok(_) => return top.addr() & PARKED_TAG != 0,
                Err(current) => top = current,
            }
        }
    }

    /// Takes every node pushed. Returns whether the consumer was asleep
    /// (the stack was `PARKED`): a take that is not the consumer's own then
    /// owes it a wake-up, since later pushes find no `PARKED`; and the
    /// nodes, in the order they were pushed.
    #[inline]
    pub(crate) fn take(&self) -> (bool, Taken<'_>) {
        // ORDERING: Acquire pairs with the Release of every push it takes.
        let newest = self.top.swap(std::ptr::null_mut(), Acquire);
        let was_parked = newest.addr() & PARKED_TAG != 0;
        let newest = newest.map_addr(|a| a & !PARKED_TAG);
        // SAFETY: every node on the chain was pushed by a completion, and
        // its slab is retired by the queue only once this take hands the
        // node back, so it is alive.
        let oldest = match unsafe { newest.as_ref() } {
            // ORDERING: Relaxed: ordered by the swap's Acquire above, and
            // the consumer alone reads and writes `next` after it.
            Some(node) if !link_of(node).next.load(Relaxed).is_null() => Self::reverse(newest),
            _ => newest,
        };
        let taken = Taken {
            oldest,
            _stack: PhantomData,
        };
        (was_parked, taken)
    }

    /// Reverses a taken chain of more than one node in place, so that each
    /// `next` names the node pushed after it; returns the oldest. Out of
    /// line: a chain of one needs nothing.
    #[inline(never)]
    fn reverse(newest: *mut Node) -> *mut Node {
        let mut cursor = newest;
        let mut newer: *mut Node = std::ptr::null_mut();
        // SAFETY: as in `take`.
        while let Some(node) = unsafe { cursor.as_ref() } {
            let link = link_of(node);
            // ORDERING: Relaxed: ordered by the take's Acquire swap, and
            // the consumer alone reads and writes `next` after it.
            cursor = link.next.load(Relaxed);
            link.next.store(newer, Relaxed);
            newer = std::ptr::from_ref(node).cast_mut();
        }
        newer
    }

    /// Prepares to sleep, as [`ReadyStack::prepare_sleep`]: `false` if a
    /// node arrived meanwhile, to take instead of sleeping.
    pub(crate) fn prepare_sleep(&self, waker: &Waker) -> bool {
        self.waker.register(waker);
        let parked = std::ptr::without_provenance_mut(PARKED_TAG);
        // ORDERING: Release publishes the registration to the pusher that
        // sees `PARKED_TAG`; Acquire on failure: a node to take.
        match self
            .top
            .compare_exchange(std::ptr::null_mut(), parked, AcqRel, Acquire)
        {
            Ok(_) => true,
            Err(top) => top == parked,
        }
    }

    /// Takes the consumer's waker out before the stack is retired.
    pub(crate) fn take_waker(&self) -> Option<Waker> {
        self.waker.take()
    }

    /// Frees the stack once every pinned thread has unpinned.
    ///
    /// # Safety
    /// `this` comes from [`QueueStack::allocate`], is retired once, after
    /// every node that links to it was detached (so no thread pinning from
    /// now on can reach it).
    pub(crate) unsafe fn retire(this: NonNull<QueueStack>, guard: &Guard) {
        let retired = this.as_ptr();
        // SAFETY: threads pinned earlier hold the epoch back until they
        // unpin, and no later one reaches the stack (the caller's
        // guarantee); it was allocated by `Box`, is retired once, and its
        // drop runs no user code (the waker was taken out, and a waker
        // stuck in the slot is leaked: see `WakerSlot`).
        unsafe { guard.defer_unchecked(move || drop(Box::from_raw(retired))) };
    }
}
