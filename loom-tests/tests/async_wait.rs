//! Loom models of the async waits: await vs complete, re-poll with a new
//! waker vs complete, drop of a pending wait vs complete, and async
//! `wait_any` with two completers.
#![cfg(forthcoming_loom)]

use forthcoming::{promise, wait_any_async};
use forthcoming_loom_tests::{
    CountingWaker, explore, explore_three_threads, two_completers_one_winner,
};
use loom::future::block_on;
use loom::thread;
use std::future::{Future as _, IntoFuture};
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll};

#[test]
fn await_races_complete() {
    explore(|| {
        let (promise, future) = promise::<u32, ()>();
        let producer = thread::spawn(move || promise.set_result(8));
        assert_eq!(block_on((&future).into_future()), Ok(&8));
        producer.join().unwrap();
    });
}

#[test]
fn repoll_with_new_waker_races_complete() {
    explore(|| {
        let (promise, future) = promise::<u32, ()>();
        let producer = thread::spawn(move || promise.set_result(9));
        let (_old, old_waker) = CountingWaker::new();
        let (new, new_waker) = CountingWaker::new();
        let mut completion = pin!((&future).into_future());
        let first = completion
            .as_mut()
            .poll(&mut Context::from_waker(&old_waker));
        if first.is_pending() {
            let second = completion
                .as_mut()
                .poll(&mut Context::from_waker(&new_waker));
            producer.join().unwrap();
            if second.is_pending() {
                // The completion came after the re-poll: it must have woken
                // the waker of the latest poll (oneshot #17).
                assert_eq!(new.wakes(), 1, "the latest waker was not woken");
                assert_eq!(
                    completion
                        .as_mut()
                        .poll(&mut Context::from_waker(&new_waker)),
                    Poll::Ready(Ok(&9))
                );
            }
        } else {
            producer.join().unwrap();
        }
    });
}

#[test]
fn drop_pending_wait_races_complete() {
    explore(|| {
        let (promise, future) = promise::<u32, ()>();
        let other = future.clone();
        let producer = thread::spawn(move || promise.set_result(4));
        let (counter, waker) = CountingWaker::new();
        {
            let mut completion = pin!((&future).into_future());
            let _ = completion.as_mut().poll(&mut Context::from_waker(&waker));
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
fn async_wait_any_two_completers() {
    explore_three_threads(|| {
        two_completers_one_winner(|futures| block_on(wait_any_async(futures)))
    });
}
