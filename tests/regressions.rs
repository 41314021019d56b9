//! Regression tests for bugs our peers shipped: each test opens its name
//! with the bug's tracker and id, and shows this crate does not have the
//! bug. The table maps every such bug to what covers it, here or elsewhere.
//!
//! | bug | what went wrong there | covered by |
//! |-----|-----------------------|------------|
//! | python-ndb #353 | `wait_any` / `wait_all` on an empty list hung | `python_ndb_353_*` |
//! | futures-rs `select_all` | panicked on an empty input; returned indices into its own reordered list | `futures_select_all_*` |
//! | CPython #92001 | `wait` hung on an already-cancelled future | `cpython_92001_*` |
//! | CPython #109934 | cancelled futures were reported as not done | `cpython_109934_*` |
//! | opengris-scaler #981 | a future done while the waiter registered was counted twice: the wait returned early | `opengris_981_*` |
//! | solana #21981 | a `select` with a time-out reported success spuriously | `solana_21981_*` |
//! | tokio #4618 | a waiter dropped mid-notify lost the other waiters' notification | `tokio_4618_*` |
//! | tokio #3652 | dropping an already notified waiter erased a later notification | `tokio_3652_*` |
//! | tokio #5396 | `notify_waiters` also woke waiters that arrived after it | `tokio_5396_*` |
//! | event-listener #139 | a "no listeners, return early" fast path dropped notifications | `event_listener_139_*` |
//! | futures-rs #2706 | `Shared` lost a waiting clone's wake-up when another clone was dropped | `futures_2706_*` |
//! | futures-rs #2261 | `Shared` lost a wake-up held by the waker of a dropped clone | `futures_2261_*` |
//! | futures-rs #1603 | `join_all` re-polled every child on every wake-up: quadratic | `futures_1603_*` |
//! | oneshot #17 | a re-poll with a new waker could leave the old one to be woken | `oneshot_17_*` |
//! | oneshot 0.1.11 | the receiver's drop mishandled a sender in the middle of waking it | `oneshot_0_1_11_*` |
//! | oneshot #87 | use-after-free when the async receiver was dropped during a send | `oneshot_87_*` |
//! | tokio #4225 | oneshot's send racing its close | `tokio_4225_*` |
//! | rust #121950 | ABA on CAS-pushed waiter nodes in std's lock-free queues | `rust_121950_*` |
//! | datastore-ndb-python #22 | `wait` reported a deadlock as a masking error | `datastore_ndb_22_*` |
//! | JDK-8160402 | `anyOf` kept dead completion nodes on long-lived futures | memory.rs `jdk_8160402_*`, beside the counting allocator |
//! | JDK-8303742 | `orTimeout` leaked on exceptional completion | memory.rs `jdk_8303742_*` |
//! | FLINK-25827 | production fallout of the two JDK leaks | memory.rs, as for those |
//! | oneshot #20 | races during unpark | a waiter leaving on its time-out while the completer unparks it: `solana_21981_completion_racing_timeout_is_reported_truthfully`, stress.rs `timed_waiters_churning_on_one_future_all_see_the_value`, loom-tests `complete_races_timeout`, `wait_any_timeout_races_completion` |
//! | oneshot #72 | wrong atomic orderings, found by Miri | no single test can name an ordering: the functional tests run under Miri in `.ci/run`, the loom models in loom-tests, and `loom-tests/ordering_sweep.py` weakens each ordering to see a model fail |
//! | RUSTSEC-2026-0005 / oneshot #74 | use-after-free: the shared allocation freed while the other side still used it | `tokio_4225_*`, `oneshot_87_*`; loom-tests `last_handle_drop_races_complete`, `last_drop_races_a_read_and_drop_elsewhere`; this binary also runs under Miri in `.ci/run` |
//! | rust #121626 | ABA on CAS-pushed nodes in std's `RwLock` queue | the same pattern as #121950: `rust_121950_*`; loom-tests `detach_races_detach`, `detach_races_push_then_complete` |

mod common;

use common::{
    HOUR, RETURN_WHENS, XorShift, await_registered, has_waiters, no_hang, scaled, start_waiter,
};
use forthcoming::{
    Failure, Future, ReturnWhen, Waitable, promise, wait, wait_all, wait_all_async, wait_any,
    wait_any_async, wait_async,
};
use forthcoming_test_support::{CountingWaker, Drops, Tracked, assert_partition, poll_with};
use std::future::IntoFuture;
use std::sync::{Arc, Barrier};
use std::task::{Poll, Wake, Waker};
use std::time::Duration;

#[test]
fn python_ndb_353_blocking_waits_on_empty_input_return() {
    no_hang("waits on empty input", || {
        let none: [&Future<u8, ()>; 0] = [];
        assert_eq!(wait_any(none), None);
        wait_all(none);
        for when in RETURN_WHENS {
            for timeout in [None, Some(Duration::ZERO), Some(HOUR), Some(Duration::MAX)] {
                assert_eq!(
                    wait(none, timeout, when),
                    (vec![], vec![]),
                    "{when:?} {timeout:?}"
                );
            }
        }
        let none_dyn: [&dyn Waitable; 0] = [];
        assert_eq!(wait_any(none_dyn), None);
        wait_all(none_dyn);
    });
}

/// futures-rs `select_all` panicked on an empty input, and the index it
/// returned was one into its own reordered list. Here the async group waits
/// on an empty input are ready at their first poll, and `wait_any` and
/// `wait_any_async` name an input position: the lowest done one.
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
    for when in RETURN_WHENS {
        assert_eq!(
            poll_with(&mut wait_async(none, when), Waker::noop()),
            Poll::Ready((vec![], vec![])),
            "{when:?}"
        );
    }

    let (_p0, f0) = promise::<u8, ()>();
    let (p1, f1) = promise::<u8, ()>();
    let (p2, f2) = promise::<u8, ()>();
    let (_p3, f3) = promise::<u8, ()>();
    p2.set_result(2);
    assert_eq!(wait_any([&f0, &f1, &f2, &f3]), Some(2));
    assert_eq!(
        wait(
            [&f0, &f1, &f2, &f3],
            Some(Duration::ZERO),
            ReturnWhen::FirstCompleted
        ),
        (vec![2], vec![0, 1, 3])
    );
    // Several done: the lowest position, whichever completed first.
    p1.set_exception(());
    assert_eq!(wait_any([&f0, &f1, &f2, &f3]), Some(1));
    assert_eq!(wait_any([&f2, &f1]), Some(0));
    assert_eq!(wait_any([&f0, &f0, &f2, &f1]), Some(2));
    assert_eq!(
        poll_with(&mut wait_any_async([&f0, &f2, &f1]), Waker::noop()),
        Poll::Ready(Some(1))
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
    no_hang("waits on done futures", move || {
        let all = [&ok, &bad, &broken];
        let noop = Waker::noop();
        for (i, f) in all.into_iter().enumerate() {
            f.wait();
            assert!(f.wait_timeout(HOUR), "future {i}");
            assert_eq!(wait_any([f]), Some(0), "future {i}");
            wait_all([f, f]);
            assert!(
                poll_with(&mut f.into_future(), noop).is_ready(),
                "future {i}"
            );
            assert_eq!(
                poll_with(&mut wait_any_async([f]), noop),
                Poll::Ready(Some(0))
            );
            assert_eq!(
                poll_with(&mut wait_all_async([f, f]), noop),
                Poll::Ready(())
            );
            for when in RETURN_WHENS {
                assert_eq!(wait([f], None, when), (vec![0], vec![]), "{i} {when:?}");
                assert_eq!(
                    poll_with(&mut wait_async([f], when), noop),
                    Poll::Ready((vec![0], vec![])),
                    "{i} {when:?}"
                );
            }
        }
        for when in RETURN_WHENS {
            assert_eq!(wait(all, None, when), (vec![0, 1, 2], vec![]), "{when:?}");
            assert_eq!(
                poll_with(&mut wait_async(all, when), noop),
                Poll::Ready((vec![0, 1, 2], vec![])),
                "{when:?}"
            );
        }
    });
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
    for when in RETURN_WHENS {
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
    for when in RETURN_WHENS {
        let (done, not_done) = wait([&a, &b], Some(Duration::from_millis(3)), when);
        assert!(
            done.is_empty(),
            "{when:?}: timed out but reported {done:?} done"
        );
        assert_eq!(not_done, vec![0, 1]);
    }
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

/// The completion lands before the wait, after it returns, or races it;
/// each answer is checked against `f`'s state read independently just before
/// the wait starts and just after it returns: a future done before must be
/// reported done, one still pending after must not be, and the one that never
/// completes never is.
#[test]
fn solana_21981_completion_racing_timeout_is_reported_truthfully() {
    no_hang("completion racing timeout", || {
        let mut rng = XorShift::new(21981);
        for round in 0..scaled(300) {
            let (p, f) = promise::<u8, ()>();
            let (_q, g) = promise::<u8, ()>();
            let yields = rng.below(40);
            let (release, released) = std::sync::mpsc::channel::<()>();
            let setter = std::thread::spawn(move || {
                // Round 1 of 3: only once the wait has returned.
                released.recv().unwrap();
                for _ in 0..yields {
                    std::thread::yield_now();
                }
                p.set_result(1);
            });
            if round % 3 == 0 {
                release.send(()).unwrap();
                f.wait();
            } else if round % 3 == 2 {
                release.send(()).unwrap();
            }
            let timeout = Duration::from_micros(rng.below(100) as u64);
            let done_before = f.done();
            let (done, not_done) = wait([&g, &f], Some(timeout), ReturnWhen::FirstCompleted);
            let done_after = f.done();
            if round % 3 == 1 {
                release.send(()).unwrap();
            }
            assert_partition(&done, &not_done, 2);
            assert!(!done.contains(&0), "round {round}: g never completes");
            if done_before {
                assert_eq!(done, [1], "round {round}: f was done before the wait");
            }
            if !done_after {
                assert!(
                    done.is_empty(),
                    "round {round}: f reported done, still pending"
                );
            }
            if round % 3 == 1 {
                assert_eq!((done, not_done), (vec![], vec![0, 1]), "round {round}");
            }
            setter.join().unwrap();
            assert_eq!(f.get_result(), Ok(&1));
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

/// futures-rs #2706: `Shared` lost a waiting clone's wake-up when another
/// clone was polled and dropped concurrently. Here two threads are blocked
/// and one task is pending on `f` (each registered before anything else
/// happens) while other clones, each with a pending wait of its own, are
/// dropped on another thread during the completion, and so is the original.
#[test]
fn futures_2706_dropping_clones_while_others_wait_does_not_lose_wakeups() {
    no_hang("clones dropped while waiting", || {
        for round in 0..scaled(300) as u64 {
            let (p, f) = promise::<u64, ()>();
            let blocked: Vec<_> = (0..2)
                .map(|_| {
                    let f2 = f.clone();
                    start_waiter(&f, || std::thread::spawn(move || *f2.get_result().unwrap()))
                })
                .collect();
            let reader = f.clone();
            let (kept, kept_waker) = CountingWaker::new();
            let mut kept_wait = (&reader).into_future();
            assert!(poll_with(&mut kept_wait, &kept_waker).is_pending());
            let doomed: Vec<_> = (0..3).map(|_| f.clone()).collect();
            drop(f);
            let start = Barrier::new(2);
            std::thread::scope(|s| {
                let start = &start;
                s.spawn(move || {
                    let mut waits: Vec<_> = doomed.iter().map(IntoFuture::into_future).collect();
                    for wait in &mut waits {
                        assert!(poll_with(wait, Waker::noop()).is_pending());
                    }
                    start.wait();
                    drop(waits);
                    drop(doomed);
                });
                start.wait();
                p.set_result(round);
            });
            for thread in blocked {
                assert_eq!(thread.join().unwrap(), round, "round {round}");
            }
            assert_eq!(
                kept.wakes(),
                1,
                "round {round}: the pending task was not woken"
            );
            assert_eq!(
                poll_with(&mut kept_wait, &kept_waker),
                Poll::Ready(Ok(&round))
            );
        }
    });
}

/// futures-rs #2261: a task polled a `Shared` clone and dropped it, and the
/// waker that clone held had been the one to wake another clone's task. Here
/// every wait holds its own waker: polling waits through a clone and dropping
/// them with the clone leaves the other wait linked and owed its wake-up.
#[test]
fn futures_2261_waits_through_a_dropped_clone_leave_the_others_registered() {
    let (p, f) = promise::<u8, ()>();
    let (first, first_waker) = CountingWaker::new();
    let mut first_wait = (&f).into_future();
    assert!(poll_with(&mut first_wait, &first_waker).is_pending());
    let clone = f.clone();
    let (dropped, dropped_waker) = CountingWaker::new();
    let mut group = wait_any_async([&clone, &clone]);
    assert!(poll_with(&mut group, &dropped_waker).is_pending());
    let mut single = (&clone).into_future();
    assert!(poll_with(&mut single, &dropped_waker).is_pending());
    drop((group, single));
    drop(clone);
    assert!(
        has_waiters(&f),
        "the first wait was unlinked with the clone's"
    );
    p.set_result(5);
    assert_eq!((first.wakes(), dropped.wakes()), (1, 0));
    assert_eq!(
        poll_with(&mut first_wait, &first_waker),
        Poll::Ready(Ok(&5))
    );
}

/// tokio #3652: dropping a `Notified` that had already been notified reset
/// the state word, erasing a later notification. Here waits woken by the
/// completion and dropped without another poll leave the completed state as
/// it is: later waits see the outcome at once, with no wake-up.
#[test]
fn tokio_3652_dropping_woken_waits_keeps_the_completion() {
    let (p, f) = promise::<u8, ()>();
    let (_q, g) = promise::<u8, ()>();
    let (counter, waker) = CountingWaker::new();
    let mut single = (&f).into_future();
    assert!(poll_with(&mut single, &waker).is_pending());
    let mut group = wait_async([&g, &f], ReturnWhen::FirstCompleted);
    assert!(poll_with(&mut group, &waker).is_pending());
    p.set_result(4);
    assert_eq!(counter.wakes(), 2);
    drop((single, group));
    assert!(f.done(), "dropping the woken waits undid the completion");
    let (late, late_waker) = CountingWaker::new();
    assert_eq!(
        poll_with(&mut (&f).into_future(), &late_waker),
        Poll::Ready(Ok(&4))
    );
    assert_eq!(
        poll_with(
            &mut wait_async([&g, &f], ReturnWhen::FirstCompleted),
            &late_waker
        ),
        Poll::Ready((vec![1], vec![0]))
    );
    assert_eq!(wait_any([&g, &f]), Some(1));
    assert_eq!(late.wakes(), 0);
}

/// tokio #5396: one `notify_waiters` call also woke waiters that arrived
/// after it. Here a completion wakes each wait registered on that future
/// before it exactly once, and nothing that came after: a wait that starts
/// once the future is seen done gets the outcome without a wake-up, and waits
/// on another future, registered while the completer runs, are not woken.
#[test]
fn tokio_5396_a_completion_wakes_no_wait_that_came_after_it() {
    no_hang("waits arriving during a completion", || {
        for round in 0..scaled(300) as u64 {
            let (pa, a) = promise::<u64, ()>();
            let (pb, b) = promise::<u64, ()>();
            let counted = |future| {
                let (counter, waker) = CountingWaker::new();
                let mut wait = IntoFuture::into_future(future);
                let first = poll_with(&mut wait, &waker);
                (first.is_pending(), wait, counter, waker)
            };
            let early: Vec<_> = (0..4).map(|_| counted(&a)).collect();
            assert!(early.iter().all(|(pending, ..)| *pending));
            let completer = std::thread::spawn(move || pa.set_result(round));
            let (on_b, on_b_waker) = CountingWaker::new();
            let mut waits_on_b = Vec::new();
            let mut late = Vec::new();
            let after = loop {
                let done_before = a.done();
                let mut on_b_wait = (&b).into_future();
                assert!(poll_with(&mut on_b_wait, &on_b_waker).is_pending());
                waits_on_b.push(on_b_wait);
                let wait = counted(&a);
                if done_before {
                    break wait;
                }
                late.push(wait);
            };
            completer.join().unwrap();
            for (_, mut wait, counter, waker) in early {
                assert_eq!(counter.wakes(), 1, "round {round}: a registered wait");
                assert_eq!(poll_with(&mut wait, &waker), Poll::Ready(Ok(&round)));
            }
            for (pending, _, counter, _) in late {
                // Pending: registered before the completion, so owed one.
                // Ready: raced it; a spare wake-up is allowed.
                assert!(counter.wakes() <= 1, "round {round}");
                assert!(!pending || counter.wakes() == 1, "round {round}");
            }
            let (pending, _, counter, _) = after;
            assert!(!pending, "round {round}: pending on a done future");
            assert_eq!(
                counter.wakes(),
                0,
                "round {round}: woken, though it came after"
            );
            assert_eq!(
                on_b.wakes(),
                0,
                "round {round}: a's completion woke b's waits"
            );
            pb.set_result(round);
            assert_eq!(on_b.wakes(), waits_on_b.len(), "round {round}");
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
            // One round in four re-polls before the completion starts, so
            // the pending branch below runs for sure; the others race it.
            let early = (round % 4 == 0).then(|| poll_with(&mut completion, &last_waker));
            let setter = std::thread::spawn(move || p.set_result(round));
            let repolled = early.unwrap_or_else(|| poll_with(&mut completion, &last_waker));
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

/// A waker that, when woken, meets `entered` and then blocks on `release`:
/// it holds the completer inside the wake-up for as long as a test needs.
struct HeldWake {
    /// Met once the wake-up has begun.
    entered: Barrier,
    /// Met to let the wake-up finish.
    release: Barrier,
}

impl Wake for HeldWake {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.entered.wait();
        self.release.wait();
    }
}

/// Polls `wait` (pending on `p`'s future) with a [`HeldWake`], completes `p`
/// on another thread, and drops `wait` while the completer is held inside its
/// wake-up; then checks the waker was released exactly once.
fn drop_during_wake<W: std::future::Future + Unpin>(p: forthcoming::Promise<u64, ()>, mut wait: W) {
    let held = Arc::new(HeldWake {
        entered: Barrier::new(2),
        release: Barrier::new(2),
    });
    assert!(poll_with(&mut wait, &Waker::from(Arc::clone(&held))).is_pending());
    std::thread::scope(|s| {
        let completer = s.spawn(move || p.set_result(7));
        held.entered.wait();
        drop(wait);
        held.release.wait();
        completer.join().unwrap();
    });
    assert_eq!(Arc::strong_count(&held), 1, "the waker was kept (or lost)");
}

/// oneshot 0.1.11: the receiver's drop did not handle the state in which the
/// sender was in the middle of waking it (UNPARKING). Here a wait is dropped
/// while the completer is held inside its waker's `wake`: no hang, no second
/// wake-up (it would block on the barriers), the waker released exactly once.
#[test]
fn oneshot_0_1_11_a_wait_dropped_while_being_woken() {
    no_hang("drop during wake", || {
        let (p, f) = promise::<u64, ()>();
        drop_during_wake(p, (&f).into_future());
        assert_eq!(f.get_result(), Ok(&7));
        let (p, f) = promise::<u64, ()>();
        let (_q, g) = promise::<u64, ()>();
        drop_during_wake(p, wait_async([&g, &f], ReturnWhen::FirstCompleted));
        assert_eq!(f.get_result(), Ok(&7));
    });
}

#[test]
fn oneshot_87_async_waiter_dropped_during_completion() {
    let drops = Drops::new();
    no_hang("drop during send", {
        let drops = drops.clone();
        move || {
            for round in 0..scaled(500) {
                let (p, f) = promise::<Tracked, ()>();
                let value = drops.make();
                let id = value.id;
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
                    p.set_result(value);
                });
                assert_eq!(f.get_result().map(|v| v.id), Ok(id), "round {round}");
            }
        }
    });
    drops.assert_all_dropped_once();
}

#[test]
fn tokio_4225_completion_racing_drop_of_every_future_drops_the_value_once() {
    let drops = Drops::new();
    for _ in 0..scaled(500) {
        let (p, f) = promise::<Tracked, ()>();
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
            p.set_result(drops.make());
        });
        drops.assert_all_dropped_once();
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
    assert!(text.contains("broken"), "{text}");
    assert!(text.contains("promise"), "{text}");
    assert!(text.contains("dropped"), "{text}");
    assert!(!text.contains("deadlock"), "no masking error: {text}");
    let failure = f.get_exception().expect("a broken promise is a failure");
    assert!(matches!(failure, Failure::BrokenPromise), "{failure:?}");
    assert!(std::error::Error::source(failure).is_none());
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
