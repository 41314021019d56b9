//! Instruction counts (callgrind, through gungraun) of the one-thread paths,
//! ours beside the peers' in each group.
//!
//! Every bench measures one call of a [`Case`]: a setup builds it (channels,
//! pending futures), runs a throwaway copy first so that one-time
//! thread-local set-up (crossbeam-epoch's participant, crossbeam-channel's
//! context) is not counted, and the case is dropped after the measurement.

// gungraun's macros generate public items without docs (this file's own
// items are private, which the lint does not check anyway).
#![allow(missing_docs)]

use crossbeam_channel::Select;
use futures::future::select_all;
use gungraun::{
    Callgrind, EventKind, LibraryBenchmarkConfig, library_benchmark, library_benchmark_group, main,
};
use std::future::{Future, IntoFuture};
use std::hint::black_box;
use std::pin::{Pin, pin};
use std::task::{Context, Poll, Waker};
use std::time::Instant;

/// The value every case sends.
const VALUE: u64 = 42;

/// What a bench measures: one call, returning what it read.
type Case = Box<dyn FnMut() -> u64>;

/// Builds a case and runs it once (one-time thread-local set-up), then
/// returns a fresh one for the measurement.
fn warmed(make: fn() -> Case) -> Case {
    make()();
    make()
}

/// [`warmed`] for the cases over `n` channels (the first one over 1).
fn warmed_over(make: fn(usize) -> Case, n: usize) -> Case {
    make(1)();
    make(n)
}

/// The measured part of every bench: one call of `case`, which is returned
/// so that it is dropped after the measurement.
fn run(mut case: Case) -> Case {
    black_box(case());
    case
}

/// Polls `future` once with a waker that does nothing.
fn poll_once<F: Future>(future: Pin<&mut F>) -> Poll<F::Output> {
    future.poll(&mut Context::from_waker(Waker::noop()))
}

/// The value of a poll that must be `Ready(Ok(value))`.
fn ready<T, E>(poll: Poll<Result<T, E>>) -> T {
    match poll {
        Poll::Ready(Ok(value)) => value,
        _ => unreachable!("the value was sent"),
    }
}

/// A case holding `n` pairs made by `channel` (nothing is ever sent on
/// them); each call runs `wait` over them, which returns whether the wait
/// is still pending, as it must be.
fn pending_over<P: 'static>(
    n: usize,
    channel: impl FnMut() -> P,
    mut wait: impl FnMut(&mut [P]) -> bool + 'static,
) -> Case {
    let mut pairs: Vec<P> = std::iter::repeat_with(channel).take(n).collect();
    Box::new(move || {
        assert!(wait(&mut pairs), "nothing was sent, the wait is pending");
        0
    })
}

/// Create a pair, complete it, read the value, drop everything.
mod complete {
    use super::*;

    pub(super) fn forthcoming_get_result() -> Case {
        Box::new(|| {
            let (promise, future) = forthcoming::promise::<u64, ()>();
            promise.set_result(black_box(VALUE));
            *future.get_result().unwrap()
        })
    }

    pub(super) fn forthcoming_into_result() -> Case {
        Box::new(|| {
            let (promise, future) = forthcoming::promise::<u64, ()>();
            promise.set_result(black_box(VALUE));
            future.into_result().ok().unwrap().unwrap()
        })
    }

    pub(super) fn oneshot_recv() -> Case {
        Box::new(|| {
            let (sender, receiver) = oneshot::channel::<u64>();
            sender.send(black_box(VALUE)).unwrap();
            receiver.recv().unwrap()
        })
    }

    pub(super) fn oneshot_try_recv() -> Case {
        Box::new(|| {
            let (sender, receiver) = oneshot::channel::<u64>();
            sender.send(black_box(VALUE)).unwrap();
            receiver.try_recv().unwrap()
        })
    }

    pub(super) fn tokio_oneshot_try_recv() -> Case {
        Box::new(|| {
            let (sender, mut receiver) = tokio::sync::oneshot::channel::<u64>();
            sender.send(black_box(VALUE)).unwrap();
            receiver.try_recv().unwrap()
        })
    }

    pub(super) fn crossbeam_bounded_1() -> Case {
        Box::new(|| {
            let (sender, receiver) = crossbeam_channel::bounded::<u64>(1);
            sender.send(black_box(VALUE)).unwrap();
            receiver.recv().unwrap()
        })
    }
}

/// Read a pair completed (a channel filled) in the setup, by reference:
/// nothing is freed in the measurement.
mod done {
    use super::*;

    fn completed() -> forthcoming::Future<u64, ()> {
        let (promise, future) = forthcoming::promise::<u64, ()>();
        promise.set_result(VALUE);
        future
    }

    fn oneshot_sent() -> oneshot::Receiver<u64> {
        let (sender, receiver) = oneshot::channel::<u64>();
        sender.send(VALUE).unwrap();
        receiver
    }

    fn tokio_oneshot_sent() -> tokio::sync::oneshot::Receiver<u64> {
        let (sender, receiver) = tokio::sync::oneshot::channel::<u64>();
        sender.send(VALUE).unwrap();
        receiver
    }

    pub(super) fn forthcoming_get_result() -> Case {
        let future = completed();
        Box::new(move || *future.get_result().unwrap())
    }

    pub(super) fn forthcoming_wait() -> Case {
        let future = completed();
        Box::new(move || {
            future.wait();
            0
        })
    }

    pub(super) fn oneshot_recv_ref() -> Case {
        let receiver = oneshot_sent();
        Box::new(move || receiver.recv_ref().unwrap())
    }

    pub(super) fn tokio_oneshot_try_recv() -> Case {
        let mut receiver = tokio_oneshot_sent();
        Box::new(move || receiver.try_recv().unwrap())
    }

    pub(super) fn crossbeam_bounded_1_recv() -> Case {
        let (sender, receiver) = crossbeam_channel::bounded::<u64>(1);
        sender.send(VALUE).unwrap();
        Box::new(move || receiver.recv().unwrap())
    }

    /// `.await` on a done pair: one poll.
    pub(super) fn forthcoming_await() -> Case {
        let future = completed();
        Box::new(move || *ready(poll_once(pin!((&future).into_future()))))
    }

    pub(super) fn oneshot_await() -> Case {
        let mut receiver = oneshot_sent();
        Box::new(move || ready(poll_once(Pin::new(&mut receiver))))
    }

    pub(super) fn tokio_oneshot_await() -> Case {
        let mut receiver = tokio_oneshot_sent();
        Box::new(move || ready(poll_once(Pin::new(&mut receiver))))
    }
}

/// Register one wait on `n` pending pairs and leave it again.
mod pending {
    use super::*;

    /// `wait_any_async` polled once (`Pending`: one waiter, `n` nodes
    /// pushed), then dropped (the nodes unlinked and retired).
    pub(super) fn forthcoming(n: usize) -> Case {
        pending_over(n, forthcoming::promise::<u64, ()>, |pairs| {
            let futures = pairs.iter().map(|(_, future)| future);
            poll_once(pin!(forthcoming::wait_any_async(futures))).is_pending()
        })
    }

    /// `Select` over `n` receivers with a deadline already past: it tries
    /// each, registers on each, finds the deadline gone, unregisters each.
    pub(super) fn crossbeam_select(n: usize) -> Case {
        let past = Instant::now();
        pending_over(
            n,
            || crossbeam_channel::bounded::<u64>(1),
            move |pairs| {
                let mut select = Select::new();
                for (_, receiver) in pairs.iter() {
                    select.recv(receiver);
                }
                select.select_deadline(past).is_err()
            },
        )
    }

    /// `select_all` over `n` receivers polled once (each stores a waker),
    /// then dropped: the receivers keep their wakers, nothing is undone.
    pub(super) fn tokio_oneshot_select_all(n: usize) -> Case {
        pending_over(n, tokio::sync::oneshot::channel::<u64>, |pairs| {
            let receivers = pairs.iter_mut().map(|(_, receiver)| receiver);
            poll_once(pin!(select_all(receivers))).is_pending()
        })
    }
}

#[library_benchmark(setup = warmed)]
#[bench::forthcoming_get_result(complete::forthcoming_get_result)]
#[bench::forthcoming_into_result(complete::forthcoming_into_result)]
#[bench::oneshot_recv(complete::oneshot_recv)]
#[bench::oneshot_try_recv(complete::oneshot_try_recv)]
#[bench::tokio_oneshot_try_recv(complete::tokio_oneshot_try_recv)]
#[bench::crossbeam_bounded_1(complete::crossbeam_bounded_1)]
fn create_complete_read(case: Case) -> Case {
    run(case)
}

#[library_benchmark(setup = warmed)]
#[bench::forthcoming_get_result(done::forthcoming_get_result)]
#[bench::forthcoming_wait(done::forthcoming_wait)]
#[bench::oneshot_recv_ref(done::oneshot_recv_ref)]
#[bench::tokio_oneshot_try_recv(done::tokio_oneshot_try_recv)]
#[bench::crossbeam_bounded_1_recv(done::crossbeam_bounded_1_recv)]
fn wait_done(case: Case) -> Case {
    run(case)
}

#[library_benchmark(setup = warmed)]
#[bench::forthcoming(done::forthcoming_await)]
#[bench::oneshot(done::oneshot_await)]
#[bench::tokio_oneshot(done::tokio_oneshot_await)]
fn await_done(case: Case) -> Case {
    run(case)
}

#[library_benchmark(setup = warmed_over)]
#[bench::forthcoming_16(pending::forthcoming, 16)]
#[bench::forthcoming_256(pending::forthcoming, 256)]
#[bench::crossbeam_select_16(pending::crossbeam_select, 16)]
#[bench::crossbeam_select_256(pending::crossbeam_select, 256)]
#[bench::tokio_oneshot_select_all_16(pending::tokio_oneshot_select_all, 16)]
#[bench::tokio_oneshot_select_all_256(pending::tokio_oneshot_select_all, 256)]
fn wait_any_register_detach(case: Case) -> Case {
    run(case)
}

library_benchmark_group!(
    name = instructions,
    benchmarks = [
        create_complete_read,
        wait_done,
        await_done,
        wait_any_register_detach
    ]
);

main!(
    config = LibraryBenchmarkConfig::default().tool(Callgrind::default().format([EventKind::Ir])),
    library_benchmark_groups = instructions
);
