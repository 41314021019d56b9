//! Async waits: `(&future).await` and the async group waits on tokio's
//! multi-thread runtime and `futures::executor::block_on`, wake-up counting
//! with a counting waker (at most once, and to the latest waker), cancellation
//! by `tokio::time::timeout` and `select!`, `Send` of an `async` block that
//! awaits them, and what a poll after `Ready` does.

mod common;

use common::{await_registered, has_waiters, no_hang, owned, start_waiter};
use forthcoming::{
    Failure, Future, ReturnWhen, Waitable, promise, wait_all_async, wait_any_async, wait_async,
};
use forthcoming_test_support::{CountingWaker, poll_with};
use futures::executor::block_on;
use std::future::IntoFuture;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

fn assert_send<T: Send>(_: &T) {}

/// Completes `p` with `value` from a new thread once somebody waits on `f`.
fn complete_when_registered(
    p: forthcoming::Promise<u64, String>,
    f: &Future<u64, String>,
    value: u64,
) -> std::thread::JoinHandle<()> {
    let f = f.clone();
    std::thread::spawn(move || {
        await_registered(&f);
        p.set_result(value);
    })
}

/// The returned types' auto traits are asserted in `lib.rs`; this is what a
/// user writes: an `async` block that awaits them, mixing future types, is
/// `Send` (so `tokio::spawn` takes it), as `Waitable`'s docs say.
#[test]
fn an_async_block_awaiting_futures_is_send() {
    let (_p, f) = promise::<u64, String>();
    let (_q, g) = promise::<String, std::io::Error>();
    assert_send(&async move {
        let mixed: [&(dyn Waitable + Sync); 2] = [&f, &g];
        let any = wait_any_async(mixed).await;
        let all = wait_all_async([&f]).await;
        let group = wait_async(mixed, ReturnWhen::FirstException).await;
        ((&f).await.is_ok(), any, all, group)
    });
}

#[test]
fn block_on_await_already_completed_and_completed_later() {
    no_hang("block_on await", || {
        let (p, f) = promise::<u64, String>();
        p.set_result(5);
        assert_eq!(block_on(async { owned((&f).await) }), Ok(5));

        let (p, f) = promise::<u64, String>();
        let setter = complete_when_registered(p, &f, 6);
        assert_eq!(block_on(async { owned((&f).await) }), Ok(6));
        setter.join().unwrap();

        let (p, f) = promise::<u64, String>();
        let f2 = f.clone();
        let breaker = std::thread::spawn(move || {
            await_registered(&f2);
            drop(p);
        });
        assert_eq!(
            block_on(async { owned((&f).await) }),
            Err(Failure::BrokenPromise)
        );
        breaker.join().unwrap();
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokio_await_already_completed_and_completed_later() {
    let (p, f) = promise::<u64, String>();
    p.set_exception("early".into());
    assert_eq!(owned((&f).await), Err(Failure::Exception("early".into())));

    // Eight tasks, each registered before the next starts, all pending
    // when the value arrives.
    let (p, f) = promise::<u64, String>();
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let reader = f.clone();
            start_waiter(&f, || tokio::spawn(async move { owned((&reader).await) }))
        })
        .collect();
    p.set_result(7);
    for task in tasks {
        assert_eq!(task.await.unwrap(), Ok(7));
    }
}

#[test]
fn block_on_group_waits() {
    no_hang("block_on group waits", || {
        let (pa, a) = promise::<u64, String>();
        let (pb, b) = promise::<u64, String>();
        let setter = complete_when_registered(pb, &b, 2);
        assert_eq!(block_on(wait_any_async([&a, &b])), Some(1));
        setter.join().unwrap();
        assert_eq!(block_on(wait_any_async([&a, &b, &b])), Some(1));

        let setter = complete_when_registered(pa, &a, 1);
        block_on(wait_all_async([&a, &b, &a]));
        assert!(a.done());
        setter.join().unwrap();

        let (pc, c) = promise::<u64, String>();
        let (_pd, d) = promise::<u64, String>();
        let c2 = c.clone();
        let failer = std::thread::spawn(move || {
            await_registered(&c2);
            pc.set_exception("c".into());
        });
        assert_eq!(
            block_on(wait_async([&a, &c, &d], ReturnWhen::FirstException)),
            (vec![0, 1], vec![2])
        );
        failer.join().unwrap();
        assert_eq!(
            block_on(wait_async([&d, &a], ReturnWhen::FirstCompleted)),
            (vec![1], vec![0])
        );
        assert_eq!(
            block_on(wait_async([&a, &b, &c], ReturnWhen::AllCompleted)),
            (vec![0, 1, 2], vec![])
        );
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokio_group_waits() {
    let (pa, a) = promise::<u64, String>();
    let (pb, b) = promise::<u64, String>();
    let (a2, b2) = (a.clone(), b.clone());
    let any = tokio::spawn(async move { wait_any_async([&a2, &b2]).await });
    let (a3, b3) = (a.clone(), b.clone());
    let all = tokio::spawn(async move {
        wait_all_async([&a3, &b3]).await;
        a3.done() && b3.done()
    });
    let (a4, b4) = (a.clone(), b.clone());
    let first_exc =
        tokio::spawn(async move { wait_async([&a4, &b4], ReturnWhen::FirstException).await });
    let setter = complete_when_registered(pa, &a, 1);
    assert_eq!(any.await.unwrap(), Some(0));
    setter.join().unwrap();
    pb.set_exception("b".into());
    assert!(all.await.unwrap());
    assert_eq!(first_exc.await.unwrap(), (vec![0, 1], vec![]));
}

#[test]
fn completion_wakes_a_pending_task_once() {
    let (p, f) = promise::<u64, String>();
    let (counter, waker) = CountingWaker::new();
    let mut completion = (&f).into_future();
    assert!(poll_with(&mut completion, &waker).is_pending());
    assert_eq!(counter.wakes(), 0);
    p.set_result(3);
    assert_eq!(counter.wakes(), 1);
    assert_eq!(
        poll_with(&mut completion, &waker).map(owned),
        Poll::Ready(Ok(3))
    );
    drop(completion);
    assert_eq!(counter.wakes(), 1);
}

#[test]
fn group_futures_wake_once_and_only_the_latest_waker() {
    // wait_any_async, with a duplicate: two nodes, one wake-up.
    let (pa, a) = promise::<u64, String>();
    let (_pb, b) = promise::<u64, String>();
    let (old, old_waker) = CountingWaker::new();
    let (new, new_waker) = CountingWaker::new();
    let mut any = wait_any_async([&b, &a, &a]);
    assert!(poll_with(&mut any, &old_waker).is_pending());
    assert!(poll_with(&mut any, &new_waker).is_pending());
    pa.set_result(1);
    assert_eq!((old.wakes(), new.wakes()), (0, 1));
    assert!(matches!(
        poll_with(&mut any, &new_waker),
        Poll::Ready(Some(1 | 2))
    ));

    // wait_all_async: the first of three completions does not end it.
    let pairs: Vec<_> = (0..3).map(|_| promise::<u64, String>()).collect();
    let futures: Vec<_> = pairs.iter().map(|(_, f)| f.clone()).collect();
    let (counter, waker) = CountingWaker::new();
    let (new, new_waker) = CountingWaker::new();
    let mut all = wait_all_async(&futures);
    assert!(poll_with(&mut all, &waker).is_pending());
    let mut pairs = pairs.into_iter();
    pairs.next().unwrap().0.set_result(0);
    assert_eq!(
        counter.wakes(),
        0,
        "a countdown with two left does not wake"
    );
    assert!(
        poll_with(&mut all, &new_waker).is_pending(),
        "two still pending"
    );
    for (p, _) in pairs {
        p.set_result(9);
    }
    assert_eq!(new.wakes(), 1, "the latest waker is woken once");
    assert_eq!(poll_with(&mut all, &new_waker), Poll::Ready(()));

    // wait_async under FirstException: a failure wakes once.
    let (pc, c) = promise::<u64, String>();
    let (pd, d) = promise::<u64, String>();
    let (counter, waker) = CountingWaker::new();
    let mut group = wait_async([&c, &d], ReturnWhen::FirstException);
    assert!(poll_with(&mut group, &waker).is_pending());
    pd.set_exception("d".into());
    pc.set_result(1);
    assert_eq!(counter.wakes(), 1);
    assert_eq!(
        poll_with(&mut group, &waker),
        Poll::Ready((vec![0, 1], vec![]))
    );
}

#[test]
fn a_dropped_pending_wait_lets_go_of_its_waker_and_is_never_woken() {
    let (p, f) = promise::<u64, String>();
    let (counter, waker) = CountingWaker::new();
    let mut completion = (&f).into_future();
    assert!(poll_with(&mut completion, &waker).is_pending());
    let mut any = wait_any_async([&f, &f]);
    assert!(poll_with(&mut any, &waker).is_pending());
    let mut group = wait_async([&f], ReturnWhen::AllCompleted);
    assert!(poll_with(&mut group, &waker).is_pending());
    // The test's two handles, plus one clone in each registered wait.
    assert_eq!(Arc::strong_count(&counter), 5);
    drop((completion, any, group));
    // Unlinked, and the waker let go at once: not left in epoch garbage,
    // where it would keep the task alive until some thread collects.
    assert_eq!(Arc::strong_count(&counter), 2);
    assert!(!has_waiters(&f));
    p.set_result(1);
    assert_eq!(counter.wakes(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeout_cancellation_leaves_other_waiters_working() {
    let (p, f) = promise::<u64, String>();
    let f2 = f.clone();
    let survivor = tokio::spawn(async move { owned((&f2).await) });
    for _ in 0..20 {
        let elapsed = tokio::time::timeout(Duration::from_millis(1), (&f).into_future()).await;
        assert!(elapsed.is_err(), "the future is still pending");
        let elapsed =
            tokio::time::timeout(Duration::from_millis(1), wait_any_async([&f, &f])).await;
        assert!(elapsed.is_err());
        let elapsed = tokio::time::timeout(
            Duration::from_millis(1),
            wait_async([&f], ReturnWhen::AllCompleted),
        )
        .await;
        assert!(elapsed.is_err());
    }
    let f3 = f.clone();
    let blocked = std::thread::spawn(move || owned(f3.get_result()));
    let setter = complete_when_registered(p, &f, 8);
    assert_eq!(survivor.await.unwrap(), Ok(8));
    assert_eq!(blocked.join().unwrap(), Ok(8));
    assert_eq!(owned((&f).await), Ok(8));
    setter.join().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn select_loser_is_dropped_and_other_waiters_still_wake() {
    let (p, f) = promise::<u64, String>();
    let (q, g) = promise::<u64, String>();
    let f2 = f.clone();
    let survivor = tokio::spawn(async move { owned((&f2).await) });
    q.set_result(1);
    for _ in 0..20 {
        tokio::select! {
            biased;
            _ = (&f).into_future() => panic!("f is pending"),
            _ = wait_all_async([&f, &g]) => panic!("f is pending"),
            r = (&g).into_future() => assert_eq!(owned(r), Ok(1)),
        }
    }
    let setter = complete_when_registered(p, &f, 2);
    assert_eq!(survivor.await.unwrap(), Ok(2));
    setter.join().unwrap();
}

#[test]
fn group_futures_polled_after_ready_behave_as_documented() {
    let (p0, f0) = promise::<u64, String>();
    let (p1, f1) = promise::<u64, String>();
    let (_counter, waker) = CountingWaker::new();

    let mut any = wait_any_async([&f0, &f1]);
    let mut all = wait_all_async([&f0, &f1]);
    let mut group = wait_async([&f0, &f1], ReturnWhen::FirstCompleted);
    assert!(poll_with(&mut any, &waker).is_pending());
    assert!(poll_with(&mut all, &waker).is_pending());
    assert!(poll_with(&mut group, &waker).is_pending());

    p1.set_result(1);
    assert_eq!(poll_with(&mut any, &waker), Poll::Ready(Some(1)));
    assert_eq!(
        poll_with(&mut group, &waker),
        Poll::Ready((vec![1], vec![0]))
    );
    p0.set_result(0);
    assert_eq!(poll_with(&mut all, &waker), Poll::Ready(()));

    // WaitAny: a new wait, ready at once with a done position (the first
    // pushed, 0, since both are done now).
    assert_eq!(poll_with(&mut any, &waker), Poll::Ready(Some(0)));
    // WaitAll: ready at once again.
    assert_eq!(poll_with(&mut all, &waker), Poll::Ready(()));
    // Wait: its result was moved out; polling again panics, as documented.
    let again = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        poll_with(&mut group, &waker)
    }));
    let message = again.expect_err("must panic");
    assert_eq!(
        message.downcast_ref::<&str>(),
        Some(&"`Wait` polled after it returned `Ready`")
    );
}
