//! Loom models of the producer's side: the last future's drop (marking the
//! word `ABANDONED` and walking the producer's nodes) against a producer
//! parked in `wait_abandoned`, timing out, or awaiting `abandoned()`, and
//! against clones dropped on two threads or made while another handle is
//! dropped; then the completion that frees.
#![cfg(forthcoming_loom)]

use forthcoming::promise;
use forthcoming_loom_tests::{explore, explore_at, explore_outcomes, explore_three_threads};
use forthcoming_test_support::{Drops, Tracked};
use loom::future::block_on;
use loom::sync::Arc;
use loom::thread;
use std::time::Duration;

/// Far enough that only loom's timed park ends the wait, never the clock.
const LONG: Duration = Duration::from_secs(3600);

#[test]
fn last_drop_races_parked_producer() {
    explore(470, || {
        let (p, f) = promise::<u32, ()>();
        let consumer = thread::spawn(move || drop(f));
        // Untimed: a lost wake-up is a loom deadlock.
        assert!(p.wait_abandoned(None));
        consumer.join().unwrap();
        p.set_result(1);
    });
}

#[test]
fn last_drop_races_timed_out_producer() {
    explore_outcomes(2100, &["abandoned", "timed out"], |outcomes| {
        let (p, f) = promise::<u32, ()>();
        let consumer = thread::spawn(move || drop(f));
        // The producer may time out and unlink (and retire) its node while
        // the last drop walks it.
        if p.wait_abandoned(Some(LONG)) {
            outcomes.reached("abandoned");
        } else {
            outcomes.reached("timed out");
        }
        consumer.join().unwrap();
        assert!(p.is_abandoned());
        p.set_result(1);
    });
}

#[test]
fn last_drop_races_abandoned_await() {
    explore(1100, || {
        let (p, f) = promise::<u32, ()>();
        let consumer = thread::spawn(move || drop(f));
        block_on(p.abandoned());
        assert!(p.is_abandoned());
        consumer.join().unwrap();
        p.set_result(1);
    });
}

#[test]
fn clone_drops_race_parked_producer() {
    explore_three_threads(80, || {
        let (p, f) = promise::<u32, ()>();
        let clone = f.clone();
        let a = thread::spawn(move || drop(f));
        let b = thread::spawn(move || drop(clone));
        assert!(p.wait_abandoned(None));
        a.join().unwrap();
        b.join().unwrap();
        p.set_result(1);
    });
}

#[test]
fn clone_races_a_drop_under_a_parked_producer() {
    // Three threads, but cheap enough for bound 2 with eager collection too
    // (seconds): at bound 0 no thread is preempted between the clone and
    // its drops.
    explore_at(2, 9_000, || {
        let drops = Drops::new();
        let (p, f0) = promise::<Tracked, ()>();
        let p = Arc::new(p);
        let f1 = f0.clone();
        let shared = Arc::clone(&p);
        // Cloning while `f0` may be going: the count must take the clone
        // before `f1` leaves, whatever `f0` has done by then.
        let consumer = thread::spawn(move || {
            let f2 = f1.clone();
            drop(f1);
            assert!(!shared.is_abandoned(), "abandoned while a clone lives");
            drop(shared);
            drop(f2);
        });
        let dropper = thread::spawn(move || drop(f0));
        // Untimed: a lost wake-up is a loom deadlock.
        assert!(p.wait_abandoned(None));
        // Every future is gone, so the consumer let go of its share of the
        // promise before: the producer completes before joining anyone.
        let p = Arc::try_unwrap(p).expect("the consumer's share of the promise is gone");
        p.set_result(drops.make());
        // Abandoned, so the completion freed the block and its value; a
        // handle still alive would then read the freed block's atomics,
        // which loom panics on.
        drops.assert_drops(0, 1);
        consumer.join().unwrap();
        dropper.join().unwrap();
    });
}

#[test]
fn clone_races_a_drop_under_a_timed_out_producer() {
    // Three threads at bound 2 in both runs, as the untimed model above:
    // about half a minute with eager collection.
    explore_outcomes(45_000, &["abandoned", "timed out"], |outcomes| {
        let (p, f0) = promise::<u32, ()>();
        let f1 = f0.clone();
        let consumer = thread::spawn(move || {
            let f2 = f1.clone();
            drop(f1);
            drop(f2);
        });
        let dropper = thread::spawn(move || drop(f0));
        // The producer may time out and unlink its node while `f2` or `f0`,
        // whichever goes last, walks it.
        if p.wait_abandoned(Some(LONG)) {
            outcomes.reached("abandoned");
        } else {
            outcomes.reached("timed out");
        }
        consumer.join().unwrap();
        dropper.join().unwrap();
        assert!(p.is_abandoned());
        p.set_result(1);
    });
}

#[test]
fn completion_after_a_woken_producer_races_nothing_left() {
    // The producer is woken, completes at once (freeing the block) while
    // the last drop may still be walking the producer's node.
    explore(2400, || {
        let (p, f) = promise::<u32, ()>();
        let consumer = thread::spawn(move || drop(f));
        if p.wait_abandoned(Some(LONG)) {
            p.set_result(1);
        } else {
            drop(p);
        }
        consumer.join().unwrap();
    });
}
