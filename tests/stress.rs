//! Randomised stress (seeded xorshift): threads running `wait`, `wait_any`,
//! `wait_all` and timed single waits over random subsets of futures that other
//! threads complete in random order, checking every answer against the
//! futures and the values they were given.

mod common;

use common::{HOUR, RETURN_WHENS, XorShift, no_hang, pairs};
use forthcoming::{Failure, Future, ResultError, ReturnWhen, promise, wait, wait_all, wait_any};
use forthcoming_test_support::assert_partition;
use std::time::Duration;

const FUTURES: usize = 12;
const ROUNDS: usize = 300;

/// What future `k` of a round is completed with.
#[derive(Clone, Copy, Debug)]
enum Plan {
    Value(u64),
    Exception(u64),
    Broken,
}

fn plan_for(rng: &mut XorShift, k: usize) -> Plan {
    match rng.below(5) {
        0..=2 => Plan::Value(k as u64 * 10),
        3 => Plan::Exception(k as u64),
        _ => Plan::Broken,
    }
}

/// Checks that a done future holds what its plan says.
fn check_outcome(plan: Plan, f: &Future<u64, u64>) {
    assert!(f.done());
    let got = f.result(Some(Duration::ZERO));
    match plan {
        Plan::Value(v) => assert_eq!(got, Ok(&v)),
        Plan::Exception(e) => {
            assert_eq!(got, Err(ResultError::Failed(&Failure::Exception(e))));
        }
        Plan::Broken => assert_eq!(got, Err(ResultError::Failed(&Failure::BrokenPromise))),
    }
}

fn random_timeout(rng: &mut XorShift) -> Option<Duration> {
    match rng.below(4) {
        0 => None,
        1 => Some(Duration::ZERO),
        _ => Some(Duration::from_micros(rng.below(200) as u64)),
    }
}

/// One waiter thread: random operations until every future is done.
fn waiter(seed: u64, futures: &[Future<u64, u64>], plans: &[Plan]) {
    let mut rng = XorShift::new(seed);
    loop {
        let all_done = futures.iter().all(Future::done);
        let len = 1 + rng.below(6);
        let subset: Vec<usize> = (0..len).map(|_| rng.below(FUTURES)).collect();
        let input: Vec<&Future<u64, u64>> = subset.iter().map(|&k| &futures[k]).collect();
        match rng.below(4) {
            0 => {
                // Untimed: every future completes eventually, so this returns.
                let i = wait_any(input.iter().copied()).expect("non-empty input");
                assert!(i < len, "index {i} out of range {len}");
                check_outcome(plans[subset[i]], input[i]);
            }
            1 => {
                let k = subset[0];
                let timeout = random_timeout(&mut rng).unwrap_or(HOUR);
                if futures[k].wait_timeout(timeout) {
                    check_outcome(plans[k], &futures[k]);
                }
            }
            2 if rng.one_in(4) => {
                wait_all(input.iter().copied());
                for &k in &subset {
                    check_outcome(plans[k], &futures[k]);
                }
            }
            _ => {
                let when = RETURN_WHENS[rng.below(RETURN_WHENS.len())];
                let timeout = random_timeout(&mut rng);
                let (done, not_done) = wait(input.iter().copied(), timeout, when);
                assert_partition(&done, &not_done, len);
                for &i in &done {
                    check_outcome(plans[subset[i]], input[i]);
                }
                if timeout.is_none() {
                    let satisfied = match when {
                        ReturnWhen::AllCompleted => not_done.is_empty(),
                        ReturnWhen::FirstCompleted => !done.is_empty(),
                        ReturnWhen::FirstException => {
                            not_done.is_empty()
                                || done.iter().any(|&i| input[i].exception().is_some())
                        }
                    };
                    assert!(satisfied, "{when:?} returned early: {done:?} {not_done:?}");
                }
            }
        }
        if all_done {
            return;
        }
    }
}

#[test]
fn random_group_waits_against_random_completions() {
    no_hang("group wait stress", || {
        let mut seeds = XorShift::new(0x5EED);
        for _round in 0..ROUNDS {
            let mut rng = XorShift::new(seeds.next_u64());
            let plans: Vec<Plan> = (0..FUTURES).map(|k| plan_for(&mut rng, k)).collect();
            let (promises, futures) = pairs::<u64, u64>(FUTURES);
            let mut promises: Vec<_> = promises.into_iter().enumerate().collect();
            rng.shuffle(&mut promises);
            let second = promises.split_off(FUTURES / 2);
            std::thread::scope(|s| {
                let waiters: Vec<_> = (0..3)
                    .map(|_| {
                        let seed = rng.next_u64();
                        let (futures, plans) = (&futures, &plans);
                        s.spawn(move || waiter(seed, futures, plans))
                    })
                    .collect();
                for half in [promises, second] {
                    let mut rng = XorShift::new(rng.next_u64());
                    let plans = &plans;
                    s.spawn(move || {
                        for (k, p) in half {
                            for _ in 0..rng.below(50) {
                                std::thread::yield_now();
                            }
                            match plans[k] {
                                Plan::Value(v) => p.set_result(v),
                                Plan::Exception(e) => p.set_exception(e),
                                Plan::Broken => drop(p),
                            }
                        }
                    });
                }
                for w in waiters {
                    w.join().unwrap();
                }
            });
            for (k, f) in futures.iter().enumerate() {
                check_outcome(plans[k], f);
            }
        }
    });
}

#[test]
fn timed_waiters_churning_on_one_future_all_see_the_value() {
    no_hang("timed waiter churn", || {
        let mut seeds = XorShift::new(0xC0FFEE);
        for round in 0..150_u64 {
            let (p, f) = promise::<u64, u64>();
            let (_never, g) = promise::<u64, u64>();
            let mut rng = XorShift::new(seeds.next_u64());
            std::thread::scope(|s| {
                for _ in 0..3 {
                    let mut rng = XorShift::new(rng.next_u64());
                    let (f, g) = (&f, &g);
                    s.spawn(move || {
                        loop {
                            let timeout = Duration::from_micros(rng.below(50) as u64);
                            let done = match rng.below(3) {
                                0 => f.wait_timeout(timeout),
                                1 => {
                                    let (done, not_done) =
                                        wait([g, f, g], Some(timeout), ReturnWhen::FirstCompleted);
                                    assert!(!done.contains(&0) && !done.contains(&2));
                                    assert!(not_done.contains(&0) && not_done.contains(&2));
                                    done == [1]
                                }
                                _ => f.result(Some(timeout)).is_ok(),
                            };
                            if done {
                                assert_eq!(f.get_result(), Ok(&round));
                                return;
                            }
                        }
                    });
                }
                for _ in 0..rng.below(200) {
                    std::thread::yield_now();
                }
                p.set_result(round);
            });
        }
    });
}
