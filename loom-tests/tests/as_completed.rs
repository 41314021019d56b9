//! Loom models of the ready stack under `as_completed`: completers pushing
//! while the consumer takes or goes to sleep, and the consumer leaving (and
//! its waiter freed) while a completion pushes.
#![cfg(forthcoming_loom)]

use forthcoming::{Timeout, as_completed, promise};
use forthcoming_loom_tests::{explore, explore_outcomes, explore_three_threads};
use loom::thread;
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
