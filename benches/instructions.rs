//! Instruction counts (callgrind, through gungraun) of the one-thread paths,
//! ours beside the peers' in each group.
//!
//! Every bench measures one call of a [`Case`]: a setup builds it (channels,
//! pending futures), runs a throwaway copy first so that one-time
//! thread-local set-up (crossbeam-epoch's participant, crossbeam-channel's
//! context) is not counted, and the case is dropped after the measurement.
//! The drains are the exception: their call makes its [`DRAINED`] pairs
//! too, so that a take's count includes its future's create + complete +
//! read; the drain baselines count that part alone, in the drains' shape
//! (10,000 pairs live at once), so that the difference is the drain's own.

// gungraun's macros generate public items without docs (this file's own
// items are private, which the lint does not check anyway).
#![allow(missing_docs)]

use crossbeam_channel::Select;
use futures::future::select_all;
use gungraun::{
    Callgrind, EventKind, LibraryBenchmarkConfig, library_benchmark, library_benchmark_group, main,
};
use std::borrow::Borrow;
use std::future::{Future, IntoFuture};
use std::hint::black_box;
use std::pin::{Pin, pin};
use std::task::{Context, Poll, Waker};
use std::time::Instant;

/// The value every case sends.
const VALUE: u64 = 42;

/// How many futures a drain takes, one after another.
const DRAINED: usize = 10_000;

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

/// A case whose one call runs `send` on `sender`, beside a `receiver` kept
/// until the case is dropped.
fn send_once<S: 'static, R: 'static>(sender: S, receiver: R, send: impl Fn(S) + 'static) -> Case {
    let mut sender = Some(sender);
    Box::new(move || {
        let _kept = &receiver;
        send(sender.take().expect("a case is called once"));
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

/// Complete a pending pair made in the setup, whose future stays.
mod send {
    use super::*;

    fn forthcoming_after(register: impl FnOnce(&forthcoming::Future<u64, ()>)) -> Case {
        let (promise, future) = forthcoming::promise::<u64, ()>();
        register(&future);
        send_once(promise, future, |promise| {
            promise.set_result(black_box(VALUE));
        })
    }

    pub(super) fn forthcoming() -> Case {
        forthcoming_after(|_| {})
    }

    /// One callback, added in the setup; it runs (and is freed) inside the
    /// completion.
    pub(super) fn forthcoming_one_callback() -> Case {
        forthcoming_after(|future| {
            future.add_done_callback(|done| {
                black_box(done);
            });
        })
    }

    /// One async waiter, registered in the setup: an await (by value, on a
    /// clone of the future) polled once with a waker that does nothing and
    /// kept pending; the completion wakes it.
    pub(super) fn forthcoming_one_await() -> Case {
        let (promise, future) = forthcoming::promise::<u64, ()>();
        let mut waiting = Box::pin(future.clone().into_future());
        assert!(poll_once(waiting.as_mut()).is_pending());
        send_once(promise, (future, waiting), |promise| {
            promise.set_result(black_box(VALUE));
        })
    }

    /// Not a completion: the floor of any completion that runs a callback
    /// held as a boxed closure. One made in the setup (capturing a `u64`,
    /// so it has an allocation, as a callback with state does) is called
    /// once and freed.
    pub(super) fn boxed_closure_floor() -> Case {
        let captured = black_box(VALUE);
        let callback: Box<dyn FnOnce(&u64)> = Box::new(move |value| {
            black_box(captured + value);
        });
        send_once(callback, (), |callback| callback(&black_box(VALUE)))
    }

    pub(super) fn oneshot() -> Case {
        let (sender, receiver) = oneshot::channel::<u64>();
        send_once(sender, receiver, |sender| {
            sender.send(black_box(VALUE)).unwrap();
        })
    }

    /// As [`forthcoming_one_await`]: the receiver polled once in the setup
    /// (its waker stored), so the send wakes it.
    pub(super) fn oneshot_one_await() -> Case {
        let (sender, receiver) = oneshot::channel::<u64>();
        let mut waiting = Box::pin(receiver);
        assert!(poll_once(waiting.as_mut()).is_pending());
        send_once(sender, waiting, |sender| {
            sender.send(black_box(VALUE)).unwrap();
        })
    }

    pub(super) fn tokio_oneshot() -> Case {
        let (sender, receiver) = tokio::sync::oneshot::channel::<u64>();
        send_once(sender, receiver, |sender| {
            sender.send(black_box(VALUE)).unwrap();
        })
    }

    /// As [`oneshot_one_await`].
    pub(super) fn tokio_oneshot_one_await() -> Case {
        let (sender, receiver) = tokio::sync::oneshot::channel::<u64>();
        let mut waiting = Box::pin(receiver);
        assert!(poll_once(waiting.as_mut()).is_pending());
        send_once(sender, waiting, |sender| {
            sender.send(black_box(VALUE)).unwrap();
        })
    }
}

/// One link of a loop of tail calls, on a chain kept in the case: `let
/// (next, f) = promise(); p.forward(f); p = next;`.
mod tail_call {
    use super::*;

    /// Forwards `tail` to a fresh pair's future and puts the fresh promise
    /// in its place.
    fn link(tail: &mut forthcoming::Promise<u64, ()>) {
        let (next, future) = forthcoming::promise();
        std::mem::replace(tail, next).forward(future);
    }

    /// The chain's root future stays pending; one link is made in the
    /// setup, so the measured one is not the first.
    pub(super) fn forthcoming_forward() -> Case {
        let (mut tail, root) = forthcoming::promise::<u64, ()>();
        link(&mut tail);
        Box::new(move || {
            let _kept = &root;
            link(&mut tail);
            0
        })
    }
}

/// Whether the reading side is gone, with a receiver alive (one load).
mod abandoned {
    use super::*;

    pub(super) fn forthcoming() -> Case {
        let (promise, future) = forthcoming::promise::<u64, ()>();
        Box::new(move || {
            let _kept = &future;
            u64::from(promise.is_abandoned())
        })
    }

    pub(super) fn oneshot_is_closed() -> Case {
        let (sender, receiver) = oneshot::channel::<u64>();
        Box::new(move || {
            let _kept = &receiver;
            u64::from(sender.is_closed())
        })
    }

    pub(super) fn tokio_oneshot_is_closed() -> Case {
        let (sender, receiver) = tokio::sync::oneshot::channel::<u64>();
        Box::new(move || {
            let _kept = &receiver;
            u64::from(sender.is_closed())
        })
    }
}

/// Take `n` futures in completion order on one thread: make `n` pairs,
/// then complete one and take one, `n` times, reading each value; drop
/// everything. The whole drain is one call.
mod drain {
    use super::*;

    /// `n` promises, and their futures in the same order.
    type Pairs = (
        Vec<forthcoming::Promise<u64, ()>>,
        Vec<forthcoming::Future<u64, ()>>,
    );

    fn pairs(n: usize) -> Pairs {
        (0..n).map(|_| forthcoming::promise()).unzip()
    }

    pub(super) fn forthcoming_as_completed(n: usize) -> Case {
        Box::new(move || {
            let (promises, futures) = pairs(n);
            let mut order = forthcoming::as_completed(&futures);
            promises
                .into_iter()
                .map(|promise| {
                    promise.set_result(black_box(VALUE));
                    let taken = order.next().expect("one is done");
                    *futures[taken].get_result().unwrap()
                })
                .sum()
        })
    }

    pub(super) fn forthcoming_completion_queue(n: usize) -> Case {
        Box::new(move || {
            let (promises, futures) = pairs(n);
            let mut queue = forthcoming::CompletionQueue::new();
            futures.into_iter().for_each(|future| queue.push(future));
            promises
                .into_iter()
                .map(|promise| {
                    promise.set_result(black_box(VALUE));
                    let taken = queue.wait_next().expect("one is done");
                    *taken.get_result().unwrap()
                })
                .sum()
        })
    }

    /// The last future left completes each time, so each `wait_any` scans
    /// every future left before it finds the done one (it registers
    /// nothing: the future is done before the wait).
    pub(super) fn forthcoming_wait_any(n: usize) -> Case {
        Box::new(move || {
            let (mut promises, mut futures) = pairs(n);
            let mut sum = 0;
            while let Some(promise) = promises.pop() {
                promise.set_result(black_box(VALUE));
                let taken = forthcoming::wait_any(&futures).expect("one is done");
                sum += *futures.swap_remove(taken).get_result().unwrap();
            }
            sum
        })
    }

    /// The repeated `wait_any` drain, but each wait starts before its
    /// completion, so it registers: `wait_any_async` polled once scans every
    /// future left and pushes a node on each (`Pending`), the last future
    /// left completes, the second poll takes it, and the wait's drop
    /// detaches every node.
    pub(super) fn forthcoming_wait_any_registered(n: usize) -> Case {
        Box::new(move || {
            let (mut promises, mut futures) = pairs(n);
            let mut sum = 0;
            while let Some(promise) = promises.pop() {
                let taken = {
                    let mut wait = pin!(forthcoming::wait_any_async(&futures));
                    assert!(poll_once(wait.as_mut()).is_pending(), "none is done");
                    promise.set_result(black_box(VALUE));
                    match poll_once(wait) {
                        Poll::Ready(Some(taken)) => taken,
                        _ => unreachable!("the last one is done"),
                    }
                };
                sum += *futures.swap_remove(taken).get_result().unwrap();
            }
            sum
        })
    }

    /// The `as_completed` drain without `as_completed`: the same pairs,
    /// completed and read in the same order, the futures kept to the end.
    pub(super) fn baseline_futures_kept(n: usize) -> Case {
        Box::new(move || {
            let (promises, futures) = pairs(n);
            read_each(promises, &futures)
        })
    }

    /// The `CompletionQueue` drain without the queue: the same pairs,
    /// completed and read in the same order, each future dropped after its
    /// read (the queue hands it back and the drain drops it).
    pub(super) fn baseline_futures_dropped(n: usize) -> Case {
        Box::new(move || {
            let (promises, futures) = pairs(n);
            read_each(promises, futures)
        })
    }

    /// A probe of the allocator: [`baseline_futures_kept`] with one small
    /// block allocated after the pairs and freed after the futures, as a
    /// drain's own allocations are (its last waiter, retired through the
    /// epoch, outlives the run). glibc then coalesces the futures' freed
    /// blocks into a free chunk below that block rather than into the
    /// heap's top, which costs more.
    pub(super) fn baseline_futures_kept_below_a_block(n: usize) -> Case {
        Box::new(move || {
            let (promises, futures) = pairs(n);
            let block = black_box(Box::new([0u64; 8]));
            let sum = read_each(promises, &futures);
            drop(futures);
            drop(block);
            sum
        })
    }

    /// The same probe for [`baseline_futures_dropped`].
    pub(super) fn baseline_futures_dropped_below_a_block(n: usize) -> Case {
        Box::new(move || {
            let (promises, futures) = pairs(n);
            let block = black_box(Box::new([0u64; 8]));
            let sum = read_each(promises, futures);
            drop(block);
            sum
        })
    }

    /// Completes each promise, then reads its future, in order; `futures`
    /// yields each by reference (kept) or by value (dropped after its read).
    fn read_each<F: Borrow<forthcoming::Future<u64, ()>>>(
        promises: Vec<forthcoming::Promise<u64, ()>>,
        futures: impl IntoIterator<Item = F>,
    ) -> u64 {
        promises
            .into_iter()
            .zip(futures)
            .map(|(promise, future)| {
                promise.set_result(black_box(VALUE));
                *future.borrow().get_result().unwrap()
            })
            .sum()
    }

    /// A channel as the completion queue: send a value, receive it.
    pub(super) fn crossbeam_unbounded(n: usize) -> Case {
        Box::new(move || {
            let (sender, receiver) = crossbeam_channel::unbounded::<u64>();
            (0..n)
                .map(|_| {
                    sender.send(black_box(VALUE)).unwrap();
                    receiver.recv().unwrap()
                })
                .sum()
        })
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

#[library_benchmark(setup = warmed)]
#[bench::forthcoming(send::forthcoming)]
#[bench::forthcoming_one_callback(send::forthcoming_one_callback)]
#[bench::forthcoming_one_await(send::forthcoming_one_await)]
#[bench::boxed_closure_floor(send::boxed_closure_floor)]
#[bench::oneshot(send::oneshot)]
#[bench::oneshot_one_await(send::oneshot_one_await)]
#[bench::tokio_oneshot(send::tokio_oneshot)]
#[bench::tokio_oneshot_one_await(send::tokio_oneshot_one_await)]
fn complete_pending(case: Case) -> Case {
    run(case)
}

#[library_benchmark(setup = warmed)]
#[bench::forthcoming_forward(tail_call::forthcoming_forward)]
fn tail_call_link(case: Case) -> Case {
    run(case)
}

#[library_benchmark(setup = warmed)]
#[bench::forthcoming(abandoned::forthcoming)]
#[bench::oneshot_is_closed(abandoned::oneshot_is_closed)]
#[bench::tokio_oneshot_is_closed(abandoned::tokio_oneshot_is_closed)]
fn is_abandoned(case: Case) -> Case {
    run(case)
}

#[library_benchmark(setup = warmed_over)]
#[bench::forthcoming_as_completed(drain::forthcoming_as_completed, DRAINED)]
#[bench::forthcoming_completion_queue(drain::forthcoming_completion_queue, DRAINED)]
#[bench::forthcoming_wait_any(drain::forthcoming_wait_any, DRAINED)]
#[bench::forthcoming_wait_any_registered(drain::forthcoming_wait_any_registered, DRAINED)]
#[bench::baseline_futures_kept(drain::baseline_futures_kept, DRAINED)]
#[bench::baseline_futures_kept_below_a_block(drain::baseline_futures_kept_below_a_block, DRAINED)]
#[bench::baseline_futures_dropped(drain::baseline_futures_dropped, DRAINED)]
#[bench::baseline_futures_dropped_below_a_block(
    drain::baseline_futures_dropped_below_a_block,
    DRAINED
)]
#[bench::crossbeam_unbounded(drain::crossbeam_unbounded, DRAINED)]
fn drain_in_completion_order(case: Case) -> Case {
    run(case)
}

library_benchmark_group!(
    name = instructions,
    benchmarks = [
        create_complete_read,
        wait_done,
        await_done,
        wait_any_register_detach,
        complete_pending,
        tail_call_link,
        is_abandoned,
        drain_in_completion_order
    ]
);

main!(
    config = LibraryBenchmarkConfig::default().tool(Callgrind::default().format([EventKind::Ir])),
    library_benchmark_groups = instructions
);
