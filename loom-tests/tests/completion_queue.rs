//! Loom models of `CompletionQueue`'s growing ready stack: a push landing
//! while completions are being drained, and the queue dropped (unlinking,
//! retiring its waiters and its stack) while completions push onto it.
#![cfg(forthcoming_loom)]

use forthcoming::{CompletionQueue, Timeout, promise};
use forthcoming_loom_tests::{explore, explore_outcomes};
use loom::thread;
use std::time::Duration;

/// Far enough that only loom's timed park ends the wait, never the clock.
const LONG: Duration = Duration::from_secs(3600);

#[test]
fn push_while_draining() {
    explore(1500, || {
        let (p0, f0) = promise::<u32, ()>();
        let (p1, f1) = promise::<u32, ()>();
        let mut queue = CompletionQueue::new();
        queue.push(f0);
        let completer = thread::spawn(move || {
            p0.set_result(0);
            p1.set_result(1);
        });
        // Untimed: a completion that does not wake a sleeping consumer is a
        // loom deadlock.
        assert_eq!(queue.wait_next().unwrap().get_result(), Ok(&0));
        // Races `p1`'s completion: linked before it, or found done.
        queue.push(f1);
        assert_eq!(queue.wait_next().unwrap().get_result(), Ok(&1));
        assert!(queue.wait_next().is_none());
        completer.join().unwrap();
    });
}

#[test]
fn drop_races_completions() {
    explore_outcomes(4700, &["taken", "timed out"], |outcomes| {
        let (p0, f0) = promise::<u32, ()>();
        let (p1, f1) = promise::<u32, ()>();
        let (g0, g1) = (f0.clone(), f1.clone());
        let completer = thread::spawn(move || {
            p0.set_result(0);
            p1.set_result(1);
        });
        {
            let mut queue = CompletionQueue::new();
            queue.push(f0);
            queue.push(f1);
            match queue.wait_next_timeout(LONG) {
                Ok(Some(done)) => {
                    assert!(done.done());
                    outcomes.reached("taken");
                }
                Err(Timeout) => outcomes.reached("timed out"),
                Ok(None) => panic!("two futures pushed"),
            }
            // Dropped here: detaches what is pending, retires the waiters
            // and the stack while the completer may still push onto it.
        }
        completer.join().unwrap();
        assert_eq!((g0.get_result(), g1.get_result()), (Ok(&0), Ok(&1)));
    });
}
