//! Group waits (`wait_any`, `wait_all`, `as_completed`) over many futures, beside `crossbeam_channel::Select`, a channel and sequential `oneshot` receives.

mod common;

use common::{Producers, VALUE, Worker, drain_rounds, fulfil, in_halves, timed_rounds};
use criterion::{Bencher, BenchmarkId, Criterion};
use crossbeam_channel::{Receiver, Select, bounded, unbounded};
use std::hint::black_box;
use std::iter::repeat_with;
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// A `Select` with a receive operation on every receiver, in order.
fn select_over(receivers: &[Receiver<u64>]) -> Select<'_> {
    let mut select = Select::new();
    for receiver in receivers {
        select.recv(receiver);
    }
    select
}

fn wait_any_pending(c: &mut Criterion) {
    let mut group = c.benchmark_group("wait_any_pending");
    // Per iteration, untimed: make N pairs. Timed: hand the last sender to
    // the completer thread (which completes it at once), then the whole wait
    // (scan, registration on all N, park, wake, detach) and the read.
    let promises =
        Worker::spawn(|promise: forthcoming::Promise<u64, ()>| promise.set_result(VALUE));
    let senders =
        Worker::spawn(|sender: crossbeam_channel::Sender<u64>| sender.send(VALUE).unwrap());
    for n in [1usize, 16, 256, 4096] {
        group.bench_function(
            BenchmarkId::new("forthcoming", n),
            timed_rounds(|stopwatch| {
                let (mut pending, futures): (Vec<_>, Vec<_>) =
                    (0..n).map(|_| forthcoming::promise::<u64, ()>()).unzip();
                let last = pending.pop().expect("n > 0");
                let (index, value) = stopwatch.time(|| {
                    promises.send(last);
                    let index = forthcoming::wait_any(&futures).expect("not empty");
                    (index, *futures[index].get_result().unwrap())
                });
                assert_eq!((index, value), (n - 1, VALUE));
                fulfil(pending);
            }),
        );
        group.bench_function(
            BenchmarkId::new("crossbeam_select", n),
            timed_rounds(|stopwatch| {
                let (mut pending, receivers): (Vec<_>, Vec<_>) =
                    (0..n).map(|_| bounded::<u64>(1)).unzip();
                let last = pending.pop().expect("n > 0");
                let (index, value) = stopwatch.time(|| {
                    senders.send(last);
                    let operation = select_over(&receivers).select();
                    let index = operation.index();
                    (index, operation.recv(&receivers[index]).unwrap())
                });
                assert_eq!((index, value), (n - 1, VALUE));
            }),
        );
    }
    group.finish();
}

fn wait_any_done(c: &mut Criterion) {
    let mut group = c.benchmark_group("wait_any_done");
    // N pairs, the last already complete: made once per N, outside the
    // measurement. Neither `wait_any` nor `Select::ready` consumes anything,
    // so every iteration sees the same state.
    for n in [16usize, 256, 4096] {
        let (promises, futures): (Vec<_>, Vec<_>) =
            (0..n).map(|_| forthcoming::promise::<u64, ()>()).unzip();
        let mut promises = promises;
        promises.pop().expect("n > 0").set_result(VALUE);
        group.bench_with_input(
            BenchmarkId::new("forthcoming", n),
            &futures,
            |b, futures| b.iter(|| forthcoming::wait_any(black_box(futures))),
        );

        let (mut senders, receivers): (Vec<_>, Vec<_>) = (0..n).map(|_| bounded::<u64>(1)).unzip();
        let last = senders.pop().expect("n > 0");
        last.send(VALUE).unwrap();
        group.bench_with_input(
            BenchmarkId::new("crossbeam_select_ready", n),
            &receivers,
            |b, receivers| b.iter(|| select_over(black_box(receivers)).ready()),
        );
        // `try_select` must complete the operation (take the message), so
        // this one also sends the message back: one extra `send` per
        // iteration.
        group.bench_with_input(
            BenchmarkId::new("crossbeam_try_select_recv_resend", n),
            &receivers,
            |b, receivers| {
                b.iter(|| {
                    let operation = select_over(black_box(receivers))
                        .try_select()
                        .expect("one is ready");
                    let index = operation.index();
                    let value = operation.recv(&receivers[index]).unwrap();
                    last.send(value).unwrap();
                    index
                })
            },
        );
        drop((promises, futures, senders, last, receivers));
    }
    group.finish();
}

/// How many futures `wait_all_1024` waits on.
const ALL: usize = 1024;

fn wait_all_1024(c: &mut Criterion) {
    let mut group = c.benchmark_group("wait_all_1024");
    // Per iteration, untimed: make 1024 pairs. Timed: hand half the senders
    // to each of two producer threads, wait for all, read every value and
    // drop every handle.
    let producers =
        Producers::spawn(|promise: forthcoming::Promise<u64, ()>| promise.set_result(VALUE));
    let oneshot_producers =
        Producers::spawn(|sender: oneshot::Sender<u64>| sender.send(VALUE).unwrap());

    // One round: hand the promises to the producers, optionally `wait_all`,
    // read every value in order, drop the futures.
    let producers = &producers;
    let forthcoming_round = |wait_first: bool| {
        timed_rounds(move |stopwatch| {
            let (halves, futures) = in_halves(ALL, repeat_with(forthcoming::promise::<u64, ()>));
            let sum = stopwatch.time(|| {
                producers.send(halves);
                if wait_first {
                    forthcoming::wait_all(&futures);
                }
                let sum: u64 = futures.iter().map(|f| *f.get_result().unwrap()).sum();
                drop(futures);
                sum
            });
            assert_eq!(sum, VALUE * ALL as u64);
        })
    };
    group.bench_function("forthcoming_wait_all", forthcoming_round(true));
    group.bench_function(
        "forthcoming_get_result_in_sequence",
        forthcoming_round(false),
    );

    group.bench_function(
        "oneshot_recv_in_sequence",
        timed_rounds(|stopwatch| {
            let (halves, receivers) = in_halves(ALL, repeat_with(oneshot::channel::<u64>));
            let sum = stopwatch.time(|| {
                oneshot_producers.send(halves);
                receivers
                    .into_iter()
                    .map(|r| r.recv().unwrap())
                    .sum::<u64>()
            });
            assert_eq!(sum, VALUE * ALL as u64);
        }),
    );

    group.finish();
}

/// The phases of a `wait_all_1024` round, timed apart (each bench reports
/// one phase per round): why a countdown cannot beat a sequential reader
/// (README, "Why the misses").
fn wait_all_1024_phases(c: &mut Criterion) {
    let mut group = c.benchmark_group("wait_all_1024_phases");
    // Each producer reports when it started and finished its half.
    let (report, reports) = mpsc::channel::<(Instant, Instant)>();
    let producers = [(); 2].map(|_| {
        let report = report.clone();
        Worker::spawn(move |promises: Vec<forthcoming::Promise<u64, ()>>| {
            let start = Instant::now();
            for promise in promises {
                promise.set_result(VALUE);
            }
            report.send((start, Instant::now())).unwrap();
        })
    });
    // One round of `wait_all_1024`. Returns the longer of the two producers'
    // run times, and how long after the last completion `wait_all` returned
    // (zero for the sequential reader, which does not call it).
    let round = |wait_first: bool| -> (Duration, Duration) {
        let ([first, second], futures) =
            in_halves(ALL, repeat_with(forthcoming::promise::<u64, ()>));
        producers[0].send(first);
        producers[1].send(second);
        let returned = wait_first.then(|| {
            forthcoming::wait_all(&futures);
            Instant::now()
        });
        let sum: u64 = futures.iter().map(|f| *f.get_result().unwrap()).sum();
        assert_eq!(sum, VALUE * ALL as u64);
        let halves = [(); 2].map(|_| reports.recv().unwrap());
        let production = halves.iter().map(|(start, end)| *end - *start).max();
        let last_completion = halves.iter().map(|(_, end)| *end).max();
        let wake_up = returned.map_or(Duration::ZERO, |returned| {
            returned.saturating_duration_since(last_completion.expect("two halves"))
        });
        (production.expect("two halves"), wake_up)
    };
    let phase = |wait_first: bool, pick: fn((Duration, Duration)) -> Duration| {
        move |bencher: &mut Bencher<'_>| {
            bencher.iter_custom(|iters| (0..iters).map(|_| pick(round(wait_first))).sum());
        }
    };
    group.bench_function("production_with_wait_all", phase(true, |(p, _)| p));
    group.bench_function(
        "production_with_sequential_reader",
        phase(false, |(p, _)| p),
    );
    group.bench_function(
        "wait_all_return_after_last_completion",
        phase(true, |(_, w)| w),
    );
    group.finish();
}

fn drain_10000(c: &mut Criterion) {
    let mut group = c.benchmark_group("drain_10000");
    // Per round, untimed: make 10,000 pairs. Timed: hand half the promises
    // to each of two producer threads, take every future in completion
    // order and read its value, drop the futures.
    let producers =
        Producers::spawn(|promise: forthcoming::Promise<u64, ()>| promise.set_result(VALUE));
    let promises = || repeat_with(forthcoming::promise::<u64, ()>);

    group.bench_function(
        "forthcoming_as_completed",
        drain_rounds(&producers, promises, |futures| {
            forthcoming::as_completed(&futures)
                .map(|taken| *futures[taken].get_result().unwrap())
                .sum()
        }),
    );

    // The channel is the completion queue: a producer completes a promise,
    // then sends its position. One channel serves every round (a round
    // receives all it sent).
    let (positions, completed) = unbounded::<usize>();
    let sending_producers = Producers::spawn(
        move |(position, promise): (usize, forthcoming::Promise<u64, ()>)| {
            promise.set_result(VALUE);
            positions.send(position).unwrap();
        },
    );
    group.bench_function(
        "crossbeam_unbounded_positions",
        drain_rounds(
            &sending_producers,
            || {
                (0..).map(|position| {
                    let (promise, future) = forthcoming::promise::<u64, ()>();
                    ((position, promise), future)
                })
            },
            |futures| {
                futures
                    .iter()
                    .map(|_| *futures[completed.recv().unwrap()].get_result().unwrap())
                    .sum()
            },
        ),
    );

    // Each wait scans the futures left up to the first done one; a wait
    // that finds none done registers on all of them.
    group.bench_function(
        "forthcoming_repeated_wait_any",
        drain_rounds(&producers, promises, |mut futures| {
            let mut sum = 0;
            while let Some(taken) = forthcoming::wait_any(&futures) {
                sum += *futures.swap_remove(taken).get_result().unwrap();
            }
            sum
        }),
    );
    group.finish();
}

// Written out rather than `criterion_group!`, whose `pub fn` has no docs.
fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    wait_any_pending(&mut criterion);
    wait_any_done(&mut criterion);
    wait_all_1024(&mut criterion);
    wait_all_1024_phases(&mut criterion);
    drain_10000(&mut criterion);
    criterion.final_summary();
}
