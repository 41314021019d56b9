//! Target `ops`: one thread creates, clones, completes, drops and waits on
//! futures; a sequential model says what every call must return.

use super::common::{
    BUDGET_MICROS, Budget, Completer, Expected, Fut, MAX_OPS, MAX_PAIRS, MAX_SET, Prom, Timeout,
    When, decode, fmt_ops, pick, satisfied, split, trace,
};
use arbitrary::Arbitrary;
use forthcoming::{
    CompletionQueue, FutureId, ResultError, Waitable, as_completed, promise, wait, wait_all,
    wait_any,
};
use forthcoming_test_support::{Drops, Tracked, assert_partition};
use std::collections::VecDeque;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// At most this many live future handles (clones included).
const MAX_FUTURES: usize = 16;

/// One step. `f` picks a live future handle and `p` a pair (both modulo the
/// current count); a `set` lists future handles, duplicates allowed.
#[derive(Arbitrary, Clone, Debug)]
pub enum Op {
    /// `promise()`: a new pair.
    New,
    /// `Future::clone`.
    Clone {
        /// The handle to clone.
        f: u8,
    },
    /// Drops a future handle.
    DropFuture {
        /// The handle to drop.
        f: u8,
    },
    /// Completes (or breaks) a pair's promise, if it is still there.
    Complete {
        /// The pair.
        p: u8,
        /// How.
        how: Completer,
    },
    /// `result(Some(Duration::ZERO))`.
    ResultNow {
        /// The handle.
        f: u8,
    },
    /// `wait_timeout`.
    WaitTimeout {
        /// The handle.
        f: u8,
        /// Microseconds (capped, and budgeted).
        micros: u8,
    },
    /// The untimed reads (`get_result`, `result(None)`, `check_success`,
    /// `get_exception`, `get_traceback`, `wait`), only on a done future.
    Get {
        /// The handle.
        f: u8,
    },
    /// `into_result`.
    IntoResult {
        /// The handle.
        f: u8,
    },
    /// `format!("{:?}")` of a future.
    Debug {
        /// The handle.
        f: u8,
    },
    /// `wait(set, timeout, when)`.
    Wait {
        /// The inputs.
        set: Vec<u8>,
        /// The rule.
        when: When,
        /// `Forever` only when the model says the wait is already over.
        timeout: Timeout,
        /// Pass the inputs as `&dyn Waitable`.
        as_dyn: bool,
    },
    /// `wait_any(set)`, only when empty or some input is done.
    WaitAny {
        /// The inputs.
        set: Vec<u8>,
        /// Pass the inputs as `&dyn Waitable`.
        as_dyn: bool,
    },
    /// `wait_all(set)`, only when every input is done.
    WaitAll {
        /// The inputs.
        set: Vec<u8>,
        /// Pass the inputs as `&dyn Waitable`.
        as_dyn: bool,
    },
    /// `Promise::is_abandoned` on a pair's promise, if it is still there.
    IsAbandoned {
        /// The pair.
        p: u8,
    },
    /// `as_completed(set)`: the positions done at the call, ascending,
    /// taken with `next_timeout(ZERO)`, then a time-out (or the end).
    AsCompleted {
        /// The inputs.
        set: Vec<u8>,
    },
    /// `CompletionQueue::push`: moves a future handle into the queue.
    QueuePush {
        /// The handle.
        f: u8,
    },
    /// `CompletionQueue::wait_next_timeout(ZERO)`: the handle comes back.
    QueueTake,
    /// `Future::add_done_callback`: the callback records its pair.
    AddCallback {
        /// The handle.
        f: u8,
    },
}

/// A decoded input: the op sequence.
#[derive(Arbitrary)]
pub struct Input {
    /// The ops, of which the first [`MAX_OPS`] run.
    pub ops: Vec<Op>,
}

impl fmt::Debug for Input {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_ops(
            f,
            format_args!("ops target, {} ops:", self.ops.len().min(MAX_OPS)),
            self.ops.iter().take(MAX_OPS),
        )
    }
}

/// Runs an input given as raw bytes, as the fuzz target does.
pub fn run_bytes(data: &[u8]) {
    if let Some(input) = decode::<Input>(data) {
        run(&input);
    }
}

/// One pair, as the model sees it.
struct Pair {
    /// The promise, until it is completed or dropped.
    promise: Option<Prom>,
    /// The outcome, once completed.
    expected: Option<Expected>,
    /// The id first read from one of its futures.
    id: Option<FutureId>,
}

/// The crate's handles beside the model's view of them.
struct World {
    /// Every value made.
    log: Drops,
    /// Every pair made.
    pairs: Vec<Pair>,
    /// Live future handles, with their pair.
    futures: Vec<(usize, Fut)>,
    /// Time-out budget.
    budget: Budget,
    /// The queue that `QueuePush` and `QueueTake` use.
    queue: CompletionQueue<Tracked, Tracked>,
    /// The model of the queue: pairs pushed and pending, by push.
    queue_pending: Vec<usize>,
    /// The model of the queue: pairs complete, in completion order.
    queue_ready: VecDeque<usize>,
    /// Pairs of the callbacks added and not run yet.
    callbacks: Vec<usize>,
    /// Pairs of the callbacks that must have run, in any order.
    callbacks_due: Vec<usize>,
    /// Pairs of the callbacks that ran, as they recorded them.
    callbacks_ran: Arc<Mutex<Vec<usize>>>,
}

/// Runs the ops against the crate and the model; panics on any difference.
pub fn run(input: &Input) {
    let mut world = World {
        log: Drops::new(),
        pairs: Vec::new(),
        futures: Vec::new(),
        budget: Budget::new(BUDGET_MICROS),
        queue: CompletionQueue::new(),
        queue_pending: Vec::new(),
        queue_ready: VecDeque::new(),
        callbacks: Vec::new(),
        callbacks_due: Vec::new(),
        callbacks_ran: Arc::default(),
    };
    for (step, op) in input.ops.iter().take(MAX_OPS).enumerate() {
        trace(format_args!("[ops] {step:3}: {op:?}"));
        world.apply(op);
        world.check();
    }
    let World {
        log,
        pairs,
        futures,
        queue,
        ..
    } = world;
    drop(queue);
    drop(futures);
    drop(pairs);
    log.assert_all_dropped_once();
}

impl World {
    /// The state of each input of a wait: `Some(failed)` when done.
    fn states(&self, set: &[usize]) -> Vec<Option<bool>> {
        set.iter()
            .map(|&i| {
                let pair = &self.pairs[self.futures[i].0];
                pair.expected.as_ref().map(Expected::is_failure)
            })
            .collect()
    }

    /// Handles on `pair` anywhere: in `futures`, in the queue, in callbacks
    /// not run yet.
    fn holders(&self, pair: usize) -> usize {
        let futures = self.futures.iter().filter(|(p, _)| *p == pair).count();
        let queued = self.queue_pending.iter().chain(&self.queue_ready);
        let callbacks = self.callbacks.iter();
        futures + queued.chain(callbacks).filter(|&&p| p == pair).count()
    }

    /// The model's side of completing `pair`: its callbacks run, and its
    /// futures in the queue become ready, in completion order.
    fn completed(&mut self, pair: usize) {
        let (run, left) = self.callbacks.iter().partition(|&&p| p == pair);
        self.callbacks = left;
        self.callbacks_due.extend::<Vec<usize>>(run);
        let (ready, pending) = self.queue_pending.iter().partition(|&&p| p == pair);
        self.queue_pending = pending;
        self.queue_ready.extend::<Vec<usize>>(ready);
    }

    /// The expected outcome of the pair of handle `f`.
    fn expected(&self, f: usize) -> Option<&Expected> {
        self.pairs[self.futures[f].0].expected.as_ref()
    }

    /// Handle positions picked by `set`, at most [`MAX_SET`].
    fn resolve(&self, set: &[u8]) -> Vec<usize> {
        set.iter()
            .take(MAX_SET)
            .filter_map(|&i| pick(i, self.futures.len()))
            .collect()
    }

    /// The inputs of a group wait, as plain references or as `&dyn`.
    fn refs(&self, set: &[usize]) -> Vec<&Fut> {
        set.iter().map(|&i| &self.futures[i].1).collect()
    }

    fn apply(&mut self, op: &Op) {
        let futures = self.futures.len();
        match *op {
            Op::New => {
                if self.pairs.len() < MAX_PAIRS && futures < MAX_FUTURES {
                    let (promise, future) = promise();
                    trace(format_args!("      pair {} made", self.pairs.len()));
                    self.futures.push((self.pairs.len(), future));
                    self.pairs.push(Pair {
                        promise: Some(promise),
                        expected: None,
                        id: None,
                    });
                }
            }
            Op::Clone { f } => {
                if let Some(f) = pick(f, futures).filter(|_| futures < MAX_FUTURES) {
                    let (pair, future) = &self.futures[f];
                    trace(format_args!("      clone handle {f} (pair {pair})"));
                    self.futures.push((*pair, future.clone()));
                }
            }
            Op::DropFuture { f } => {
                if let Some(f) = pick(f, futures) {
                    let (pair, future) = self.futures.remove(f);
                    trace(format_args!("      drop handle {f} (pair {pair})"));
                    drop(future);
                }
            }
            Op::Complete { p, how } => {
                let Some(p) = pick(p, self.pairs.len()) else {
                    return;
                };
                if let Some(promise) = self.pairs[p].promise.take() {
                    let expected = how.complete(promise, &self.log, |_| {});
                    trace(format_args!("      pair {p} completed: {expected:?}"));
                    self.pairs[p].expected = Some(expected);
                    self.completed(p);
                }
            }
            Op::ResultNow { f } => {
                let Some(f) = pick(f, futures) else { return };
                let got = self.futures[f].1.result(Some(Duration::ZERO));
                trace(format_args!("      handle {f}: {got:?}"));
                match (self.expected(f), got) {
                    (None, Err(ResultError::Timeout)) => {}
                    (Some(expected), Ok(value)) => expected.check(Ok(value)),
                    (Some(expected), Err(ResultError::Failed(failure))) => {
                        expected.check(Err(failure))
                    }
                    (expected, got) => panic!("result(ZERO) = {got:?}, expected {expected:?}"),
                }
            }
            Op::WaitTimeout { f, micros } => {
                let Some(f) = pick(f, futures) else { return };
                let timeout = self.budget.take(micros);
                let done = self.futures[f].1.wait_timeout(timeout);
                trace(format_args!(
                    "      handle {f}: wait_timeout({timeout:?}) = {done}"
                ));
                assert_eq!(done, self.expected(f).is_some(), "wait_timeout");
            }
            Op::Get { f } => {
                let Some(f) = pick(f, futures) else { return };
                let Some(expected) = self.expected(f) else {
                    return; // would block forever: correct, and not tested here
                };
                let future = &self.futures[f].1;
                trace(format_args!("      handle {f}: untimed reads"));
                future.wait();
                expected.check(future.get_result());
                match future.result(None) {
                    Ok(value) => expected.check(Ok(value)),
                    Err(ResultError::Failed(failure)) => expected.check(Err(failure)),
                    Err(ResultError::Timeout) => panic!("result(None) timed out"),
                }
                assert_eq!(future.check_success().is_err(), expected.is_failure());
                expected.check_exception(future.get_exception());
                assert_eq!(future.get_traceback().is_some(), expected.is_failure());
            }
            Op::IntoResult { f } => {
                let Some(f) = pick(f, futures) else { return };
                let (pair, future) = self.futures.remove(f);
                let handles = self.holders(pair);
                let expected = self.pairs[pair].expected.clone();
                match (future.into_result(), expected) {
                    (Ok(outcome), Some(expected)) if handles == 0 => {
                        trace(format_args!("      handle {f}: into_result = {outcome:?}"));
                        expected.check_owned(outcome, &self.log);
                    }
                    (Err(future), expected) if expected.is_none() || handles > 0 => {
                        trace(format_args!("      handle {f}: into_result gave it back"));
                        self.futures.insert(f, (pair, future));
                    }
                    (got, expected) => panic!(
                        "into_result = {:?} with {handles} other handles, expected {expected:?}",
                        got.map(|_| "outcome").map_err(|_| "handle back")
                    ),
                }
            }
            Op::Debug { f } => {
                let Some(f) = pick(f, futures) else { return };
                let text = format!("{:?}", self.futures[f].1);
                trace(format_args!("      handle {f}: {text}"));
                assert_eq!(
                    text.contains("Complete"),
                    self.expected(f).is_some(),
                    "Debug says {text}"
                );
            }
            Op::Wait {
                ref set,
                when,
                timeout,
                as_dyn,
            } => {
                let set = self.resolve(set);
                let when = when.get();
                let states = self.states(&set);
                let timeout = self.budget.timeout(timeout, satisfied(&states, when));
                let refs = self.refs(&set);
                trace(format_args!(
                    "      wait(handles {set:?}, {timeout:?}, {when:?}), states {states:?}"
                ));
                let (done, not_done) = if as_dyn {
                    let dyns: Vec<&dyn Waitable> = refs.iter().map(|f| *f as _).collect();
                    wait(dyns, timeout, when)
                } else {
                    wait(refs, timeout, when)
                };
                assert_partition(&done, &not_done, set.len());
                assert_eq!((done, not_done), split(&states), "wait over {states:?}");
            }
            Op::WaitAny { ref set, as_dyn } => {
                let set = self.resolve(set);
                let states = self.states(&set);
                let first = states.iter().position(Option::is_some);
                if first.is_none() && !set.is_empty() {
                    return; // would block forever: correct, and not tested here
                }
                let refs = self.refs(&set);
                trace(format_args!(
                    "      wait_any(handles {set:?}), states {states:?}"
                ));
                let got = if as_dyn {
                    wait_any(refs.iter().map(|f| *f as &dyn Waitable))
                } else {
                    wait_any(refs)
                };
                assert_eq!(got, first, "wait_any over {states:?}");
            }
            Op::WaitAll { ref set, as_dyn } => {
                let set = self.resolve(set);
                let states = self.states(&set);
                if !states.iter().all(Option::is_some) {
                    return; // would block forever: correct, and not tested here
                }
                let refs = self.refs(&set);
                trace(format_args!("      wait_all(handles {set:?})"));
                if as_dyn {
                    wait_all(refs.iter().map(|f| *f as &dyn Waitable));
                } else {
                    wait_all(refs);
                }
            }
            Op::IsAbandoned { p } => {
                let Some(p) = pick(p, self.pairs.len()) else {
                    return;
                };
                let holders = self.holders(p);
                if let Some(promise) = &self.pairs[p].promise {
                    trace(format_args!("      pair {p}: {holders} handles"));
                    assert_eq!(promise.is_abandoned(), holders == 0, "is_abandoned");
                }
            }
            Op::AsCompleted { ref set } => {
                let set = self.resolve(set);
                let states = self.states(&set);
                let (done, not_done) = split(&states);
                trace(format_args!(
                    "      as_completed(handles {set:?}), states {states:?}"
                ));
                let mut order = as_completed(self.refs(&set));
                for position in done {
                    assert_eq!(order.next_timeout(Duration::ZERO), Ok(Some(position)));
                }
                let end = if not_done.is_empty() {
                    Ok(None)
                } else {
                    Err(forthcoming::Timeout)
                };
                assert_eq!(order.next_timeout(Duration::ZERO), end, "as_completed");
            }
            Op::QueuePush { f } => {
                let Some(f) = pick(f, futures) else { return };
                let (pair, future) = self.futures.remove(f);
                trace(format_args!("      push handle {f} (pair {pair})"));
                self.queue.push(future);
                if self.pairs[pair].expected.is_some() {
                    self.queue_ready.push_back(pair);
                } else {
                    self.queue_pending.push(pair);
                }
            }
            Op::QueueTake => {
                let got = self.queue.wait_next_timeout(Duration::ZERO);
                let expected = self.queue_ready.pop_front();
                trace(format_args!("      queue take: pair {expected:?}"));
                match (got, expected) {
                    (Ok(Some(future)), Some(pair)) => {
                        assert!(future.done(), "handed back pending");
                        assert_eq!(Some(future.id()), self.pairs[pair].id, "another pair's");
                        self.futures.push((pair, future));
                    }
                    (Ok(None), None) => assert!(self.queue_pending.is_empty()),
                    (Err(forthcoming::Timeout), None) => assert!(!self.queue_pending.is_empty()),
                    (got, expected) => panic!(
                        "queue take = {:?}, expected pair {expected:?}",
                        got.map(|f| f.map(|f| f.id()))
                    ),
                }
            }
            Op::AddCallback { f } => {
                let Some(f) = pick(f, futures) else { return };
                let (pair, future) = &self.futures[f];
                let pair = *pair;
                let ran = Arc::clone(&self.callbacks_ran);
                trace(format_args!("      callback on handle {f} (pair {pair})"));
                future.add_done_callback(move |future: &Fut| {
                    assert!(future.done(), "a callback ran on a pending future");
                    ran.lock().unwrap().push(pair);
                });
                self.callbacks.push(pair);
                if self.pairs[pair].expected.is_some() {
                    self.completed(pair);
                }
            }
        }
    }

    /// The invariants that hold after every op.
    fn check(&mut self) {
        for (f, (pair, future)) in self.futures.iter().enumerate() {
            let model = &self.pairs[*pair];
            assert_eq!(
                future.done(),
                model.expected.is_some(),
                "handle {f} (pair {pair}): done()"
            );
            assert_eq!(future.is_done(), future.done(), "Waitable::is_done");
            match &model.expected {
                Some(expected) => expected.check_exception(future.exception()),
                None => assert!(future.exception().is_none(), "exception() while pending"),
            }
        }
        // Ids: shared by the clones of a pair, distinct between pairs.
        for (pair, future) in &self.futures {
            let id = future.id();
            assert_eq!(
                *self.pairs[*pair].id.get_or_insert(id),
                id,
                "id() of pair {pair}"
            );
        }
        let mut ids: Vec<FutureId> = self.pairs.iter().filter_map(|p| p.id).collect();
        let known = ids.len();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), known, "two pairs share an id");
        // Callbacks: each ran once, when its pair completed.
        let mut ran = self.callbacks_ran.lock().unwrap().clone();
        ran.sort_unstable();
        self.callbacks_due.sort_unstable();
        assert_eq!(ran, self.callbacks_due, "callbacks run");
        assert_eq!(
            self.queue.len(),
            self.queue_pending.len() + self.queue_ready.len()
        );
        // Drops: a stored value lives exactly as long as a handle on its pair.
        for id in 0..self.log.made() {
            let kept = self.pairs.iter().enumerate().any(|(p, pair)| {
                pair.expected.as_ref().and_then(Expected::stored) == Some(id) && self.holders(p) > 0
            });
            self.log.assert_drops(id, u32::from(!kept));
        }
    }
}
