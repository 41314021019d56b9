//! Loom models of the producer's side: the last future's drop (marking the
//! word `ABANDONED` and walking the producer's nodes) against a producer
//! parked in `wait_abandoned`, timing out, or awaiting `abandoned()`, and
//! against clones dropped on two threads; then the completion that frees.
#![cfg(forthcoming_loom)]

use forthcoming::promise;
use forthcoming_loom_tests::{explore, explore_outcomes, explore_three_threads};
use loom::future::block_on;
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
