//! Target `ops`: one thread creates, clones, completes, forwards, drops and
//! waits on futures; a sequential model says what every call must return.

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
    /// `Promise::forward`: a pair's promise, if it is still there, waits
    /// for the future of a handle, which it takes.
    Forward {
        /// The pair whose promise is forwarded.
        p: u8,
        /// The handle it takes as its source.
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
    /// The promise, until it is completed, dropped or forwarded.
    promise: Option<Prom>,
    /// The outcome, once completed.
    expected: Option<Expected>,
    /// Once completed, the pair whose own completion made the outcome:
    /// this one, or the source a forward waited for. Every pair with the
    /// same origin reads one stored outcome.
    origin: Option<usize>,
    /// The id first read from one of its futures.
    id: Option<FutureId>,
    /// The pair whose future this pair's forwarded promise waits for.
    source: Option<usize>,
    /// The pair whose promise took this pair's only future in a forward:
    /// this pair's promise now completes that one's block (a link), so it
    /// is abandoned when that one is.
    linked_to: Option<usize>,
    /// Forwards waiting for this pending pair through a node, each holding
    /// one of its futures until it completes.
    nodes: usize,
}

/// What `Promise::forward` does, as the docs say.
#[derive(Debug)]
enum Forwarding {
    /// The source waits for the promise (or is its own future): the
    /// promise's futures, and every future waiting for them, fail with
    /// `BrokenPromise` at once.
    Cycle,
    /// Nobody can read the promise's futures: the promise is broken at once.
    Abandoned,
    /// The source is done: its outcome, at once.
    Done,
    /// The source's only handle, pending: its promise completes the
    /// forwarded promise's block from now on.
    Link,
    /// The source is shared: a forwarding node on it holds a handle until
    /// it completes.
    Node,
}

/// A queued future whose pair completed, as the model sees it.
struct Ready {
    /// Its pair.
    pair: usize,
    /// The completion (or done push) that made it ready, counted.
    event: usize,
    /// The pairs whose completion caused its pair's in that event, through
    /// forwards: they complete first.
    causes: Vec<usize>,
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
    /// The model of the queue: pairs complete, by completion.
    queue_ready: Vec<Ready>,
    /// Completions (and pushes of done futures) so far, which order the
    /// queue.
    events: usize,
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
        queue_ready: Vec::new(),
        events: 0,
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
    /// not run yet, in forwarding nodes.
    fn holders(&self, pair: usize) -> usize {
        let futures = self.futures.iter().filter(|(p, _)| *p == pair).count();
        let pending = self.queue_pending.iter().filter(|&&p| p == pair).count();
        let ready = self.queue_ready.iter().filter(|r| r.pair == pair).count();
        let callbacks = self.callbacks.iter().filter(|&&p| p == pair).count();
        futures + pending + ready + callbacks + self.pairs[pair].nodes
    }

    /// Handles that read the same stored outcome as `pair`'s, its own
    /// included: on every pair with the same origin.
    fn sharers(&self, pair: usize) -> usize {
        let origin = self.pairs[pair].origin;
        (0..self.pairs.len())
            .filter(|&p| p == pair || (origin.is_some() && self.pairs[p].origin == origin))
            .map(|p| self.holders(p))
            .sum()
    }

    /// The pair whose block `pair`'s promise completes: its own, or, after
    /// links, the one they lead to.
    fn root(&self, mut pair: usize) -> usize {
        while let Some(next) = self.pairs[pair].linked_to {
            pair = next;
        }
        pair
    }

    /// Whether the promise of `pair` is abandoned: no handle is left on the
    /// block it completes.
    fn abandoned(&self, pair: usize) -> bool {
        self.holders(self.root(pair)) == 0
    }

    /// Whether pending `pair` waits for `target`, through forwards.
    fn waits_for(&self, mut pair: usize, target: usize) -> bool {
        for _ in 0..self.pairs.len() {
            let model = &self.pairs[pair];
            match model.source {
                Some(source) if model.expected.is_none() => pair = source,
                _ => return false,
            }
            if pair == target {
                return true;
            }
        }
        panic!("the model's forwards form a cycle")
    }

    /// What forwarding the promise of `pair` to a future of `source` (taken
    /// out of `futures` already) does.
    fn forwarding(&self, pair: usize, source: usize) -> Forwarding {
        if source == pair || self.waits_for(source, pair) {
            Forwarding::Cycle
        } else if self.abandoned(pair) {
            Forwarding::Abandoned
        } else if self.pairs[source].expected.is_some() {
            Forwarding::Done
        } else if self.holders(source) == 0 {
            Forwarding::Link
        } else {
            Forwarding::Node
        }
    }

    /// The model's side of completing `pair` with `expected`, made by
    /// `origin`'s completion: then every pending pair forwarded to wait for
    /// it completes too, after it. Each completion's callbacks become due,
    /// and its futures in the queue ready, after those of the pairs that
    /// caused it.
    fn settle(&mut self, pair: usize, expected: &Expected, origin: usize) {
        self.events += 1;
        let mut work = vec![(pair, Vec::new())];
        while let Some((pair, mut causes)) = work.pop() {
            trace(format_args!("      pair {pair} done: {expected:?}"));
            let model = &mut self.pairs[pair];
            model.expected = Some(expected.clone());
            model.origin = Some(origin);
            // Its forwarding nodes complete their promises below.
            model.nodes = 0;
            let (run, left) = self.callbacks.iter().partition(|&&p| p == pair);
            self.callbacks = left;
            self.callbacks_due.extend::<Vec<usize>>(run);
            let (ready, pending): (Vec<usize>, _) =
                self.queue_pending.iter().partition(|&&p| p == pair);
            self.queue_pending = pending;
            self.queue_ready.extend(ready.into_iter().map(|pair| Ready {
                pair,
                event: self.events,
                causes: causes.clone(),
            }));
            causes.push(pair);
            let waiting = (0..self.pairs.len()).filter(|&p| {
                self.pairs[p].source == Some(pair) && self.pairs[p].expected.is_none()
            });
            work.extend(waiting.map(|p| (p, causes.clone())).collect::<Vec<_>>());
        }
    }

    /// The position in `queue_ready` of a future of `pair` that the queue
    /// may hand back now: every future made ready before it was taken.
    fn takeable(&self, pair: usize) -> Option<usize> {
        let before = |earlier: &Ready, ready: &Ready| {
            earlier.event < ready.event
                || (earlier.event == ready.event && ready.causes.contains(&earlier.pair))
        };
        self.queue_ready.iter().position(|ready| {
            ready.pair == pair && !self.queue_ready.iter().any(|other| before(other, ready))
        })
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
                        origin: None,
                        id: None,
                        source: None,
                        linked_to: None,
                        nodes: 0,
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
                    trace(format_args!("      pair {p} completed"));
                    self.settle(p, &expected, p);
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
                // The value moves out only if no other handle can read it:
                // none on this pair, nor on one forwarded to share it.
                let handles = self.sharers(pair);
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
                let root = self.root(p);
                let abandoned = self.abandoned(p);
                if let Some(promise) = &self.pairs[p].promise {
                    trace(format_args!(
                        "      pair {p} (root {root}): abandoned {abandoned}"
                    ));
                    assert_eq!(promise.is_abandoned(), abandoned, "is_abandoned");
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
                    // Done at the push: it completes there, after the rest.
                    self.events += 1;
                    self.queue_ready.push(Ready {
                        pair,
                        event: self.events,
                        causes: Vec::new(),
                    });
                } else {
                    self.queue_pending.push(pair);
                }
            }
            Op::QueueTake => {
                let got = self.queue.wait_next_timeout(Duration::ZERO);
                let ready = !self.queue_ready.is_empty();
                match got {
                    Ok(Some(future)) => {
                        let id = Some(future.id());
                        let pair = (0..self.pairs.len()).find(|&p| self.pairs[p].id == id);
                        trace(format_args!("      queue take: pair {pair:?}"));
                        let taken = pair.and_then(|pair| Some((pair, self.takeable(pair)?)));
                        let Some((pair, taken)) = taken else {
                            panic!("queue handed back pair {pair:?}, not next in completion order")
                        };
                        assert!(future.done(), "handed back pending");
                        self.queue_ready.remove(taken);
                        self.futures.push((pair, future));
                    }
                    Ok(None) => assert!(
                        !ready && self.queue_pending.is_empty(),
                        "queue take = None with futures queued"
                    ),
                    Err(forthcoming::Timeout) => assert!(
                        !ready && !self.queue_pending.is_empty(),
                        "queue take timed out, ready: {ready}"
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
                if self.pairs[pair].expected.is_some() {
                    self.callbacks_due.push(pair);
                } else {
                    self.callbacks.push(pair);
                }
            }
            Op::Forward { p, f } => {
                let (Some(p), Some(f)) = (pick(p, self.pairs.len()), pick(f, futures)) else {
                    return;
                };
                let Some(promise) = self.pairs[p].promise.take() else {
                    return;
                };
                let (source, future) = self.futures.remove(f);
                let forwarding = self.forwarding(p, source);
                trace(format_args!(
                    "      pair {p} forwarded to handle {f} (pair {source}): {forwarding:?}"
                ));
                promise.forward(future);
                match forwarding {
                    Forwarding::Cycle | Forwarding::Abandoned => {
                        self.settle(p, &Expected::Broken, p);
                    }
                    Forwarding::Done => {
                        let model = &self.pairs[source];
                        let expected = model.expected.clone().expect("done");
                        let origin = model.origin.expect("done");
                        self.settle(p, &expected, origin);
                    }
                    Forwarding::Link => {
                        self.pairs[source].linked_to = Some(p);
                        self.pairs[p].source = Some(source);
                    }
                    Forwarding::Node => {
                        self.pairs[source].nodes += 1;
                        self.pairs[p].source = Some(source);
                    }
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
