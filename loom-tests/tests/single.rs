//! Loom models of one future: register vs complete, time-out vs complete,
//! detach vs complete and vs detach, broken promise, several waiters, and
//! the last handle's drop.
#![cfg(forthcoming_loom)]

use forthcoming::{Failure, promise};
use forthcoming_loom_tests::{explore, explore_at, explore_outcomes};
use loom::thread;
use std::time::Duration;

/// Far enough that only loom's timed park (which always times out after one
/// yield) ends the wait, never the clock.
const LONG: Duration = Duration::from_secs(3600);

#[test]
fn complete_races_register() {
    explore(240, || {
        let (promise, future) = promise::<u32, ()>();
        let producer = thread::spawn(move || promise.set_result(7));
        // An untimed wait: loom reports a deadlock if the wake-up is lost.
        assert_eq!(future.get_result(), Ok(&7));
        producer.join().unwrap();
    });
}

#[test]
fn complete_races_timeout() {
    explore_outcomes(1000, &["in time", "timed out"], |outcomes| {
        let (promise, future) = promise::<u32, ()>();
        let producer = thread::spawn(move || promise.set_result(7));
        if future.wait_timeout(LONG) {
            assert_eq!(future.get_result(), Ok(&7));
            outcomes.reached("in time");
        } else {
            outcomes.reached("timed out");
        }
        producer.join().unwrap();
        assert_eq!(future.result(Some(Duration::ZERO)), Ok(&7));
    });
}

#[test]
fn detach_races_push_then_complete() {
    explore(390, || {
        let (promise, future) = promise::<u32, ()>();
        let untimed = future.clone();
        // One waiter registers and parks while this thread's timed wait
        // detaches its own node; the completion must still wake the first.
        let waiter = thread::spawn(move || *untimed.get_result().unwrap());
        assert!(!future.wait_timeout(LONG));
        promise.set_result(1);
        assert_eq!(waiter.join().unwrap(), 1);
    });
}

#[test]
fn detach_races_complete() {
    explore_outcomes(90, &["saw it done", "timed out"], |outcomes| {
        let (promise, future) = promise::<u32, ()>();
        let timed = future.clone();
        // The timed waiter detaches while the completer walks the list; if
        // it saw the future done, the value must be readable.
        let waiter = thread::spawn(move || {
            timed
                .wait_timeout(LONG)
                .then(|| *timed.get_result().unwrap())
        });
        promise.set_result(1);
        match waiter.join().unwrap() {
            Some(value) => {
                assert_eq!(value, 1);
                outcomes.reached("saw it done");
            }
            None => outcomes.reached("timed out"),
        }
        assert!(future.done());
    });
}

#[test]
fn detach_races_detach() {
    explore(5000, || {
        let (promise, future) = promise::<u32, ()>();
        let other = future.clone();
        let waiter = thread::spawn(move || other.wait_timeout(LONG));
        let here = future.wait_timeout(LONG);
        let there = waiter.join().unwrap();
        assert!(!here && !there, "nobody completed the future");
        // Both nodes are gone from the list: completing walks nothing freed.
        promise.set_result(2);
        assert_eq!(future.get_result(), Ok(&2));
    });
}

#[test]
fn broken_promise_races_waiter() {
    explore(240, || {
        let (promise, future) = promise::<u32, ()>();
        let dropper = thread::spawn(move || drop(promise));
        assert_eq!(future.get_result(), Err(&Failure::BrokenPromise));
        dropper.join().unwrap();
    });
}

#[test]
fn several_waiters_on_one_future() {
    // Three threads, but cheap enough for bound 1 with eager collection too.
    explore_at(1, 4500, || {
        let (promise, future) = promise::<u32, ()>();
        let first = future.clone();
        let second = future.clone();
        let a = thread::spawn(move || *first.get_result().unwrap());
        let b = thread::spawn(move || *second.get_result().unwrap());
        promise.set_result(3);
        assert_eq!(a.join().unwrap(), 3);
        assert_eq!(b.join().unwrap(), 3);
    });
}

#[test]
fn last_handle_drop_races_complete() {
    explore(5, || {
        let (promise, future) = promise::<loom::sync::Arc<u32>, ()>();
        let value = loom::sync::Arc::new(5);
        let probe = loom::sync::Arc::clone(&value);
        let producer = thread::spawn(move || promise.set_result(value));
        drop(future);
        producer.join().unwrap();
        // The outcome was dropped exactly once, by whichever handle was last.
        assert_eq!(loom::sync::Arc::strong_count(&probe), 1);
    });
}

#[test]
fn last_drop_races_a_read_and_drop_elsewhere() {
    explore(3, || {
        let (promise, future) = promise::<u32, ()>();
        promise.set_result(3);
        let clone = future.clone();
        let reader = thread::spawn(move || {
            assert_eq!(clone.get_result(), Ok(&3));
            drop(clone);
        });
        assert_eq!(future.get_result(), Ok(&3));
        // Whichever handle goes last frees the outcome, which must happen
        // after the other thread's read: loom reports the free as a race
        // with that read if the last drop does not acquire the other's
        // release of its handle.
        drop(future);
        reader.join().unwrap();
    });
}

#[test]
fn into_result_races_clone_drop() {
    explore(2, || {
        let (promise, future) = promise::<u32, ()>();
        let clone = future.clone();
        promise.set_result(4);
        let dropper = thread::spawn(move || drop(clone));
        // Retry until the clone is gone: each attempt either takes the value
        // or hands the future back intact, never both, never neither.
        let mut future = future;
        let taken = loop {
            match future.into_result() {
                Ok(outcome) => break outcome,
                Err(back) => {
                    future = back;
                    thread::yield_now();
                }
            }
        };
        assert_eq!(taken, Ok(4));
        dropper.join().unwrap();
    });
}

#[test]
fn into_result_right_after_wake() {
    explore(24, || {
        let (promise, future) = promise::<u32, ()>();
        // The completing RMW is the promise's release: once the waiter sees
        // the future done, it holds the last handle and may move the value.
        let waiter = thread::spawn(move || {
            future.wait();
            future.into_result().ok()
        });
        promise.set_result(6);
        assert_eq!(waiter.join().unwrap(), Some(Ok(6)));
    });
}

#[test]
fn clone_drops_race_complete() {
    // Three threads, but no waiter: eager collection retires nothing, so it
    // searches as deep as the two-thread models.
    explore(34, || {
        let (promise, future) = promise::<loom::sync::Arc<u32>, ()>();
        let value = loom::sync::Arc::new(5);
        let probe = loom::sync::Arc::clone(&value);
        let clone = future.clone();
        let dropper = thread::spawn(move || drop(clone));
        let producer = thread::spawn(move || promise.set_result(value));
        drop(future);
        dropper.join().unwrap();
        producer.join().unwrap();
        // Freed exactly once, by the last future or by the promise.
        assert_eq!(loom::sync::Arc::strong_count(&probe), 1);
    });
}

#[test]
fn leaked_registration_then_last_drop_races_complete() {
    explore(8, || {
        let (promise, future) = promise::<u32, ()>();
        let (_counter, waker) = forthcoming_loom_tests::CountingWaker::new();
        let mut completion = Box::pin(std::future::IntoFuture::into_future(&future));
        let _ = forthcoming_test_support::poll_with(&mut completion, &waker);
        // Leaking a registered wait leaves its node linked (and its waiter
        // allocated); the last future's drop and the completion must cope.
        std::mem::forget(completion);
        let producer = thread::spawn(move || promise.set_result(1));
        drop(future);
        producer.join().unwrap();
    });
}

/// Proves crossbeam-epoch itself runs on loom's atomics in these models:
/// its default collector is a loom `lazy_static`, which panics outside a
/// model with loom's message. If epoch were built without
/// `--cfg crossbeam_loom`, this would not panic and loom would not see the
/// reclamation protocol. (Without the flag nothing here compiles: the helper
/// crate asserts it; this test also catches an epoch that ignores it.)
#[test]
#[should_panic(expected = "cannot access Loom execution state from outside a Loom model")]
fn epoch_runs_on_loom_atomics() {
    drop(crossbeam_epoch::pin());
}
