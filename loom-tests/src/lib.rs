//! Helpers shared by the loom models in `tests/`: model runners that prove
//! loom explored as much as each model needs, a tally of the outcomes a
//! model's interleavings reached, a counting waker, a panic hook that keeps
//! the expected panics of a waker's `clone` quiet, and the two-completers
//! race run by both `wait_any` flavours.
//!
//! Everything here exists only under `--cfg forthcoming_loom`; without it the
//! crate (and its tests) compile to nothing.
#![cfg(forthcoming_loom)]

use forthcoming::{Future, promise};
use forthcoming_test_support::CLONE_PANIC;
use loom::sync::atomic::AtomicUsize;
use loom::thread;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize as StdAtomicUsize, Ordering::SeqCst};
use std::task::{Wake, Waker};

/// Refuses a build that switched only forthcoming to loom: crossbeam-epoch
/// would run on std atomics, out of loom's sight, and every model would pass
/// without checking reclamation. RUSTFLAGS reach every crate of the build
/// alike, so this crate's cfg is the one crossbeam-epoch saw. A constant, so
/// it fails the build of every model binary (this crate is their helper),
/// before any model runs.
const _: () = assert!(
    cfg!(crossbeam_loom),
    "crossbeam-epoch is not on loom atomics: build with \
     RUSTFLAGS=\"--cfg forthcoming_loom --cfg crossbeam_loom\""
);

/// The preemption bound of [`explore`]: enough for every race in the
/// two-thread models, small enough to keep CI in minutes.
const DEFAULT_PREEMPTIONS: usize = 2;

/// Set when the three-thread models run deeper, without eager epoch
/// collection.
const LAZY_COLLECT: &str = "FORTHCOMING_LOOM_LAZY_COLLECT";

/// Runs `model` under loom at preemption bound 2 (unless
/// `LOOM_MAX_PREEMPTIONS` overrides it, see [`explore_at`]) and returns how
/// many interleavings it explored.
///
/// `min_interleavings` is the model's floor, set from the counts it
/// recorded in both runs (eager and lazy epoch collection): about half the
/// smaller one, and at least 2.
///
/// A build without `--cfg crossbeam_loom` does not get this far: this crate
/// does not compile then (see the assertion at its top).
///
/// # Panics
/// If loom explored fewer than `min_interleavings` interleavings: the model,
/// or the code under it, no longer goes through the races it was written
/// for.
pub fn explore(min_interleavings: usize, model: impl Fn() + Sync + Send + 'static) -> usize {
    explore_at(DEFAULT_PREEMPTIONS, min_interleavings, model)
}

/// [`explore`] for models with three threads, whose state space grows much
/// faster: preemption bound 1 when `FORTHCOMING_LOOM_LAZY_COLLECT` is set
/// (no eager epoch collection), 0 otherwise (every retirement collects, which
/// multiplies the interleavings). CI runs both.
///
/// # Panics
/// As [`explore`].
pub fn explore_three_threads(
    min_interleavings: usize,
    model: impl Fn() + Sync + Send + 'static,
) -> usize {
    let lazy = std::env::var_os(LAZY_COLLECT).is_some();
    explore_at(usize::from(lazy), min_interleavings, model)
}

/// [`explore`] at preemption bound `preemptions` in both runs: for
/// three-thread models cheap enough to search deeper than
/// [`explore_three_threads`] does with eager collection.
///
/// `LOOM_MAX_PREEMPTIONS` overrides the bound; the floor is checked only
/// when the bound in effect is at least `preemptions` (a higher bound
/// explores a superset of the interleavings, a lower one may not reach it).
///
/// # Panics
/// As [`explore`].
pub fn explore_at(
    preemptions: usize,
    min_interleavings: usize,
    model: impl Fn() + Sync + Send + 'static,
) -> usize {
    let iterations = Arc::new(StdAtomicUsize::new(0));
    let counter = Arc::clone(&iterations);
    let mut builder = loom::model::Builder::new();
    let bound = *builder.preemption_bound.get_or_insert(preemptions);
    builder.check(move || {
        counter.fetch_add(1, SeqCst);
        model();
    });
    let explored = iterations.load(SeqCst);
    let test = thread_name();
    eprintln!("{test}: loom explored {explored} interleavings at preemption bound {bound}");
    let floor = min_interleavings.max(2);
    if bound >= preemptions {
        assert!(
            explored >= floor,
            "{test}: loom explored only {explored} interleaving(s) at preemption bound \
             {bound}, below the model's floor of {floor}"
        );
    }
    explored
}

/// The running test's name (libtest names the thread after it).
fn thread_name() -> String {
    std::thread::current().name().unwrap_or("model").to_owned()
}

/// How often a model's interleavings took each arm of its `if`s and
/// `match`es, so a test can prove that every arm, and the assertions in it,
/// actually ran. Plain std atomics: loom runs one interleaving at a time, and
/// the tally must survive them all.
#[derive(Debug)]
pub struct Outcomes {
    /// The arms' names, in the order they are reported.
    arms: &'static [&'static str],
    /// Interleavings that reached each arm, by position in `arms`.
    reached: Vec<StdAtomicUsize>,
}

impl Outcomes {
    /// Records that this interleaving reached `arm`.
    ///
    /// # Panics
    /// If `arm` is not one of the names the model was explored with.
    pub fn reached(&self, arm: &str) {
        let Some(position) = self.arms.iter().position(|name| *name == arm) else {
            panic!("unknown outcome {arm:?}, expected one of {:?}", self.arms);
        };
        self.reached[position].fetch_add(1, SeqCst);
    }
}

/// [`explore`] for a model with outcome arms: the model records each arm it
/// takes in the [`Outcomes`] it is handed, and after exploring, every one of
/// `arms` must have been reached by at least one interleaving.
///
/// # Panics
/// As [`explore`], and if some arm was never reached.
pub fn explore_outcomes(
    min_interleavings: usize,
    arms: &'static [&'static str],
    model: impl Fn(&Outcomes) + Sync + Send + 'static,
) -> usize {
    let outcomes = Arc::new(Outcomes {
        arms,
        reached: arms.iter().map(|_| StdAtomicUsize::new(0)).collect(),
    });
    let tally = Arc::clone(&outcomes);
    let explored = explore(min_interleavings, move || model(&tally));
    let counts: Vec<_> = arms
        .iter()
        .zip(&outcomes.reached)
        .map(|(arm, count)| (*arm, count.load(SeqCst)))
        .collect();
    let test = thread_name();
    eprintln!("{test}: outcomes {counts:?}");
    let missed: Vec<_> = counts.iter().filter(|(_, n)| *n == 0).collect();
    assert!(
        missed.is_empty(),
        "{test}: no interleaving reached {missed:?}; outcomes {counts:?}"
    );
    explored
}

/// A waker that counts how often it was woken. Not the shared
/// `forthcoming_test_support::CountingWaker`: its count is a loom atomic, so
/// loom schedules and orders each wake-up like the crate's own accesses.
#[derive(Debug, Default)]
pub struct CountingWaker {
    /// Wake-ups so far.
    wakes: AtomicUsize,
}

impl CountingWaker {
    /// A new waker and the handle to read its count.
    pub fn new() -> (Arc<CountingWaker>, Waker) {
        let counter = Arc::new(CountingWaker::default());
        let waker = Waker::from(Arc::clone(&counter));
        (counter, waker)
    }

    /// How many times it was woken.
    pub fn wakes(&self) -> usize {
        self.wakes.load(SeqCst)
    }
}

impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.wakes.fetch_add(1, SeqCst);
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.wakes.fetch_add(1, SeqCst);
    }
}

/// Keeps the panics of `forthcoming_test_support::clone_panics_waker`'s
/// `clone` out of the output (a model that catches them would print one per
/// interleaving); every other panic is reported as before.
pub fn quiet_clone_panics() {
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        let report = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if info.payload_as_str() != Some(CLONE_PANIC) {
                report(info);
            }
        }));
    });
}

/// Two futures completed by two threads while the model's thread waits on
/// both through `wait_any`: exactly one winner, which is done and holds its
/// own value.
pub fn two_completers_one_winner(wait_any: impl FnOnce([&Future<u32, ()>; 2]) -> Option<usize>) {
    let (p0, f0) = promise::<u32, ()>();
    let (p1, f1) = promise::<u32, ()>();
    let a = thread::spawn(move || p0.set_result(0));
    let b = thread::spawn(move || p1.set_result(1));
    let futures = [&f0, &f1];
    let winner = wait_any(futures).expect("non-empty input");
    assert!(futures[winner].done(), "the winner is done");
    assert_eq!(futures[winner].get_result(), Ok(&(winner as u32)));
    a.join().unwrap();
    b.join().unwrap();
}
