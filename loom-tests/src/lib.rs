//! Helpers shared by the loom models in `tests/`: a model runner that proves
//! loom explored more than one interleaving, a counting waker, and the
//! two-completers race run by both `wait_any` flavours.
//!
//! Everything here exists only under `--cfg forthcoming_loom`; without it the
//! crate (and its tests) compile to nothing.
#![cfg(forthcoming_loom)]

use forthcoming::{Future, promise};
use loom::sync::atomic::AtomicUsize;
use loom::thread;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize as StdAtomicUsize, Ordering::SeqCst};
use std::task::{Wake, Waker};

/// The preemption bound used when `LOOM_MAX_PREEMPTIONS` is not set: enough
/// for every race in these models, small enough to keep CI in minutes.
const DEFAULT_PREEMPTIONS: usize = 2;

/// Runs `model` under loom and returns how many interleavings it explored.
///
/// # Panics
/// If loom explored a single interleaving: that means the code under test
/// did not go through loom's atomics (for example crossbeam-epoch was not
/// built with `--cfg crossbeam_loom`), and the model proved nothing.
pub fn explore(model: impl Fn() + Sync + Send + 'static) -> usize {
    explore_bounded(DEFAULT_PREEMPTIONS, model)
}

/// [`explore`] for models with three threads, whose state space grows much
/// faster: preemption bound 1 when `FORTHCOMING_LOOM_LAZY_COLLECT` is set
/// (no eager epoch collection), 0 otherwise (every retirement collects, which
/// multiplies the interleavings). CI runs both. `LOOM_MAX_PREEMPTIONS` still
/// overrides it.
pub fn explore_three_threads(model: impl Fn() + Sync + Send + 'static) -> usize {
    let lazy = std::env::var_os("FORTHCOMING_LOOM_LAZY_COLLECT").is_some();
    explore_bounded(usize::from(lazy), model)
}

fn explore_bounded(preemptions: usize, model: impl Fn() + Sync + Send + 'static) -> usize {
    let iterations = Arc::new(StdAtomicUsize::new(0));
    let counter = Arc::clone(&iterations);
    let mut builder = loom::model::Builder::new();
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = Some(preemptions);
    }
    builder.check(move || {
        counter.fetch_add(1, SeqCst);
        model();
    });
    let explored = iterations.load(SeqCst);
    eprintln!("loom explored {explored} interleavings");
    assert!(
        explored > 1,
        "loom explored only {explored} interleaving(s): the model checked nothing"
    );
    explored
}

/// A waker that counts how often it was woken, tracked by loom.
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
