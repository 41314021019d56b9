//! Target `ops`: one thread creates, clones, completes, forwards, drops and
//! waits on futures; a sequential model says what every call must return.

use super::common::{
    BUDGET_MICROS, Budget, Completer, Expected, Fut, MAX_OPS, MAX_PAIRS, MAX_SET, Prom, Timeout,
    When, decode, fmt_ops, next_of, pick, satisfied, split, trace,
};
use arbitrary::Arbitrary;
use forthcoming::{
    AsCompleted, AsCompletedAsync, CompletionQueue, FutureId, ResultError, Waitable, as_completed,
    as_completed_async, promise, wait, wait_all, wait_any,
};
use forthcoming_test_support::{CountingWaker, Drops, Tracked, assert_partition, poll_with};
use futures_core::Stream;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::time::{Duration, Instant};

/// At most this many live future handles (clones included).
const MAX_FUTURES: usize = 16;
/// At most this many steps run in one [`Op::AsCompleted`].
const MAX_STEPS: usize = 16;

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
    /// Asks whether a pair's promise, if it is still there, is abandoned.
    Abandonment {
        /// The pair.
        p: u8,
        /// How.
        ask: Ask,
    },
    /// `as_completed(set)` and `as_completed_async(set)`, made together,
    /// then `steps` (at most [`MAX_STEPS`]) while both live; both are
    /// dropped at the end, drained or not.
    AsCompleted {
        /// The inputs.
        set: Vec<u8>,
        /// Completions and takes.
        steps: Vec<Step>,
    },
    /// `CompletionQueue::push`: moves a future handle into the queue.
    QueuePush {
        /// The handle.
        f: u8,
    },
    /// A take from the queue: the handle comes back.
    QueueTake {
        /// How.
        how: Take,
    },
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

/// How [`Op::Abandonment`] asks.
#[derive(Arbitrary, Clone, Debug)]
pub enum Ask {
    /// `is_abandoned()`.
    Is,
    /// `wait_abandoned(timeout)`: `Forever` only when the model says the
    /// promise is abandoned.
    Wait(Timeout),
    /// Polls `abandoned()` with a counting waker, again after each handle
    /// `drops` picks (at most [`MAX_SET`]) is dropped, and once more if it
    /// was `Ready`.
    Poll {
        /// The handles to drop between the polls.
        drops: Vec<u8>,
    },
}

/// One step while the `as_completed` and `as_completed_async` of an
/// [`Op::AsCompleted`] live.
#[derive(Arbitrary, Clone, Debug)]
pub enum Step {
    /// As [`Op::Complete`].
    Complete {
        /// The pair.
        p: u8,
        /// How.
        how: Completer,
    },
    /// A take: from the stream for [`Take::Poll`], else from the iterator.
    Take(Take),
}

/// How a take from `as_completed`, `as_completed_async` or the queue asks;
/// none sleeps.
#[derive(Arbitrary, Clone, Copy, Debug)]
pub enum Take {
    /// `next_timeout(ZERO)`, `wait_next_timeout(ZERO)`.
    Zero,
    /// `next_deadline(Instant::now())`, `wait_next_deadline(..)`: past by
    /// the time it looks.
    PastDeadline,
    /// `next()`, `wait_next()`, only when the model says it returns at once.
    Blocking,
    /// `poll_next` with a counting waker (`as_completed_async`, the
    /// queue's `Stream`).
    Poll,
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

/// The model of what hands futures back in completion order: the queue
/// (each item a pair) or an `as_completed` (each item an input position).
/// Completions that happen one after another come back in that order; a
/// future done when added counts as completing then.
#[derive(Debug, Default)]
struct CompletionOrder {
    /// Items whose pair is pending, with their pair.
    pending: Vec<(usize, usize)>,
    /// Items whose pair is done, not handed back yet.
    ready: Vec<Ready>,
    /// The waker of the last `poll_next`, if that returned `Pending`, and
    /// whether an item became ready since (a completion, or the queue's
    /// push of a done future, which wakes a task that polls a shared
    /// queue): then the waker was woken once, else never.
    parked: Option<(Arc<CountingWaker>, bool)>,
}

/// An item whose pair is done, as the model sees it.
#[derive(Debug)]
struct Ready {
    /// The item.
    item: usize,
    /// Its pair.
    pair: usize,
    /// The completion (or addition when done) that made it ready, counted.
    event: usize,
    /// The pairs whose completion caused its pair's in that event, through
    /// forwards: they complete first.
    causes: Vec<usize>,
}

impl CompletionOrder {
    /// Adds `item`, a future of `pair`; `done_event` is the event it counts
    /// as completing in if its pair is done already.
    fn add(&mut self, item: usize, pair: usize, done_event: Option<usize>) {
        match done_event {
            Some(event) => {
                self.ready.push(Ready {
                    item,
                    pair,
                    event,
                    causes: Vec::new(),
                });
                self.made_ready();
            }
            None => self.pending.push((item, pair)),
        }
    }

    /// An item became ready: the parked waker, if any, is owed its wake-up.
    fn made_ready(&mut self) {
        if let Some((_, woken)) = &mut self.parked {
            *woken = true;
        }
    }

    /// `pair` completed in `event`, after `causes`: its items are ready.
    fn complete(&mut self, pair: usize, event: usize, causes: &[usize]) {
        let (done, pending): (Vec<_>, _) = self.pending.iter().partition(|&&(_, p)| p == pair);
        self.pending = pending;
        if !done.is_empty() {
            self.made_ready();
        }
        self.ready
            .extend(done.into_iter().map(|(item, pair)| Ready {
                item,
                pair,
                event,
                causes: causes.to_vec(),
            }));
    }

    /// How many items are left.
    fn len(&self) -> usize {
        self.pending.len() + self.ready.len()
    }

    /// How many items of `pair` are left.
    fn holds(&self, pair: usize) -> usize {
        let pending = self.pending.iter().filter(|&&(_, p)| p == pair).count();
        pending + self.ready.iter().filter(|r| r.pair == pair).count()
    }

    /// Whether an untimed take returns at once: an item is ready, or none
    /// is left.
    fn answers_at_once(&self) -> bool {
        !self.ready.is_empty() || self.pending.is_empty()
    }

    /// Checks a take's answer and removes the item it handed back, which
    /// `matches` finds among the ready ones: one whose every predecessor
    /// was handed back (an earlier event, or in its event a pair that
    /// caused its pair's completion). The end only when no item is left;
    /// nothing (a time-out or `Pending`) only when none is ready and some
    /// is pending.
    fn take<T: fmt::Debug>(
        &mut self,
        got: Result<Option<T>, forthcoming::Timeout>,
        matches: impl Fn(&T, &Ready) -> bool,
    ) -> Option<(T, Ready)> {
        match got {
            Ok(Some(item)) => {
                let before = |earlier: &Ready, ready: &Ready| {
                    earlier.event < ready.event
                        || (earlier.event == ready.event && ready.causes.contains(&earlier.pair))
                };
                let next = self.ready.iter().position(|ready| {
                    matches(&item, ready) && !self.ready.iter().any(|other| before(other, ready))
                });
                let Some(next) = next else {
                    panic!("{item:?} handed back, not next in completion order: {self:?}")
                };
                Some((item, self.ready.remove(next)))
            }
            Ok(None) => {
                assert_eq!(self.len(), 0, "the end, with items left: {self:?}");
                None
            }
            Err(forthcoming::Timeout) => {
                assert!(
                    self.ready.is_empty() && !self.pending.is_empty(),
                    "nothing handed back: {self:?}"
                );
                None
            }
        }
    }

    /// Polls `stream` once with a fresh counting waker, the one a
    /// `Pending` answer parks; `Pending` reads as a time-out.
    fn poll<S: Stream + Unpin>(
        &mut self,
        stream: &mut S,
    ) -> Result<Option<S::Item>, forthcoming::Timeout> {
        self.check_wake();
        let (counter, waker) = CountingWaker::new();
        match poll_with(&mut next_of(stream), &waker) {
            Poll::Ready(next) => {
                self.parked = None;
                Ok(next)
            }
            Poll::Pending => {
                self.parked = Some((counter, false));
                Err(forthcoming::Timeout)
            }
        }
    }

    /// After a take that is no poll (the queue is both an iterator and a
    /// stream): checks the parked waker's wake-ups so far, then forgets
    /// it. Such a take ends the consumer's sleep (its swap clears the
    /// stack's `PARKED` flag), so no later completion owes that waker a
    /// wake-up.
    fn unpark(&mut self) {
        self.check_wake();
        self.parked = None;
    }

    /// Checks that the waker of the last `Pending` poll was woken once if
    /// an item became ready since, and never otherwise.
    fn check_wake(&self) {
        if let Some((counter, woken)) = &self.parked {
            assert_eq!(
                counter.wakes(),
                usize::from(*woken),
                "wake-ups of a Pending poll's waker: {self:?}"
            );
        }
    }
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
    /// The model of the queue, whose items are pairs.
    queued: CompletionOrder,
    /// The models of the `as_completed` and `as_completed_async` an
    /// `AsCompleted` op drives; empty between ops.
    iter_order: CompletionOrder,
    /// See `iter_order`.
    stream_order: CompletionOrder,
    /// Completions (and additions of done futures to the queue or an
    /// `as_completed`) so far, which order what hands futures back.
    events: usize,
    /// Pairs of the callbacks added and not run yet.
    callbacks: Vec<usize>,
    /// Pairs of the callbacks that must have run, in any order.
    callbacks_due: Vec<usize>,
    /// Pairs of the callbacks that ran, as they recorded them.
    callbacks_ran: Arc<Mutex<Vec<usize>>>,
}

/// Drops the handle `f` picks, if any.
fn drop_handle(futures: &mut Vec<(usize, Fut)>, f: u8) {
    if let Some(f) = pick(f, futures.len()) {
        let (pair, future) = futures.remove(f);
        trace(format_args!("      drop handle {f} (pair {pair})"));
        drop(future);
    }
}

/// Runs the ops against the crate and the model; panics on any difference.
pub fn run(input: &Input) {
    let mut world = World {
        log: Drops::new(),
        pairs: Vec::new(),
        futures: Vec::new(),
        budget: Budget::new(BUDGET_MICROS),
        queue: CompletionQueue::new(),
        queued: CompletionOrder::default(),
        iter_order: CompletionOrder::default(),
        stream_order: CompletionOrder::default(),
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
        let queued = self.queued.holds(pair);
        let callbacks = self.callbacks.iter().filter(|&&p| p == pair).count();
        futures + queued + callbacks + self.pairs[pair].nodes
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
    /// and its futures in the queue or a live `as_completed` ready, after
    /// those of the pairs that caused it.
    fn settle(&mut self, pair: usize, expected: &Expected, origin: usize) {
        let event = self.next_event();
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
            for order in [
                &mut self.queued,
                &mut self.iter_order,
                &mut self.stream_order,
            ] {
                order.complete(pair, event, &causes);
            }
            causes.push(pair);
            let waiting = (0..self.pairs.len()).filter(|&p| {
                self.pairs[p].source == Some(pair) && self.pairs[p].expected.is_none()
            });
            work.extend(waiting.map(|p| (p, causes.clone())).collect::<Vec<_>>());
        }
    }

    /// Counts one more event (see `events`) and returns it.
    fn next_event(&mut self) -> usize {
        self.events += 1;
        self.events
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

    /// Completes (or breaks) the promise of the pair `p` picks, if it is
    /// still there.
    fn complete(&mut self, p: u8, how: Completer) {
        let Some(p) = pick(p, self.pairs.len()) else {
            return;
        };
        if let Some(promise) = self.pairs[p].promise.take() {
            let expected = how.complete(promise, &self.log, |_| {});
            trace(format_args!("      pair {p} completed"));
            self.settle(p, &expected, p);
        }
    }

    /// Polls `abandoned()` of the promise of `pair` (still there) with one
    /// counting waker, again after each handle `drops` picks is dropped,
    /// and once more if it was `Ready`: each poll is `Ready` exactly when
    /// the model says abandoned, and the waker is woken once if a poll
    /// was `Pending` and the promise is abandoned now, never otherwise.
    fn poll_abandoned(&mut self, pair: usize, drops: &[u8]) {
        let promise = self.pairs[pair].promise.as_ref().expect("held");
        let mut abandonment = promise.abandoned();
        let (counter, waker) = CountingWaker::new();
        let mut pending_before = false;
        let drops = drops.iter().take(MAX_SET).map(Some).chain([None]);
        for drop_next in drops {
            let abandoned = self.abandoned(pair);
            assert_eq!(
                counter.wakes(),
                usize::from(pending_before && abandoned),
                "wake-ups of abandoned()'s waker"
            );
            let ready = poll_with(&mut abandonment, &waker).is_ready();
            trace(format_args!("      abandoned() polled: ready {ready}"));
            assert_eq!(ready, abandoned, "abandoned() polled");
            pending_before |= !ready;
            if let Some(&f) = drop_next {
                drop_handle(&mut self.futures, f);
            }
        }
        if self.abandoned(pair) {
            let again = poll_with(&mut abandonment, &waker);
            assert!(again.is_ready(), "abandoned() Pending after Ready");
        }
    }

    /// Runs [`Op::AsCompleted`]: makes both over the handles `set` picks,
    /// with their models (the positions done at the call first, ascending,
    /// as if each completed there in turn), runs `steps`, drops both.
    fn drive_as_completed(&mut self, set: &[u8], steps: &[Step]) {
        let set = self.resolve(set);
        // Both borrow the handles until they are dropped, so the handles
        // leave `self.futures` until then; completing a promise does not
        // look at them.
        let futures = std::mem::take(&mut self.futures);
        let refs: Vec<&Fut> = set.iter().map(|&i| &futures[i].1).collect();
        let mut iter = as_completed(refs.iter().copied());
        let mut stream = as_completed_async(refs.iter().copied());
        for (position, &i) in set.iter().enumerate() {
            let pair = futures[i].0;
            let done_event = self.pairs[pair]
                .expected
                .is_some()
                .then(|| self.next_event());
            self.iter_order.add(position, pair, done_event);
            self.stream_order.add(position, pair, done_event);
        }
        trace(format_args!(
            "      as_completed(handles {set:?}): {:?}",
            self.iter_order
        ));
        for step in steps.iter().take(MAX_STEPS) {
            trace(format_args!("      step {step:?}"));
            match *step {
                Step::Complete { p, how } => self.complete(p, how),
                Step::Take(how) => self.take_position(&mut iter, &mut stream, how),
            }
        }
        self.stream_order.check_wake();
        drop((iter, stream));
        self.iter_order = CompletionOrder::default();
        self.stream_order = CompletionOrder::default();
        self.futures = futures;
    }

    /// One take of an [`Op::AsCompleted`], from `stream` for
    /// [`Take::Poll`], else from `iter`, checked against its model; then
    /// both say how many positions they have left.
    fn take_position(
        &mut self,
        iter: &mut AsCompleted<'_>,
        stream: &mut AsCompletedAsync<'_>,
        how: Take,
    ) {
        let (order, got) = match how {
            Take::Zero => (&mut self.iter_order, iter.next_timeout(Duration::ZERO)),
            Take::PastDeadline => (&mut self.iter_order, iter.next_deadline(Instant::now())),
            Take::Blocking if self.iter_order.answers_at_once() => {
                (&mut self.iter_order, Ok(iter.next()))
            }
            Take::Blocking => return, // would block forever: correct, and not tested here
            Take::Poll => {
                let got = self.stream_order.poll(stream);
                (&mut self.stream_order, got)
            }
        };
        trace(format_args!("      take {how:?}: {got:?}"));
        order.take(got, |&position, ready| ready.item == position);
        assert_eq!(iter.len(), self.iter_order.len(), "as_completed's len()");
        let left = self.stream_order.len();
        assert_eq!(
            stream.size_hint(),
            (left, Some(left)),
            "as_completed_async's size_hint()"
        );
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
            Op::DropFuture { f } => drop_handle(&mut self.futures, f),
            Op::Complete { p, how } => self.complete(p, how),
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
            Op::Abandonment { p, ref ask } => {
                let Some(p) = pick(p, self.pairs.len()) else {
                    return;
                };
                let abandoned = self.abandoned(p);
                let Some(promise) = &self.pairs[p].promise else {
                    return;
                };
                trace(format_args!(
                    "      pair {p} (root {}): abandoned {abandoned}",
                    self.root(p)
                ));
                match *ask {
                    Ask::Is => assert_eq!(promise.is_abandoned(), abandoned, "is_abandoned"),
                    Ask::Wait(timeout) => {
                        let timeout = self.budget.timeout(timeout, abandoned);
                        let got = promise.wait_abandoned(timeout);
                        assert_eq!(got, abandoned, "wait_abandoned({timeout:?})");
                    }
                    Ask::Poll { ref drops } => self.poll_abandoned(p, drops),
                }
            }
            Op::AsCompleted { ref set, ref steps } => self.drive_as_completed(set, steps),
            Op::QueuePush { f } => {
                let Some(f) = pick(f, futures) else { return };
                let (pair, future) = self.futures.remove(f);
                trace(format_args!("      push handle {f} (pair {pair})"));
                self.queue.push(future);
                // Done at the push: it completes there, after the rest.
                let done_event = self.pairs[pair]
                    .expected
                    .is_some()
                    .then(|| self.next_event());
                self.queued.add(pair, pair, done_event);
            }
            Op::QueueTake { how } => {
                let got = match how {
                    Take::Zero => self.queue.wait_next_timeout(Duration::ZERO),
                    Take::PastDeadline => self.queue.wait_next_deadline(Instant::now()),
                    Take::Blocking if self.queued.answers_at_once() => Ok(self.queue.wait_next()),
                    Take::Blocking => return, // would block forever: correct, and not tested here
                    Take::Poll => self.queued.poll(&mut self.queue),
                };
                if !matches!(how, Take::Poll) {
                    self.queued.unpark();
                }
                trace(format_args!(
                    "      queue take {how:?}: {:?}",
                    got.as_ref().map(|f| f.as_ref().map(Fut::id))
                ));
                let pairs = &self.pairs;
                let taken = self.queued.take(got, |future: &Fut, ready| {
                    pairs[ready.pair].id == Some(future.id())
                });
                if let Some((future, ready)) = taken {
                    assert!(future.done(), "handed back pending");
                    self.futures.push((ready.pair, future));
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
        assert_eq!(self.queue.len(), self.queued.len(), "queue len()");
        self.queued.check_wake();
        // Drops: a stored value lives exactly as long as a handle on its pair.
        for id in 0..self.log.made() {
            let kept = self.pairs.iter().enumerate().any(|(p, pair)| {
                pair.expected.as_ref().and_then(Expected::stored) == Some(id) && self.holders(p) > 0
            });
            self.log.assert_drops(id, u32::from(!kept));
        }
    }
}
