//! Async waits: `(&future).await` and `wait_any_async`, beside `tokio::sync::oneshot`, `oneshot` and `futures::future::select_all`.

mod common;

use common::{Worker, fulfil, timed_rounds};
use criterion::{BatchSize, Criterion};
use futures::executor::block_on;
use std::future::{Future, IntoFuture};
use std::hint::black_box;
use std::pin::{Pin, pin};
use std::task::{Context, Poll, Waker};

/// The value every completer sends.
const VALUE: u64 = 7;

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

    group.bench_function("tokio_oneshot", |b| {
        b.iter_batched_ref(
            || {
                let (sender, receiver) = tokio::sync::oneshot::channel::<u64>();
                sender.send(VALUE).unwrap();
                receiver
            },
            |receiver| match poll_once(Pin::new(receiver)) {
                Poll::Ready(Ok(value)) => value,
                _ => unreachable!("already sent"),
            },
            BatchSize::SmallInput,
        )
    });

    group.bench_function("oneshot", |b| {
        b.iter_batched_ref(
            || {
                let (sender, receiver) = oneshot::channel::<u64>();
                sender.send(VALUE).unwrap();
                receiver
            },
            |receiver| match poll_once(Pin::new(receiver)) {
                Poll::Ready(Ok(value)) => value,
                _ => unreachable!("already sent"),
            },
            BatchSize::SmallInput,
        )
    });

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
                block_on(async { *(&future).await.unwrap() })
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

/// How many futures `async_wait_any_1024` waits on.
const ANY: usize = 1024;

fn async_wait_any_1024(c: &mut Criterion) {
    let mut group = c.benchmark_group("async_wait_any_1024");
    // Untimed: make 1024 pairs. Timed: hand the last sender to a persistent
    // thread that completes it at once, `block_on` the wait, read the value.
    // Dropping the pairs is untimed. The peers drop their receivers before
    // their senders: a sender dropped first wakes its receiver's registered
    // waker, `block_on`'s thread waker, 1023 times, and the stale unpark
    // left behind lets the next round's `block_on` skip its first park
    // (measured: it took a third off `select_all`'s median).
    let completers = Completers::spawn();

    group.bench_function(
        "forthcoming_wait_any_async",
        timed_rounds(|stopwatch| {
            let (mut pending, futures): (Vec<_>, Vec<_>) =
                (0..ANY).map(|_| forthcoming::promise::<u64, ()>()).unzip();
            let last = pending.pop().expect("not empty");
            let (index, value) = stopwatch.time(|| {
                completers.promises.send(last);
                let index = block_on(forthcoming::wait_any_async(&futures)).expect("not empty");
                (index, *futures[index].get_result().unwrap())
            });
            assert_eq!((index, value), (ANY - 1, VALUE));
            fulfil(pending);
        }),
    );

    group.bench_function(
        "oneshot_select_all",
        timed_rounds(|stopwatch| {
            let (mut pending, receivers): (Vec<_>, Vec<_>) =
                (0..ANY).map(|_| oneshot::channel::<u64>()).unzip();
            let last = pending.pop().expect("not empty");
            let (value, index, rest) = stopwatch.time(|| {
                completers.oneshot_senders.send(last);
                block_on(futures::future::select_all(receivers))
            });
            assert_eq!((index, value.unwrap()), (ANY - 1, VALUE));
            drop((rest, pending));
        }),
    );

    group.bench_function(
        "tokio_oneshot_select_all",
        timed_rounds(|stopwatch| {
            let (mut pending, receivers): (Vec<_>, Vec<_>) = (0..ANY)
                .map(|_| tokio::sync::oneshot::channel::<u64>())
                .unzip();
            let last = pending.pop().expect("not empty");
            let (value, index, rest) = stopwatch.time(|| {
                completers.tokio_senders.send(last);
                block_on(futures::future::select_all(receivers))
            });
            assert_eq!((index, value.unwrap()), (ANY - 1, VALUE));
            drop((rest, pending));
        }),
    );

    group.finish();
}

// Written out rather than `criterion_group!`, whose `pub fn` has no docs.
fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    await_done(&mut criterion);
    await_cross_thread(&mut criterion);
    async_wait_any_1024(&mut criterion);
    criterion.final_summary();
}
