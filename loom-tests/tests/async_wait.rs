//! Loom models of the async waits: await vs complete, re-poll with a new
//! waker vs complete, drop of a pending wait (on one future, and on two)
//! vs complete, and async `wait_any` with two completers.
#![cfg(forthcoming_loom)]

use forthcoming::{ReturnWhen, promise, wait_any_async, wait_async};
use forthcoming_loom_tests::{
    CountingWaker, explore, explore_outcomes, explore_three_threads, two_completers_one_winner,
};
use forthcoming_test_support::poll_with;
use loom::future::block_on;
use loom::thread;
use std::future::IntoFuture;
use std::pin::pin;
use std::sync::Arc;
use std::task::Poll;

#[test]
fn await_races_complete() {
    explore(750, || {
        let (promise, future) = promise::<u32, ()>();
        let producer = thread::spawn(move || promise.set_result(8));
        assert_eq!(block_on((&future).into_future()), Ok(&8));
        producer.join().unwrap();
    });
}

#[test]
fn repoll_with_new_waker_races_complete() {
    let arms = &[
        "ready at once",
        "ready at the re-poll",
        "pending after the re-poll",
    ];
    explore_outcomes(450, arms, |outcomes| {
        let (promise, future) = promise::<u32, ()>();
        let producer = thread::spawn(move || promise.set_result(9));
        let (_old, old_waker) = CountingWaker::new();
        let (new, new_waker) = CountingWaker::new();
        let mut completion = pin!((&future).into_future());
        let first = poll_with(&mut completion, &old_waker);
        if first.is_pending() {
            let second = poll_with(&mut completion, &new_waker);
            producer.join().unwrap();
            if second.is_pending() {
                // The completion came after the re-poll: it must have woken
                // the waker of the latest poll (oneshot #17).
                assert_eq!(new.wakes(), 1, "the latest waker was not woken");
                assert_eq!(poll_with(&mut completion, &new_waker), Poll::Ready(Ok(&9)));
                outcomes.reached("pending after the re-poll");
            } else {
                outcomes.reached("ready at the re-poll");
            }
        } else {
            producer.join().unwrap();
            outcomes.reached("ready at once");
        }
    });
}

#[test]
fn drop_pending_wait_races_complete() {
    explore(1750, || {
        let (promise, future) = promise::<u32, ()>();
        let other = future.clone();
        let producer = thread::spawn(move || promise.set_result(4));
        let (counter, waker) = CountingWaker::new();
        {
            let mut completion = pin!((&future).into_future());
            let _ = poll_with(&mut completion, &waker);
            // Dropped here, possibly while the completer walks the list.
        }
        assert_eq!(block_on((&other).into_future()), Ok(&4));
        producer.join().unwrap();
        // Woken at most once, and no clone of the waker is left in the crate
        // (not even in epoch garbage) once the drop and the completer are
        // done: only `counter` and `waker` remain.
        assert!(counter.wakes() <= 1);
        assert_eq!(Arc::strong_count(&counter), 2);
    });
}

#[test]
fn group_async_drop_races_complete() {
    let arms = &[
        "completed before the drop",
        "completed during the drop",
        "completed after the drop",
    ];
    explore_outcomes(1900, arms, |outcomes| {
        let (p0, f0) = promise::<u32, ()>();
        let (_p1, f1) = promise::<u32, ()>();
        let (counter, waker) = CountingWaker::new();
        let mut pending = Box::pin(wait_any_async([&f0, &f1]));
        let first = poll_with(&mut pending, &waker);
        assert!(first.is_pending(), "nothing completed yet");
        let producer = thread::spawn(move || p0.set_result(6));
        // Unlinks its nodes from both lists while f0's completer may be
        // walking f0's list: loom reports a node read after its free.
        // `before` and `after` bracket the drop, to tell the orders apart.
        let before = f0.done();
        drop(pending);
        let after = f0.done();
        // A fresh wait must see the completion (and be woken by it).
        let fresh = block_on(wait_async([&f0, &f1], ReturnWhen::FirstCompleted));
        assert_eq!(fresh, (vec![0], vec![1]));
        producer.join().unwrap();
        assert!(counter.wakes() <= 1, "woken {} times", counter.wakes());
        // No clone of the waker is left in the crate (not even in epoch
        // garbage): only `counter` and `waker` remain.
        assert_eq!(Arc::strong_count(&counter), 2);
        if before {
            outcomes.reached("completed before the drop");
        } else if after {
            outcomes.reached("completed during the drop");
        } else {
            // The drop took the waker back before the completion: nothing
            // was left to wake.
            assert_eq!(counter.wakes(), 0);
            outcomes.reached("completed after the drop");
        }
    });
}

#[test]
fn async_wait_any_two_completers() {
    explore_three_threads(15_000, || {
        two_completers_one_winner(|futures| block_on(wait_any_async(futures)))
    });
}
