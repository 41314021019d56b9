//! `as_completed` and `as_completed_async`: every position of the input,
//! once, in the order the futures complete, through one registration whose
//! completers push onto a lock-free ready stack (see `ready.rs`).

use crate::group::Scan;
use crate::list::Node;
use crate::ready::{ReadyStack, Unparker};
use crate::registration::{Registration, deadline_after, time_is_up};
use crate::sync::{self, thread};
use crate::timeout::Timeout;
use crate::trampoline;
use crate::waitable::Waitable;
use futures_core::{FusedStream, Stream};
use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

/// The state both flavours share.
struct Order<'a> {
    /// Positions to yield before taking from the stack, the next last:
    /// first those done at the call (ascending), then those a take found
    /// behind the oldest.
    ready: Vec<usize>,
    /// Over the futures pending at the call, each node's index its input
    /// position; dropped once every one of them was taken off the stack.
    registration: Option<Registration<'a>>,
    /// Registered positions not yet taken off the stack.
    untaken: usize,
}

impl<'a> Order<'a> {
    fn new<W: Waitable + ?Sized + 'a>(futures: impl IntoIterator<Item = &'a W>) -> Order<'a> {
        let scan = Scan::of(futures, |position, list| Node::new(list, position));
        let untaken = scan.pending.len();
        // Room for the positions up to the last pending one: each node's
        // index is its input position, distinct and ascending.
        let positions = scan.pending.last().map(|last| last.index() + 1);
        let registration = positions.map(|count| {
            // SAFETY: each node's list is a future's borrowed for `'a`, and
            // each node's index is its input position, distinct.
            unsafe { Registration::ready(scan.pending, ReadyStack::new(count)) }
        });
        let mut ready = scan.done;
        ready.reverse();
        Order {
            ready,
            registration,
            untaken,
        }
    }

    /// The next position without sleeping: `Ok(Some(_))`, `Ok(None)` when
    /// all are yielded, `Err(stack)` when the consumer must sleep on it.
    #[inline(always)]
    fn try_next(&mut self) -> Result<Option<usize>, &ReadyStack> {
        // A take fills `ready` only once it is empty: what it holds comes
        // first.
        if let Some(position) = self.ready.pop() {
            return Ok(Some(position));
        }
        // Nothing registered is left once every position was taken.
        let Some(stack) = ready_stack(&self.registration) else {
            return Ok(None);
        };
        match stack.take(&mut self.ready) {
            Some(oldest) => {
                // `ready` was empty: it holds the others taken.
                self.untaken -= 1 + self.ready.len();
                if self.untaken == 0 {
                    // Every node's future is complete: nothing to unlink,
                    // and the waiter is retired now rather than with the
                    // iterator.
                    self.registration = None;
                }
                Ok(Some(oldest))
            }
            None => Err(ready_stack(&self.registration).expect("registered")),
        }
    }

    /// How many positions are left to yield.
    fn len(&self) -> usize {
        self.ready.len() + self.untaken
    }

    /// The next position, or `deadline`'s time-out: [`Order::try_next`],
    /// and [`Order::sleep_until`] only if the stack is empty and the time
    /// is not up (then one last look).
    #[inline(always)]
    fn next_until(&mut self, deadline: Option<Instant>) -> Result<Option<usize>, Timeout> {
        match self.try_next() {
            Ok(next) => Ok(next),
            Err(_) if time_is_up(deadline) => self.try_next().map_err(|_| Timeout),
            Err(_) => self.sleep_until(deadline),
        }
    }

    /// Blocks until the next position or `deadline`.
    #[cold]
    fn sleep_until(&mut self, deadline: Option<Instant>) -> Result<Option<usize>, Timeout> {
        let mut waker = None;
        loop {
            let stack = match self.try_next() {
                Ok(next) => return Ok(next),
                Err(stack) => stack,
            };
            if time_is_up(deadline) {
                return self.try_next().map_err(|_| Timeout);
            }
            let waker = waker.get_or_insert_with(|| {
                // A blocking wait inside a callback first runs the callbacks
                // queued behind it on this thread.
                trampoline::run_queued();
                Waker::from(Arc::new(Unparker(thread::current())))
            });
            if !stack.prepare_sleep(waker) {
                continue;
            }
            match deadline {
                None => thread::park(),
                Some(deadline) => {
                    if sync::park_until(deadline) {
                        // One last look: a position ready by now is returned.
                        return self.try_next().map_err(|_| Timeout);
                    }
                }
            }
        }
    }
}

/// The ready stack of `registration`, while some registered position is
/// not taken.
#[inline(always)]
fn ready_stack<'r>(registration: &'r Option<Registration<'_>>) -> Option<&'r ReadyStack> {
    registration.as_ref().and_then(Registration::ready_stack)
}

/// Yields every input position exactly once, in completion order: Python's
/// `concurrent.futures.as_completed`, blocking.
///
/// - The positions of the futures done at the call come first, ascending;
///   then the others in the order they complete (for completions that
///   happen one after another).
/// - Duplicates are separate positions: a future listed several times
///   yields all of them when it completes (in any order among themselves).
/// - The iterator's `next` blocks; [`AsCompleted::next_timeout`] and
///   [`AsCompleted::next_deadline`] give up after a while.
///
/// One registration for all the futures: each completion costs O(1) (the
/// completer pushes its position on a lock-free stack and wakes the
/// consumer only if it sleeps), with no rescan of the set.
///
/// A position is yielded once its completion has been delivered: before
/// the completing call ([`Promise::set_result`](crate::Promise::set_result)
/// and the like) returns, but after [`Future::done`](crate::Future::done)
/// turns true, since the completer publishes the outcome first and then
/// wakes each waiter in turn. So while another thread is still completing
/// a future, a zero time-out may return `Err(Timeout)` for it though its
/// `done()` already says true (Java's `CompletionService.poll` and tokio's
/// `JoinSet::try_join_next` have the same window); a blocking `next` gets
/// it.
///
/// ```
/// let (p0, f0) = forthcoming::promise::<u8, ()>();
/// let (p1, f1) = forthcoming::promise::<u8, ()>();
/// let (p2, f2) = forthcoming::promise::<u8, ()>();
/// p1.set_result(1);
/// let mut order = forthcoming::as_completed([&f0, &f1, &f2]);
/// assert_eq!(order.next(), Some(1)); // done at the call
/// p2.set_result(2);
/// p0.set_result(0);
/// assert_eq!(order.collect::<Vec<_>>(), [2, 0]);
/// ```
pub fn as_completed<'a, W: Waitable + ?Sized + 'a>(
    futures: impl IntoIterator<Item = &'a W>,
) -> AsCompleted<'a> {
    AsCompleted {
        order: Order::new(futures),
    }
}

/// [`as_completed`] for async code: a [`Stream`] of the positions in the
/// same order. "Done at the call" means at this call, not at the first
/// poll. Dropping it unlinks what is left at once.
///
/// ```
/// use futures::StreamExt;
/// let (p0, f0) = forthcoming::promise::<u8, ()>();
/// let (p1, f1) = forthcoming::promise::<u8, ()>();
/// let order = forthcoming::as_completed_async([&f0, &f1]);
/// std::thread::spawn(move || {
///     p1.set_result(1);
///     p0.set_result(0);
/// });
/// let positions: Vec<usize> = futures::executor::block_on(order.collect());
/// assert_eq!(positions, [1, 0]);
/// ```
pub fn as_completed_async<'a, W: Waitable + ?Sized + 'a>(
    futures: impl IntoIterator<Item = &'a W>,
) -> AsCompletedAsync<'a> {
    AsCompletedAsync {
        order: Order::new(futures),
        ended: false,
    }
}

/// Returned by [`as_completed`]: an [`Iterator`] of input positions in
/// completion order, whose `next` blocks.
///
/// Dropping it half-way unlinks its registration from the futures still
/// pending, lock-free.
///
/// ```
/// use std::time::Duration;
/// let (_p, f) = forthcoming::promise::<u8, ()>();
/// let mut order: forthcoming::AsCompleted<'_> = forthcoming::as_completed([&f]);
/// assert_eq!(order.next_timeout(Duration::ZERO), Err(forthcoming::Timeout));
/// ```
#[must_use = "iterators are lazy and do nothing unless consumed"]
pub struct AsCompleted<'a> {
    /// The shared state.
    order: Order<'a>,
}

impl AsCompleted<'_> {
    /// The next position, waiting at most `timeout`: `Ok(None)` once every
    /// position was yielded, `Err(Timeout)` if nothing completed in time.
    /// A zero time-out only looks (a position whose completion was
    /// delivered is returned: see [`as_completed`]); one too long to
    /// represent waits forever.
    ///
    /// ```
    /// use std::time::Duration;
    /// let (p, f) = forthcoming::promise::<u8, ()>();
    /// let mut order = forthcoming::as_completed([&f]);
    /// assert_eq!(order.next_timeout(Duration::from_millis(1)), Err(forthcoming::Timeout));
    /// p.set_result(1);
    /// assert_eq!(order.next_timeout(Duration::ZERO), Ok(Some(0)));
    /// assert_eq!(order.next_timeout(Duration::ZERO), Ok(None));
    /// ```
    pub fn next_timeout(&mut self, timeout: Duration) -> Result<Option<usize>, Timeout> {
        self.order.next_until(deadline_after(timeout))
    }

    /// [`AsCompleted::next_timeout`] with a deadline; a past one only looks.
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// let (p, f) = forthcoming::promise::<u8, ()>();
    /// let mut order = forthcoming::as_completed([&f]);
    /// let soon = Instant::now() + Duration::from_millis(1);
    /// assert_eq!(order.next_deadline(soon), Err(forthcoming::Timeout));
    /// p.set_result(1);
    /// assert_eq!(order.next_deadline(soon), Ok(Some(0)));
    /// ```
    pub fn next_deadline(&mut self, deadline: Instant) -> Result<Option<usize>, Timeout> {
        self.order.next_until(Some(deadline))
    }
}

impl Iterator for AsCompleted<'_> {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        match self.order.next_until(None) {
            Ok(next) => next,
            Err(Timeout) => unreachable!("no deadline"),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.order.len(), Some(self.order.len()))
    }
}

impl ExactSizeIterator for AsCompleted<'_> {}

impl std::iter::FusedIterator for AsCompleted<'_> {}

/// Returned by [`as_completed_async`]: a [`Stream`] (and [`FusedStream`])
/// of input positions in completion order. `Unpin`; dropping it half-way
/// unlinks its registration at once.
///
/// ```
/// use futures::StreamExt;
/// let (p, f) = forthcoming::promise::<u8, ()>();
/// let mut order: forthcoming::AsCompletedAsync<'_> = forthcoming::as_completed_async([&f]);
/// p.set_result(1);
/// assert_eq!(futures::executor::block_on(order.next()), Some(0));
/// assert_eq!(futures::executor::block_on(order.next()), None);
/// ```
#[must_use = "streams do nothing unless polled"]
pub struct AsCompletedAsync<'a> {
    /// The shared state.
    order: Order<'a>,
    /// Whether a poll returned `Ready(None)` (see [`FusedStream`]).
    ended: bool,
}

impl Stream for AsCompletedAsync<'_> {
    type Item = usize;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<usize>> {
        loop {
            match self.order.try_next() {
                Ok(next) => {
                    self.ended = next.is_none();
                    return Poll::Ready(next);
                }
                // The waker is in place before the flag: a push from here
                // on wakes it; one before makes the flag fail, so look again.
                Err(stack) => {
                    if stack.prepare_sleep(cx.waker()) {
                        return Poll::Pending;
                    }
                }
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.order.len(), Some(self.order.len()))
    }
}

/// Terminated once it returned `Ready(None)`; polled again, it is
/// `Ready(None)` again.
impl FusedStream for AsCompletedAsync<'_> {
    fn is_terminated(&self) -> bool {
        self.ended
    }
}

impl fmt::Debug for Order<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsCompleted")
            .field("ready", &self.ready)
            .field("left", &self.len())
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for AsCompleted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.order.fmt(f)
    }
}

impl fmt::Debug for AsCompletedAsync<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.order.fmt(f)
    }
}
