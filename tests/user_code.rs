//! User code the crate calls while it works: a task's `Waker` (its `wake`,
//! its `Drop`), a panic payload's `Drop`, and other libraries' garbage in
//! crossbeam-epoch. Whatever it does (panic, hold memory), a completion is
//! never stopped halfway, no waiter is left unwoken, and the panic surfaces
//! where the docs say.

mod common;

use common::{no_hang, start_waiter};
use forthcoming::{
    Completion, CompletionQueue, Failure, Future, ReturnWhen, as_completed_async, promise,
    wait_all_async, wait_any_async, wait_async,
};
use forthcoming_test_support::{CountingWaker, clone_panics_waker, poll_with};
use futures::StreamExt;
use std::future::IntoFuture;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::task::{Poll, Wake, Waker};

/// A waker whose `wake` panics.
struct PanicsOnWake;

impl Wake for PanicsOnWake {
    fn wake(self: Arc<Self>) {
        panic!("wake panics");
    }
}

/// A waker whose last drop panics while `armed`.
#[derive(Default)]
struct PanicsOnDrop {
    armed: AtomicBool,
}

impl Wake for PanicsOnDrop {
    fn wake(self: Arc<Self>) {}
}

impl Drop for PanicsOnDrop {
    fn drop(&mut self) {
        if self.armed.load(SeqCst) {
            panic!("waker drop panics");
        }
    }
}

/// A panic payload whose drop panics.
struct PanicsWhenDropped;

impl Drop for PanicsWhenDropped {
    fn drop(&mut self) {
        panic!("payload drop panics");
    }
}

/// A waker whose `wake` panics with a [`PanicsWhenDropped`] payload.
struct PanicsOnWakeWithBadPayload;

impl Wake for PanicsOnWakeWithBadPayload {
    fn wake(self: Arc<Self>) {
        std::panic::panic_any(PanicsWhenDropped);
    }
}

/// A pending `.await` of `future`, registered with a fresh counting waker.
fn await_counted(future: &Future<u32, ()>) -> (Completion<'_, u32, ()>, Arc<CountingWaker>, Waker) {
    let (counter, waker) = CountingWaker::new();
    let mut completion = future.into_future();
    assert!(poll_with(&mut completion, &waker).is_pending());
    (completion, counter, waker)
}

/// Registers a pending `.await` of `future` with `waker`, newest in its list.
fn register<'a>(
    future: &'a Future<u32, ()>,
    waker: impl Wake + Send + Sync + 'static,
) -> Completion<'a, u32, ()> {
    let mut completion = future.into_future();
    assert!(poll_with(&mut completion, &Waker::from(Arc::new(waker))).is_pending());
    completion
}

#[test]
fn a_panicking_wake_still_wakes_every_other_waiter_then_resumes_from_set_result() {
    let (promise, future) = promise::<u32, ()>();
    // Registered first, so they sit behind the panicking waker in the list
    // (the completer walks newest first).
    let (mut single, single_counter, single_waker) = await_counted(&future);
    let (group_counter, group_waker) = CountingWaker::new();
    let mut group = wait_any_async([&future]);
    assert!(poll_with(&mut group, &group_waker).is_pending());
    let (blocked_tx, blocked_rx) = std::sync::mpsc::channel();
    let reader = future.clone();
    let blocked = start_waiter(&future, || {
        std::thread::spawn(move || {
            reader.wait();
            blocked_tx.send(()).unwrap();
        })
    });
    let _panicking = register(&future, PanicsOnWake);

    let completing = catch_unwind(AssertUnwindSafe(move || promise.set_result(7)));

    let payload = completing.expect_err("the waker's panic resumes from set_result");
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"wake panics"));
    assert!(future.done());
    assert_eq!((single_counter.wakes(), group_counter.wakes()), (1, 1));
    assert_eq!(poll_with(&mut single, &single_waker), Poll::Ready(Ok(&7)));
    assert_eq!(poll_with(&mut group, &group_waker), Poll::Ready(Some(0)));
    no_hang("the blocked waiter wakes", move || {
        blocked_rx.recv().unwrap()
    });
    blocked.join().unwrap();
}

#[test]
fn a_second_panicking_wake_whose_payload_drop_panics_does_not_end_the_walk() {
    let (promise, future) = promise::<u32, ()>();
    let (mut waiting, counter, waker) = await_counted(&future);
    let _second = register(&future, PanicsOnWakeWithBadPayload);
    let _first = register(&future, PanicsOnWake); // walked first: newest

    let completing = catch_unwind(AssertUnwindSafe(move || promise.set_result(1)));

    let payload = completing.expect_err("the first waker panic resumes");
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"wake panics"));
    assert_eq!(counter.wakes(), 1);
    assert_eq!(poll_with(&mut waiting, &waker), Poll::Ready(Ok(&1)));
}

#[test]
fn a_promise_dropped_while_unwinding_drops_waker_panics_instead_of_aborting() {
    let (promise, future) = promise::<u32, ()>();
    let (_waiting, counter, _waker) = await_counted(&future);
    let _later = register(&future, PanicsOnWake);
    // Newest, so its panic is the one kept; its payload's drop panics too.
    let _kept = register(&future, PanicsOnWakeWithBadPayload);

    let unwinding = catch_unwind(AssertUnwindSafe(move || {
        let _promise = promise;
        panic!("the producer fails");
    }));

    let payload = unwinding.expect_err("the producer's panic, not an abort");
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"the producer fails"));
    assert_eq!(future.get_result(), Err(&Failure::BrokenPromise));
    assert_eq!(counter.wakes(), 1);
}

#[test]
fn a_waker_whose_drop_panics_panics_in_the_dropped_wait_which_still_detaches() {
    let (promise, future) = promise::<u32, ()>();
    let bomb = Arc::new(PanicsOnDrop::default());
    let mut cancelled = wait_any_async([&future, &future]);
    assert!(poll_with(&mut cancelled, &Waker::from(Arc::clone(&bomb))).is_pending());
    bomb.armed.store(true, SeqCst);
    drop(bomb); // the wait holds the last reference now
    let (mut other, counter, waker) = await_counted(&future);

    let dropping = catch_unwind(AssertUnwindSafe(move || drop(cancelled)));

    assert!(
        dropping.is_err(),
        "the waker's drop panics on the dropping thread"
    );
    promise.set_result(3);
    assert_eq!(counter.wakes(), 1);
    assert_eq!(poll_with(&mut other, &waker), Poll::Ready(Ok(&3)));
}

/// Another library's garbage in crossbeam-epoch's default collector, whose
/// destructor panics, must never run inside a completion: there it would
/// strike between writing the outcome and publishing it, leaving the future
/// pending forever. Threads are fresh so that their first pin collects.
#[test]
fn foreign_epoch_garbage_never_runs_inside_a_completion() {
    static ARMED: AtomicBool = AtomicBool::new(false);
    // Garbage sealed in one epoch (one pin; the thread's exit flushes it).
    std::thread::spawn(|| {
        let guard = crossbeam_epoch::pin();
        for _ in 0..256 {
            guard.defer(|| assert!(!ARMED.load(SeqCst), "foreign garbage ran"));
        }
    })
    .join()
    .unwrap();
    // One fresh thread's first pin advances the epoch once; the completer's
    // first pin below would advance it again and collect the garbage, were
    // it pinning crossbeam-epoch's default collector.
    std::thread::spawn(|| drop(crossbeam_epoch::pin()))
        .join()
        .unwrap();
    ARMED.store(true, SeqCst);

    let completed = std::thread::spawn(|| {
        let (promise, future) = promise::<u32, ()>();
        let (_waiting, counter, _waker) = await_counted(&future);
        // This thread's first pin: the completer's, to walk the waiter.
        promise.set_result(5);
        (future.get_result().ok().copied(), counter.wakes())
    })
    .join();
    ARMED.store(false, SeqCst);

    assert_eq!(
        completed.expect("the completion ran no foreign code"),
        (Some(5), 1)
    );
}

#[test]
fn run_survives_a_panic_payload_whose_drop_panics() {
    let (promise, future) = promise::<u32, ()>();
    let running = catch_unwind(AssertUnwindSafe(move || {
        promise.run(|| std::panic::panic_any(PanicsWhenDropped))
    }));

    assert!(running.is_ok(), "run does not propagate the panic");
    match future.get_result() {
        Err(Failure::Panicked(panic)) => assert_eq!(panic.message(), None),
        other => panic!("expected Panicked, got {other:?}"),
    }
}

/// Polls `wait` with a waker whose `clone` panics (the panic comes out of
/// the poll), then with a counting waker: that one must be woken when
/// `complete` runs, though atomic-waker's slot of the first registration
/// stays locked.
fn repoll_after_a_panicking_clone<F: std::future::Future + Unpin>(
    mut wait: F,
    complete: impl FnOnce(),
) -> F::Output {
    assert!(poll_with(&mut wait, Waker::noop()).is_pending());
    let repoll = catch_unwind(AssertUnwindSafe(|| {
        poll_with(&mut wait, &clone_panics_waker()).is_pending()
    }));
    assert!(repoll.is_err(), "the clone's panic comes out of the poll");
    let (counter, waker) = CountingWaker::new();
    assert!(poll_with(&mut wait, &waker).is_pending());
    complete();
    assert_eq!(counter.wakes(), 1, "the waker after the panic is woken");
    match poll_with(&mut wait, &waker) {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("ready after its wake-up"),
    }
}

#[test]
fn a_repoll_after_a_panicking_waker_clone_is_still_woken() {
    let (p, f) = promise::<u32, ()>();
    let outcome = repoll_after_a_panicking_clone((&f).into_future(), || p.set_result(1));
    assert_eq!(outcome, Ok(&1));

    let (p, f) = promise::<u32, ()>();
    let owned = repoll_after_a_panicking_clone(f.into_future(), || p.set_result(1));
    assert_eq!(owned, Ok(1));

    let [(p, f), (_q, g)] = [promise::<u32, ()>(), promise()];
    let any = repoll_after_a_panicking_clone(wait_any_async([&f, &g]), || p.set_result(2));
    assert_eq!(any, Some(0));

    let [(p, f), (q, g)] = [promise::<u32, ()>(), promise()];
    q.set_result(3);
    repoll_after_a_panicking_clone(wait_all_async([&f, &g]), || p.set_result(4));

    let [(p, f), (_q, g)] = [promise::<u32, ()>(), promise()];
    let group = wait_async([&f, &g], ReturnWhen::FirstException);
    let split = repoll_after_a_panicking_clone(group, || p.set_exception(()));
    assert_eq!(split, (vec![0], vec![1]));
}

#[test]
fn a_stream_repolled_after_a_panicking_waker_clone_is_still_woken() {
    let [(p, f), (_q, g)] = [promise::<u32, ()>(), promise()];
    let mut order = as_completed_async([&f, &g]);
    let first = repoll_after_a_panicking_clone(order.next(), || p.set_result(5));
    assert_eq!(first, Some(0));

    let (p, f) = promise::<u32, ()>();
    let mut queue = CompletionQueue::new();
    queue.push(f);
    let taken = repoll_after_a_panicking_clone(queue.next(), || p.set_result(6));
    assert_eq!(taken.map(|f| *f.value().expect("a value")), Some(6));
}

/// Checks that a stream consumer's waker that panics, woken by the push of
/// its node inside a completion's walk, is caught like a task's: the walk
/// goes on (a task registered before it is woken) and the panic resumes
/// from `set_result`. `sleep` polls the stream with the waker it is given,
/// pending, and returns it, kept until the completion is over.
fn a_panicking_consumer_waker_still_lets_the_walk_wake_the_rest(
    sleep: impl FnOnce(&Future<u32, ()>, &Waker) -> Box<dyn std::any::Any>,
) {
    let (promise, future) = promise::<u32, ()>();
    // Registered first, so it sits behind the consumer's node.
    let (mut single, single_counter, single_waker) = await_counted(&future);
    let stream = sleep(&future, &Waker::from(Arc::new(PanicsOnWake)));
    let completing = catch_unwind(AssertUnwindSafe(move || promise.set_result(7)));
    let payload = completing.expect_err("the consumer waker's panic resumes from set_result");
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"wake panics"));
    assert_eq!(single_counter.wakes(), 1);
    assert_eq!(poll_with(&mut single, &single_waker), Poll::Ready(Ok(&7)));
    drop(stream);
}

#[test]
fn a_completion_queue_stream_s_panicking_waker_does_not_end_the_walk() {
    a_panicking_consumer_waker_still_lets_the_walk_wake_the_rest(|future, waker| {
        let mut queue = CompletionQueue::new();
        queue.push(future.clone());
        let mut cx = std::task::Context::from_waker(waker);
        assert!(queue.poll_next_unpin(&mut cx).is_pending());
        Box::new(queue)
    });
}

#[test]
fn an_as_completed_stream_s_panicking_waker_does_not_end_the_walk() {
    a_panicking_consumer_waker_still_lets_the_walk_wake_the_rest(|future, waker| {
        let future = future.clone();
        let mut order = Box::pin(async move {
            let mut order = as_completed_async([&future]);
            order.next().await
        });
        let mut cx = std::task::Context::from_waker(waker);
        assert!(order.as_mut().poll(&mut cx).is_pending());
        Box::new(order)
    });
}
