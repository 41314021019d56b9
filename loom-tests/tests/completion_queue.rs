//! Loom models of `CompletionQueue`'s growing ready stack: a push landing
//! while completions are being drained, a full slab of nodes retired by
//! the take of its last node while completions push, and the queue
//! dropped (unlinking, retiring its slabs and its stack) while
//! completions push onto it. Under loom a slab holds two nodes.
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
fn a_full_slab_retires_while_completions_push() {
    explore(1440, || {
        let (p0, f0) = promise::<u32, ()>();
        let (p1, f1) = promise::<u32, ()>();
        let (_p2, f2) = promise::<u32, ()>();
        let mut queue = CompletionQueue::new();
        queue.push(f0);
        queue.push(f1);
        // The first slab is full: this future's node comes from a second.
        queue.push(f2);
        let completer = thread::spawn(move || {
            p1.set_result(1);
            p0.set_result(0);
        });
        // Taking both nodes of the first slab retires it, while the
        // completer may still be pinned in a push onto the stack.
        let first = queue.wait_next().unwrap();
        let second = queue.wait_next().unwrap();
        assert_eq!((first.get_result(), second.get_result()), (Ok(&1), Ok(&0)));
        assert_eq!(
            queue.wait_next_timeout(Duration::ZERO).unwrap_err(),
            Timeout
        );
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
            // Dropped here: detaches what is pending, retires the slabs
            // and the stack while the completer may still push onto it.
        }
        completer.join().unwrap();
        assert_eq!((g0.get_result(), g1.get_result()), (Ok(&0), Ok(&1)));
    });
}
