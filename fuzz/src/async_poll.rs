//! Target `async_poll`: one thread polls `(&future).into_future()` and the
//! async group waits by hand, with counting wakers, re-polls them with other
//! wakers, drops them, and completes promises in between; the model says
//! which waker every completion must wake, and what every poll returns. A
//! poll may also pass a waker whose `clone` panics: the model says whether
//! the poll panics, and after the panic the wait is unregistered (its old
//! waker never woken, leaked in the locked slot) until a later poll
//! registers it afresh.

use super::common::{
    BUDGET_MICROS, Budget, Completer, Expected, Fut, MAX_OPS, MAX_PAIRS, MAX_SET, Prom, When,
    decode, expecting_panic, fmt_ops, pick, satisfied, split, trace,
};
use arbitrary::Arbitrary;
use forthcoming::{
    Completion, Failure, ReturnWhen, Wait, WaitAll, WaitAny, promise, wait, wait_all_async,
    wait_any_async, wait_async,
};
use forthcoming_test_support::{CLONE_PANIC, Drops, Tracked, clone_panics_waker, poll_with};
use std::any::Any;
use std::fmt;
use std::future::IntoFuture;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::task::{Poll, Wake, Waker};

/// At most this many live async waits.
const MAX_WAITERS: usize = 8;
/// At most this many wakers.
const MAX_WAKERS: usize = 16;

/// One step. Each pair has two future handles (the original and a clone);
/// `f` and `set` pick handles, `p` pairs, `w` live waits (all modulo the
/// count).
#[derive(Arbitrary, Clone, Debug)]
pub enum Op {
    /// Completes (or breaks) a pair's promise, if it is still there.
    Complete {
        /// The pair.
        p: u8,
        /// How.
        how: Completer,
    },
    /// `(&future).into_future()`.
    NewCompletion {
        /// The handle.
        f: u8,
    },
    /// `wait_any_async(set)`.
    NewAny {
        /// The inputs.
        set: Vec<u8>,
    },
    /// `wait_all_async(set)`.
    NewAll {
        /// The inputs.
        set: Vec<u8>,
    },
    /// `wait_async(set, when)`.
    NewWait {
        /// The inputs.
        set: Vec<u8>,
        /// The rule.
        when: When,
    },
    /// Polls a live wait (not one that returned `Ready`, except a
    /// `Completion`, which may be polled again).
    Poll {
        /// The wait.
        w: u8,
        /// With which waker.
        waker: WakerChoice,
    },
    /// Drops a live wait (cancellation).
    Drop {
        /// The wait.
        w: u8,
    },
    /// A blocking `wait(set, Some(timeout), when)` while async waits are
    /// registered on the same lists.
    SyncWait {
        /// The inputs.
        set: Vec<u8>,
        /// The rule.
        when: When,
        /// Microseconds (capped, and budgeted).
        micros: u8,
    },
}

/// Which waker a poll passes.
#[derive(Arbitrary, Clone, Copy, Debug)]
pub enum WakerChoice {
    /// A new one.
    Fresh,
    /// The counting waker this wait was last polled with (a new one if
    /// none).
    Latest,
    /// Any existing one (perhaps another wait's).
    Other(u8),
    /// One whose `clone` panics ([`clone_panics_waker`]): a poll that stores
    /// it panics, and leaves the wait unregistered.
    ClonePanics,
}

/// A waker that counts its wake-ups and panics when woken while not armed:
/// the model arms exactly the wakers a completion must wake.
#[derive(Debug)]
struct StrictWaker {
    /// Its number, for messages.
    name: usize,
    /// How many times it was woken.
    wakes: AtomicUsize,
    /// Whether a wake-up is due now.
    armed: AtomicBool,
}

impl StrictWaker {
    /// A waker never woken yet, not armed.
    fn new(name: usize) -> Arc<StrictWaker> {
        Arc::new(StrictWaker {
            name,
            wakes: AtomicUsize::new(0),
            armed: AtomicBool::new(false),
        })
    }

    /// How many times it was woken.
    fn wakes(&self) -> usize {
        self.wakes.load(SeqCst)
    }

    /// Allows (or forbids) wake-ups.
    fn arm(&self, armed: bool) {
        self.armed.store(armed, SeqCst);
    }
}

impl Wake for StrictWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.wakes.fetch_add(1, SeqCst);
        assert!(
            self.armed.load(SeqCst),
            "waker w{} woken while no wake-up was due",
            self.name
        );
    }
}

/// Panics unless `payload` is the panic of [`clone_panics_waker`]'s `clone`
/// (any other panic out of a poll is the crate's, and a failure).
fn assert_clone_panic(payload: &(dyn Any + Send)) {
    let message = payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&str>().copied());
    assert_eq!(
        message,
        Some(CLONE_PANIC),
        "a poll panicked, but not in the waker's clone"
    );
}

/// A decoded input.
#[derive(Arbitrary)]
pub struct Input {
    /// How many pairs (1 + this modulo 8).
    pub pairs: u8,
    /// The ops, of which the first [`MAX_OPS`] run.
    pub ops: Vec<Op>,
}

impl Input {
    fn pairs(&self) -> usize {
        usize::from(self.pairs) % MAX_PAIRS + 1
    }
}

impl fmt::Debug for Input {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_ops(
            f,
            format_args!(
                "async_poll target: {} pairs (handles 2p, 2p+1 are pair p's), ops:",
                self.pairs()
            ),
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

/// A live async wait.
enum Live<'a> {
    /// `(&future).into_future()`.
    Completion(Completion<'a, Tracked, Tracked>),
    /// `wait_any_async`.
    Any(WaitAny<'a>),
    /// `wait_all_async`.
    All(WaitAll<'a>),
    /// `wait_async`.
    Wait(Wait<'a>),
}

/// What a live wait resolved to.
#[derive(Debug)]
enum Output<'a> {
    /// A `Completion`'s outcome.
    Completion(Result<&'a Tracked, &'a Failure<Tracked>>),
    /// `wait_any_async`'s answer.
    Any(Option<usize>),
    /// `wait_all_async` is over.
    All,
    /// `wait_async`'s `(done, not_done)`.
    Wait(Vec<usize>, Vec<usize>),
}

impl<'a> Live<'a> {
    fn poll(&mut self, waker: &Waker) -> Poll<Output<'a>> {
        match self {
            Live::Completion(fut) => poll_with(fut, waker).map(Output::Completion),
            Live::Any(fut) => poll_with(fut, waker).map(Output::Any),
            Live::All(fut) => poll_with(fut, waker).map(|()| Output::All),
            Live::Wait(fut) => {
                poll_with(fut, waker).map(|(done, not_done)| Output::Wait(done, not_done))
            }
        }
    }
}

/// What kind of wait, with what the model needs to predict it.
#[derive(Clone, Copy, Debug)]
enum Kind {
    /// A `Completion`.
    Completion,
    /// `wait_any_async`, with its answer if it was known at creation.
    Any(Option<Option<usize>>),
    /// `wait_all_async`.
    All,
    /// `wait_async`.
    Wait(ReturnWhen),
}

/// Where a wait is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Never polled.
    Fresh,
    /// Polled, `Pending`, registered with this waker (index in the wakers).
    Pending(usize),
    /// Its latest waker was woken; for `Any`, this pair completed first.
    Woken(Option<usize>),
    /// Returned `Ready`.
    Ready,
}

/// One live wait and the model's view of it.
struct Waiter<'a> {
    /// The crate's future.
    live: Live<'a>,
    /// The pair of each input.
    inputs: Vec<usize>,
    /// Kind and creation-time answer.
    kind: Kind,
    /// Life phase.
    phase: Phase,
    /// The counting waker it was last polled with.
    latest: Option<usize>,
    /// Whether its answer was known at creation (a group wait with nothing
    /// to register): then every poll is `Ready` without touching the waker.
    settled: bool,
}

/// The model state beside the handles and waits.
struct Model {
    /// Every value made.
    log: Drops,
    /// Each pair's promise, until completed or dropped.
    promises: Vec<Option<Prom>>,
    /// Each pair's outcome, once completed.
    expected: Vec<Option<Expected>>,
    /// The wakers, strict: woken only when armed.
    wakers: Vec<(Arc<StrictWaker>, Waker)>,
    /// How many wake-ups each waker must have had.
    wakes: Vec<usize>,
    /// How many clones of each waker are stuck in a slot that a panicking
    /// `clone` locked: leaked by the crate, never woken nor dropped.
    stuck: Vec<usize>,
    /// Time-out budget.
    budget: Budget,
}

impl Model {
    /// `Some(failed)` for each done input.
    fn states(&self, inputs: &[usize]) -> Vec<Option<bool>> {
        inputs
            .iter()
            .map(|&p| self.expected[p].as_ref().map(Expected::is_failure))
            .collect()
    }

    /// Whether a wait is over (would return `Ready` if polled now).
    fn over(&self, waiter: &Waiter<'_>) -> bool {
        let states = self.states(&waiter.inputs);
        match waiter.kind {
            Kind::Completion => states[0].is_some(),
            Kind::Any(Some(_)) => true,
            Kind::Any(None) => states.iter().any(Option::is_some),
            Kind::All => states.iter().all(Option::is_some),
            Kind::Wait(when) => satisfied(&states, when),
        }
    }

    /// Whether polling a wait now touches the waker (stores it, or replaces
    /// the stored one): every poll but a `Completion`'s once its future is
    /// done and a settled group wait's.
    fn touches_waker(&self, waiter: &Waiter<'_>) -> bool {
        match waiter.kind {
            Kind::Completion => self.expected[waiter.inputs[0]].is_none(),
            _ => !waiter.settled,
        }
    }

    /// A counting waker for a poll of a wait last polled with `latest`.
    fn waker(&mut self, choice: WakerChoice, latest: Option<usize>) -> usize {
        let fresh = |model: &mut Model| {
            if model.wakers.len() == MAX_WAKERS {
                return model.wakers.len() - 1;
            }
            let counter = StrictWaker::new(model.wakers.len());
            let waker = Waker::from(Arc::clone(&counter));
            model.wakers.push((counter, waker));
            model.wakes.push(0);
            model.stuck.push(0);
            model.wakers.len() - 1
        };
        match (choice, latest) {
            (WakerChoice::Latest, Some(latest)) => latest,
            (WakerChoice::Other(k), _) if !self.wakers.is_empty() => {
                usize::from(k) % self.wakers.len()
            }
            _ => fresh(self),
        }
    }

    /// Panics unless every waker was woken exactly as often as predicted.
    fn check_wakes(&self) {
        for (w, (counter, _)) in self.wakers.iter().enumerate() {
            assert_eq!(
                counter.wakes(),
                self.wakes[w],
                "waker w{w} woken {} times, expected {}",
                counter.wakes(),
                self.wakes[w]
            );
        }
    }
}

/// Runs the ops against the crate and the model; panics on any difference.
pub fn run(input: &Input) {
    let pairs = input.pairs();
    let mut model = Model {
        log: Drops::new(),
        promises: Vec::new(),
        expected: vec![None; pairs],
        wakers: Vec::new(),
        wakes: Vec::new(),
        stuck: Vec::new(),
        budget: Budget::new(BUDGET_MICROS),
    };
    let mut handles: Vec<(usize, Fut)> = Vec::new();
    for pair in 0..pairs {
        let (promise, future) = promise();
        handles.push((pair, future.clone()));
        handles.push((pair, future));
        model.promises.push(Some(promise));
    }
    let mut waiters: Vec<Waiter<'_>> = Vec::new();
    for (step, op) in input.ops.iter().take(MAX_OPS).enumerate() {
        trace(format_args!("[async] {step:3}: {op:?}"));
        apply(&mut model, &handles, &mut waiters, op);
        model.check_wakes();
        for (pair, future) in &handles {
            assert_eq!(
                future.done(),
                model.expected[*pair].is_some(),
                "pair {pair}: done()"
            );
        }
    }
    // Tear down: no wake-up is due any more, whatever completes now.
    drop(waiters);
    drop(handles);
    let Model {
        log,
        promises,
        wakers,
        wakes,
        stuck,
        ..
    } = model;
    drop(promises);
    for (w, (counter, _)) in wakers.iter().enumerate() {
        assert_eq!(
            counter.wakes(),
            wakes[w],
            "waker w{w} woken during tear-down"
        );
        // Every wait is gone: the crate holds no clone of the waker any
        // more but the ones stuck in locked slots (the model holds two).
        assert_eq!(
            Arc::strong_count(counter),
            2 + stuck[w],
            "waker w{w}: clones held after tear-down ({} stuck in locked slots)",
            stuck[w]
        );
        for _ in 0..stuck[w] {
            // SAFETY: the count above shows that the stuck clones are the
            // only ones besides the model's; each sits in a slot that the
            // crate never reads again and frees without dropping it (see
            // `Parker::Task` in src/waiter.rs), so releasing its reference
            // here is the drop it will never get (and spares LeakSanitizer
            // a report).
            unsafe { Arc::decrement_strong_count(Arc::as_ptr(counter)) };
        }
    }
    log.assert_all_dropped_once();
}

fn apply<'a>(
    model: &mut Model,
    handles: &'a [(usize, Fut)],
    waiters: &mut Vec<Waiter<'a>>,
    op: &Op,
) {
    let resolve = |set: &[u8]| -> Vec<usize> {
        set.iter()
            .take(MAX_SET)
            .filter_map(|&i| pick(i, handles.len()))
            .collect()
    };
    let room = waiters.len() < MAX_WAITERS;
    match *op {
        Op::Complete { p, how } => {
            let Some(p) = pick(p, model.promises.len()) else {
                return;
            };
            let Some(promise) = model.promises[p].take() else {
                return;
            };
            // Predict: every registered wait this completion ends wakes its
            // latest waker, once; nothing else is woken. Only whether the
            // outcome is a failure matters to the prediction.
            let before: Vec<bool> = waiters.iter().map(|w| model.over(w)).collect();
            model.expected[p] = Some(if how.fails() {
                Expected::Broken
            } else {
                Expected::Value(u32::MAX)
            });
            let mut due = Vec::new();
            for (i, waiter) in waiters.iter().enumerate() {
                if let Phase::Pending(w) = waiter.phase {
                    assert!(!before[i], "a pending wait was already over");
                    if model.over(waiter) {
                        due.push((i, w));
                    }
                }
            }
            for &(_, w) in &due {
                model.wakers[w].0.arm(true);
                model.wakes[w] += 1;
            }
            let expected = how.complete(promise, &model.log, |_| {});
            for (counter, _) in &model.wakers {
                counter.arm(false);
            }
            trace(format_args!(
                "      pair {p}: {expected:?}; wakes due {due:?}"
            ));
            model.expected[p] = Some(expected);
            for (i, _) in due {
                waiters[i].phase = Phase::Woken(Some(p));
            }
        }
        Op::NewCompletion { f } => {
            let Some(f) = pick(f, handles.len()).filter(|_| room) else {
                return;
            };
            let (pair, future) = &handles[f];
            waiters.push(Waiter {
                live: Live::Completion(future.into_future()),
                inputs: vec![*pair],
                kind: Kind::Completion,
                phase: Phase::Fresh,
                latest: None,
                settled: false,
            });
        }
        Op::NewAny { ref set } => {
            if !room {
                return;
            }
            let set = resolve(set);
            let inputs: Vec<usize> = set.iter().map(|&i| handles[i].0).collect();
            let states = model.states(&inputs);
            let known = match states.iter().position(Option::is_some) {
                Some(first) => Some(Some(first)),
                None if inputs.is_empty() => Some(None),
                None => None,
            };
            waiters.push(Waiter {
                live: Live::Any(wait_any_async(set.iter().map(|&i| &handles[i].1))),
                inputs,
                kind: Kind::Any(known),
                phase: Phase::Fresh,
                latest: None,
                settled: known.is_some(),
            });
        }
        Op::NewAll { ref set } => {
            if !room {
                return;
            }
            let set = resolve(set);
            let inputs: Vec<usize> = set.iter().map(|&i| handles[i].0).collect();
            // Nothing pending: nothing to register.
            let settled = model.states(&inputs).iter().all(Option::is_some);
            waiters.push(Waiter {
                live: Live::All(wait_all_async(set.iter().map(|&i| &handles[i].1))),
                inputs,
                kind: Kind::All,
                phase: Phase::Fresh,
                latest: None,
                settled,
            });
        }
        Op::NewWait { ref set, when } => {
            let set = resolve(set);
            let when = when.get();
            if !room {
                return;
            }
            let inputs: Vec<usize> = set.iter().map(|&i| handles[i].0).collect();
            // The condition held at creation: nothing to register.
            let settled = satisfied(&model.states(&inputs), when);
            waiters.push(Waiter {
                live: Live::Wait(wait_async(set.iter().map(|&i| &handles[i].1), when)),
                inputs,
                kind: Kind::Wait(when),
                phase: Phase::Fresh,
                latest: None,
                settled,
            });
        }
        Op::Poll { w, waker } => {
            let Some(w) = pick(w, waiters.len()) else {
                return;
            };
            let waiter = &waiters[w];
            let ready_again = waiter.phase == Phase::Ready;
            if ready_again && !matches!(waiter.kind, Kind::Completion) {
                return; // polling a finished group wait is a contract violation
            }
            let over = model.over(waiter);
            if let Phase::Woken(_) = waiter.phase {
                assert!(over, "woken, but the model says the wait is not over");
            }
            if let Phase::Pending(_) = waiter.phase {
                assert!(!over, "over, but its waker was not woken");
            }
            let kind = waiter.kind;
            let touches = model.touches_waker(waiter);
            let (got, k) = match waker {
                WakerChoice::ClonePanics => {
                    let waiter = &mut waiters[w];
                    let polled = expecting_panic(|| {
                        catch_unwind(AssertUnwindSafe(|| waiter.live.poll(&clone_panics_waker())))
                    });
                    match polled {
                        Ok(got) => {
                            assert!(
                                !touches,
                                "{kind:?} polled with a panicking waker gave {got:?}, not the panic"
                            );
                            (got, None)
                        }
                        Err(panic) => {
                            trace(format_args!(
                                "      wait {w} ({kind:?}) polled with a panicking waker: panicked"
                            ));
                            assert!(
                                touches,
                                "{kind:?}: a poll that must not touch the waker panicked"
                            );
                            assert_clone_panic(&*panic);
                            // The wait dropped its registration: its waker (if the
                            // slot held one, not taken by a wake) is stuck in the
                            // locked slot, never to be woken; the next poll
                            // registers afresh, as a first poll.
                            if let Phase::Pending(stuck) = waiter.phase {
                                model.stuck[stuck] += 1;
                            }
                            waiter.phase = Phase::Fresh;
                            return;
                        }
                    }
                }
                choice => {
                    let k = model.waker(choice, waiter.latest);
                    let waker = model.wakers[k].1.clone();
                    let waiter = &mut waiters[w];
                    waiter.latest = Some(k);
                    (waiter.live.poll(&waker), Some(k))
                }
            };
            trace(format_args!(
                "      wait {w} ({kind:?}) polled with {}: {got:?}",
                k.map_or("a panicking waker".into(), |k| format!("w{k}"))
            ));
            let waiter = &mut waiters[w];
            match got {
                Poll::Pending => {
                    assert!(!over, "Pending, but the wait is over ({kind:?})");
                    // Not over, so the poll touched the waker: a counting one.
                    let k = k.expect("a poll with a panicking waker that touches it panics");
                    waiter.phase = Phase::Pending(k);
                }
                Poll::Ready(output) => {
                    assert!(over, "Ready, but the wait is not over ({kind:?})");
                    check_output(model, waiter, output);
                    waiter.phase = Phase::Ready;
                }
            }
        }
        Op::Drop { w } => {
            if let Some(w) = pick(w, waiters.len()) {
                drop(waiters.remove(w));
            }
        }
        Op::SyncWait {
            ref set,
            when,
            micros,
        } => {
            let set = resolve(set);
            let when = when.get();
            let inputs: Vec<usize> = set.iter().map(|&i| handles[i].0).collect();
            let timeout = model.budget.take(micros);
            let got = wait(set.iter().map(|&i| &handles[i].1), Some(timeout), when);
            assert_eq!(got, split(&model.states(&inputs)), "wait over {inputs:?}");
        }
    }
}

/// Panics unless a `Ready` output is what the model predicts.
fn check_output(model: &Model, waiter: &Waiter<'_>, output: Output<'_>) {
    let states = model.states(&waiter.inputs);
    match (waiter.kind, output) {
        (Kind::Completion, Output::Completion(got)) => {
            let expected = model.expected[waiter.inputs[0]].as_ref();
            expected.expect("Ready while pending").check(got);
        }
        (Kind::Any(Some(known)), Output::Any(got)) => {
            assert_eq!(got, known, "wait_any_async answer known at creation");
        }
        (Kind::Any(None), Output::Any(got)) => match waiter.phase {
            // Over at its first poll since it last registered (the first
            // poll, or the first after a panicking waker's poll dropped its
            // registration, whatever completed first before that): the
            // registrar decides anew, and finds the lowest done input.
            Phase::Fresh => assert_eq!(
                got,
                states.iter().position(Option::is_some),
                "wait_any_async over {states:?} at its first poll since it registered"
            ),
            // Woken: the first pair to complete since registration won.
            Phase::Woken(Some(pair)) => {
                let got = got.expect("wait_any_async gave None for a non-empty input");
                assert_eq!(
                    waiter.inputs.get(got),
                    Some(&pair),
                    "wait_any_async gave input {got}, but pair {pair} completed first"
                );
            }
            phase => panic!("wait_any_async Ready in phase {phase:?}"),
        },
        (Kind::All, Output::All) => {}
        (Kind::Wait(when), Output::Wait(done, not_done)) => {
            assert_eq!(
                (done, not_done),
                split(&states),
                "wait_async({when:?}) over {states:?}"
            );
        }
        (kind, output) => panic!("{kind:?} resolved to {output:?}"),
    }
}
