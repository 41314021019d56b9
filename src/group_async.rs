//! Async group waits: `wait_any_async`, `wait_all_async`, `wait_async`.

use crate::group::{GroupScan, first_done, pending_lists};
use crate::list::WaitList;
use crate::registration::Registration;
use crate::return_when::ReturnWhen;
use crate::waitable::{Waitable, wait_list_of};
use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

/// One waiter over the pending futures, registered on the first poll and
/// kept across polls.
struct LazyRegistration<'a> {
    /// The pending futures' lists.
    lists: Vec<&'a WaitList>,
    /// When the wait ends.
    return_when: ReturnWhen,
    /// Present between the first `Pending` poll and readiness or drop.
    registration: Option<Registration<'a>>,
}

impl<'a> LazyRegistration<'a> {
    fn new(lists: Vec<&'a WaitList>, return_when: ReturnWhen) -> LazyRegistration<'a> {
        LazyRegistration {
            lists,
            return_when,
            registration: None,
        }
    }

    /// Ready with the `FirstCompleted` winner (position in `lists`) once the wait is over.
    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<Option<usize>> {
        let lists = || self.lists.iter().copied();
        let registration =
            Registration::with_waker(&mut self.registration, cx.waker(), lists, self.return_when);
        // The waker is in place before this check: nothing is lost between.
        let decision = registration.decision();
        if !decision.is_over() {
            return Poll::Pending;
        }
        let winner = decision.winner();
        self.registration = None;
        Poll::Ready(winner)
    }
}

/// Returned by [`wait_any_async`].
///
/// Polled again after it returned `Ready`, it resolves at once again: to a
/// done position, possibly another one if several are done by then (`None`
/// again for an empty input).
///
/// ```
/// let (p1, f1) = forthcoming::promise::<u8, ()>();
/// let (_p2, f2) = forthcoming::promise::<u8, ()>();
/// let first: forthcoming::WaitAny<'_> = forthcoming::wait_any_async([&f1, &f2]);
/// p1.set_result(1);
/// assert_eq!(futures::executor::block_on(first), Some(0));
/// ```
#[must_use = "futures do nothing unless polled"]
pub struct WaitAny<'a> {
    /// The lowest position found done at creation, if any.
    done: Option<usize>,
    /// `None` when the answer was known at creation.
    registered: Option<LazyRegistration<'a>>,
}

/// Returned by [`wait_all_async`].
///
/// Polled again after it returned `Ready`, it resolves at once again.
///
/// ```
/// let (p1, f1) = forthcoming::promise::<u8, ()>();
/// let (p2, f2) = forthcoming::promise::<u8, ()>();
/// let all: forthcoming::WaitAll<'_> = forthcoming::wait_all_async([&f1, &f2]);
/// std::thread::spawn(move || { p1.set_result(1); p2.set_result(2) });
/// futures::executor::block_on(all);
/// assert!(f1.done() && f2.done());
/// ```
#[must_use = "futures do nothing unless polled"]
pub struct WaitAll<'a> {
    /// The waiter over the futures pending at creation.
    registered: LazyRegistration<'a>,
}

/// Returned by [`wait_async`].
///
/// # Panics
/// When polled again after it returned `Ready` (its result was moved out),
/// as an `async fn`'s future does.
///
/// ```
/// use forthcoming::ReturnWhen;
/// let (p1, f1) = forthcoming::promise::<u8, ()>();
/// let (_p2, f2) = forthcoming::promise::<u8, ()>();
/// let wait: forthcoming::Wait<'_> = forthcoming::wait_async([&f1, &f2], ReturnWhen::FirstCompleted);
/// p1.set_result(1);
/// assert_eq!(futures::executor::block_on(wait), (vec![0], vec![1]));
/// ```
#[must_use = "futures do nothing unless polled"]
pub struct Wait<'a> {
    /// The scan made at creation, settled when ready; `None` after.
    scan: Option<GroupScan<'a>>,
    /// `None` when the condition held at creation.
    registered: Option<LazyRegistration<'a>>,
}

/// [`wait_any`](crate::wait_any) for async code: resolves to the position of
/// the first future to complete (the lowest done one if any is done when
/// called, without allocating; `None` for an empty input). The iterator is
/// cloned, as for `wait_any`. For a time-out, wrap it in the executor's
/// (`tokio::time::timeout`): dropping it unlinks its registration from
/// every future at once.
///
/// ```
/// let (p1, f1) = forthcoming::promise::<u8, ()>();
/// let (p2, f2) = forthcoming::promise::<u8, ()>();
/// std::thread::spawn(move || p2.set_result(2));
/// let first = futures::executor::block_on(forthcoming::wait_any_async([&f1, &f2]));
/// assert_eq!(first, Some(1));
/// # drop(p1);
/// ```
pub fn wait_any_async<'a, W: Waitable + ?Sized + 'a>(
    futures: impl IntoIterator<Item = &'a W, IntoIter: Clone>,
) -> WaitAny<'a> {
    let futures = futures.into_iter();
    let (done, registered) = match first_done(futures.clone()) {
        Ok(index) => (Some(index), None),
        Err(0) => (None, None),
        // All scanned futures were pending: node positions are input positions.
        Err(pending) => {
            let mut lists = Vec::with_capacity(pending);
            lists.extend(futures.map(wait_list_of).take(pending));
            (
                None,
                Some(LazyRegistration::new(lists, ReturnWhen::FirstCompleted)),
            )
        }
    };
    WaitAny { done, registered }
}

/// [`wait_all`](crate::wait_all) for async code: resolves once every future
/// is done; at once for an empty input. Futures already done cost one load
/// each and get no node. Duplicates are fine (each position is counted).
///
/// It registers one waiter on its first `Pending` poll and keeps it across
/// polls (a re-poll only replaces the waker), and the countdown wakes the
/// task once, at the last completion. For a time-out, wrap it in the
/// executor's (`tokio::time::timeout`): dropping it unlinks its
/// registration from every future at once.
///
/// ```
/// let pairs: Vec<_> = (0..3).map(|_| forthcoming::promise::<u32, ()>()).collect();
/// let futures: Vec<_> = pairs.iter().map(|(_, f)| f.clone()).collect();
/// std::thread::spawn(move || {
///     for (i, (p, _)) in pairs.into_iter().enumerate() {
///         p.set_result(i as u32);
///     }
/// });
/// futures::executor::block_on(forthcoming::wait_all_async(&futures));
/// assert!(futures.iter().all(|f| f.done()));
/// ```
pub fn wait_all_async<'a, W: Waitable + ?Sized + 'a>(
    futures: impl IntoIterator<Item = &'a W>,
) -> WaitAll<'a> {
    WaitAll {
        registered: LazyRegistration::new(pending_lists(futures), ReturnWhen::AllCompleted),
    }
}

/// [`wait`](crate::wait) for async code, without a time-out: the executor
/// provides those. Wrapping it in `tokio::time::timeout` (or losing a
/// `select!`) drops it, which unlinks its registration from every future at
/// once; nothing leaks and other waiters are unaffected.
///
/// ```
/// use forthcoming::{ReturnWhen, wait_async};
/// let (p1, f1) = forthcoming::promise::<u8, &str>();
/// let (_p2, f2) = forthcoming::promise::<u8, &str>();
/// std::thread::spawn(move || p1.set_exception("boom"));
/// let (done, not_done) =
///     futures::executor::block_on(wait_async([&f1, &f2], ReturnWhen::FirstException));
/// assert_eq!((done, not_done), (vec![0], vec![1]));
/// ```
pub fn wait_async<'a, W: Waitable + ?Sized + 'a>(
    futures: impl IntoIterator<Item = &'a W>,
    return_when: ReturnWhen,
) -> Wait<'a> {
    let scan = GroupScan::of_group(futures);
    let registered = (!scan.satisfies(return_when))
        .then(|| LazyRegistration::new(scan.pending_lists().collect(), return_when));
    Wait {
        scan: Some(scan),
        registered,
    }
}

impl std::future::Future for WaitAny<'_> {
    type Output = Option<usize>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<usize>> {
        let this = &mut *self;
        match &mut this.registered {
            None => Poll::Ready(this.done),
            Some(registered) => registered.poll(cx),
        }
    }
}

impl std::future::Future for WaitAll<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.registered.lists.is_empty() {
            return Poll::Ready(());
        }
        self.registered.poll(cx).map(|_| ())
    }
}

impl std::future::Future for Wait<'_> {
    type Output = (Vec<usize>, Vec<usize>);

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if let Some(registered) = &mut self.registered {
            if registered.poll(cx).is_pending() {
                return Poll::Pending;
            }
        }
        match self.scan.take() {
            Some(scan) => Poll::Ready(scan.settle()),
            None => panic!("`Wait` polled after it returned `Ready`"),
        }
    }
}

impl fmt::Debug for LazyRegistration<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LazyRegistration")
            .field("futures", &self.lists.len())
            .field("return_when", &self.return_when)
            .field("registered", &self.registration.is_some())
            .finish()
    }
}

impl fmt::Debug for WaitAny<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaitAny")
            .field("registered", &self.registered)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for WaitAll<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaitAll")
            .field("registered", &self.registered)
            .finish()
    }
}

impl fmt::Debug for Wait<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Wait")
            .field("registered", &self.registered)
            .finish_non_exhaustive()
    }
}
