//! Edge-case inputs: `Duration::MAX`, `Duration::ZERO`, tiny timeouts,
//! deadlines in the past and a century ahead, and spurious wake-ups (a waiter
//! unparked over and over must not return before its future completes).

mod common;

use common::{HOUR, RETURN_WHENS, await_registered, no_hang, pairs, scaled};
use forthcoming::{Future, ResultError, ReturnWhen, promise, wait, wait_all, wait_any};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::time::{Duration, Instant};

fn century_ahead() -> Instant {
    Instant::now()
        .checked_add(Duration::from_secs(100 * 365 * 24 * 3600))
        .expect("this platform represents an Instant a century ahead")
}

fn in_the_past() -> Instant {
    let now = Instant::now();
    now.checked_sub(Duration::from_secs(1)).unwrap_or(now)
}

#[test]
fn zero_timeouts_only_check() {
    let (p, f) = promise::<u8, ()>();
    assert!(!f.wait_timeout(Duration::ZERO));
    assert_eq!(f.result(Some(Duration::ZERO)), Err(ResultError::Timeout));
    for when in RETURN_WHENS {
        assert_eq!(
            wait([&f], Some(Duration::ZERO), when),
            (vec![], vec![0]),
            "{when:?}"
        );
    }
    assert!(!f.done());
    p.set_result(1);
    assert!(f.wait_timeout(Duration::ZERO));
    assert_eq!(f.result(Some(Duration::ZERO)), Ok(&1));
    for when in RETURN_WHENS {
        assert_eq!(
            wait([&f], Some(Duration::ZERO), when),
            (vec![0], vec![]),
            "{when:?}"
        );
    }
}

#[test]
fn tiny_timeouts_time_out_on_pending_futures() {
    let (_p, f) = promise::<u8, ()>();
    for nanos in [1, 10, 1_000, 50_000] {
        let timeout = Duration::from_nanos(nanos);
        assert!(!f.wait_timeout(timeout));
        assert_eq!(f.result(Some(timeout)), Err(ResultError::Timeout));
        assert_eq!(
            wait([&f, &f], Some(timeout), ReturnWhen::FirstCompleted),
            (vec![], vec![0, 1])
        );
    }
}

#[test]
fn max_duration_and_far_deadlines_on_done_futures_return_at_once() {
    let (p, f) = promise::<u8, ()>();
    p.set_result(2);
    assert!(f.wait_timeout(Duration::MAX));
    assert_eq!(f.result(Some(Duration::MAX)), Ok(&2));
    assert!(f.wait_deadline(century_ahead()));
    for when in RETURN_WHENS {
        assert_eq!(wait([&f], Some(Duration::MAX), when), (vec![0], vec![]));
    }
}

#[test]
fn past_deadlines_only_check() {
    let (p, f) = promise::<u8, ()>();
    assert!(!f.wait_deadline(in_the_past()));
    assert!(!f.wait_deadline(Instant::now()));
    assert!(!f.done());
    p.set_exception(());
    assert!(f.wait_deadline(in_the_past()));
}

/// Blocks a thread in `wait` on a fresh future, unparks it again and again
/// while the future is pending (it must not return), completes the future,
/// and unparks until the thread reports it returned. `wait` returns what the
/// waiter read: it must be the value set.
fn survives_spurious_unparks(
    name: &str,
    wait: impl FnOnce(&Future<u64, ()>) -> Option<u64> + Send + 'static,
) {
    let (p, f) = promise::<u64, ()>();
    let returned = Arc::new(AtomicBool::new(false));
    let reader = f.clone();
    let flag = Arc::clone(&returned);
    let waiter = std::thread::spawn(move || {
        let read = wait(&reader);
        flag.store(true, SeqCst);
        read
    });
    await_registered(&f);
    for _ in 0..scaled(2_000) {
        waiter.thread().unpark();
        std::thread::yield_now();
        assert!(
            !returned.load(SeqCst),
            "{name}: returned on a spurious wake-up while the future was pending"
        );
    }
    p.set_result(42);
    while !returned.load(SeqCst) {
        waiter.thread().unpark();
        std::thread::yield_now();
    }
    assert_eq!(waiter.join().unwrap(), Some(42), "{name}");
}

#[test]
fn max_duration_and_far_deadlines_wait_until_completion() {
    no_hang("Duration::MAX and far deadlines", || {
        survives_spurious_unparks("wait_timeout(MAX)", |f| {
            f.wait_timeout(Duration::MAX)
                .then(|| *f.get_result().unwrap())
        });
        survives_spurious_unparks("result(MAX)", |f| {
            f.result(Some(Duration::MAX)).ok().copied()
        });
        survives_spurious_unparks("wait_deadline(century)", |f| {
            f.wait_deadline(century_ahead())
                .then(|| *f.get_result().unwrap())
        });
        for when in RETURN_WHENS {
            survives_spurious_unparks("wait(MAX)", move |f| {
                let (done, not_done) = wait([f], Some(Duration::MAX), when);
                (done == [0] && not_done.is_empty()).then(|| *f.get_result().unwrap())
            });
        }
    });
}

#[test]
fn spurious_unparks_do_not_end_single_waits() {
    no_hang("single waits", || {
        survives_spurious_unparks("wait", |f| {
            f.wait();
            f.get_result().ok().copied()
        });
        survives_spurious_unparks("wait_timeout(1h)", |f| {
            f.wait_timeout(HOUR).then(|| *f.get_result().unwrap())
        });
        survives_spurious_unparks("get_result", |f| f.get_result().ok().copied());
        survives_spurious_unparks("result(1h)", |f| f.result(Some(HOUR)).ok().copied());
    });
}

#[test]
fn spurious_unparks_do_not_end_group_waits() {
    no_hang("group waits", || {
        survives_spurious_unparks("wait_any", |f| {
            // Either position may win: both are the same future.
            matches!(wait_any([f, f]), Some(0 | 1)).then(|| *f.get_result().unwrap())
        });
        survives_spurious_unparks("wait_all", |f| {
            wait_all([f]);
            f.get_result().ok().copied()
        });
        for when in RETURN_WHENS {
            survives_spurious_unparks("wait(1h)", move |f| {
                let (done, not_done) = wait([f], Some(HOUR), when);
                (done == [0] && not_done.is_empty()).then(|| *f.get_result().unwrap())
            });
        }
    });
}

#[test]
fn spurious_unparks_do_not_end_wait_all_after_a_partial_completion() {
    no_hang("wait_all partial", || {
        let (p1, f1) = promise::<u8, ()>();
        let (p2, f2) = promise::<u8, ()>();
        let returned = Arc::new(AtomicBool::new(false));
        let (r1, r2, flag) = (f1.clone(), f2.clone(), Arc::clone(&returned));
        let waiter = std::thread::spawn(move || {
            let out = wait([&r1, &r2], Some(HOUR), ReturnWhen::AllCompleted);
            flag.store(true, SeqCst);
            out
        });
        await_registered(&f2);
        p1.set_result(1);
        for _ in 0..scaled(2_000) {
            waiter.thread().unpark();
            std::thread::yield_now();
            assert!(!returned.load(SeqCst), "returned with f2 still pending");
        }
        p2.set_result(2);
        assert_eq!(waiter.join().unwrap(), (vec![0, 1], vec![]));
    });
}

/// An iterator whose `Clone` is broken: the original yields nothing and each
/// clone yields every future. `wait_any` looks with a clone and registers with
/// the original, so it scans pending futures and then registers on none.
struct ForgetfulOriginal<'a> {
    futures: &'a [Future<u8, ()>],
    yields: bool,
}

impl Clone for ForgetfulOriginal<'_> {
    fn clone(&self) -> Self {
        ForgetfulOriginal {
            futures: self.futures,
            yields: true,
        }
    }
}

impl<'a> Iterator for ForgetfulOriginal<'a> {
    type Item = &'a Future<u8, ()>;

    fn next(&mut self) -> Option<Self::Item> {
        let (first, rest) = self.futures.split_first().filter(|_| self.yields)?;
        self.futures = rest;
        Some(first)
    }
}

#[test]
fn wait_any_over_an_iterator_whose_clone_differs_returns_instead_of_hanging() {
    no_hang("wait_any with a broken Clone", || {
        let (_promises, futures) = pairs::<u8, ()>(3);
        let forgetful = || ForgetfulOriginal {
            futures: &futures,
            yields: false,
        };
        assert_eq!(forgetful().count(), 0);
        assert_eq!(forgetful().clone().count(), 3);
        assert_eq!(wait_any(forgetful()), None);
        let any = futures::executor::block_on(forthcoming::wait_any_async(forgetful()));
        assert_eq!(any, None);
        assert!(futures.iter().all(|f| !f.done()), "nothing was completed");
    });
}
