//! Regression tests named after bugs that peers shipped (see PITFALLS.md):
//! each shows this crate does not have the bug. The memory ones (JDK-8160402,
//! JDK-8303742) live in memory.rs, beside the counting allocator.

mod common;

use common::{
    CountingWaker, Drops, XorShift, await_registered, no_hang, poll_with, scaled, within,
};
use forthcoming::{
    Failure, Future, ReturnWhen, Waitable, promise, wait, wait_all, wait_all_async, wait_any,
    wait_any_async, wait_async,
};
use std::future::IntoFuture;
use std::sync::Barrier;
use std::task::{Poll, Waker};
use std::time::Duration;

const HOUR: Duration = Duration::from_secs(3600);
const ALL: [ReturnWhen; 3] = [
    ReturnWhen::AllCompleted,
    ReturnWhen::FirstCompleted,
    ReturnWhen::FirstException,
];

#[test]
fn python_ndb_353_wait_any_and_wait_all_on_empty_input_return() {
    let none: Vec<&Future<u8, ()>> = Vec::new();
    let out = within(Duration::from_secs(10), move || {
        let any = wait_any(none.iter().copied());
        wait_all(none.iter().copied());
        let all = wait(none.iter().copied(), None, ReturnWhen::AllCompleted);
        let exc = wait(none.iter().copied(), None, ReturnWhen::FirstException);
        (any, all, exc)
    });
    assert_eq!(
        out,
        Some((None, (vec![], vec![]), (vec![], vec![]))),
        "an empty wait hung"
    );
}

#[test]
fn python_ndb_353_wait_first_completed_on_empty_input_returns() {
    let untimed = within(Duration::from_secs(5), || {
        let none: [&Future<u8, ()>; 0] = [];
        wait(none, None, ReturnWhen::FirstCompleted)
    });
    assert_eq!(
        untimed,
        Some((vec![], vec![])),
        "wait([], None, FirstCompleted) hung"
    );
    let timed = within(Duration::from_secs(5), || {
        let none: [&Future<u8, ()>; 0] = [];
        wait(none, Some(HOUR), ReturnWhen::FirstCompleted)
    });
    assert_eq!(
        timed,
        Some((vec![], vec![])),
        "wait([], 1h, FirstCompleted) blocked"
    );
}

#[test]
fn python_ndb_353_wait_async_first_completed_on_empty_input_is_ready() {
    let none: [&Future<u8, ()>; 0] = [];
    let mut group = wait_async(none, ReturnWhen::FirstCompleted);
    assert_eq!(
        poll_with(&mut group, Waker::noop()),
        Poll::Ready((vec![], vec![]))
    );
}

#[test]
fn futures_select_all_empty_input_does_not_panic_and_order_is_kept() {
    let none: [&Future<u8, ()>; 0] = [];
    assert_eq!(
        poll_with(&mut wait_any_async(none), Waker::noop()),
        Poll::Ready(None)
    );
    assert_eq!(
        poll_with(&mut wait_all_async(none), Waker::noop()),
        Poll::Ready(())
    );
    let pairs: Vec<_> = (0..5).map(|_| promise::<u8, ()>()).collect();
    let futures: Vec<_> = pairs.iter().map(|(_, f)| f.clone()).collect();
    let mut pairs = pairs;
    pairs.remove(3).0.set_result(3);
    assert_eq!(wait_any(&futures), Some(3), "indices are input positions");
    assert_eq!(
        wait(&futures, Some(Duration::ZERO), ReturnWhen::FirstCompleted),
        (vec![3], vec![0, 1, 2, 4])
    );
}

#[test]
fn cpython_92001_wait_on_done_future_returns() {
    let (p_ok, ok) = promise::<u8, ()>();
    let (p_bad, bad) = promise::<u8, ()>();
    let (p_broken, broken) = promise::<u8, ()>();
    p_ok.set_result(1);
    p_bad.set_exception(());
    drop(p_broken);
    let out = no_hang("waits on done futures", move || {
        let mut results = Vec::new();
        for f in [&ok, &bad, &broken] {
            f.wait();
            assert!(f.wait_timeout(HOUR));
            for when in ALL {
                results.push(wait([f], None, when));
            }
            results.push((vec![wait_any([f]).unwrap()], vec![]));
            wait_all([f, f]);
        }
        results
    });
    assert!(out.iter().all(|r| *r == (vec![0], vec![])), "{out:?}");
}

#[test]
fn cpython_109934_failed_and_broken_futures_are_reported_done() {
    let (p_bad, bad) = promise::<u8, ()>();
    let (p_broken, broken) = promise::<u8, ()>();
    let (_p_pending, pending) = promise::<u8, ()>();
    p_bad.set_exception(());
    drop(p_broken);
    assert!(bad.done() && broken.done() && !pending.done());
    let input: [&dyn Waitable; 3] = [&pending, &bad, &broken];
    assert!(!input[0].is_done() && input[1].is_done() && input[2].is_done());
    for when in ALL {
        assert_eq!(
            wait(input, Some(Duration::ZERO), when),
            (vec![1, 2], vec![0])
        );
    }
    assert_eq!(wait_any(input), Some(1));
    assert_eq!(
        futures::executor::block_on(wait_any_async([&pending, &broken])),
        Some(1)
    );
}

#[test]
fn opengris_981_completion_during_registration_counted_once() {
    // Futures complete while the waiter registers; a future counted both by
    // the registrar and by its completer would end the countdown early, with
    // the last future (completed only afterwards) still pending.
    no_hang("registration race", || {
        let mut rng = XorShift::new(981);
        for round in 0..scaled(400) {
            let (pa, a) = promise::<u64, ()>();
            let (pb, b) = promise::<u64, ()>();
            let (pc, c) = promise::<u64, ()>();
            let when = [ReturnWhen::AllCompleted, ReturnWhen::FirstException][round % 2];
            let start = Barrier::new(2);
            let (early_yields, late_yields) = (rng.below(30), rng.below(30));
            std::thread::scope(|s| {
                let waiter = s.spawn(|| {
                    start.wait();
                    let out = if round % 4 == 3 {
                        wait_all([&a, &b, &a, &c, &b]);
                        wait([&a, &b, &a, &c, &b], Some(Duration::ZERO), when)
                    } else {
                        wait([&a, &b, &a, &c, &b], None, when)
                    };
                    (out, c.done())
                });
                start.wait();
                for _ in 0..early_yields {
                    std::thread::yield_now();
                }
                pa.set_result(1);
                pb.set_result(2);
                for _ in 0..late_yields {
                    std::thread::yield_now();
                }
                pc.set_result(3);
                let ((done, not_done), c_done) = waiter.join().unwrap();
                assert!(
                    c_done,
                    "round {round}: returned before the last future completed"
                );
                assert_eq!(
                    (done, not_done),
                    (vec![0, 1, 2, 3, 4], vec![]),
                    "round {round}"
                );
            });
        }
    });
}

#[test]
fn opengris_981_async_completion_during_registration_counted_once() {
    no_hang("async registration race", || {
        for round in 0..scaled(300) {
            let (pa, a) = promise::<u64, ()>();
            let (pb, b) = promise::<u64, ()>();
            let start = Barrier::new(2);
            std::thread::scope(|s| {
                let completer = s.spawn(|| {
                    start.wait();
                    pa.set_result(1);
                    pb
                });
                start.wait();
                let (counter, waker) = CountingWaker::new();
                let mut all = wait_all_async([&a, &b, &a]);
                let first = poll_with(&mut all, &waker);
                let pb = completer.join().unwrap();
                assert!(first.is_pending(), "round {round}: ready with b pending");
                assert!(poll_with(&mut all, &waker).is_pending());
                pb.set_result(2);
                assert_eq!(counter.wakes(), 1, "round {round}");
                assert_eq!(poll_with(&mut all, &waker), Poll::Ready(()));
            });
        }
    });
}

#[test]
fn solana_21981_select_timeout_not_spurious_success() {
    let (_pa, a) = promise::<u8, ()>();
    let (_pb, b) = promise::<u8, ()>();
    for when in ALL {
        let (done, not_done) = wait([&a, &b], Some(Duration::from_millis(3)), when);
        assert!(
            done.is_empty(),
            "{when:?}: timed out but reported {done:?} done"
        );
        assert_eq!(not_done, vec![0, 1]);
    }
    assert!(!a.wait_timeout(Duration::from_millis(1)));
    assert_eq!(
        a.result(Some(Duration::from_millis(1))),
        Err(forthcoming::ResultError::Timeout)
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let timed = rt.block_on(async {
        tokio::time::timeout(Duration::from_millis(2), wait_any_async([&a, &b])).await
    });
    assert!(timed.is_err(), "timed out, not {timed:?}");
    assert!(!a.done() && !b.done());
}

#[test]
fn solana_21981_completion_racing_timeout_is_reported_truthfully() {
    no_hang("completion racing timeout", || {
        let mut rng = XorShift::new(21981);
        for _ in 0..scaled(300) {
            let (p, f) = promise::<u8, ()>();
            let (_q, g) = promise::<u8, ()>();
            let yields = rng.below(40);
            let setter = std::thread::spawn(move || {
                for _ in 0..yields {
                    std::thread::yield_now();
                }
                p.set_result(1);
            });
            let timeout = Duration::from_micros(rng.below(100) as u64);
            let (done, not_done) = wait([&g, &f], Some(timeout), ReturnWhen::FirstCompleted);
            assert!(!done.contains(&0), "g never completes");
            assert!(not_done.contains(&0));
            if done.contains(&1) {
                assert!(f.done());
            }
            let waited = f.wait_timeout(timeout);
            assert!(!waited || f.done());
            setter.join().unwrap();
        }
    });
}

#[test]
fn tokio_4618_waiter_dropped_mid_notify_does_not_lose_other_wakeups() {
    no_hang("drop during notify", || {
        for round in 0..scaled(300) as u64 {
            let (p, f) = promise::<u64, ()>();
            let keepers: Vec<_> = (0..2)
                .map(|_| {
                    let f = f.clone();
                    std::thread::spawn(move || *f.get_result().unwrap())
                })
                .collect();
            let (kept_counter, kept_waker) = CountingWaker::new();
            let mut kept = (&f).into_future();
            assert!(poll_with(&mut kept, &kept_waker).is_pending());
            let start = Barrier::new(2);
            let (dropped_counter, dropped_waker) = CountingWaker::new();
            std::thread::scope(|s| {
                let (f, start, dropped_waker) = (&f, &start, &dropped_waker);
                s.spawn(move || {
                    let mut doomed: Vec<_> = (0..4).map(|_| f.into_future()).collect();
                    for d in &mut doomed {
                        assert!(poll_with(d, dropped_waker).is_pending() || f.done());
                    }
                    start.wait();
                    drop(doomed);
                });
                start.wait();
                p.set_result(round);
            });
            assert!(dropped_counter.wakes() <= 4);
            for keeper in keepers {
                assert_eq!(keeper.join().unwrap(), round);
            }
            assert_eq!(
                kept_counter.wakes(),
                1,
                "round {round}: the kept task was not woken"
            );
            assert_eq!(poll_with(&mut kept, &kept_waker), Poll::Ready(Ok(&round)));
        }
    });
}

#[test]
fn futures_2706_dropping_a_clone_while_others_wait_does_not_lose_wakeups() {
    no_hang("clone dropped while waiting", || {
        for round in 0..scaled(300) as u64 {
            let (p, f) = promise::<u64, ()>();
            let waiters: Vec<_> = (0..2)
                .map(|_| {
                    let f = f.clone();
                    std::thread::spawn(move || *f.get_result().unwrap())
                })
                .collect();
            let doomed: Vec<_> = (0..3).map(|_| f.clone()).collect();
            let dropper = std::thread::spawn(move || drop(doomed));
            let reader = f.clone();
            drop(f);
            p.set_result(round);
            dropper.join().unwrap();
            for w in waiters {
                assert_eq!(w.join().unwrap(), round);
            }
            assert_eq!(reader.get_result(), Ok(&round));
        }
    });
}

#[test]
fn oneshot_17_repoll_racing_completion_keeps_the_last_waker() {
    no_hang("re-poll racing completion", || {
        for round in 0..scaled(1_000) as u64 {
            let (p, f) = promise::<u64, ()>();
            let (first, first_waker) = CountingWaker::new();
            let (last, last_waker) = CountingWaker::new();
            let mut completion = (&f).into_future();
            assert!(poll_with(&mut completion, &first_waker).is_pending());
            let setter = std::thread::spawn(move || p.set_result(round));
            let repolled = poll_with(&mut completion, &last_waker);
            setter.join().unwrap();
            if repolled.is_pending() {
                // The re-poll swapped the waker before it saw the future
                // pending, so the completion came later: it owes the last
                // waker, and only that one.
                assert_eq!(last.wakes(), 1, "round {round}: wake-up lost on waker swap");
                assert_eq!(first.wakes(), 0, "round {round}: woke the replaced waker");
                assert_eq!(
                    poll_with(&mut completion, &last_waker),
                    Poll::Ready(Ok(&round))
                );
            } else {
                // Completion raced the swap: either waker may have been woken
                // (a spare wake-up is allowed), each at most once.
                assert_eq!(repolled, Poll::Ready(Ok(&round)));
                assert!(first.wakes() <= 1 && last.wakes() <= 1);
            }
        }
    });
}

#[test]
fn oneshot_87_async_waiter_dropped_during_completion() {
    const ROUNDS: u64 = scaled(500) as u64;
    let drops = Drops::new();
    no_hang("drop during send", {
        let drops = drops.clone();
        move || {
            for round in 0..ROUNDS {
                let (p, f) = promise::<common::DropCounter, ()>();
                let start = Barrier::new(2);
                std::thread::scope(|s| {
                    let (f, start) = (&f, &start);
                    s.spawn(move || {
                        let mut completion = f.into_future();
                        let _ = poll_with(&mut completion, Waker::noop());
                        start.wait();
                        drop(completion);
                    });
                    start.wait();
                    p.set_result(drops.token(round));
                });
                assert_eq!(f.get_result().map(|v| v.id), Ok(round));
            }
        }
    });
    assert_eq!(drops.count(), ROUNDS as usize);
}

#[test]
fn tokio_4225_completion_racing_drop_of_every_future_drops_the_value_once() {
    let drops = Drops::new();
    for round in 0..scaled(500) as u64 {
        let (p, f) = promise::<common::DropCounter, ()>();
        let clone = f.clone();
        let start = Barrier::new(3);
        std::thread::scope(|s| {
            let start = &start;
            s.spawn(move || {
                start.wait();
                drop(f);
            });
            s.spawn(move || {
                start.wait();
                drop(clone);
            });
            start.wait();
            p.set_result(drops.token(round));
        });
        assert_eq!(drops.count(), round as usize + 1, "round {round}");
    }
}

#[test]
fn event_listener_139_completion_racing_registration_never_loses_the_wakeup() {
    no_hang("completion racing registration", || {
        for round in 0..scaled(3_000) as u64 {
            let (p, f) = promise::<u64, ()>();
            let (_q, g) = promise::<u64, ()>();
            let setter = std::thread::spawn(move || p.set_result(round));
            let got = match round % 4 {
                0 => *f.get_result().unwrap(),
                1 => {
                    assert_eq!(wait_any([&g, &f]), Some(1));
                    *f.get_result().unwrap()
                }
                2 => {
                    let (done, _) = wait([&f, &g], None, ReturnWhen::FirstCompleted);
                    assert!(done.contains(&0));
                    *f.get_result().unwrap()
                }
                _ => *futures::executor::block_on((&f).into_future()).unwrap(),
            };
            assert_eq!(got, round);
            setter.join().unwrap();
        }
    });
}

#[test]
fn rust_121950_push_and_detach_churn_on_one_future_stays_consistent() {
    // Waiter nodes pushed and unlinked at a high rate by several threads (the
    // pattern where ABA broke std's lock-free queues), then one completion.
    no_hang("push/detach churn", || {
        let (p, f) = promise::<u64, ()>();
        let (_q, g) = promise::<u64, ()>();
        let start = Barrier::new(5);
        let churned = Barrier::new(5);
        std::thread::scope(|s| {
            // A long-lived waiter, linked beneath all the churn.
            let waiter = s.spawn(|| wait_any([&g, &f]));
            await_registered(&f);
            let churners: Vec<_> = (0..4_u64)
                .map(|t| {
                    let (f, g, start, churned) = (&f, &g, &start, &churned);
                    s.spawn(move || {
                        let mut rng = XorShift::new(t);
                        start.wait();
                        for _ in 0..scaled(2_000) {
                            let timeout = Duration::from_micros(rng.below(20) as u64);
                            match rng.below(3) {
                                0 => assert!(!f.wait_timeout(timeout)),
                                1 => assert_eq!(
                                    wait([f, g, f], Some(timeout), ReturnWhen::FirstCompleted),
                                    (vec![], vec![0, 1, 2])
                                ),
                                _ => {
                                    let mut c = f.into_future();
                                    assert!(poll_with(&mut c, Waker::noop()).is_pending());
                                }
                            }
                        }
                        churned.wait();
                        f.get_result().copied()
                    })
                })
                .collect();
            start.wait();
            churned.wait();
            assert!(
                !waiter.is_finished(),
                "the long-lived waiter returned early"
            );
            p.set_result(7);
            assert_eq!(waiter.join().unwrap(), Some(1));
            for churner in churners {
                assert_eq!(churner.join().unwrap(), Ok(7));
            }
        });
        assert_eq!(f.get_result(), Ok(&7));
    });
}

#[test]
fn datastore_ndb_22_broken_promise_names_what_happened() {
    let (p, f) = promise::<u8, std::io::Error>();
    let reader = f.clone();
    let waiter = std::thread::spawn(move || reader.get_exception().map(ToString::to_string));
    await_registered(&f);
    drop(p);
    let text = waiter.join().unwrap().expect("a failure").to_lowercase();
    assert!(text.contains("promise"), "{text}");
    assert!(text.contains("dropped"), "{text}");
    assert!(!text.contains("deadlock"), "no masking error: {text}");
    assert!(matches!(f.get_exception(), Some(Failure::BrokenPromise)));
}

/// futures-rs #1603: `join_all` re-polled every child on every wake-up,
/// quadratic in the number of futures. `wait_all_async` over N futures is
/// woken once, by the last completion, so it is polled twice whatever N.
#[test]
fn futures_1603_wait_all_async_is_woken_once_for_many_completions() {
    no_hang("wait_all_async over many", || {
        let pairs: Vec<_> = (0..scaled(5_000)).map(|_| promise::<u32, ()>()).collect();
        let futures: Vec<_> = pairs.iter().map(|(_, f)| f.clone()).collect();
        let (counter, waker) = CountingWaker::new();
        let mut all = wait_all_async(&futures);
        assert!(poll_with(&mut all, &waker).is_pending());
        std::thread::spawn(move || {
            for (i, (p, _)) in pairs.into_iter().enumerate().rev() {
                p.set_result(i as u32);
            }
        })
        .join()
        .unwrap();
        assert_eq!(counter.wakes(), 1, "one wake-up for every completion");
        assert_eq!(poll_with(&mut all, &waker), Poll::Ready(()));
        assert!(
            futures
                .iter()
                .enumerate()
                .all(|(i, f)| f.get_result() == Ok(&(i as u32)))
        );
    });
}
