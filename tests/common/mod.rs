//! Helpers shared by the integration tests: a seeded PRNG, a hang guard,
//! probes for registered waiters, and the constants several test files
//! share. The helpers the fuzz targets and loom models use too live in the
//! `forthcoming-test-support` crate.

// Each test binary compiles this module and uses only part of it.
#![allow(dead_code)]

pub(crate) mod alloc;

use forthcoming::{Failure, Future, Promise, ReturnWhen, promise};
use std::fmt::Debug;
use std::time::{Duration, Instant};

/// How long a test may block before the hang guard calls it a hang. Generous,
/// since it only turns a deadlock into a failure and measures nothing: the
/// memory tests queue on one lock inside their guard, and 200k timed waits
/// each pay the kernel's timer slack on a loaded machine.
pub(crate) const HANG: Duration = Duration::from_secs(300);

/// A time-out no test outlives: a wait given it returns only on completion.
pub(crate) const HOUR: Duration = Duration::from_secs(3600);

/// Every [`ReturnWhen`], to run one check under each.
pub(crate) const RETURN_WHENS: [ReturnWhen; 3] = [
    ReturnWhen::AllCompleted,
    ReturnWhen::FirstCompleted,
    ReturnWhen::FirstException,
];

/// Promises and, in the same order, their futures.
pub(crate) type Pairs<T, E> = (Vec<Promise<T, E>>, Vec<Future<T, E>>);

/// `n` fresh promise/future pairs, unzipped.
pub(crate) fn pairs<T, E>(n: usize) -> Pairs<T, E> {
    (0..n).map(|_| promise()).unzip()
}

/// The length of the long chains (of callbacks, of forwards): a million
/// natively, where they must run in constant stack; under Miri, which
/// checks the code they run rather than their depth, two hundred.
pub(crate) const CHAIN: usize = if cfg!(miri) { 200 } else { 1_000_000 };

/// A loop count: `n` natively; under Miri, which runs about a thousand times
/// slower, a hundredth of it (at least 2), still enough rounds to drive every
/// path the test drives.
pub(crate) const fn scaled(n: usize) -> usize {
    if !cfg!(miri) {
        n
    } else if n / 100 > 2 {
        n / 100
    } else {
        2
    }
}

/// xorshift64*: a tiny seeded PRNG, so stress runs are reproducible by seed.
#[derive(Clone, Debug)]
pub(crate) struct XorShift(u64);

impl XorShift {
    /// A generator for `seed` (zero is remapped: xorshift must not start at 0).
    pub(crate) fn new(seed: u64) -> XorShift {
        XorShift(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    /// The next 64 random bits.
    pub(crate) fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..bound` (`bound > 0`).
    pub(crate) fn below(&mut self, bound: usize) -> usize {
        (self.next_u64() % bound as u64) as usize
    }

    /// `true` with probability `1 / n`.
    pub(crate) fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }

    /// Shuffles `items` in place (Fisher-Yates).
    pub(crate) fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            items.swap(i, self.below(i + 1));
        }
    }
}

/// An owned copy of a borrowed outcome, to send it out of a thread.
pub(crate) fn owned<T: Clone, E: Clone>(outcome: Result<&T, &Failure<E>>) -> Result<T, Failure<E>> {
    outcome.cloned().map_err(Failure::clone)
}

/// Runs `f` on its own thread and panics if it does not finish within
/// [`HANG`]; a panic inside `f` is re-raised here.
pub(crate) fn no_hang<R: Send + 'static>(what: &str, f: impl FnOnce() -> R + Send + 'static) -> R {
    let (tx, rx) = std::sync::mpsc::channel();
    let handle = std::thread::spawn(move || {
        let result = f();
        let _ = tx.send(());
        result
    });
    match rx.recv_timeout(HANG) {
        Ok(()) => handle.join().expect("joined after it reported"),
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => match handle.join() {
            Err(panic) => std::panic::resume_unwind(panic),
            Ok(result) => result,
        },
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => panic!("{what}: hung for {HANG:?}"),
    }
}

/// Whether some waiter is linked into `future`'s list, read from its `Debug`
/// output (the state word decodes as `Pending(head: ..)`).
pub(crate) fn has_waiters<T: Debug, E: Debug>(future: &Future<T, E>) -> bool {
    format!("{future:?}").contains("head")
}

/// Spins (yielding) until `registered` holds for `future`'s `Debug` output.
/// Panics after [`HANG`] with `what`.
fn spin_until<T: Debug, E: Debug>(
    future: &Future<T, E>,
    what: &str,
    registered: impl Fn(&str) -> bool,
) {
    let start = Instant::now();
    loop {
        let now = format!("{future:?}");
        if registered(&now) {
            return;
        }
        assert!(start.elapsed() < HANG, "{what}: {now}");
        std::thread::yield_now();
    }
}

/// Spins (yielding) until a waiter is linked into `future`'s list. Panics
/// after [`HANG`]: then the waiter never registered, or `Debug` changed.
///
/// It tells that *some* waiter is linked, so it proves a new one registered
/// only while the list was empty before; otherwise use [`start_waiter`].
pub(crate) fn await_registered<T: Debug, E: Debug>(future: &Future<T, E>) {
    spin_until(
        future,
        "no waiter registered (or Debug no longer shows the head)",
        |now| now.contains("head"),
    );
}

/// Runs `start`, which starts one more waiter on `future` (a thread about to
/// block, a task about to pend), and returns what it returned once that
/// waiter is linked into `future`'s list, however many were linked before.
///
/// Calling it once per waiter counts them: after `n` calls, all `n` are
/// registered. Exact, not timed: a node is pushed at the head of the list,
/// and the nodes already linked belong to waiters that stay linked until the
/// future completes, so the head `Debug` shows changes exactly when the new
/// waiter's node is pushed. Hence what `start` starts must push exactly one
/// node onto `future` (not `wait([f, f])`), every earlier waiter must stay
/// linked (no time-outs), and `future` must stay pending until this returns.
pub(crate) fn start_waiter<T: Debug, E: Debug, R>(
    future: &Future<T, E>,
    start: impl FnOnce() -> R,
) -> R {
    let before = format!("{future:?}");
    let started = start();
    spin_until(
        future,
        "the new waiter never registered (or Debug no longer shows the head)",
        |now| now != before && now.contains("head"),
    );
    started
}

/// Completes each promise with its position in `promises`, dealt round-robin
/// over `threads` threads; returns them to join.
pub(crate) fn complete_on_threads(
    promises: Vec<Promise<usize, ()>>,
    threads: usize,
) -> Vec<std::thread::JoinHandle<()>> {
    let mut chunks: Vec<Vec<_>> = (0..threads).map(|_| Vec::new()).collect();
    for (i, p) in promises.into_iter().enumerate() {
        chunks[i % threads].push((i, p));
    }
    chunks
        .into_iter()
        .map(|chunk| {
            std::thread::spawn(move || {
                for (i, p) in chunk {
                    p.set_result(i);
                }
            })
        })
        .collect()
}
