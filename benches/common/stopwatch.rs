//! Benches that time one part of each round.

use criterion::Bencher;
use std::time::{Duration, Instant};

/// A bench routine (for `bench_function`) that runs `round` once per
/// iteration and measures only the part it passes to [`Stopwatch::time`]:
/// making the inputs, checking and dropping the outputs stay untimed.
pub(crate) fn timed_rounds(mut round: impl FnMut(&mut Stopwatch)) -> impl FnMut(&mut Bencher<'_>) {
    move |bencher| {
        bencher.iter_custom(|iters| {
            let mut stopwatch = Stopwatch {
                total: Duration::ZERO,
            };
            for _ in 0..iters {
                round(&mut stopwatch);
            }
            stopwatch.total
        })
    }
}

/// Adds up the time spent in [`Stopwatch::time`].
pub(crate) struct Stopwatch {
    /// The time measured so far.
    total: Duration,
}

impl Stopwatch {
    /// Runs `part` and adds its wall-clock time to the total.
    pub(crate) fn time<R>(&mut self, part: impl FnOnce() -> R) -> R {
        let start = Instant::now();
        let output = part();
        self.total += start.elapsed();
        output
    }
}
