//! The producer's side: `Promise::is_abandoned`, `wait_abandoned` and
//! `abandoned()`: when the signal fires (every clone gone, callbacks count as
//! holders, group waits keep their futures), that a parked or pending
//! producer is woken by the last drop, and that a completion after
//! abandonment drops the outcome exactly once.

mod common;

use common::{await_registered, no_hang, scaled};
use forthcoming::promise;
use forthcoming_test_support::{CountingWaker, Drops, poll_with};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::pin;
use std::sync::Arc;
use std::task::{Poll, Wake, Waker};
use std::thread;
use std::time::Duration;

#[test]
fn abandoned_only_once_every_clone_is_gone() {
    let (p, f) = promise::<u32, ()>();
    let clones: Vec<_> = (0..3).map(|_| f.clone()).collect();
    drop(f);
    for clone in clones {
        assert!(!p.is_abandoned());
        drop(clone);
    }
    assert!(p.is_abandoned());
    assert!(p.wait_abandoned(Some(Duration::ZERO)));
}

#[test]
fn a_pending_callback_keeps_the_promise_wanted() {
    let (p, f) = promise::<u32, ()>();
    f.add_done_callback(|_| {});
    drop(f);
    assert!(!p.is_abandoned(), "the callback still reads the outcome");
    assert!(!p.wait_abandoned(Some(Duration::ZERO)));
    p.set_result(1);
}

#[test]
fn futures_1490_a_waiting_consumer_is_no_abandonment() {
    // A group wait borrows its futures: the producer must not see the
    // promise abandoned while somebody waits, nor be woken by the wait.
    let (p, f) = promise::<u32, ()>();
    let (_other, g) = promise::<u32, ()>();
    thread::scope(|s| {
        let waiter = s.spawn(|| forthcoming::wait_any([&f, &g]));
        await_registered(&f);
        assert!(!p.wait_abandoned(Some(Duration::from_millis(1))));
        assert!(!p.is_abandoned());
        p.set_result(3);
        assert_eq!(waiter.join().unwrap(), Some(0));
    });
}

#[test]
fn zero_and_max_time_outs() {
    let (p, f) = promise::<u32, ()>();
    assert!(!p.wait_abandoned(Some(Duration::ZERO)));
    assert!(!p.wait_abandoned(Some(Duration::from_micros(1))));
    drop(f);
    assert!(p.wait_abandoned(Some(Duration::ZERO)));
    assert!(p.wait_abandoned(Some(Duration::MAX)));
    assert!(p.wait_abandoned(None));
}

#[test]
fn the_last_drop_wakes_a_parked_producer() {
    no_hang("parked producer", || {
        let (p, f) = promise::<u32, ()>();
        thread::scope(|s| {
            let producer = s.spawn(|| p.wait_abandoned(None));
            // The producer's node is linked into the future's own list.
            await_registered(&f);
            drop(f);
            assert!(producer.join().unwrap());
        });
    });
}

#[test]
fn the_last_drop_wakes_every_producer_thread() {
    no_hang("three producers", || {
        let (p, f) = promise::<u32, ()>();
        let clone = f.clone();
        thread::scope(|s| {
            let producers: Vec<_> = (0..3)
                .map(|_| s.spawn(|| p.wait_abandoned(Some(Duration::MAX))))
                .collect();
            drop(f);
            drop(clone);
            for producer in producers {
                assert!(producer.join().unwrap());
            }
        });
    });
}

#[test]
fn abandoned_resolves_in_tokio() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    runtime.block_on(async {
        let (p, f) = promise::<u32, ()>();
        let producer = tokio::spawn(async move {
            p.abandoned().await;
            p.is_abandoned()
        });
        tokio::task::yield_now().await;
        drop(f);
        assert!(producer.await.unwrap());
    });
}

#[test]
fn abandoned_resolves_in_block_on() {
    no_hang("block_on", || {
        let (p, f) = promise::<u32, ()>();
        let dropper = thread::spawn(move || drop(f));
        futures::executor::block_on(p.abandoned());
        assert!(p.is_abandoned());
        dropper.join().unwrap();
    });
}

#[test]
fn a_pending_abandoned_wakes_its_latest_waker_once() {
    let (p, f) = promise::<u32, ()>();
    let mut abandoned = pin!(p.abandoned());
    let (old, old_waker) = CountingWaker::new();
    let (new, new_waker) = CountingWaker::new();
    assert_eq!(poll_with(&mut abandoned, &old_waker), Poll::Pending);
    assert_eq!(poll_with(&mut abandoned, &new_waker), Poll::Pending);
    drop(f);
    assert_eq!((old.wakes(), new.wakes()), (0, 1));
    assert_eq!(poll_with(&mut abandoned, &new_waker), Poll::Ready(()));
    assert_eq!(poll_with(&mut abandoned, &new_waker), Poll::Ready(()));
}

#[test]
fn a_dropped_abandoned_leaves_nothing_linked() {
    let (p, f) = promise::<u32, ()>();
    let (_counter, waker) = CountingWaker::new();
    {
        let mut abandoned = pin!(p.abandoned());
        assert_eq!(poll_with(&mut abandoned, &waker), Poll::Pending);
        assert!(format!("{f:?}").contains("head"));
    }
    assert!(!format!("{f:?}").contains("head"), "{f:?}");
    drop(f);
    assert!(p.is_abandoned());
}

#[test]
fn completing_after_abandonment_drops_the_value_once() {
    let drops = Drops::new();
    let (p, f) = promise::<_, ()>();
    thread::scope(|s| {
        let producer = s.spawn(|| p.wait_abandoned(None));
        await_registered(&f);
        drop(f);
        assert!(producer.join().unwrap());
    });
    let value = drops.make();
    p.set_result(value);
    drops.assert_all_dropped_once();
}

#[test]
fn a_timed_out_producer_then_the_last_drop() {
    let (p, f) = promise::<u32, ()>();
    for _ in 0..scaled(100) {
        assert!(!p.wait_abandoned(Some(Duration::from_micros(1))));
    }
    assert!(
        !format!("{f:?}").contains("head"),
        "timed-out waits unlinked"
    );
    drop(f);
    assert!(p.is_abandoned());
}

/// A waker whose `wake` panics.
struct PanickingWaker;

impl Wake for PanickingWaker {
    fn wake(self: Arc<Self>) {
        panic!("wake panicked");
    }
}

#[test]
fn a_panicking_producer_waker_panics_out_of_the_last_drop_after_marking() {
    let (p, f) = promise::<u32, ()>();
    let waker = Waker::from(Arc::new(PanickingWaker));
    let mut abandoned = pin!(p.abandoned());
    assert_eq!(poll_with(&mut abandoned, &waker), Poll::Pending);
    let dropped = catch_unwind(AssertUnwindSafe(move || drop(f)));
    assert!(dropped.is_err(), "the waker's panic resumes from the drop");
    assert!(p.is_abandoned());
    assert_eq!(poll_with(&mut abandoned, &waker), Poll::Ready(()));
    // Its node was unlinked under the tag, which stays.
    assert!(p.is_abandoned());
}

#[test]
fn clones_dropped_on_many_threads_wake_the_producer() {
    no_hang("stress", || {
        for _ in 0..scaled(2_000) {
            let (p, f) = promise::<u32, ()>();
            let clones: Vec<_> = (0..3).map(|_| f.clone()).collect();
            thread::scope(|s| {
                let producer = s.spawn(|| p.wait_abandoned(None));
                for clone in clones {
                    s.spawn(move || drop(clone));
                }
                drop(f);
                assert!(producer.join().unwrap());
            });
            p.set_result(1);
        }
    });
}
