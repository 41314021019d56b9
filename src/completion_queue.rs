//! `CompletionQueue`: an owning, growing set of futures handed back in the
//! order they complete, one node per future (handed out from slabs of
//! them, one waiter each) pushing itself onto a shared lock-free stack (see
//! `ready.rs`).

use crate::decision::Decision;
use crate::epoch;
use crate::future::Future;
use crate::list::Node;
use crate::ready::{QueueSlab, QueueStack, SLAB_LEN, Unparker};
use crate::registration::{deadline_after, time_is_up};
use crate::sync::{self, thread};
use crate::timeout::Timeout;
use crate::trampoline;
use crate::waitable::wait_list_of;
use crate::waiter::{Nodes, Parker, Waiter};
use crossbeam_epoch::Guard;
use futures_core::Stream;
use std::collections::VecDeque;
use std::fmt;
use std::pin::Pin;
use std::ptr::NonNull;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

/// An owning set of futures that hands each one back once it completes, in
/// completion order: NDB's `QueueFuture`, Python's `as_completed` over a set
/// that grows while it is drained (dask's), tokio's `JoinSet` for futures
/// that are not tasks.
///
/// - [`push`](CompletionQueue::push) adds a future, also between takes.
/// - [`wait_next`](CompletionQueue::wait_next) blocks until one completes
///   and hands it back (`None` once the queue is empty);
///   [`wait_next_timeout`](CompletionQueue::wait_next_timeout) and
///   [`wait_next_deadline`](CompletionQueue::wait_next_deadline) give up
///   after a while; as a [`Stream`] it does the same in async code.
/// - Futures come back in the order they complete (for completions that
///   happen one after another); a future already done when pushed counts
///   as completing at the push. A completion counts once it is delivered
///   to the queue, before the completing call returns but after the
///   future's `done()` turns true (see [`as_completed`](crate::as_completed)):
///   a zero time-out may miss a future another thread is still completing.
///
/// Each pushed future costs one node on the future, handed out from a
/// slab of 32 (three allocations, about 1.7 KB, per slab); a completion
/// pushes the node onto the queue's lock-free stack (O(1), no rescan of
/// the set, no lock) and wakes the consumer only if it sleeps. A slab is
/// freed once it is used up and each of its futures completed and was
/// taken off the stack (eight such slabs at a time, through the epoch), so
/// a queue that lives for hours holds at most one slab per future still
/// pending (and one being filled, and a few used up, waiting to be freed),
/// however many went through it. Dropping the queue unlinks the futures
/// still pending, lock-free.
///
/// `Send` (for futures that are) and `Unpin`.
///
/// ```
/// use forthcoming::{CompletionQueue, promise};
///
/// let mut queue = CompletionQueue::<u32, ()>::new();
/// let (p0, f0) = promise();
/// let (p1, f1) = promise();
/// queue.push(f0);
/// queue.push(f1);
/// let worker = std::thread::spawn(move || {
///     p1.set_result(1);
///     p0.set_result(0);
/// });
/// let mut values = Vec::new();
/// while let Some(done) = queue.wait_next() {
///     values.push(*done.get_result().unwrap());
/// }
/// assert_eq!(values, [1, 0]);
/// worker.join().unwrap();
/// ```
///
/// As a [`Stream`]:
///
/// ```
/// use futures::StreamExt;
/// let mut queue = forthcoming::CompletionQueue::<u32, ()>::new();
/// queue.push(forthcoming::Future::ready(7));
/// let done: Vec<_> = futures::executor::block_on(queue.by_ref().collect());
/// assert_eq!(done[0].get_result(), Ok(&7));
/// assert!(queue.is_empty());
/// ```
pub struct CompletionQueue<T, E> {
    /// The stack completions push onto; retired through the epoch on drop.
    stack: NonNull<QueueStack>,
    /// The slabs holding the futures not complete or not taken off the
    /// stack yet, each in its node's link.
    slabs: Slabs,
    /// Futures complete and taken off the stack (or done at their push),
    /// not handed back yet, oldest first.
    ready: VecDeque<Future<T, E>>,
    /// How many futures were pushed and not handed back.
    len: usize,
}

/// A queue's slabs (waiters whose parker is a [`QueueSlab`]).
struct Slabs {
    /// The slab the next pushes take their nodes from; retired once full
    /// and every node released, or by the drop.
    current: Option<Current>,
    /// Every slab not released, the current one included, each at the
    /// position its [`QueueSlab`] records.
    live: Vec<NonNull<Waiter>>,
    /// Slabs no longer current whose every node was released (taken by a
    /// completion and read by the take, detached, or never linked), not
    /// retired yet: retired together, [`RETIRE_BATCH`] at a time, so that
    /// the epoch keeps one deferred function per batch.
    released: Vec<NonNull<Waiter>>,
}

/// The slab a queue's pushes take their nodes from.
#[derive(Clone, Copy)]
struct Current {
    /// Its waiter.
    waiter: NonNull<Waiter>,
    /// The waiter's first node, of [`SLAB_LEN`]: looked up once.
    nodes: NonNull<Node>,
    /// The waiter's parker's slab: looked up once.
    slab: NonNull<QueueSlab>,
    /// How many of its nodes were handed out.
    used: usize,
}

/// How many released slabs are retired together. One under loom, so that
/// models free a slab as soon as the queue may.
#[cfg(not(forthcoming_loom))]
const RETIRE_BATCH: usize = 8;
#[cfg(forthcoming_loom)]
const RETIRE_BATCH: usize = 1;

// SAFETY: the queue owns its futures (sent with it when they are `Send`,
// some held in its slabs' links) and its slabs, which it alone hands out,
// detaches and retires; the stack and the slabs are shared with completers
// only through atomics and a waker slot that only the queue's owner stores
// into (the slabs' owner-only cells are touched by the queue's `&mut self`
// methods alone, and move with it).
unsafe impl<T, E> Send for CompletionQueue<T, E> where Future<T, E>: Send {}
// SAFETY: `&CompletionQueue` only reads the count of futures.
unsafe impl<T, E> Sync for CompletionQueue<T, E> where Future<T, E>: Sync {}
// Nothing in the queue is pinned: its futures are handles moved in and out.
impl<T, E> Unpin for CompletionQueue<T, E> {}

impl<T, E> CompletionQueue<T, E> {
    /// An empty queue.
    ///
    /// ```
    /// let queue = forthcoming::CompletionQueue::<u8, ()>::new();
    /// assert!(queue.is_empty());
    /// ```
    pub fn new() -> CompletionQueue<T, E> {
        CompletionQueue {
            stack: QueueStack::allocate(),
            slabs: Slabs {
                current: None,
                live: Vec::new(),
                released: Vec::new(),
            },
            ready: VecDeque::new(),
            len: 0,
        }
    }

    /// Adds `future`, to be handed back once it completes (at once if it is
    /// done already, after every future that completed before the push).
    ///
    /// ```
    /// let mut queue = forthcoming::CompletionQueue::<u8, ()>::new();
    /// let (promise, future) = forthcoming::promise();
    /// queue.push(future);
    /// assert_eq!(queue.len(), 1);
    /// promise.set_result(1);
    /// assert_eq!(queue.wait_next().unwrap().get_result(), Ok(&1));
    /// ```
    pub fn push(&mut self, future: Future<T, E>) {
        self.len += 1;
        if let Err(done) = self.register(future) {
            self.push_done(done);
        }
    }

    /// Hands `done`, done at its push, back after what completed before
    /// it. Out of line, so a push that links its future carries none of it.
    #[inline(never)]
    fn push_done(&mut self, done: Future<T, E>) {
        let was_asleep = self.take_ready();
        self.ready.push_back(done);
        if was_asleep {
            // A task polling the queue (shared by another task, which
            // pushes) sleeps; the take cleared its `PARKED`, so no later
            // completion would wake it: this push does.
            if let Some(waker) = self.stack().take_waker() {
                waker.wake();
            }
        }
    }

    /// Links a node into `future`'s list, and holds the future in the
    /// node's link; gives the future back if it is done.
    fn register(&mut self, future: Future<T, E>) -> Result<(), Future<T, E>> {
        let list = wait_list_of(&future);
        if list.state().is_complete() {
            return Err(future);
        }
        let (node, slab) = self.slabs.next_node(self.stack);
        node.set_list(list);
        // SAFETY: the node was never handed out before and lives in the
        // slab's allocation; the list lives in the future's block, which
        // the queue keeps alive (the node's link holds the future) until
        // the node is taken by the completion or detached in `drop`, before
        // the slab's retirement.
        if unsafe { list.push(node) }.is_err() {
            // Never linked, never outstanding.
            return Err(future);
        }
        // SAFETY: handed out just now, so not outstanding; the slabs of
        // this queue hold its futures alone. Only this thread reads the
        // link's future, so holding it after the push races with nothing.
        unsafe { slab.hold(node.index(), future) };
        Ok(())
    }

    /// How many futures were pushed and not yet handed back.
    ///
    /// ```
    /// let mut queue = forthcoming::CompletionQueue::<u8, ()>::new();
    /// queue.push(forthcoming::Future::ready(1));
    /// queue.push(forthcoming::Future::ready(2));
    /// assert_eq!(queue.len(), 2);
    /// queue.wait_next();
    /// assert_eq!(queue.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether every future pushed was handed back.
    ///
    /// ```
    /// let mut queue = forthcoming::CompletionQueue::<u8, ()>::default();
    /// assert!(queue.is_empty());
    /// queue.push(forthcoming::Future::ready(1));
    /// assert!(!queue.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Blocks until a future completes and hands it back; `None` once the
    /// queue is empty.
    ///
    /// ```
    /// let mut queue = forthcoming::CompletionQueue::<u8, String>::new();
    /// queue.push(forthcoming::Future::failed("no".to_owned()));
    /// assert!(queue.wait_next().unwrap().exception().is_some());
    /// assert!(queue.wait_next().is_none());
    /// ```
    pub fn wait_next(&mut self) -> Option<Future<T, E>> {
        // A future complete already is handed back without the wait's set-up.
        if let Some(next) = self.try_next() {
            return Some(next);
        }
        match self.next_until(None) {
            Ok(next) => next,
            Err(Timeout) => unreachable!("no deadline"),
        }
    }

    /// [`wait_next`](CompletionQueue::wait_next), waiting at most
    /// `timeout`: `Ok(None)` when the queue is empty, `Err(Timeout)` if
    /// nothing completed in time. A zero time-out only looks (a future
    /// whose completion was delivered is handed back); one too long to
    /// represent waits forever.
    ///
    /// ```
    /// use std::time::Duration;
    /// let mut queue = forthcoming::CompletionQueue::<u8, ()>::new();
    /// let (promise, future) = forthcoming::promise();
    /// queue.push(future);
    /// assert_eq!(queue.wait_next_timeout(Duration::ZERO).unwrap_err(), forthcoming::Timeout);
    /// promise.set_result(1);
    /// assert!(queue.wait_next_timeout(Duration::ZERO).unwrap().is_some());
    /// assert!(queue.wait_next_timeout(Duration::ZERO).unwrap().is_none());
    /// ```
    pub fn wait_next_timeout(
        &mut self,
        timeout: Duration,
    ) -> Result<Option<Future<T, E>>, Timeout> {
        self.next_until(deadline_after(timeout))
    }

    /// [`wait_next_timeout`](CompletionQueue::wait_next_timeout) with a
    /// deadline; a past one only looks.
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// let mut queue = forthcoming::CompletionQueue::<u8, ()>::new();
    /// let (promise, future) = forthcoming::promise();
    /// queue.push(future);
    /// let soon = Instant::now() + Duration::from_millis(1);
    /// assert!(queue.wait_next_deadline(soon).is_err());
    /// promise.set_result(1);
    /// assert!(queue.wait_next_deadline(soon).unwrap().is_some());
    /// ```
    pub fn wait_next_deadline(
        &mut self,
        deadline: Instant,
    ) -> Result<Option<Future<T, E>>, Timeout> {
        self.next_until(Some(deadline))
    }

    /// The stack, which lives as long as the queue.
    fn stack<'s>(&self) -> &'s QueueStack {
        // SAFETY: allocated in `new`, retired only in `drop`; the reference
        // is used only within methods of `self`.
        unsafe { self.stack.as_ref() }
    }

    /// Moves what completed from the stack to `ready`, retiring each slab
    /// whose last node it takes; returns whether the consumer was asleep.
    fn take_ready(&mut self) -> bool {
        let (stack, ready) = (self.stack(), &mut self.ready);
        self.slabs
            .take_completed(stack, |future| ready.push_back(future))
    }

    /// The next completed future without sleeping, if any.
    #[inline(always)]
    fn try_next(&mut self) -> Option<Future<T, E>> {
        let next = match self.ready.pop_front() {
            Some(next) => next,
            None => {
                // The oldest is handed back at once, the others wait in
                // `ready`.
                let (mut oldest, stack, ready) = (None, self.stack(), &mut self.ready);
                self.slabs.take_completed(stack, |future| match oldest {
                    None => oldest = Some(future),
                    Some(_) => ready.push_back(future),
                });
                oldest?
            }
        };
        self.len -= 1;
        Some(next)
    }

    /// Blocks until the next completion or `deadline`.
    fn next_until(&mut self, deadline: Option<Instant>) -> Result<Option<Future<T, E>>, Timeout> {
        let mut waker = None;
        loop {
            if let Some(next) = self.try_next() {
                return Ok(Some(next));
            }
            if self.is_empty() {
                return Ok(None);
            }
            if time_is_up(deadline) {
                return self.try_next().map(Some).ok_or(Timeout);
            }
            let waker = waker.get_or_insert_with(|| {
                // A blocking wait inside a callback first runs the callbacks
                // queued behind it on this thread.
                trampoline::run_queued();
                Waker::from(Arc::new(Unparker(thread::current())))
            });
            if !self.stack().prepare_sleep(waker) {
                continue;
            }
            match deadline {
                None => thread::park(),
                Some(deadline) => {
                    if sync::park_until(deadline) {
                        // One last look: a future complete by now is handed back.
                        return self.try_next().map(Some).ok_or(Timeout);
                    }
                }
            }
        }
    }
}

impl<T, E> Default for CompletionQueue<T, E> {
    fn default() -> Self {
        CompletionQueue::new()
    }
}

/// Yields each future once it completes, in completion order, and
/// `Ready(None)` while the queue is empty. A queue can be pushed to again
/// after that, so it is no `FusedStream`.
impl<T, E> Stream for CompletionQueue<T, E> {
    type Item = Future<T, E>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Future<T, E>>> {
        let this = self.get_mut();
        loop {
            if let Some(next) = this.try_next() {
                return Poll::Ready(Some(next));
            }
            if this.is_empty() {
                return Poll::Ready(None);
            }
            // The waker is in place before the flag: a push from here on
            // wakes it; one before makes the flag fail, so look again.
            if this.stack().prepare_sleep(cx.waker()) {
                return Poll::Pending;
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.len(), Some(self.len()))
    }
}

impl<T, E> Drop for CompletionQueue<T, E> {
    fn drop(&mut self) {
        let stack = self.stack();
        // Dropped last, unpinned: the task's waker is user code.
        let waker = stack.take_waker();
        // The futures still held in links, dropped last too.
        let mut held: Vec<Future<T, E>> = Vec::with_capacity(self.len - self.ready.len());
        let guard = epoch::pin();
        self.slabs.current = None;
        for waiter in self.slabs.live.drain(..) {
            // SAFETY: a live slab is not retired.
            let waiter_ref = unsafe { waiter.as_ref() };
            let slab = waiter_ref.parker().queue_slab().expect("a queue's slab");
            for index in slab.outstanding() {
                let node = &waiter_ref.nodes()[index];
                // SAFETY: the future held in the node's link keeps the list
                // alive; the queue owns the node, detaches it once, and
                // holds the guard until its slab is retired, below.
                unsafe { node.list().detach(node, &guard) };
                // SAFETY: outstanding, so holding the queue's future.
                held.push(unsafe { slab.release(index) }.0);
            }
            // Every node of it is released now (taken, never linked, or
            // detached above), and it is no longer current.
            self.slabs.released.push(waiter);
        }
        self.slabs.retire_released(&guard);
        // SAFETY: allocated in `new`, retired once, here, after every node
        // that links to it was detached.
        unsafe { QueueStack::retire(self.stack, &guard) };
        drop(guard);
        epoch::collect_eagerly();
        drop(waker);
        drop(held);
        // The futures in `ready` drop with it, unpinned.
    }
}

impl Slabs {
    /// A node not handed out yet, and its slab: the next of the current
    /// slab, or the first of a new one for `stack`.
    #[inline(always)]
    fn next_node(&mut self, stack: NonNull<QueueStack>) -> (&Node, &QueueSlab) {
        let current = match &mut self.current {
            Some(current) if current.used < SLAB_LEN => current,
            _ => self.start_slab(stack),
        };
        // SAFETY: `used` is below `SLAB_LEN`, the count of the nodes
        // `nodes` starts; the current slab is live (never retired), and
        // its parker's slab lives in its own allocation, as long.
        let (node, slab) = unsafe {
            (
                &*current.nodes.as_ptr().add(current.used),
                current.slab.as_ref(),
            )
        };
        current.used += 1;
        (node, slab)
    }

    /// Makes a new slab for `stack` current; the full one it replaces is
    /// retired if every node of it was released already. Out of line:
    /// once per [`SLAB_LEN`] pushes.
    #[inline(never)]
    fn start_slab(&mut self, stack: NonNull<QueueStack>) -> &mut Current {
        if let Some(full) = self.current.take() {
            // SAFETY: the slab was current, so live.
            if unsafe { full.slab.as_ref() }.is_released() {
                let mut guard = None;
                // SAFETY: full, no longer current, and every node of it
                // released.
                unsafe { self.retire(full.waiter, &mut guard) };
                drop(guard);
                epoch::collect_eagerly();
            }
        }
        let parker = Parker::Queued(Box::new(QueueSlab::new(stack, self.live.len())));
        let nodes = Nodes::collect((0..SLAB_LEN).map(|index| Node::new(std::ptr::null(), index)));
        let waiter = Waiter::allocate(Decision::every(), parker, nodes);
        self.live.push(waiter);
        // SAFETY: allocated just now, and live.
        let waiter_ref = unsafe { waiter.as_ref() };
        let slab = waiter_ref.parker().queue_slab().expect("a queue's slab");
        self.current.insert(Current {
            waiter,
            nodes: NonNull::from(waiter_ref.nodes()).cast(),
            slab: NonNull::from(slab),
            used: 0,
        })
    }

    /// Takes what completed off `stack`, oldest first, handing each future
    /// to `each` and retiring each slab whose last node it takes; returns
    /// whether the consumer was asleep.
    #[inline(always)]
    fn take_completed<T, E>(
        &mut self,
        stack: &QueueStack,
        mut each: impl FnMut(Future<T, E>),
    ) -> bool {
        let mut guard = None;
        let current = self.current.map(|current| current.waiter);
        let (was_asleep, taken) = stack.take();
        for (node, slab) in taken {
            // SAFETY: handed out by this queue and outstanding (it held the
            // future until now); taken off its list by the completion that
            // pushed it, and off the stack by this take.
            let (future, released) = unsafe { slab.release(node.index()) };
            // SAFETY: the waiter pointer was set before the node was
            // handed out.
            let waiter = unsafe { NonNull::new_unchecked(node.waiter().cast_mut()) };
            if released && current != Some(waiter) {
                // SAFETY: its last outstanding node released, the slab,
                // full, has none left that a thread pinning from now on
                // can reach.
                unsafe { self.retire(waiter, &mut guard) };
            }
            each(future);
        }
        if guard.take().is_some() {
            epoch::collect_eagerly();
        }
        was_asleep
    }

    /// Moves the slab of `waiter` from `live` to `released`, and retires
    /// the released slabs if they make a batch, pinning `guard` if it must.
    ///
    /// # Safety
    /// `waiter` is a live slab that is no longer current, and every node of
    /// it was released: taken by a completion (and read by the take),
    /// detached, or never linked.
    unsafe fn retire(&mut self, waiter: NonNull<Waiter>, guard: &mut Option<Guard>) {
        // SAFETY: live (the caller's guarantee).
        let slab = unsafe { waiter.as_ref() }.parker().queue_slab();
        let position = slab.expect("a queue's slab").position();
        self.live.swap_remove(position);
        if let Some(moved) = self.live.get(position) {
            // SAFETY: live, as every slab in `live`.
            let slab = unsafe { moved.as_ref() }.parker().queue_slab();
            slab.expect("a queue's slab").move_to(position);
        }
        // Released (the caller's guarantee), and in `released` once, since
        // it leaves `live` here.
        self.released.push(waiter);
        if self.released.len() == RETIRE_BATCH {
            self.retire_released(guard.get_or_insert_with(epoch::pin));
        }
    }

    /// Retires every slab in `released` through the epoch, with one
    /// deferred function that frees them all.
    fn retire_released(&mut self, guard: &Guard) {
        let batch = std::mem::replace(&mut self.released, Vec::with_capacity(RETIRE_BATCH));
        let free = move || {
            for waiter in batch {
                // SAFETY: run through the epoch (below): every thread pinned
                // when the batch was deferred has unpinned, and none pinned
                // later reaches the slab, so it may be freed now, as an
                // unprotected guard does at once. Retired once: the batch
                // runs once.
                unsafe { Waiter::retire(waiter, crossbeam_epoch::unprotected()) };
            }
        };
        // SAFETY: each slab in `released` was allocated in `start_slab`, is
        // there once, no longer current (so no node of it will be handed
        // out) and every node of it released, so no thread that pins from
        // now on reaches it; threads pinned earlier hold the epoch back
        // until they unpin, so `free` runs after the slabs' last use. It
        // runs no user code (see `Waiter::retire`), and frees the vector,
        // which is the queue's.
        unsafe { guard.defer_unchecked(free) };
    }
}

impl<T, E> fmt::Debug for CompletionQueue<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CompletionQueue")
            .field("len", &self.len())
            .field("taken_ready", &self.ready.len())
            .finish_non_exhaustive()
    }
}
