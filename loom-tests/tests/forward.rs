//! Loom models of `Promise::forward`: a link racing the source's promise,
//! the last future's drop, and a producer parked for abandonment; a
//! forwarding node racing the completion; a chain of forwards completing
//! across two threads; `into_result` racing a forward of a clone.
#![cfg(forthcoming_loom)]

use forthcoming::promise;
use forthcoming_loom_tests::explore;
use loom::sync::Arc;
use loom::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use loom::thread;

/// A value that counts its drops.
struct Counted(Arc<AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

#[test]
fn link_races_the_source_promise_completing() {
    explore(450, || {
        let (p, f) = promise::<u32, ()>();
        let (q, g) = promise::<u32, ()>();
        let completer = thread::spawn(move || q.set_result(7));
        // `g` is the only handle: the forward links unless `q` won.
        p.forward(g);
        // An untimed wait: loom reports a deadlock if the completion is lost.
        assert_eq!(f.get_result(), Ok(&7));
        completer.join().unwrap();
    });
}

#[test]
fn link_races_the_last_future_drop() {
    explore(1500, || {
        let drops = Arc::new(AtomicUsize::new(0));
        let (p, f) = promise::<Counted, ()>();
        let (q, g) = promise::<Counted, ()>();
        let dropper = thread::spawn(move || drop(f));
        p.forward(g);
        q.set_result(Counted(drops.clone()));
        dropper.join().unwrap();
        // Nobody could read it: the completer or the last drop freed it.
        assert_eq!(drops.load(SeqCst), 1);
    });
}

#[test]
fn forwarding_node_races_the_source_completing() {
    explore(1000, || {
        let (p, f) = promise::<u32, ()>();
        let (q, g) = promise::<u32, ()>();
        let completer = thread::spawn(move || q.set_result(3));
        // `g` stays shared: the forward waits on it with a node.
        p.forward(g.clone());
        assert_eq!(f.get_result(), Ok(&3));
        assert!(std::ptr::eq(
            f.get_result().unwrap(),
            g.get_result().unwrap()
        ));
        completer.join().unwrap();
    });
}

#[test]
fn forward_chain_completes_across_two_threads() {
    explore(6500, || {
        let (p1, f1) = promise::<u32, ()>();
        let (p2, f2) = promise::<u32, ()>();
        let (p3, f3) = promise::<u32, ()>();
        let completer = thread::spawn(move || p3.set_result(5));
        p2.forward(f3.clone());
        p1.forward(f2.clone());
        // The completion runs both forwarding nodes, one queued behind the
        // other on the completing thread (or on this one, if it was first).
        assert_eq!(f1.get_result(), Ok(&5));
        completer.join().unwrap();
        drop((f2, f3));
    });
}

#[test]
fn link_races_a_parked_wait_for_abandonment() {
    explore(1700, || {
        let (p, f) = promise::<u32, ()>();
        let (q, g) = promise::<u32, ()>();
        let linker = thread::spawn(move || {
            q.forward(f); // links `p`'s block to `q`'s, unless `p` waits first
            drop(g);
        });
        // An untimed wait: loom reports a deadlock if it waits where the
        // abandonment no longer shows.
        assert!(p.wait_abandoned(None));
        linker.join().unwrap();
    });
}

#[test]
fn into_result_races_a_forward_of_a_clone() {
    explore(130, || {
        let (p, f) = promise::<u32, ()>();
        let (q, g) = promise::<u32, ()>();
        p.forward(g.clone());
        q.set_result(1);
        drop(g);
        let (r, h) = promise::<u32, ()>();
        let clone = f.clone();
        let forwarder = thread::spawn(move || r.forward(clone));
        // Never a panic: the value, or the future back.
        if let Ok(outcome) = f.into_result() {
            assert_eq!(outcome, Ok(1));
        }
        forwarder.join().unwrap();
        assert_eq!(h.get_result(), Ok(&1));
    });
}
