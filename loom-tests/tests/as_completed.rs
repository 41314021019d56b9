//! Loom models of the ready stack under `as_completed`: completers pushing
//! while the consumer takes or goes to sleep, the consumer leaving (and its
//! waiter freed) while a completion pushes, a completion racing the
//! registration (pushed by the registrar or the completer), and the
//! stream's waker slot replaced after a panicking `Waker::clone` while a
//! completion wakes it.
#![cfg(forthcoming_loom)]

use forthcoming::{AsCompletedAsync, Timeout, as_completed, as_completed_async, promise};
use forthcoming_loom_tests::{
    CountingWaker, explore, explore_outcomes, explore_three_threads, quiet_clone_panics,
};
use forthcoming_test_support::clone_panics_waker;
use futures_core::Stream;
use loom::future::block_on;
use loom::thread;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

/// Far enough that only loom's timed park ends the wait, never the clock.
const LONG: Duration = Duration::from_secs(3600);

#[test]
fn push_races_sleep() {
    explore(500, || {
        let (p0, f0) = promise::<u32, ()>();
        let (_p1, f1) = promise::<u32, ()>();
        let mut order = as_completed([&f0, &f1]);
        let completer = thread::spawn(move || p0.set_result(0));
        // Untimed: a push that does not wake a sleeping consumer is a loom
        // deadlock.
        assert_eq!(order.next(), Some(0));
        assert_eq!(f0.get_result(), Ok(&0));
        completer.join().unwrap();
    });
}

#[test]
fn two_pushes_race_take() {
    explore_three_threads(66_000, || {
        let (p0, f0) = promise::<u32, ()>();
        let (p1, f1) = promise::<u32, ()>();
        let order = as_completed([&f0, &f1]);
        let a = thread::spawn(move || p0.set_result(0));
        let b = thread::spawn(move || p1.set_result(1));
        let mut positions: Vec<usize> = order.collect();
        positions.sort_unstable();
        assert_eq!(positions, [0, 1]);
        a.join().unwrap();
        b.join().unwrap();
    });
}

#[test]
fn consumer_leaves_while_a_completion_pushes() {
    explore_outcomes(2600, &["taken", "timed out"], |outcomes| {
        let (p0, f0) = promise::<u32, ()>();
        let (_p1, f1) = promise::<u32, ()>();
        let completer = thread::spawn(move || p0.set_result(0));
        {
            let mut order = as_completed([&f0, &f1]);
            match order.next_timeout(LONG) {
                Ok(Some(0)) => outcomes.reached("taken"),
                Err(Timeout) => outcomes.reached("timed out"),
                other => panic!("unexpected {other:?}"),
            }
            // Dropped here: unlinks f1's node and retires the waiter while
            // the completer may still be pushing f0's position.
        }
        completer.join().unwrap();
        assert_eq!(f0.get_result(), Ok(&0));
    });
}

/// A completion racing the registration, with a future done at the call
/// before it in the input: wherever the completion lands (before the scan,
/// between the scan and the node's push, so the registrar pushes it, or
/// after, so the completer does), the position pushed is the future's own.
#[test]
fn a_completion_racing_registration_pushes_its_own_position() {
    explore(790, || {
        let (p0, f0) = promise::<u32, ()>();
        p0.set_result(0);
        let (p1, f1) = promise::<u32, ()>();
        let (_p2, f2) = promise::<u32, ()>();
        let completer = thread::spawn(move || p1.set_result(1));
        let mut order = as_completed([&f0, &f1, &f2]);
        assert_eq!(order.next(), Some(0));
        // Untimed: position 1 must come, whoever pushed it.
        assert_eq!(order.next(), Some(1));
        assert_eq!(order.next_timeout(Duration::ZERO), Err(Timeout));
        completer.join().unwrap();
    });
}

/// Polls `order` once with `waker`.
fn poll_next(order: &mut AsCompletedAsync<'_>, waker: &Waker) -> Poll<Option<usize>> {
    Pin::new(order).poll_next(&mut Context::from_waker(waker))
}

/// The stream's next item, as a future for `block_on`.
struct Next<'s, 'a>(&'s mut AsCompletedAsync<'a>);

impl std::future::Future for Next<'_, '_> {
    type Output = Option<usize>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<usize>> {
        poll_next(self.0, cx.waker())
    }
}

#[test]
fn a_panicking_waker_clone_replaces_the_slot_a_completion_wakes() {
    quiet_clone_panics();
    explore(1900, || {
        let (p0, f0) = promise::<u32, ()>();
        let (p1, f1) = promise::<u32, ()>();
        let mut order = as_completed_async([&f0, &f1]);
        let completer = thread::spawn(move || p0.set_result(0));
        assert_eq!(block_on(Next(&mut order)), Some(0));
        // The completer may still be waking the slot `block_on`'s waker is
        // in while this poll's panic replaces (and retires) that slot.
        let panicking = catch_unwind(AssertUnwindSafe(|| {
            poll_next(&mut order, &clone_panics_waker())
        }));
        assert!(
            panicking.is_err(),
            "f1 is pending: the poll stores the waker"
        );
        let (latest, latest_waker) = CountingWaker::new();
        assert!(poll_next(&mut order, &latest_waker).is_pending());
        p1.set_result(1);
        assert_eq!(latest.wakes(), 1, "the waker after the panic was not woken");
        assert_eq!(poll_next(&mut order, &latest_waker), Poll::Ready(Some(1)));
        completer.join().unwrap();
    });
}
