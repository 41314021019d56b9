//! Async waits: `(&future).await`, `wait_any_async` and `as_completed_async`, beside `tokio::sync::oneshot`, `oneshot`, `futures::future::select_all` and `FuturesUnordered`.

mod common;

use common::{Producers, VALUE, Worker, drain_rounds, fulfil, timed_rounds};
use criterion::{BatchSize, Bencher, Criterion};
use futures::executor::block_on;
use futures::future::{ready, select_all};
use futures::stream::{FuturesUnordered, Stream, StreamExt};
use std::future::{Future, IntoFuture};
use std::hint::black_box;
use std::iter::repeat_with;
use std::pin::{Pin, pin};
use std::task::{Context, Poll, Waker};

/// Polls `future` once with a waker that does nothing: the smallest
/// executor there is.
fn poll_once<F: Future>(future: Pin<&mut F>) -> Poll<F::Output> {
    future.poll(&mut Context::from_waker(Waker::noop()))
}

/// One persistent thread per kind of sender, each sending [`VALUE`] on
/// whatever it is handed.
struct Completers {
    promises: Worker<forthcoming::Promise<u64, ()>>,
    tokio_senders: Worker<tokio::sync::oneshot::Sender<u64>>,
    oneshot_senders: Worker<oneshot::Sender<u64>>,
}

impl Completers {
    fn spawn() -> Completers {
        Completers {
            promises: Worker::spawn(|promise: forthcoming::Promise<u64, ()>| {
                promise.set_result(VALUE)
            }),
            tokio_senders: Worker::spawn(|sender: tokio::sync::oneshot::Sender<u64>| {
                sender.send(VALUE).unwrap()
            }),
            oneshot_senders: Worker::spawn(|sender: oneshot::Sender<u64>| {
                sender.send(VALUE).unwrap()
            }),
        }
    }
}

/// A peer's `await_done` row: untimed, make a channel and `send` on it;
/// timed, one poll of the receiver, which must be `Ready` with the value.
fn poll_sent<S, R, E>(
    channel: impl Fn() -> (S, R),
    send: impl Fn(S),
) -> impl FnMut(&mut Bencher<'_>)
where
    R: Future<Output = Result<u64, E>> + Unpin,
{
    move |b| {
        b.iter_batched_ref(
            || {
                let (sender, receiver) = channel();
                send(sender);
                receiver
            },
            |receiver| match poll_once(Pin::new(receiver)) {
                Poll::Ready(Ok(value)) => value,
                _ => unreachable!("already sent"),
            },
            BatchSize::SmallInput,
        )
    }
}

fn await_done(c: &mut Criterion) {
    let mut group = c.benchmark_group("await_done");
    // Untimed: make a pair and complete it. Timed: one poll, which must be
    // `Ready` with the value. Drops happen outside the measurement.
    group.bench_function("forthcoming", |b| {
        b.iter_batched_ref(
            || {
                let (promise, future) = forthcoming::promise::<u64, ()>();
                promise.set_result(VALUE);
                future
            },
            |future| match poll_once(pin!((&*future).into_future())) {
                Poll::Ready(Ok(&value)) => value,
                _ => unreachable!("already complete"),
            },
            BatchSize::SmallInput,
        )
    });

    group.bench_function(
        "tokio_oneshot",
        poll_sent(tokio::sync::oneshot::channel::<u64>, |sender| {
            sender.send(VALUE).unwrap()
        }),
    );
    group.bench_function(
        "oneshot",
        poll_sent(oneshot::channel::<u64>, |sender| {
            sender.send(VALUE).unwrap()
        }),
    );
    group.finish();
}

fn await_cross_thread(c: &mut Criterion) {
    let mut group = c.benchmark_group("await_cross_thread");
    // Untimed: make a pair. Timed: hand the sender to a persistent thread
    // that completes it at once, and `block_on` the await.
    let completers = Completers::spawn();

    group.bench_function(
        "forthcoming",
        timed_rounds(|stopwatch| {
            let (promise, future) = forthcoming::promise::<u64, ()>();
            let value = stopwatch.time(|| {
                completers.promises.send(promise);
                let value = block_on(async { *(&future).await.unwrap() });
                // Freed inside the timed part, as the peers' receivers,
                // which `block_on` consumes.
                drop(future);
                value
            });
            assert_eq!(black_box(value), VALUE);
        }),
    );

    group.bench_function(
        "tokio_oneshot",
        timed_rounds(|stopwatch| {
            let (sender, receiver) = tokio::sync::oneshot::channel::<u64>();
            let value = stopwatch.time(|| {
                completers.tokio_senders.send(sender);
                block_on(receiver).unwrap()
            });
            assert_eq!(black_box(value), VALUE);
        }),
    );

    group.bench_function(
        "oneshot",
        timed_rounds(|stopwatch| {
            let (sender, receiver) = oneshot::channel::<u64>();
            let value = stopwatch.time(|| {
                completers.oneshot_senders.send(sender);
                block_on(receiver).unwrap()
            });
            assert_eq!(black_box(value), VALUE);
        }),
    );

    group.finish();
}

/// How many futures the `async_wait_any_1024*` groups wait on.
const ANY: usize = 1024;

/// A `wait_any_async` row: untimed, make `ANY` pairs; timed, `wait` gets
/// the last promise and every future and returns the winner's position,
/// then the winner's value is read; untimed, fulfil the rest.
fn wait_any_round(
    wait: impl Fn(forthcoming::Promise<u64, ()>, &[forthcoming::Future<u64, ()>]) -> Option<usize>,
) -> impl FnMut(&mut Bencher<'_>) {
    timed_rounds(move |stopwatch| {
        let (mut pending, futures): (Vec<_>, Vec<_>) =
            (0..ANY).map(|_| forthcoming::promise::<u64, ()>()).unzip();
        let last = pending.pop().expect("not empty");
        let (index, value) = stopwatch.time(|| {
            let index = wait(last, &futures).expect("not empty");
            (index, *futures[index].get_result().unwrap())
        });
        assert_eq!((index, value), (ANY - 1, VALUE));
        fulfil(pending);
    })
}

/// A peer's `select_all` row: untimed, make `ANY` channels; timed, `wait`
/// gets the last sender and every receiver; untimed, drop what is left.
/// (`select_all` consumes the winning receiver, so the peers free one
/// receiver inside the timed part where `wait_any_round` frees nothing:
/// tens of nanoseconds against a round of tens of microseconds.)
///
/// The receivers left are dropped before the senders: a sender dropped
/// first wakes its receiver's registered waker (`block_on`'s thread waker)
/// 1023 times, and the stale unpark lets the next round's `block_on` skip
/// its first park (measured: it took a third off `select_all`'s median).
fn select_all_round<S, R, E: std::fmt::Debug>(
    channel: impl Fn() -> (S, R),
    wait: impl Fn(S, Vec<R>) -> (Result<u64, E>, usize, Vec<R>),
) -> impl FnMut(&mut Bencher<'_>) {
    timed_rounds(move |stopwatch| {
        let (mut pending, receivers): (Vec<_>, Vec<_>) = (0..ANY).map(|_| channel()).unzip();
        let last = pending.pop().expect("not empty");
        let (value, index, rest) = stopwatch.time(|| wait(last, receivers));
        assert_eq!((index, value.unwrap()), (ANY - 1, VALUE));
        drop((rest, pending));
    })
}

fn async_wait_any_1024(c: &mut Criterion) {
    let mut group = c.benchmark_group("async_wait_any_1024");
    // Timed: hand the last sender to a persistent thread that completes it
    // at once, `block_on` the wait, read the value.
    let completers = Completers::spawn();
    group.bench_function(
        "forthcoming_wait_any_async",
        wait_any_round(|last, futures| {
            completers.promises.send(last);
            block_on(forthcoming::wait_any_async(futures))
        }),
    );
    group.bench_function(
        "oneshot_select_all",
        select_all_round(oneshot::channel::<u64>, |last, receivers| {
            completers.oneshot_senders.send(last);
            block_on(select_all(receivers))
        }),
    );
    group.bench_function(
        "tokio_oneshot_select_all",
        select_all_round(tokio::sync::oneshot::channel::<u64>, |last, receivers| {
            completers.tokio_senders.send(last);
            block_on(select_all(receivers))
        }),
    );
    group.finish();
}

/// Polls `wait` once, which must be `Pending`, runs `complete`, and polls
/// again, which must be `Ready`: a whole async wait without a wake-up.
fn pend_complete_ready<F: Future>(wait: F, complete: impl FnOnce()) -> F::Output {
    let mut wait = pin!(wait);
    assert!(poll_once(wait.as_mut()).is_pending(), "nothing is done yet");
    complete();
    match poll_once(wait) {
        Poll::Ready(output) => output,
        Poll::Pending => unreachable!("the last one is done"),
    }
}

fn async_wait_any_1024_one_thread(c: &mut Criterion) {
    let mut group = c.benchmark_group("async_wait_any_1024_one_thread");
    // The waits' own cost, without the cross-thread wake-up that dominates
    // `async_wait_any_1024`. Timed: create the wait, poll it (`Pending`:
    // registration), complete the last one on this thread, poll again
    // (`Ready`), drop the wait (detach), read the value.
    group.bench_function(
        "forthcoming_wait_any_async",
        wait_any_round(|last, futures| {
            pend_complete_ready(forthcoming::wait_any_async(futures), || {
                last.set_result(VALUE)
            })
        }),
    );
    group.bench_function(
        "oneshot_select_all",
        select_all_round(oneshot::channel::<u64>, |last, receivers| {
            pend_complete_ready(select_all(receivers), || last.send(VALUE).unwrap())
        }),
    );
    group.bench_function(
        "tokio_oneshot_select_all",
        select_all_round(tokio::sync::oneshot::channel::<u64>, |last, receivers| {
            pend_complete_ready(select_all(receivers), || last.send(VALUE).unwrap())
        }),
    );
    group.finish();
}

/// Runs `values` to its end on this thread; returns their sum.
fn sum_on_this_thread(values: impl Stream<Item = u64>) -> u64 {
    block_on(values.fold(0, |sum, value| ready(sum + value)))
}

fn drain_10000_async(c: &mut Criterion) {
    let mut group = c.benchmark_group("drain_10000_async");
    // As `drain_10000`: timed, hand half the senders to each of two producer
    // threads and `block_on` a stream of every value in completion order.
    let producers =
        Producers::spawn(|promise: forthcoming::Promise<u64, ()>| promise.set_result(VALUE));
    let oneshot_producers =
        Producers::spawn(|sender: oneshot::Sender<u64>| sender.send(VALUE).unwrap());
    group.bench_function(
        "forthcoming_as_completed_async",
        drain_rounds(
            &producers,
            || repeat_with(forthcoming::promise::<u64, ()>),
            |futures| {
                sum_on_this_thread(
                    forthcoming::as_completed_async(&futures)
                        .map(|taken| *futures[taken].get_result().unwrap()),
                )
            },
        ),
    );
    group.bench_function(
        "oneshot_futures_unordered",
        drain_rounds(
            &oneshot_producers,
            || repeat_with(oneshot::channel::<u64>),
            |receivers| {
                sum_on_this_thread(
                    receivers
                        .into_iter()
                        .collect::<FuturesUnordered<_>>()
                        .map(|received| received.unwrap()),
                )
            },
        ),
    );
    group.finish();
}

// Written out rather than `criterion_group!`, whose `pub fn` has no docs.
fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    await_done(&mut criterion);
    await_cross_thread(&mut criterion);
    async_wait_any_1024(&mut criterion);
    async_wait_any_1024_one_thread(&mut criterion);
    drain_10000_async(&mut criterion);
    criterion.final_summary();
}
