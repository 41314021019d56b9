//! Blocking group waits: `wait_any`, `wait_all` and `wait` under every
//! `ReturnWhen`, with duplicated and mixed-type inputs, first-exception and
//! first-completed semantics, and time-outs. Empty and already-done inputs,
//! and which position `wait_any` names, are tested in regressions.rs under
//! the peer bugs they guard against; `Duration::ZERO` and `MAX` in
//! bad_input.rs.

mod common;

use common::{HOUR, RETURN_WHENS, XorShift, await_registered, no_hang, pairs, scaled};
use forthcoming::{Future, ReturnWhen, Waitable, promise, wait, wait_all, wait_any};
use forthcoming_test_support::assert_partition;
use std::time::Duration;

const SHORT: Duration = Duration::from_millis(2);

#[test]
fn wait_reports_every_done_future_not_only_the_one_that_ended_it() {
    let (p0, f0) = promise::<u8, ()>();
    let (_p1, f1) = promise::<u8, ()>();
    let (p2, f2) = promise::<u8, ()>();
    p0.set_result(0);
    p2.set_result(2);
    assert_eq!(
        wait([&f0, &f1, &f2], None, ReturnWhen::FirstCompleted),
        (vec![0, 2], vec![1])
    );
}

#[test]
fn duplicates_appear_once_per_position() {
    let (pa, a) = promise::<u8, ()>();
    let (pb, b) = promise::<u8, ()>();
    let input = [&a, &b, &a, &b, &a];
    for when in RETURN_WHENS {
        let (done, not_done) = wait(input, Some(Duration::ZERO), when);
        assert_partition(&done, &not_done, 5);
        assert_eq!((done, not_done), (vec![], vec![0, 1, 2, 3, 4]));
    }
    pa.set_result(1);
    for when in RETURN_WHENS {
        let (done, not_done) = wait(input, Some(SHORT), when);
        assert_partition(&done, &not_done, 5);
        assert_eq!((done, not_done), (vec![0, 2, 4], vec![1, 3]), "{when:?}");
    }
    pb.set_result(2);
    for when in RETURN_WHENS {
        assert_eq!(wait(input, None, when), (vec![0, 1, 2, 3, 4], vec![]));
    }
}

#[test]
fn duplicates_of_a_pending_future_complete_together() {
    no_hang("duplicate waits", || {
        let (pa, a) = promise::<u8, ()>();
        let (_pb, b) = promise::<u8, ()>();
        let (a2, b2) = (a.clone(), b.clone());
        let all = std::thread::spawn(move || {
            let r = wait([&a2, &b2, &a2], Some(HOUR), ReturnWhen::FirstCompleted);
            (r, wait_any([&b2, &a2, &a2]))
        });
        await_registered(&a);
        pa.set_result(1);
        let ((done, not_done), any) = all.join().unwrap();
        assert_eq!((done, not_done), (vec![0, 2], vec![1]));
        assert_eq!(any, Some(1));

        let (pc, c) = promise::<u8, ()>();
        let c2 = c.clone();
        let all = std::thread::spawn(move || {
            wait_all([&c2, &c2, &c2]);
            c2.done()
        });
        await_registered(&c);
        pc.set_result(3);
        assert!(all.join().unwrap());
    });
}

#[test]
fn mixed_types_wait_together_through_dyn_waitable() {
    no_hang("mixed types", || {
        let (pa, a) = promise::<u8, ()>();
        let (pb, b) = promise::<String, std::io::Error>();
        let (pc, c) = promise::<Vec<u64>, &'static str>();
        {
            let input: [&dyn Waitable; 3] = [&a, &b, &c];
            assert_eq!(
                wait(input, Some(Duration::ZERO), ReturnWhen::AllCompleted),
                (vec![], vec![0, 1, 2])
            );
            assert!(input.iter().all(|w| !w.is_done()));
        }
        pb.set_result("b".into());
        let input: Vec<&dyn Waitable> = vec![&a, &b, &c];
        assert!(input[1].is_done() && !input[0].is_done());
        assert_eq!(wait_any(input.iter().copied()), Some(1));
        assert_eq!(
            wait(
                input.iter().copied(),
                Some(SHORT),
                ReturnWhen::FirstCompleted
            ),
            (vec![1], vec![0, 2])
        );
        let (a2, c2) = (a.clone(), c.clone());
        let waiter = std::thread::spawn(move || {
            let input: [&dyn Waitable; 2] = [&a2, &c2];
            wait(input, None, ReturnWhen::FirstException)
        });
        await_registered(&c);
        pa.set_result(1);
        pc.set_exception("c failed");
        assert_eq!(waiter.join().unwrap(), (vec![0, 1], vec![]));
        wait_all(input.iter().copied());
        assert_eq!(c.exception().and_then(|f| f.exception()), Some(&"c failed"));
    });
}

#[test]
fn first_exception_returns_on_a_failure() {
    no_hang("first exception", || {
        let (p_ok, ok) = promise::<u8, &str>();
        let (p_bad, bad) = promise::<u8, &str>();
        let (p_slow, slow) = promise::<u8, &str>();
        let (ok2, bad2, slow2) = (ok.clone(), bad.clone(), slow.clone());
        let waiter = std::thread::spawn(move || {
            wait([&ok2, &bad2, &slow2], None, ReturnWhen::FirstException)
        });
        await_registered(&bad);
        p_ok.set_result(1);
        p_bad.set_exception("boom");
        // `slow` completes only after the join: a wait that did not return
        // on the failure would hang here (and fail no_hang).
        let (done, not_done) = waiter.join().unwrap();
        assert_eq!((done, not_done), (vec![0, 1], vec![2]));
        drop(p_slow);
    });
}

#[test]
fn first_exception_returns_on_a_broken_promise() {
    no_hang("first exception, broken", || {
        let (p_broken, broken) = promise::<u8, ()>();
        let (_p_slow, slow) = promise::<u8, ()>();
        let (broken2, slow2) = (broken.clone(), slow.clone());
        let waiter = std::thread::spawn(move || {
            wait([&slow2, &broken2], Some(HOUR), ReturnWhen::FirstException)
        });
        await_registered(&broken);
        drop(p_broken);
        assert_eq!(waiter.join().unwrap(), (vec![1], vec![0]));
    });
}

#[test]
fn first_exception_with_an_already_failed_input_returns_at_once() {
    let (p_bad, bad) = promise::<u8, ()>();
    let (_p, pending) = promise::<u8, ()>();
    p_bad.set_exception(());
    assert_eq!(
        wait([&pending, &bad], None, ReturnWhen::FirstException),
        (vec![1], vec![0])
    );
}

#[test]
fn first_exception_with_only_successes_returns_when_all_complete() {
    no_hang("first exception, successes", || {
        let (promises, futures) = pairs::<u8, ()>(4);
        let readers = futures.clone();
        let waiter = std::thread::spawn(move || {
            let out = wait(&readers, None, ReturnWhen::FirstException);
            (out, readers.iter().all(Future::done))
        });
        await_registered(&futures[3]);
        for (i, p) in promises.into_iter().enumerate() {
            p.set_result(i as u8);
        }
        let ((done, not_done), all_done) = waiter.join().unwrap();
        assert_eq!((done, not_done), (vec![0, 1, 2, 3], vec![]));
        assert!(all_done);
    });
}

#[test]
fn first_completed_returns_the_future_that_completed_first() {
    no_hang("first completed winner", || {
        for _ in 0..scaled(50) {
            let (pa, a) = promise::<u8, ()>();
            let (pb, b) = promise::<u8, ()>();
            let (a2, b2) = (a.clone(), b.clone());
            let waiter = std::thread::spawn(move || wait_any([&a2, &b2]));
            await_registered(&a);
            await_registered(&b);
            // b first, then a at once: a scan after waking would say 0.
            pb.set_result(2);
            pa.set_result(1);
            assert_eq!(waiter.join().unwrap(), Some(1));
        }
    });
}

#[test]
fn first_completed_wait_includes_the_completed_future() {
    no_hang("first completed wait", || {
        let (_pa, a) = promise::<u8, ()>();
        let (pb, b) = promise::<u8, ()>();
        let (_pc, c) = promise::<u8, ()>();
        let (a2, b2, c2) = (a.clone(), b.clone(), c.clone());
        let waiter =
            std::thread::spawn(move || wait([&a2, &b2, &c2], None, ReturnWhen::FirstCompleted));
        await_registered(&c);
        pb.set_result(2);
        assert_eq!(waiter.join().unwrap(), (vec![1], vec![0, 2]));
    });
}

#[test]
fn a_timed_out_wait_reports_its_done_inputs_in_done() {
    let (p_done, done) = promise::<u8, ()>();
    let (_p, pending) = promise::<u8, ()>();
    p_done.set_result(1);
    for when in [ReturnWhen::AllCompleted, ReturnWhen::FirstException] {
        for timeout in [Duration::ZERO, SHORT] {
            assert_eq!(
                wait([&pending, &done], Some(timeout), when),
                (vec![1], vec![0]),
                "{when:?} {timeout:?}"
            );
        }
    }
}

#[test]
fn wait_all_returns_only_when_every_future_is_done() {
    no_hang("wait_all", || {
        let mut rng = XorShift::new(3);
        let (promises, futures) = pairs::<u32, ()>(200);
        let readers = futures.clone();
        let waiter = std::thread::spawn(move || {
            wait_all(&readers);
            readers.iter().all(Future::done)
        });
        await_registered(&futures[199]);
        let mut promises: Vec<_> = promises.into_iter().enumerate().collect();
        rng.shuffle(&mut promises);
        for (i, p) in promises {
            p.set_result(i as u32);
        }
        assert!(waiter.join().unwrap());
    });
}

#[test]
fn accepts_slices_vecs_and_iterators() {
    let (promises, futures) = pairs::<u8, ()>(3);
    drop(promises);
    assert_eq!(wait_any(&futures), Some(0));
    wait_all(futures.as_slice());
    assert_eq!(
        wait(futures.iter().rev(), None, ReturnWhen::AllCompleted),
        (vec![0, 1, 2], vec![])
    );
}
