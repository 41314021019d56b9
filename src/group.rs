//! Waiting on many futures at once: `wait_any`, `wait_all` and
//! `wait(futures, timeout, return_when)`, with one parker for all of them.

use crate::list::WaitList;
use crate::registration::{block, deadline_after, time_is_up};
use crate::return_when::ReturnWhen;
use crate::waitable::{Waitable, wait_list_of};
use std::time::Duration;

/// One pass over the input: which futures were done, which pending; each
/// pending one is kept as `P`, made from its position and its wait list.
pub(crate) struct Scan<P> {
    /// Input positions of the futures found done, ascending.
    pub(crate) done: Vec<usize>,
    /// Whether one of them completed with a failure.
    pub(crate) failed: bool,
    /// The futures found pending, in input order.
    pub(crate) pending: Vec<P>,
}

/// A group wait's scan: each pending future's input position and wait list.
pub(crate) type GroupScan<'a> = Scan<(usize, &'a WaitList)>;

impl<P> Scan<P> {
    /// Scans `futures`, keeping each pending one as `keep(position, list)`.
    ///
    /// Each vector is sized on its first push by the iterator's remaining
    /// lower bound, so an input of futures all done (or all pending) makes
    /// one allocation.
    pub(crate) fn of<'a, W: Waitable + ?Sized + 'a>(
        futures: impl IntoIterator<Item = &'a W>,
        mut keep: impl FnMut(usize, &'a WaitList) -> P,
    ) -> Scan<P> {
        let (mut done, mut failed, mut pending) = (Vec::new(), false, Vec::new());
        let mut futures = futures.into_iter().enumerate();
        while let Some((index, future)) = futures.next() {
            let list = wait_list_of(future);
            let state = list.state();
            if state.is_complete() {
                reserve_left(&mut done, &futures);
                done.push(index);
                failed |= state.is_failure();
            } else {
                reserve_left(&mut pending, &futures);
                pending.push(keep(index, list));
            }
        }
        Scan {
            done,
            failed,
            pending,
        }
    }
}

impl<'a> GroupScan<'a> {
    /// Scans `futures` for a group wait.
    pub(crate) fn of_group<W: Waitable + ?Sized + 'a>(
        futures: impl IntoIterator<Item = &'a W>,
    ) -> GroupScan<'a> {
        Scan::of(futures, |index, list| (index, list))
    }

    /// The pending futures' wait lists, in input order.
    pub(crate) fn pending_lists(&self) -> impl ExactSizeIterator<Item = &'a WaitList> + '_ {
        self.pending.iter().map(|&(_, list)| list)
    }

    pub(crate) fn satisfies(&self, return_when: ReturnWhen) -> bool {
        match return_when {
            ReturnWhen::AllCompleted => self.pending.is_empty(),
            // An empty input is complete under every rule (as in Python).
            ReturnWhen::FirstCompleted => !self.done.is_empty() || self.pending.is_empty(),
            ReturnWhen::FirstException => self.failed || self.pending.is_empty(),
        }
    }

    /// Moves the pending futures that are done by now into `done`, keeping
    /// both lists ascending; returns `(done, not_done)`.
    pub(crate) fn settle(self) -> (Vec<usize>, Vec<usize>) {
        let Scan {
            mut done, pending, ..
        } = self;
        let mut newly_done = Vec::new();
        let mut not_done = Vec::with_capacity(pending.len());
        for (index, list) in pending {
            if list.state().is_complete() {
                newly_done.push(index);
            } else {
                not_done.push(index);
            }
        }
        merge_into(&mut done, &newly_done);
        (done, not_done)
    }
}

/// Reserves room in `list`, if it has none yet, for this item and the
/// `left.size_hint().0` still to come at least.
#[inline(always)]
fn reserve_left<T>(list: &mut Vec<T>, left: &impl Iterator) {
    if list.capacity() == 0 {
        list.reserve_exact(left.size_hint().0 + 1);
    }
}

/// Merges ascending `newer` into ascending `done`, in place from the back;
/// the two hold different positions.
fn merge_into(done: &mut Vec<usize>, newer: &[usize]) {
    let (mut left, mut right) = (done.len(), newer.len());
    done.resize(left + right, 0);
    for slot in (0..done.len()).rev() {
        if right == 0 {
            break; // done[..left] is already in place
        }
        if left > 0 && done[left - 1] > newer[right - 1] {
            done[slot] = done[left - 1];
            left -= 1;
        } else {
            done[slot] = newer[right - 1];
            right -= 1;
        }
    }
}

/// Blocks until at least one future is done; returns its position in the
/// input (NDB's `wait_any`).
///
/// - `None` for an empty input, at once.
/// - If a future is already done, the lowest such position, without
///   parking and without allocating.
/// - Otherwise the future that completed *first*, as decided by one CAS
///   among the completers (not a scan after waking).
///
/// The iterator is cloned: a clone's pass looks for a done future, then the
/// iterator itself registers on every future when none is. Every slice,
/// array, `&Vec` and adaptor over them (`iter().map(..)`, `copied()`)
/// clones cheaply. An iterator whose clone yields other futures than itself
/// gets an unspecified but safe result, as a `HashMap` with an inconsistent
/// `Hash` does: the wait registers on the futures the iterator yields, at
/// most as many as its clone yielded, so it may wait on futures the clone
/// did not show; `None` at once if the clone yields none. Nothing panics.
///
/// Duplicates are allowed: a future listed several times that completes
/// during the wait may be reported at any of its positions (found done at
/// the start, at the lowest). Futures of different types mix through
/// `&dyn Waitable`.
///
/// ```
/// let (p1, f1) = forthcoming::promise::<u8, ()>();
/// let (p2, f2) = forthcoming::promise::<u8, ()>();
/// std::thread::spawn(move || p2.set_result(2));
/// assert_eq!(forthcoming::wait_any([&f1, &f2]), Some(1));
/// # drop(p1);
/// ```
pub fn wait_any<'a, W: Waitable + ?Sized + 'a>(
    futures: impl IntoIterator<Item = &'a W, IntoIter: Clone>,
) -> Option<usize> {
    let futures = futures.into_iter();
    let pending = match first_done(futures.clone()) {
        Ok(index) => return Some(index),
        Err(0) => return None,
        Err(pending) => pending,
    };
    // Every future before the first done one is pending, so a node's
    // position is a position in the input. A second pass that yields more
    // than the first is cut short: only the futures scanned are waited on.
    block(
        futures.map(wait_list_of).take(pending),
        ReturnWhen::FirstCompleted,
        None,
    )
}

/// The position of the first done future, or else how many were scanned.
pub(crate) fn first_done<'a, W: Waitable + ?Sized + 'a>(
    futures: impl Iterator<Item = &'a W>,
) -> Result<usize, usize> {
    let mut count = 0;
    for future in futures {
        if future.is_done() {
            return Ok(count);
        }
        count += 1;
    }
    Err(count)
}

/// Blocks until every future is done (NDB's `wait_all`); returns at once for
/// an empty input. Futures already done cost one load each and nothing is
/// allocated for them.
///
/// ```
/// let pairs: Vec<_> = (0..4).map(|_| forthcoming::promise::<u32, ()>()).collect();
/// let futures: Vec<_> = pairs.iter().map(|(_, f)| f.clone()).collect();
/// std::thread::spawn(move || for (i, (p, _)) in pairs.into_iter().enumerate() { p.set_result(i as u32) });
/// forthcoming::wait_all(&futures);
/// assert!(futures.iter().all(|f| f.done()));
/// ```
pub fn wait_all<'a, W: Waitable + ?Sized + 'a>(futures: impl IntoIterator<Item = &'a W>) {
    let lists = pending_lists(futures);
    if !lists.is_empty() {
        block(lists, ReturnWhen::AllCompleted, None);
    }
}

/// The wait lists of the futures not done yet, in input order; no
/// allocation when every future is done.
pub(crate) fn pending_lists<'a, W: Waitable + ?Sized + 'a>(
    futures: impl IntoIterator<Item = &'a W>,
) -> Vec<&'a WaitList> {
    futures
        .into_iter()
        .map(wait_list_of)
        .filter(|list| !list.state().is_complete())
        .collect()
}

/// Blocks until `return_when` holds or `timeout` passes, then returns
/// `(done, not_done)`: positions in the input, each ascending, together
/// holding every position exactly once (duplicates included). This is the
/// SDK's `Future.wait` and Python's `concurrent.futures.wait`.
///
/// - `done` lists every future done at the moment of return, not only the
///   one that ended the wait.
/// - `timeout`: `None` waits forever; `Some(Duration::ZERO)` takes a snapshot
///   without blocking; a duration too long to represent waits forever.
/// - An empty input returns `(vec![], vec![])` at once.
/// - Spurious wake-ups never end the wait early, and a failed future is
///   reported in `done`, never panicked.
///
/// ```
/// use forthcoming::{ReturnWhen, wait};
/// use std::time::Duration;
///
/// let (ok, f_ok) = forthcoming::promise::<u8, &str>();
/// let (bad, f_bad) = forthcoming::promise::<u8, &str>();
/// let (_slow, f_slow) = forthcoming::promise::<u8, &str>();
/// ok.set_result(1);
/// std::thread::spawn(move || bad.set_exception("boom"));
/// let futures = [&f_ok, &f_bad, &f_slow];
/// let (done, not_done) = wait(futures, None, ReturnWhen::FirstException);
/// assert_eq!((done, not_done), (vec![0, 1], vec![2]));
/// let (done, _) = wait(futures, Some(Duration::from_millis(1)), ReturnWhen::AllCompleted);
/// assert_eq!(done, vec![0, 1]);
/// ```
pub fn wait<'a, W: Waitable + ?Sized + 'a>(
    futures: impl IntoIterator<Item = &'a W>,
    timeout: Option<Duration>,
    return_when: ReturnWhen,
) -> (Vec<usize>, Vec<usize>) {
    let scan = Scan::of_group(futures);
    if !scan.satisfies(return_when) {
        let deadline = timeout.and_then(deadline_after);
        // A time-out too long to represent gives no deadline: wait forever.
        if !time_is_up(deadline) {
            block(scan.pending_lists(), return_when, deadline);
        }
    }
    scan.settle()
}
