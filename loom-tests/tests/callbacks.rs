//! Loom models of done callbacks: registration vs completion, and a
//! callback that completes another promise a second thread waits on.
#![cfg(forthcoming_loom)]

use forthcoming::promise;
use forthcoming_loom_tests::{explore, explore_outcomes, explore_three_threads};
use loom::sync::Arc;
use loom::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use loom::thread;

#[test]
fn callback_registration_races_completion() {
    explore_outcomes(
        12,
        &["ran on the adder", "ran on the completer"],
        |outcomes| {
            let (promise, future) = promise::<u32, ()>();
            let runs = Arc::new(AtomicUsize::new(0));
            let completer = thread::spawn(move || {
                promise.set_result(7);
                thread::current().id()
            });
            let (counted, adder) = (runs.clone(), thread::current().id());
            let ran_on = Arc::new(std::sync::Mutex::new(None));
            let record = ran_on.clone();
            future.add_done_callback(move |done| {
                // The outcome is published before any callback runs.
                assert_eq!(done.get_result(), Ok(&7));
                counted.fetch_add(1, SeqCst);
                *record.lock().unwrap() = Some(thread::current().id());
            });
            let completer = completer.join().unwrap();
            assert_eq!(runs.load(SeqCst), 1, "the callback ran exactly once");
            let ran_on = ran_on.lock().unwrap().expect("ran");
            if ran_on == adder {
                outcomes.reached("ran on the adder");
            } else {
                assert_eq!(ran_on, completer);
                outcomes.reached("ran on the completer");
            }
        },
    );
}

#[test]
fn callback_completes_a_promise_another_thread_waits_on() {
    explore_three_threads(20, || {
        let (first, first_future) = promise::<u32, ()>();
        let (second, second_future) = promise::<u32, ()>();
        first_future
            .add_done_callback(move |done| second.set_result(done.get_result().unwrap() + 1));
        let waiter = thread::spawn(move || *second_future.get_result().unwrap());
        let completer = thread::spawn(move || first.set_result(1));
        completer.join().unwrap();
        // An untimed wait: loom reports a deadlock if the wake-up is lost.
        assert_eq!(waiter.join().unwrap(), 2);
    });
}

#[test]
fn callback_on_a_future_whose_promise_is_dropped() {
    explore(6, || {
        let (promise, future) = promise::<u32, ()>();
        let runs = Arc::new(AtomicUsize::new(0));
        let counted = runs.clone();
        future.add_done_callback(move |done| {
            assert!(done.get_exception().is_some());
            counted.fetch_add(1, SeqCst);
        });
        let dropper = thread::spawn(move || drop(promise));
        drop(future);
        dropper.join().unwrap();
        assert_eq!(runs.load(SeqCst), 1);
    });
}
