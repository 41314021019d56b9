//! Shared bench helpers.

mod stopwatch;
mod worker;

use criterion::Bencher;
pub(crate) use stopwatch::timed_rounds;
pub(crate) use worker::{Producers, Worker};

/// The value every completer sends.
pub(crate) const VALUE: u64 = 7;

/// How many futures a drain takes.
pub(crate) const DRAINED: usize = 10_000;

/// Fulfils promises a bench left pending, untimed, instead of dropping them:
/// a broken promise captures a backtrace when `RUST_BACKTRACE` is set, which
/// would stretch the untimed part of a round, a worker's idle time, and so
/// its next (timed) wake-up.
pub(crate) fn fulfil(pending: Vec<forthcoming::Promise<u64, ()>>) {
    pending
        .into_iter()
        .for_each(|promise| promise.set_result(0));
}

/// Takes `n` sender/receiver pairs from `pairs`; returns the senders in two
/// halves (one per [`Producers`] thread) and the receivers in order.
pub(crate) fn in_halves<S, R>(
    n: usize,
    pairs: impl Iterator<Item = (S, R)>,
) -> ([Vec<S>; 2], Vec<R>) {
    let (mut first, receivers): (Vec<S>, Vec<R>) = pairs.take(n).unzip();
    let second = first.split_off(n / 2);
    ([first, second], receivers)
}

/// A drain row: untimed, make [`DRAINED`] jobs and their receiving ends
/// from `pairs`; timed, hand half the jobs to each producer, `take` every
/// receiving end in completion order (returning the sum of the values it
/// read), and drop them.
pub(crate) fn drain_rounds<J: Send + 'static, R, P: Iterator<Item = (J, R)>>(
    producers: &Producers<J>,
    pairs: impl Fn() -> P,
    take: impl Fn(Vec<R>) -> u64,
) -> impl FnMut(&mut Bencher<'_>) {
    timed_rounds(move |stopwatch| {
        let (halves, receivers) = in_halves(DRAINED, pairs());
        let sum = stopwatch.time(|| {
            producers.send(halves);
            take(receivers)
        });
        assert_eq!(sum, VALUE * DRAINED as u64);
    })
}
