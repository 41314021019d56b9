//! Group waits (`wait_any`, `wait_all`) over many futures, beside `crossbeam_channel::Select` and sequential `oneshot` receives.

mod common;

use common::Worker;
use criterion::{BenchmarkId, Criterion};
use crossbeam_channel::{Select, bounded};
use std::hint::black_box;
use std::time::{Duration, Instant};

/// The value every completer sends.
const VALUE: u64 = 7;

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
        group.bench_with_input(BenchmarkId::new("forthcoming", n), &n, |b, &n| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let (mut pending, futures): (Vec<_>, Vec<_>) =
                        (0..n).map(|_| forthcoming::promise::<u64, ()>()).unzip();
                    let last = pending.pop().expect("n > 0");
                    let start = Instant::now();
                    promises.send(last);
                    let index = forthcoming::wait_any(&futures).expect("not empty");
                    let value = *futures[index].get_result().unwrap();
                    total += start.elapsed();
                    assert_eq!((index, value), (n - 1, VALUE));
                    // Fulfilled, not dropped: a broken promise captures a backtrace
                    // when RUST_BACKTRACE is set, which would stretch this untimed
                    // part, the worker's idle time, and so its next wake-up.
                    pending
                        .into_iter()
                        .for_each(|promise| promise.set_result(VALUE));
                    drop(futures);
                }
                total
            })
        });
        group.bench_with_input(BenchmarkId::new("crossbeam_select", n), &n, |b, &n| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let (mut pending, receivers): (Vec<_>, Vec<_>) =
                        (0..n).map(|_| bounded::<u64>(1)).unzip();
                    let last = pending.pop().expect("n > 0");
                    let start = Instant::now();
                    senders.send(last);
                    let mut select = Select::new();
                    for receiver in &receivers {
                        select.recv(receiver);
                    }
                    let operation = select.select();
                    let index = operation.index();
                    let value = operation.recv(&receivers[index]).unwrap();
                    total += start.elapsed();
                    assert_eq!((index, value), (n - 1, VALUE));
                    drop((pending, receivers));
                }
                total
            })
        });
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
            |b, receivers| {
                b.iter(|| {
                    let mut select = Select::new();
                    for receiver in black_box(receivers) {
                        select.recv(receiver);
                    }
                    select.ready()
                })
            },
        );
        // `try_select` must complete the operation (take the message), so
        // this one also sends the message back: one extra `send` per
        // iteration.
        group.bench_with_input(
            BenchmarkId::new("crossbeam_try_select_recv_resend", n),
            &receivers,
            |b, receivers| {
                b.iter(|| {
                    let mut select = Select::new();
                    for receiver in black_box(receivers) {
                        select.recv(receiver);
                    }
                    let operation = select.try_select().expect("one is ready");
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
    let producers = [(); 2].map(|_| {
        Worker::spawn(|promises: Vec<forthcoming::Promise<u64, ()>>| {
            for promise in promises {
                promise.set_result(VALUE);
            }
        })
    });
    let oneshot_producers = [(); 2].map(|_| {
        Worker::spawn(|senders: Vec<oneshot::Sender<u64>>| {
            for sender in senders {
                sender.send(VALUE).unwrap();
            }
        })
    });

    let forthcoming_pairs = || {
        let (mut first, futures): (Vec<_>, Vec<_>) =
            (0..ALL).map(|_| forthcoming::promise::<u64, ()>()).unzip();
        let second = first.split_off(ALL / 2);
        (first, second, futures)
    };

    // Times one round: hand the promises to the producers, optionally
    // `wait_all`, read every value in order, drop the futures.
    let forthcoming_round = |b: &mut criterion::Bencher<'_>, wait_first: bool| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let (first, second, futures) = forthcoming_pairs();
                let start = Instant::now();
                producers[0].send(first);
                producers[1].send(second);
                if wait_first {
                    forthcoming::wait_all(&futures);
                }
                let sum: u64 = futures.iter().map(|f| *f.get_result().unwrap()).sum();
                drop(futures);
                total += start.elapsed();
                assert_eq!(sum, VALUE * ALL as u64);
            }
            total
        })
    };
    group.bench_function("forthcoming_wait_all", |b| forthcoming_round(b, true));
    group.bench_function("forthcoming_get_result_in_sequence", |b| {
        forthcoming_round(b, false)
    });

    group.bench_function("oneshot_recv_in_sequence", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let (mut first, receivers): (Vec<_>, Vec<_>) =
                    (0..ALL).map(|_| oneshot::channel::<u64>()).unzip();
                let second = first.split_off(ALL / 2);
                let start = Instant::now();
                oneshot_producers[0].send(first);
                oneshot_producers[1].send(second);
                let sum: u64 = receivers.into_iter().map(|r| r.recv().unwrap()).sum();
                total += start.elapsed();
                assert_eq!(sum, VALUE * ALL as u64);
            }
            total
        })
    });

    group.finish();
}

// Written out rather than `criterion_group!`, whose `pub fn` has no docs.
fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    wait_any_pending(&mut criterion);
    wait_any_done(&mut criterion);
    wait_all_1024(&mut criterion);
    criterion.final_summary();
}
