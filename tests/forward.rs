//! `Promise::forward` (tail calls): the outcome, the failure kinds and the
//! backtrace pass through; a sole, unwaited source is linked, a shared one
//! waited on; chains of a million run in constant stack (python-ndb #73,
//! scylladb/python-driver #712); cycles complete with `BrokenPromise`
//! (undefined in Twitter util); forwarded futures are ordinary futures.
//! Memory of a loop of tail calls (Scala SI-7336) is in memory.rs.

mod common;

use forthcoming::{Failure, Future, Promise, ReturnWhen, promise, wait, wait_any};
use forthcoming_test_support::Drops;
use std::sync::mpsc;
use std::thread;

/// The head of a chain of forwards, the promise that completes it, and the
/// futures kept along the way.
type Chain = (
    Future<u64, String>,
    Promise<u64, String>,
    Vec<Future<u64, String>>,
);

#[test]
fn forwarding_to_a_done_future_completes_at_once_with_its_outcome() {
    let panicked = {
        let (p, f) = promise::<u64, String>();
        p.run(|| panic!("boom"));
        f
    };
    let sources: [Future<u64, String>; 4] = [
        Future::ready(7),
        Future::failed("no".to_string()),
        {
            let (p, f) = promise();
            drop(p);
            f
        },
        panicked,
    ];
    for source in sources {
        let expected = common::owned(source.get_result());
        for shared in [false, true] {
            let (p, f) = promise::<u64, String>();
            let id = f.id();
            let kept = shared.then(|| source.clone());
            p.forward(source.clone());
            assert!(f.done());
            assert_eq!(common::owned(f.get_result()), expected);
            assert_eq!(f.id(), id, "a forwarded future keeps its own id");
            if let (Some(kept), Some(trace)) = (&kept, f.get_traceback()) {
                assert!(
                    std::ptr::eq(trace, kept.get_traceback().unwrap()),
                    "the source's backtrace, not a copy"
                );
            }
        }
    }
}

#[test]
fn a_sole_unwaited_source_is_linked_and_its_promise_completes_the_target() {
    for complete_with_value in [true, false] {
        let (p, f) = promise::<u64, String>();
        let (q, g) = promise::<u64, String>();
        p.forward(g);
        assert!(!f.done());
        let waiter = common::start_waiter(&f, || {
            let f = f.clone();
            thread::spawn(move || common::owned(f.get_result()))
        });
        if complete_with_value {
            q.set_result(3);
        } else {
            drop(q);
        }
        let expected = if complete_with_value {
            Ok(3)
        } else {
            Err(Failure::BrokenPromise)
        };
        assert_eq!(waiter.join().unwrap(), expected);
        assert_eq!(common::owned(f.get_result()), expected);
    }
}

#[test]
fn a_shared_source_is_waited_on_and_both_read_one_outcome() {
    let (p, f) = promise::<String, ()>();
    let (q, g) = promise::<String, ()>();
    p.forward(g.clone());
    assert!(!f.done());
    q.set_result("tail".to_string());
    assert_eq!(f.get_result(), Ok(&"tail".to_string()));
    assert!(
        std::ptr::eq(f.get_result().unwrap(), g.get_result().unwrap()),
        "the forwarded future borrows the source's value"
    );
}

#[test]
fn a_forwarded_future_moves_its_value_out_when_it_and_its_source_are_last() {
    let drops = Drops::new();
    let (p, f) = promise::<forthcoming_test_support::Tracked, ()>();
    let (q, g) = promise();
    p.forward(g.clone());
    q.set_result(drops.make());
    let f = f.into_result().expect_err("the source is still shared");
    drop(g);
    let value = f.into_result().ok().unwrap().unwrap();
    drops.assert_drops(value.id, 0);
    drop(value);
    drops.assert_all_dropped_once();
}

#[test]
fn forwarded_futures_work_in_group_waits_awaits_and_callbacks() {
    let (p, f) = promise::<u64, String>();
    let (q, g) = promise::<u64, String>();
    let (_r, pending) = promise::<u64, String>();
    p.forward(g);
    let (sent, received) = mpsc::channel();
    f.add_done_callback(move |done| sent.send(done.get_exception().cloned()).unwrap());
    let completer = thread::spawn(move || q.set_exception("late".to_string()));
    assert_eq!(wait_any([&pending, &f]), Some(1));
    completer.join().unwrap();
    let (done, not_done) = wait([&pending, &f], None, ReturnWhen::FirstException);
    assert_eq!((done, not_done), (vec![1], vec![0]));
    assert_eq!(
        futures::executor::block_on(async { common::owned((&f).await) }),
        Err(Failure::Exception("late".to_string()))
    );
    assert_eq!(
        received.try_recv(),
        Ok(Some(Failure::Exception("late".to_string())))
    );
}

/// A chain where each promise forwards to the next one's future, so the
/// first future completes when the last promise does. `shared` keeps a
/// handle on every future, so each forward waits instead of linking.
fn forward_chain(n: usize, shared: bool) -> Chain {
    let (mut p, head) = promise::<u64, String>();
    let mut kept = Vec::new();
    for _ in 0..n {
        let (next, f) = promise::<u64, String>();
        if shared {
            kept.push(f.clone());
        }
        p.forward(f);
        p = next;
    }
    (head, p, kept)
}

#[test]
fn chains_of_a_million_forwards_complete_on_a_256_kib_stack() {
    let n = common::CHAIN;
    for shared in [false, true] {
        let (head, last, kept) = forward_chain(n, shared);
        let completer = thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(move || last.set_result(42))
            .unwrap();
        completer.join().expect("completed without overflowing");
        assert_eq!(head.get_result(), Ok(&42), "shared: {shared}");
        assert!(kept.iter().all(|f| f.get_result() == Ok(&42)));
        // Dropping the futures of a long chain recurses nowhere either.
        let dropper = thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(move || drop((head, kept)))
            .unwrap();
        dropper.join().expect("dropped without overflowing");
    }
}

#[test]
fn forwarding_to_its_own_future_breaks_the_promise() {
    let (p, f) = promise::<u64, String>();
    let (sent, received) = mpsc::channel();
    f.add_done_callback(move |done| sent.send(done.get_exception().cloned()).unwrap());
    p.forward(f.clone());
    assert_eq!(f.get_result(), Err(&Failure::BrokenPromise));
    assert_eq!(received.try_recv(), Ok(Some(Failure::BrokenPromise)));
}

#[test]
fn a_forward_that_closes_a_cycle_breaks_every_promise_in_it_callbacks_included() {
    for n in [2, 1_000] {
        let (promises, futures) = common::pairs::<u64, String>(n);
        let (sent, received) = mpsc::channel();
        for future in &futures {
            let sent = sent.clone();
            future.add_done_callback(move |done| sent.send(done.get_exception().cloned()).unwrap());
        }
        // Promise i forwards to future i + 1; the last one closes the ring.
        for (i, p) in promises.into_iter().enumerate() {
            p.forward(futures[(i + 1) % n].clone());
        }
        for (i, future) in futures.iter().enumerate() {
            assert_eq!(
                future.get_result(),
                Err(&Failure::BrokenPromise),
                "n = {n}, future {i}"
            );
        }
        let broken: Vec<_> = received.try_iter().collect();
        assert_eq!(
            broken,
            vec![Some(Failure::BrokenPromise); n],
            "n = {n}: every callback ran once"
        );
    }
}

#[test]
fn a_cycle_of_linked_forwards_closed_through_the_first_future_breaks() {
    // Each forward takes the next future's only handle, so each links; the
    // last promise's block then leads to the first one, whose future closes
    // the ring.
    let (first, observed) = promise::<u64, String>();
    let mut p = first;
    for _ in 0..1_000 {
        let (next, f) = promise::<u64, String>();
        p.forward(f);
        p = next;
    }
    p.forward(observed.clone());
    assert_eq!(observed.get_result(), Err(&Failure::BrokenPromise));
}

#[test]
fn a_forwarded_failure_moves_out_once_the_source_is_not_shared() {
    let (p, f) = promise::<u64, String>();
    let (q, g) = promise::<u64, String>();
    p.forward(g.clone());
    q.set_exception("lost".to_string());
    let f = f.into_result().expect_err("the source is still shared");
    drop(g);
    assert_eq!(
        f.into_result().ok(),
        Some(Err(Failure::Exception("lost".to_string())))
    );
}

#[test]
fn abandonment_waits_started_before_a_link_follow_it() {
    use forthcoming_test_support::{CountingWaker, poll_with};
    let (p, f) = promise::<u64, String>();
    let (q, g) = promise::<u64, String>();
    let mut abandoned = p.abandoned();
    // `f` is the only handle and unwaited: `p`'s block becomes a link to
    // `q`'s, so `p` is abandoned once `g` is gone.
    q.forward(f);
    let (wakes, waker) = CountingWaker::new();
    assert!(poll_with(&mut abandoned, &waker).is_pending());
    assert!(!p.wait_abandoned(Some(std::time::Duration::ZERO)));
    drop(g);
    assert_eq!(wakes.wakes(), 1);
    assert!(poll_with(&mut abandoned, &waker).is_ready());
    assert!(p.wait_abandoned(None));
    drop(abandoned);
    p.set_result(5);
}

#[test]
fn inner_first_chains_link_too() {
    // Each promise forwards to the previous one's future, whose promise has
    // forwarded already: the blocks link one to the next.
    let (innermost, mut future) = promise::<u64, String>();
    for _ in 0..common::CHAIN {
        let (p, f) = promise::<u64, String>();
        p.forward(future);
        future = f;
    }
    assert!(
        !format!("{future:?}").contains("head"),
        "no forwarding node waits on it"
    );
    innermost.set_result(9);
    assert_eq!(future.get_result(), Ok(&9));
}

#[test]
fn forwarding_an_abandoned_promise_lets_go_of_the_source_at_once() {
    for shared in [false, true] {
        let (target, unread) = promise::<u64, String>();
        drop(unread);
        let (source_promise, source) = promise::<u64, String>();
        let kept = shared.then(|| source.clone());
        target.forward(source);
        assert_eq!(source_promise.is_abandoned(), !shared, "shared: {shared}");
        drop(kept);
        assert!(source_promise.is_abandoned(), "shared: {shared}");
    }
}
