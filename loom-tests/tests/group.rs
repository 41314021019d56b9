//! Loom models of waits over several futures: one winner among racing
//! completers, time-out vs completion, `FirstException`, the `AllCompleted`
//! countdown, detach vs complete, and two multi-waiters sharing a future.
#![cfg(forthcoming_loom)]

use forthcoming::{ReturnWhen, promise, wait, wait_all, wait_any};
use forthcoming_loom_tests::{
    explore, explore_at, explore_outcomes, explore_three_threads, two_completers_one_winner,
};
use loom::thread;
use std::time::Duration;

/// Far enough that only loom's timed park ends the wait, never the clock.
const LONG: Duration = Duration::from_secs(3600);

#[test]
fn wait_any_two_completers_one_winner() {
    // Bound 1 with eager collection too (about two minutes on one core): at
    // bound 0 it explores only 40 interleavings.
    explore_at(1, 40_000, || {
        two_completers_one_winner(|futures| wait_any(futures));
    });
}

#[test]
fn first_completed_returns_the_completion_in_done() {
    explore(270, || {
        let (p0, f0) = promise::<u32, ()>();
        let (_p1, f1) = promise::<u32, ()>();
        let producer = thread::spawn(move || p0.set_result(5));
        // Untimed: it returns only once the completion is in, and reports
        // it (with no time-out to blur the two, unlike the model below).
        let (done, not_done) = wait([&f0, &f1], None, ReturnWhen::FirstCompleted);
        assert_eq!((done, not_done), (vec![0], vec![1]));
        producer.join().unwrap();
    });
}

#[test]
fn wait_any_timeout_races_completion() {
    explore_outcomes(1100, &["f0 done", "timed out"], |outcomes| {
        let (p0, f0) = promise::<u32, ()>();
        let (_p1, f1) = promise::<u32, ()>();
        let producer = thread::spawn(move || p0.set_result(5));
        let (done, not_done) = wait([&f0, &f1], Some(LONG), ReturnWhen::FirstCompleted);
        // Whatever the time-out did, the answer is consistent with the states.
        assert_eq!(
            not_done.first(),
            if done.is_empty() { Some(&0) } else { Some(&1) }
        );
        if done == [0] {
            assert_eq!(f0.get_result(), Ok(&5));
            outcomes.reached("f0 done");
        } else {
            outcomes.reached("timed out");
        }
        producer.join().unwrap();
    });
}

#[test]
fn first_exception_success_and_failure_race() {
    explore_three_threads(5500, || {
        let (p0, f0) = promise::<u32, &str>();
        let (p1, f1) = promise::<u32, &str>();
        let a = thread::spawn(move || p0.set_result(0));
        let b = thread::spawn(move || p1.set_exception("boom"));
        let (done, _) = wait([&f0, &f1], None, ReturnWhen::FirstException);
        // It returns only once the failure (index 1) is in.
        assert!(done.contains(&1), "returned before the failure: {done:?}");
        assert!(f1.exception().is_some());
        a.join().unwrap();
        b.join().unwrap();
    });
}

#[test]
fn all_completed_countdown_with_concurrent_completions() {
    explore_three_threads(5500, || {
        let (p0, f0) = promise::<u32, ()>();
        let (p1, f1) = promise::<u32, ()>();
        let a = thread::spawn(move || p0.set_result(0));
        let b = thread::spawn(move || p1.set_result(1));
        wait_all([&f0, &f1]);
        assert_eq!((f0.get_result(), f1.get_result()), (Ok(&0), Ok(&1)));
        a.join().unwrap();
        b.join().unwrap();
    });
}

#[test]
fn all_completed_countdown_races_registration() {
    explore(1000, || {
        let (p0, f0) = promise::<u32, ()>();
        let (p1, f1) = promise::<u32, ()>();
        let producer = thread::spawn(move || {
            p1.set_result(1);
            p0.set_result(0);
        });
        let (done, not_done) = wait([&f0, &f1, &f0], None, ReturnWhen::AllCompleted);
        assert_eq!((done, not_done), (vec![0, 1, 2], vec![]));
        producer.join().unwrap();
    });
}

#[test]
fn group_detach_races_complete() {
    explore_outcomes(1100, &["f0 done", "f0 pending"], |outcomes| {
        let (p0, f0) = promise::<u32, ()>();
        let (_p1, f1) = promise::<u32, ()>();
        let producer = thread::spawn(move || p0.set_result(3));
        // Times out (f1 never completes) and detaches both nodes while f0's
        // completer may be walking its list.
        let (done, not_done) = wait([&f0, &f1], Some(LONG), ReturnWhen::AllCompleted);
        assert!(not_done.contains(&1));
        if done.contains(&0) {
            assert_eq!(f0.get_result(), Ok(&3));
            outcomes.reached("f0 done");
        } else {
            outcomes.reached("f0 pending");
        }
        producer.join().unwrap();
    });
}

#[test]
fn two_multi_waiters_share_a_future() {
    explore_three_threads(70_000, || {
        let (pa, fa) = promise::<u32, ()>();
        let (pb, fb) = promise::<u32, ()>();
        let (_pc, fc) = promise::<u32, ()>();
        let (fb2, fc2) = (fb.clone(), fc.clone());
        // One waiter on [a, b] times out and detaches; the other, on [b, c],
        // must be woken by b's completion.
        let timed = thread::spawn(move || {
            let _ = wait([&fa, &fb], Some(LONG), ReturnWhen::FirstCompleted);
            drop(pa);
        });
        let producer = thread::spawn(move || pb.set_result(2));
        assert_eq!(wait_any([&fb2, &fc2]), Some(0));
        timed.join().unwrap();
        producer.join().unwrap();
    });
}
