//! Target `threads`: the ops split across 2 or 3 threads that complete,
//! read, wait (blocking and async) and cancel concurrently; checks what holds
//! under any interleaving.
//!
//! Every untimed wait ends: thread `i` waits without a time-out only on
//! futures it already saw done, or whose promise belongs to a thread `j > i`
//! (which completes it, or drops it at the latest when its script ends, and
//! by the same rule never blocks forever itself). A thread forwards one of
//! its promises only to a future it saw done or whose promise belongs to it
//! or to a later thread, so a forwarded promise still completes once the
//! later threads are through, and a cycle of forwards is closed by the one
//! thread that made all of them (never by two threads at once, which the
//! crate documents may leave the cycle pending).

use super::common::{
    BUDGET_MICROS, Budget, Completer, Expected, Fut, MAX_OPS, MAX_PAIRS, MAX_SET, Prom, Timeout,
    When, block_on, decode, fmt_ops, pick, satisfied, trace,
};
use arbitrary::Arbitrary;
use forthcoming::{
    CompletionQueue, FutureId, ResultError, ReturnWhen, as_completed, promise, wait, wait_all,
    wait_all_async, wait_any, wait_any_async, wait_async,
};
use forthcoming_test_support::{CountingWaker, Drops, Tracked, assert_partition, poll_with};
use std::fmt;
use std::future::IntoFuture;
use std::hint::spin_loop;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Barrier, OnceLock};
use std::task::{Poll, Waker};
use std::time::{Duration, Instant};

/// At most this many future handles per thread.
const MAX_FUTURES: usize = 12;

/// One step of one thread. `p` picks one of the promises this thread still
/// holds, `f` one of its future handles, `set` several (duplicates allowed).
#[derive(Arbitrary, Clone, Debug)]
pub enum Op {
    /// Completes (or breaks) one of this thread's promises.
    Complete {
        /// The promise.
        p: u8,
        /// How.
        how: Completer,
    },
    /// `Future::clone`.
    Clone {
        /// The handle.
        f: u8,
    },
    /// Drops a handle.
    DropFuture {
        /// The handle.
        f: u8,
    },
    /// `done()`, then `exception()` and the value if done.
    Check {
        /// The handle.
        f: u8,
    },
    /// `result(timeout)`.
    Result {
        /// The handle.
        f: u8,
        /// `Forever` only when the wait is known to end.
        timeout: Timeout,
    },
    /// `into_result`, racing the other threads' handles.
    IntoResult {
        /// The handle.
        f: u8,
    },
    /// `wait(set, timeout, when)`.
    Wait {
        /// The inputs.
        set: Vec<u8>,
        /// The rule.
        when: When,
        /// `Forever` only when the wait is known to end.
        timeout: Timeout,
    },
    /// `wait_any(set)`, when it is known to end.
    WaitAny {
        /// The inputs.
        set: Vec<u8>,
    },
    /// `wait_all(set)`, when it is known to end.
    WaitAll {
        /// The inputs.
        set: Vec<u8>,
    },
    /// `(&future).await` on a parking executor, when it is known to end.
    Await {
        /// The handle.
        f: u8,
    },
    /// An async group wait on a parking executor, when it is known to end.
    AwaitGroup {
        /// The inputs.
        set: Vec<u8>,
        /// Which one.
        group: Group,
    },
    /// Polls `(&future).into_future()`, sleeps, polls again, drops it:
    /// cancellation racing completion.
    PollDrop {
        /// The handle.
        f: u8,
        /// Microseconds between the polls (budgeted).
        micros: u8,
    },
    /// The same with an async group wait.
    PollDropGroup {
        /// The inputs.
        set: Vec<u8>,
        /// Which one.
        group: Group,
        /// Microseconds between the polls (budgeted).
        micros: u8,
    },
    /// Spins `16 * n` times, to shift the interleaving.
    Spin {
        /// How long.
        n: u8,
    },
    /// `thread::yield_now`.
    Yield,
    /// `Future::add_done_callback`: the callback checks the outcome and
    /// counts its run.
    AddCallback {
        /// The handle.
        f: u8,
    },
    /// `Promise::forward` of one of this thread's promises to a handle it
    /// takes, when that cannot leave the promise pending (see the module
    /// docs).
    Forward {
        /// The promise.
        p: u8,
        /// The handle it takes as its source.
        f: u8,
    },
    /// Asks whether one of this thread's promises is abandoned.
    Abandonment {
        /// The promise.
        p: u8,
        /// How.
        ask: Ask,
    },
    /// `as_completed(set)`, drained with `next_timeout` (or `next`, when
    /// every input is known to complete and `timeout` is `Forever`) until
    /// the end or a time-out.
    AsCompleted {
        /// The inputs.
        set: Vec<u8>,
        /// The time-out of each take.
        timeout: Timeout,
    },
    /// `CompletionQueue::push` of a handle into this thread's queue.
    QueuePush {
        /// The handle.
        f: u8,
    },
    /// `CompletionQueue::wait_next_timeout` (or `wait_next`, when it is
    /// known to end) on this thread's queue; the handle comes back.
    QueueTake {
        /// `Forever` only when the take is known to end.
        timeout: Timeout,
    },
}

/// How [`Op::Abandonment`] asks.
#[derive(Arbitrary, Clone, Copy, Debug)]
pub enum Ask {
    /// `is_abandoned()`.
    Is,
    /// `wait_abandoned(timeout)`; `Forever` is a zero time-out (whether
    /// the other threads will drop their futures is not known).
    Wait(Timeout),
    /// Polls `abandoned()`, pauses this many microseconds (budgeted),
    /// polls again if it was `Pending`, drops it.
    Poll(u8),
}

/// Which async group wait.
#[derive(Arbitrary, Clone, Copy, Debug)]
pub enum Group {
    /// `wait_any_async`.
    Any,
    /// `wait_all_async`.
    All,
    /// `wait_async` with this rule.
    Wait(When),
}

/// A decoded input.
#[derive(Arbitrary)]
pub struct Input {
    /// Three threads instead of two.
    pub three_threads: bool,
    /// How many pairs (1 + this modulo 8).
    pub pairs: u8,
    /// Which thread holds each pair's promise (modulo the thread count).
    pub owners: [u8; MAX_PAIRS],
    /// At the end of its script, a thread drops its promises before its
    /// futures (or after).
    pub promises_first: bool,
    /// The ops, each tagged with its thread (modulo the thread count).
    pub ops: Vec<(u8, Op)>,
}

impl Input {
    fn threads(&self) -> usize {
        if self.three_threads { 3 } else { 2 }
    }

    fn pairs(&self) -> usize {
        usize::from(self.pairs) % MAX_PAIRS + 1
    }

    fn owners(&self) -> Vec<usize> {
        let threads = self.threads();
        self.owners[..self.pairs()]
            .iter()
            .map(|&o| usize::from(o) % threads)
            .collect()
    }
}

impl fmt::Debug for Input {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let threads = self.threads();
        fmt_ops(
            f,
            format_args!(
                "threads target: {threads} threads, {} pairs, promise owners {:?}, \
                 promises dropped {} futures; ops as (thread, op):",
                self.pairs(),
                self.owners(),
                if self.promises_first {
                    "before"
                } else {
                    "after"
                },
            ),
            self.ops
                .iter()
                .take(MAX_OPS)
                .map(|(t, op)| (usize::from(*t) % threads, op)),
        )
    }
}

/// Runs an input given as raw bytes, as the fuzz target does.
pub fn run_bytes(data: &[u8]) {
    if let Some(input) = decode::<Input>(data) {
        run(&input);
    }
}

/// What a pair's completer (or forwarder) publishes before it completes it.
#[derive(Debug)]
enum Published {
    /// The outcome.
    Outcome(Expected),
    /// The outcome of this pair: the promise was forwarded to its future.
    SameAs(usize),
}

/// The outcome published for `pair`: its own or, through forwards, its
/// source's; `None` while a pair on the way has published nothing.
fn published_outcome(published: &[OnceLock<Published>], mut pair: usize) -> Option<&Expected> {
    for _ in 0..=published.len() {
        match published[pair].get()? {
            Published::Outcome(expected) => return Some(expected),
            Published::SameAs(source) => pair = *source,
        }
    }
    panic!("the published forwards form a cycle")
}

/// What all threads share.
struct Shared {
    /// Every value made.
    log: Drops,
    /// What each pair completes with, published by its completer before it
    /// completes; shared with the callbacks, which check it.
    published: Arc<[OnceLock<Published>]>,
    /// Each pair's id.
    ids: Vec<FutureId>,
    /// Callbacks added.
    callbacks_added: AtomicUsize,
    /// Callbacks run; shared with the callbacks, which count themselves.
    callbacks_ran: Arc<AtomicUsize>,
    /// Which thread holds each promise.
    owners: Vec<usize>,
    /// Starts the scripts together.
    start: Barrier,
    /// Drop promises before futures at the end of a script.
    promises_first: bool,
}

/// One thread's handles and knowledge.
struct Worker<'s> {
    /// Its index.
    me: usize,
    /// What all threads share.
    shared: &'s Shared,
    /// The promises it still holds.
    promises: Vec<(usize, Prom)>,
    /// Its future handles, with their pair.
    futures: Vec<(usize, Fut)>,
    /// Pairs it knows are done.
    seen: Vec<bool>,
    /// Pairs whose promise it saw abandoned.
    abandoned: Vec<bool>,
    /// Its queue.
    queue: CompletionQueue<Tracked, Tracked>,
    /// The futures in its queue, in push order.
    queued: Vec<Queued>,
    /// Time budget.
    budget: Budget,
}

/// A future in a thread's queue.
struct Queued {
    /// Its pair.
    pair: usize,
    /// It was done at the push, so it counts as completing there: after
    /// every future pushed before it that completed, before every future
    /// pushed after it.
    done_at_push: bool,
}

/// How a drain of `as_completed` ended.
#[derive(Debug)]
enum Drained {
    /// `None`: every position was yielded.
    All,
    /// A take timed out after this long, its time-out.
    TimedOut(Duration, Duration),
}

/// Runs the ops on 2 or 3 threads; panics when an invariant breaks.
pub fn run(input: &Input) {
    let threads = input.threads();
    let pairs = input.pairs();
    let made: Vec<(Prom, Fut)> = (0..pairs).map(|_| promise()).collect();
    let shared = Shared {
        log: Drops::new(),
        published: (0..pairs).map(|_| OnceLock::new()).collect(),
        ids: made.iter().map(|(_, future)| future.id()).collect(),
        callbacks_added: AtomicUsize::new(0),
        callbacks_ran: Arc::new(AtomicUsize::new(0)),
        owners: input.owners(),
        start: Barrier::new(threads),
        promises_first: input.promises_first,
    };
    let mut workers: Vec<Worker<'_>> = (0..threads)
        .map(|me| Worker {
            me,
            shared: &shared,
            promises: Vec::new(),
            futures: Vec::new(),
            seen: vec![false; pairs],
            abandoned: vec![false; pairs],
            queue: CompletionQueue::new(),
            queued: Vec::new(),
            budget: Budget::new(BUDGET_MICROS),
        })
        .collect();
    for (pair, (promise, future)) in made.into_iter().enumerate() {
        for worker in &mut workers {
            worker.futures.push((pair, future.clone()));
        }
        workers[shared.owners[pair]].promises.push((pair, promise));
    }
    let mut scripts = vec![Vec::new(); threads];
    for (t, op) in input.ops.iter().take(MAX_OPS) {
        scripts[usize::from(*t) % threads].push(op.clone());
    }
    std::thread::scope(|s| {
        let threads: Vec<_> = workers
            .into_iter()
            .zip(scripts)
            .map(|(worker, script)| s.spawn(move || worker.work(&script)))
            .collect();
        // Join each thread explicitly: that waits for its thread-local
        // destructors too (the scope's own wait does not), so LeakSanitizer
        // does not see a half-exited thread's destructor list as a leak.
        for thread in threads {
            if let Err(panic) = thread.join() {
                std::panic::resume_unwind(panic);
            }
        }
    });
    // ORDERING: Relaxed: the joins ordered every callback's count before
    // these loads.
    assert_eq!(
        shared.callbacks_ran.load(Relaxed),
        shared.callbacks_added.load(Relaxed),
        "callbacks run, of those added"
    );
    shared.log.assert_all_dropped_once();
}

impl Worker<'_> {
    fn work(mut self, script: &[Op]) {
        self.shared.start.wait();
        for (step, op) in script.iter().enumerate() {
            trace(format_args!("[thread {}] {step:3}: {op:?}", self.me));
            self.apply(op);
        }
        let futures = (
            std::mem::take(&mut self.futures),
            std::mem::take(&mut self.queue),
        );
        if !self.shared.promises_first {
            drop(futures);
            self.break_promises();
        } else {
            self.break_promises();
            drop(futures);
        }
    }

    /// Drops the promises still held, publishing `Broken` first.
    fn break_promises(&mut self) {
        for (pair, promise) in std::mem::take(&mut self.promises) {
            Completer::Drop.complete(promise, &self.shared.log, |expected| {
                self.publish(pair, Published::Outcome(expected.clone()));
            });
        }
    }

    /// Publishes what `pair` completes with, before completing it.
    fn publish(&self, pair: usize, published: Published) {
        self.shared.published[pair]
            .set(published)
            .expect("a pair completed twice");
    }

    /// The outcome of a pair this thread saw done: it must be published.
    fn expected(&self, pair: usize) -> &Expected {
        published_outcome(&self.shared.published, pair).unwrap_or_else(|| {
            panic!(
                "pair {pair} is done but its outcome was not visible to thread {}",
                self.me
            )
        })
    }

    /// Whether `pair` waits for `target` through published forwards.
    fn waits_for(&self, mut pair: usize, target: usize) -> bool {
        let published = &self.shared.published;
        for _ in 0..=published.len() {
            match published[pair].get() {
                Some(Published::SameAs(source)) => pair = *source,
                _ => return false,
            }
            if pair == target {
                return true;
            }
        }
        panic!("the published forwards form a cycle")
    }

    /// Whether this thread holds a future (in its list or its queue) that
    /// reads what the promise of `pair` completes: one of `pair`'s, or of a
    /// pair forwarded to wait for it. Then that promise is not abandoned.
    fn reads(&self, pair: usize) -> bool {
        let held = self.futures.iter().map(|(p, _)| *p);
        held.chain(self.queued.iter().map(|q| q.pair))
            .any(|p| p == pair || self.waits_for(p, pair))
    }

    /// Whether an untimed wait on `pair` is known to end.
    fn settled(&self, pair: usize) -> bool {
        self.seen[pair] || self.shared.owners[pair] > self.me
    }

    /// Handle positions picked by `set`, at most [`MAX_SET`].
    fn resolve(&self, set: &[u8]) -> Vec<usize> {
        set.iter()
            .take(MAX_SET)
            .filter_map(|&i| pick(i, self.futures.len()))
            .collect()
    }

    fn pairs_of(&self, set: &[usize]) -> Vec<usize> {
        set.iter().map(|&i| self.futures[i].0).collect()
    }

    fn refs(&self, set: &[usize]) -> Vec<&Fut> {
        set.iter().map(|&i| &self.futures[i].1).collect()
    }

    /// Whether an untimed group wait under `when` over `pairs` is known to end.
    fn untimed_ok(&self, pairs: &[usize], when: ReturnWhen) -> bool {
        pairs.is_empty()
            || match when {
                ReturnWhen::FirstCompleted => pairs.iter().any(|&p| self.settled(p)),
                ReturnWhen::AllCompleted | ReturnWhen::FirstException => {
                    pairs.iter().all(|&p| self.settled(p))
                }
            }
    }

    /// Checks a reported `(done, not_done)` over `pairs`: a partition, every
    /// done input really done (and its outcome published), every input seen
    /// done before the call in `done`. Returns whether it satisfies `when`.
    fn check_split(
        &mut self,
        pairs: &[usize],
        seen_before: &[bool],
        done: &[usize],
        not_done: &[usize],
        when: ReturnWhen,
    ) -> bool {
        assert_partition(done, not_done, pairs.len());
        for &i in not_done {
            assert!(
                !seen_before[i],
                "input {i} was done before the wait, reported not done"
            );
        }
        let mut states = vec![None; pairs.len()];
        for &i in done {
            let pair = pairs[i];
            assert!(
                self.futures.iter().any(|(p, f)| *p == pair && f.done()) || self.seen[pair],
                "input {i} (pair {pair}) reported done, but is not"
            );
            self.seen[pair] = true;
            states[i] = Some(self.expected(pair).is_failure());
        }
        satisfied(&states, when)
    }

    /// Checks a `wait_any` answer over `pairs`.
    fn check_any(&mut self, pairs: &[usize], seen_before: &[bool], got: Option<usize>) {
        match got {
            None => assert!(pairs.is_empty(), "wait_any over {pairs:?} gave None"),
            Some(i) => {
                assert!(i < pairs.len(), "wait_any gave {i} of {}", pairs.len());
                if let Some(lowest) = seen_before.iter().position(|&s| s) {
                    assert!(
                        i <= lowest,
                        "wait_any gave {i}, but {lowest} was done before"
                    );
                }
                self.seen[pairs[i]] = true;
                let _ = self.expected(pairs[i]);
            }
        }
    }

    /// Checks the positions `as_completed` over `pairs` yielded, given
    /// which inputs were done just `before` the call and just `after` it:
    /// each at most once, each done with its outcome published; the ones
    /// done before come first (before every one not done after), ascending.
    fn check_order(&mut self, pairs: &[usize], yielded: &[usize], before: &[bool], after: &[bool]) {
        let mut once = vec![false; pairs.len()];
        let mut last_done_before = None;
        let mut pending_after_seen = false;
        for &position in yielded {
            assert!(
                position < pairs.len(),
                "position {position} of {}",
                pairs.len()
            );
            assert!(!once[position], "position {position} yielded twice");
            once[position] = true;
            let pair = pairs[position];
            assert!(
                self.futures.iter().any(|(p, f)| *p == pair && f.done()),
                "position {position} (pair {pair}) yielded, not done"
            );
            self.seen[pair] = true;
            let _ = self.expected(pair);
            if before[position] {
                assert!(
                    !pending_after_seen,
                    "position {position}, done at the call, came late"
                );
                assert!(
                    last_done_before < Some(position),
                    "positions done at the call not ascending: {yielded:?}"
                );
                last_done_before = Some(position);
            }
            pending_after_seen |= !after[position];
        }
    }

    /// Asks, as `ask` says, whether the promise `p` (an index into
    /// `promises`) is abandoned; a timed wait that says no took at least
    /// its time-out, and a waker woken between two polls means the second
    /// is `Ready`.
    fn ask_abandoned(&mut self, p: usize, ask: Ask) -> bool {
        match ask {
            Ask::Is => self.promises[p].1.is_abandoned(),
            Ask::Wait(timeout) => {
                let timeout = self.budget.timeout(timeout, false).expect("timed");
                let start = Instant::now();
                let abandoned = self.promises[p].1.wait_abandoned(Some(timeout));
                assert!(
                    abandoned || start.elapsed() >= timeout,
                    "wait_abandoned said no before its time-out"
                );
                abandoned
            }
            Ask::Poll(micros) => {
                let pause = self.budget.take(micros);
                let (first, waker) = CountingWaker::new();
                let (_, waker2) = CountingWaker::new();
                let mut abandonment = self.promises[p].1.abandoned();
                two_polls(&mut abandonment, &waker, &waker2, pause, &first).is_some()
            }
        }
    }

    fn apply(&mut self, op: &Op) {
        let futures = self.futures.len();
        match *op {
            Op::Complete { p, how } => {
                let Some(p) = pick(p, self.promises.len()) else {
                    return;
                };
                let (pair, promise) = self.promises.remove(p);
                let expected = how.complete(promise, &self.shared.log, |expected| {
                    self.publish(pair, Published::Outcome(expected.clone()));
                });
                trace(format_args!(
                    "    [thread {}] pair {pair}: {expected:?}",
                    self.me
                ));
                self.seen[pair] = true;
            }
            Op::Clone { f } => {
                if let Some(f) = pick(f, futures).filter(|_| futures < MAX_FUTURES) {
                    let (pair, future) = &self.futures[f];
                    self.futures.push((*pair, future.clone()));
                }
            }
            Op::DropFuture { f } => {
                if let Some(f) = pick(f, futures) {
                    drop(self.futures.remove(f));
                }
            }
            Op::Check { f } => {
                let Some(f) = pick(f, futures) else { return };
                let (pair, future) = &self.futures[f];
                if future.done() {
                    let expected = self.expected(*pair);
                    expected.check_exception(future.exception());
                    match future.result(Some(Duration::ZERO)) {
                        Ok(value) => expected.check(Ok(value)),
                        Err(ResultError::Failed(failure)) => expected.check(Err(failure)),
                        Err(ResultError::Timeout) => panic!("done, yet result(ZERO) timed out"),
                    }
                    self.seen[*pair] = true;
                } else {
                    assert!(!self.seen[*pair], "pair {pair} was done, now is not");
                }
            }
            Op::Result { f, timeout } => {
                let Some(f) = pick(f, futures) else { return };
                let pair = self.futures[f].0;
                let timeout = self.budget.timeout(timeout, self.settled(pair));
                let start = Instant::now();
                match self.futures[f].1.result(timeout) {
                    Ok(value) => self.expected(pair).check(Ok(value)),
                    Err(ResultError::Failed(failure)) => self.expected(pair).check(Err(failure)),
                    Err(ResultError::Timeout) => {
                        let timeout = timeout.expect("an untimed result() timed out");
                        assert!(!self.seen[pair], "pair {pair} was done, result() timed out");
                        assert!(start.elapsed() >= timeout, "result() timed out early");
                        return;
                    }
                }
                self.seen[pair] = true;
            }
            Op::IntoResult { f } => {
                let Some(f) = pick(f, futures) else { return };
                let (pair, future) = self.futures.remove(f);
                match future.into_result() {
                    Ok(outcome) => {
                        let expected = self.expected(pair);
                        trace(format_args!("    [thread {}] took {outcome:?}", self.me));
                        expected.check_owned(outcome, &self.shared.log);
                    }
                    Err(future) => self.futures.insert(f, (pair, future)),
                }
            }
            Op::Wait {
                ref set,
                when,
                timeout,
            } => {
                let set = self.resolve(set);
                let when = when.get();
                let pairs = self.pairs_of(&set);
                let seen_before: Vec<bool> = pairs.iter().map(|&p| self.seen[p]).collect();
                let timeout = self.budget.timeout(timeout, self.untimed_ok(&pairs, when));
                let start = Instant::now();
                let (done, not_done) = wait(self.refs(&set), timeout, when);
                let elapsed = start.elapsed();
                trace(format_args!(
                    "    [thread {}] wait({pairs:?}, {timeout:?}, {when:?}) = ({done:?}, {not_done:?})",
                    self.me
                ));
                let over = self.check_split(&pairs, &seen_before, &done, &not_done, when);
                match timeout {
                    None => assert!(over, "an untimed wait returned before {when:?} held"),
                    Some(timeout) => assert!(
                        over || elapsed >= timeout,
                        "wait returned after {elapsed:?} < {timeout:?} before {when:?} held"
                    ),
                }
            }
            Op::WaitAny { ref set } => {
                let set = self.resolve(set);
                let pairs = self.pairs_of(&set);
                if !self.untimed_ok(&pairs, ReturnWhen::FirstCompleted) {
                    return;
                }
                let seen_before: Vec<bool> = pairs.iter().map(|&p| self.seen[p]).collect();
                let got = wait_any(self.refs(&set));
                self.check_any(&pairs, &seen_before, got);
            }
            Op::WaitAll { ref set } => {
                let set = self.resolve(set);
                let pairs = self.pairs_of(&set);
                if !self.untimed_ok(&pairs, ReturnWhen::AllCompleted) {
                    return;
                }
                wait_all(self.refs(&set));
                for &i in &set {
                    assert!(
                        self.futures[i].1.done(),
                        "wait_all returned, input not done"
                    );
                    self.seen[self.futures[i].0] = true;
                }
            }
            Op::Await { f } => {
                let Some(f) = pick(f, futures) else { return };
                let (pair, future) = &self.futures[f];
                if !self.settled(*pair) {
                    return;
                }
                let got = block_on(future.into_future());
                self.expected(*pair).check(got);
                self.seen[*pair] = true;
            }
            Op::AwaitGroup { ref set, group } => {
                let set = self.resolve(set);
                let pairs = self.pairs_of(&set);
                let seen_before: Vec<bool> = pairs.iter().map(|&p| self.seen[p]).collect();
                match group {
                    Group::Any => {
                        if !self.untimed_ok(&pairs, ReturnWhen::FirstCompleted) {
                            return;
                        }
                        let got = block_on(wait_any_async(self.refs(&set)));
                        self.check_any(&pairs, &seen_before, got);
                    }
                    Group::All => {
                        if !self.untimed_ok(&pairs, ReturnWhen::AllCompleted) {
                            return;
                        }
                        block_on(wait_all_async(self.refs(&set)));
                        for &i in &set {
                            assert!(self.futures[i].1.done(), "wait_all_async: input not done");
                            self.seen[self.futures[i].0] = true;
                        }
                    }
                    Group::Wait(when) => {
                        let when = when.get();
                        if !self.untimed_ok(&pairs, when) {
                            return;
                        }
                        let (done, not_done) = block_on(wait_async(self.refs(&set), when));
                        let over = self.check_split(&pairs, &seen_before, &done, &not_done, when);
                        assert!(over, "wait_async returned before {when:?} held");
                    }
                }
            }
            Op::PollDrop { f, micros } => {
                let Some(f) = pick(f, futures) else { return };
                let pair = self.futures[f].0;
                let pause = self.budget.take(micros);
                let (first, waker) = CountingWaker::new();
                let (second, waker2) = CountingWaker::new();
                let future = &self.futures[f].1;
                let mut completion = future.into_future();
                let mut outcome = None;
                if let Poll::Ready(got) = poll_with(&mut completion, &waker) {
                    outcome = Some(got);
                } else {
                    std::thread::sleep(pause);
                    let woken = first.wakes() > 0;
                    match poll_with(&mut completion, &waker2) {
                        Poll::Ready(got) => outcome = Some(got),
                        Poll::Pending => assert!(!woken, "woken, yet the next poll is Pending"),
                    }
                }
                drop(completion);
                if let Some(got) = outcome {
                    self.expected(pair).check(got);
                }
                if first.wakes() + second.wakes() > 0 {
                    assert!(
                        self.futures[f].1.done(),
                        "a waker was woken, the future is not done"
                    );
                    let _ = self.expected(pair);
                }
                if self.futures[f].1.done() {
                    self.seen[pair] = true;
                }
            }
            Op::PollDropGroup {
                ref set,
                group,
                micros,
            } => {
                let set = self.resolve(set);
                let pairs = self.pairs_of(&set);
                let seen_before: Vec<bool> = pairs.iter().map(|&p| self.seen[p]).collect();
                let pause = self.budget.take(micros);
                let (first, waker) = CountingWaker::new();
                let (second, waker2) = CountingWaker::new();
                let refs = self.refs(&set);
                // Each arm: poll, pause, poll again if pending, drop; then the
                // answer (if any) is checked, with the lists' state.
                let answer = match group {
                    Group::Any => {
                        let mut fut = wait_any_async(refs);
                        two_polls(&mut fut, &waker, &waker2, pause, &first).map(Answer::Any)
                    }
                    Group::All => {
                        let mut fut = wait_all_async(refs);
                        two_polls(&mut fut, &waker, &waker2, pause, &first).map(|()| Answer::All)
                    }
                    Group::Wait(when) => {
                        let when = when.get();
                        let mut fut = wait_async(refs, when);
                        two_polls(&mut fut, &waker, &waker2, pause, &first)
                            .map(|(done, not_done)| Answer::Wait(when, done, not_done))
                    }
                };
                match answer {
                    Some(Answer::Any(got)) => self.check_any(&pairs, &seen_before, got),
                    Some(Answer::All) => {
                        for &i in &set {
                            assert!(self.futures[i].1.done(), "wait_all_async: input not done");
                            self.seen[self.futures[i].0] = true;
                        }
                    }
                    Some(Answer::Wait(when, done, not_done)) => {
                        let over = self.check_split(&pairs, &seen_before, &done, &not_done, when);
                        assert!(over, "wait_async returned before {when:?} held");
                    }
                    None => {}
                }
                if first.wakes() + second.wakes() > 0 {
                    // A wake-up is owed only once the wait is over.
                    let states: Vec<Option<bool>> = set
                        .iter()
                        .map(|&i| {
                            let (pair, future) = &self.futures[i];
                            future.done().then(|| self.expected(*pair).is_failure())
                        })
                        .collect();
                    let when = match group {
                        Group::Any => ReturnWhen::FirstCompleted,
                        Group::All => ReturnWhen::AllCompleted,
                        Group::Wait(when) => when.get(),
                    };
                    assert!(
                        satisfied(&states, when),
                        "a waker was woken before {when:?} held: {states:?}"
                    );
                }
            }
            Op::Spin { n } => {
                for _ in 0..u32::from(n) * 16 {
                    spin_loop();
                }
            }
            Op::Yield => std::thread::yield_now(),
            Op::AddCallback { f } => {
                let Some(f) = pick(f, futures) else { return };
                let (pair, future) = &self.futures[f];
                let pair = *pair;
                let done_before = future.done();
                let ran = Arc::new(AtomicBool::new(false));
                let flag = Arc::clone(&ran);
                let published = Arc::clone(&self.shared.published);
                let count = Arc::clone(&self.shared.callbacks_ran);
                // ORDERING: Relaxed: read after the joins (see `run`).
                self.shared.callbacks_added.fetch_add(1, Relaxed);
                future.add_done_callback(move |future: &Fut| {
                    assert!(future.done(), "a callback ran on a pending future");
                    let expected = published_outcome(&published, pair)
                        .unwrap_or_else(|| panic!("a callback of pair {pair} saw no outcome"));
                    expected.check(future.get_result());
                    // ORDERING: Relaxed: `flag` is read on this thread
                    // only when the callback runs on it, and `count` after
                    // the joins.
                    flag.store(true, Relaxed);
                    count.fetch_add(1, Relaxed);
                });
                if done_before {
                    // ORDERING: Relaxed: stored on this thread, if it ran.
                    assert!(
                        ran.load(Relaxed),
                        "a callback on a done future had not run when add_done_callback returned"
                    );
                    self.seen[pair] = true;
                }
            }
            Op::Forward { p, f } => {
                let (Some(p), Some(f)) = (pick(p, self.promises.len()), pick(f, futures)) else {
                    return;
                };
                let (pair, source) = (self.promises[p].0, self.futures[f].0);
                if !self.seen[source] && self.shared.owners[source] < self.me {
                    return; // could close a cycle with that thread's forwards
                }
                let (_, promise) = self.promises.remove(p);
                let (_, future) = self.futures.remove(f);
                let cycle = source == pair || self.waits_for(source, pair);
                trace(format_args!(
                    "    [thread {}] pair {pair} forwarded to pair {source}, cycle: {cycle}",
                    self.me
                ));
                if cycle {
                    self.publish(pair, Published::Outcome(Expected::Broken));
                } else {
                    self.publish(pair, Published::SameAs(source));
                }
                promise.forward(future);
                if cycle || self.seen[source] {
                    // Complete before `forward` returns.
                    for (p, future) in &self.futures {
                        assert!(*p != pair || future.done(), "pair {pair} still pending");
                    }
                    self.seen[pair] = true;
                }
            }
            Op::Abandonment { p, ask } => {
                let Some(p) = pick(p, self.promises.len()) else {
                    return;
                };
                let pair = self.promises[p].0;
                let read = self.reads(pair);
                let abandoned = self.ask_abandoned(p, ask);
                trace(format_args!(
                    "    [thread {}] pair {pair}: {ask:?} says abandoned {abandoned}, read here {read}",
                    self.me
                ));
                assert!(
                    !abandoned || !read,
                    "pair {pair} abandoned, yet thread {} holds a future that reads it",
                    self.me
                );
                assert!(
                    abandoned || !self.abandoned[pair],
                    "pair {pair} was abandoned, now is not"
                );
                self.abandoned[pair] = abandoned;
            }
            Op::AsCompleted { ref set, timeout } => {
                let set = self.resolve(set);
                let pairs = self.pairs_of(&set);
                let untimed = self.untimed_ok(&pairs, ReturnWhen::AllCompleted);
                let (yielded, drained, before, after) = {
                    let refs: Vec<&Fut> = set.iter().map(|&i| &self.futures[i].1).collect();
                    let before: Vec<bool> = refs.iter().map(|f| f.done()).collect();
                    let mut order = as_completed(refs.iter().copied());
                    let after: Vec<bool> = refs.iter().map(|f| f.done()).collect();
                    let mut yielded = Vec::new();
                    let drained = loop {
                        let timeout = self.budget.timeout(timeout, untimed);
                        let start = Instant::now();
                        let next = match timeout {
                            None => Ok(order.next()),
                            Some(timeout) => order.next_timeout(timeout),
                        };
                        match (next, timeout) {
                            (Ok(Some(position)), _) => yielded.push(position),
                            (Ok(None), _) => break Drained::All,
                            (Err(forthcoming::Timeout), Some(timeout)) => {
                                break Drained::TimedOut(start.elapsed(), timeout);
                            }
                            (Err(forthcoming::Timeout), None) => panic!("next() timed out"),
                        }
                        assert!(yielded.len() <= set.len(), "more positions than inputs");
                    };
                    (yielded, drained, before, after)
                };
                trace(format_args!(
                    "    [thread {}] as_completed({pairs:?}) = {yielded:?}, {drained:?}",
                    self.me
                ));
                self.check_order(&pairs, &yielded, &before, &after);
                match drained {
                    Drained::All => assert_eq!(yielded.len(), set.len(), "ended early"),
                    Drained::TimedOut(elapsed, timeout) => {
                        // Only the positions done at the call are due by
                        // now: one done since may still time a take out, as
                        // it reaches the iterator in its completer's
                        // wake-up walk, after `done()` turns true.
                        assert!(elapsed >= timeout, "timed out early");
                        for (position, _) in before.iter().enumerate().filter(|(_, d)| **d) {
                            assert!(
                                yielded.contains(&position),
                                "timed out before position {position}, done at the call"
                            );
                        }
                    }
                }
            }
            Op::QueuePush { f } => {
                let Some(f) = pick(f, futures) else { return };
                let (pair, future) = self.futures.remove(f);
                let done_at_push = future.done();
                if done_at_push {
                    self.seen[pair] = true;
                }
                self.queue.push(future);
                self.queued.push(Queued { pair, done_at_push });
                assert_eq!(self.queue.len(), self.queued.len(), "queue len()");
            }
            Op::QueueTake { timeout } => {
                let settled = self.queued.iter().any(|q| self.settled(q.pair));
                let untimed = self.queued.is_empty() || settled;
                let timeout = self.budget.timeout(timeout, untimed);
                let start = Instant::now();
                let got = match timeout {
                    None => Ok(self.queue.wait_next()),
                    Some(timeout) => self.queue.wait_next_timeout(timeout),
                };
                let elapsed = start.elapsed();
                trace(format_args!(
                    "    [thread {}] queue take({timeout:?}) = {:?}",
                    self.me,
                    got.as_ref().map(|f| f.as_ref().map(Fut::id))
                ));
                // A future done since its push may still time out a take:
                // the queue hears of it in its completer's wake-up walk,
                // which follows the moment `done()` turns true.
                let first_done = self.queued.iter().position(|q| q.done_at_push);
                match got {
                    Ok(Some(future)) => {
                        let id = future.id();
                        let pair = self.shared.ids.iter().position(|&i| i == id);
                        let pair = pair.expect("a future of another pair");
                        let Some(at) = self.queued.iter().position(|q| q.pair == pair) else {
                            panic!("the queue handed back pair {pair}, never pushed")
                        };
                        assert!(
                            first_done.is_none_or(|first| first >= at),
                            "pair {pair} handed back before a future done at its push, earlier"
                        );
                        assert!(future.done(), "handed back pending");
                        // The futures of one pair look alike. The order
                        // check above takes the pair's earliest push; the
                        // push that leaves the model is the pair's one done
                        // at its push, if any: an earlier one, pending at
                        // its push, may still be on its way to the queue
                        // (see above), so the later one can come first.
                        let done_at_push = self
                            .queued
                            .iter()
                            .position(|q| q.pair == pair && q.done_at_push);
                        self.queued.remove(done_at_push.unwrap_or(at));
                        self.seen[pair] = true;
                        self.expected(pair).check(future.get_result());
                        self.futures.push((pair, future));
                    }
                    Ok(None) => assert!(self.queued.is_empty(), "None from a queue not empty"),
                    Err(forthcoming::Timeout) => {
                        let timeout = timeout.expect("an untimed take timed out");
                        assert!(!self.queued.is_empty(), "an empty queue timed out");
                        assert!(
                            first_done.is_none(),
                            "timed out, a future was done at its push"
                        );
                        assert!(elapsed >= timeout, "timed out early");
                    }
                }
                assert_eq!(self.queue.len(), self.queued.len(), "queue len()");
            }
        }
    }
}

/// What an async group wait resolved to.
enum Answer {
    /// `wait_any_async`.
    Any(Option<usize>),
    /// `wait_all_async`.
    All,
    /// `wait_async`.
    Wait(ReturnWhen, Vec<usize>, Vec<usize>),
}

/// Polls `fut` with `waker`; if pending, pauses, then polls once more with
/// `waker2` (which must be `Ready` if `first` was woken meanwhile). Returns
/// the output if either poll was ready. `fut` is dropped by the caller.
fn two_polls<F: std::future::Future + Unpin>(
    fut: &mut F,
    waker: &Waker,
    waker2: &Waker,
    pause: Duration,
    first: &CountingWaker,
) -> Option<F::Output> {
    if let Poll::Ready(output) = poll_with(fut, waker) {
        return Some(output);
    }
    std::thread::sleep(pause);
    let woken = first.wakes() > 0;
    match poll_with(fut, waker2) {
        Poll::Ready(output) => Some(output),
        Poll::Pending => {
            assert!(!woken, "woken, yet the next poll is Pending");
            None
        }
    }
}
