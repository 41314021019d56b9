//! Cross-thread use of one future: many threads blocked on it at once with
//! every blocking read mixed, and 100k promise handoffs between two threads.

mod common;

use common::{HOUR, no_hang, owned, scaled, start_waiter};
use forthcoming::{Failure, Future, ReturnWhen, promise, wait, wait_any};
use std::sync::mpsc;

/// One blocking read of `f` by kind; returns what it read. Each kind links
/// exactly one waiter node into `f`'s list (see [`start_waiter`]).
fn read(kind: usize, f: &Future<u64, String>) -> Result<u64, Failure<String>> {
    match kind % 7 {
        0 => {
            f.wait();
            owned(f.get_result())
        }
        1 => {
            assert!(f.wait_timeout(HOUR));
            owned(f.get_result())
        }
        2 => owned(f.get_result()),
        3 => f.result(None).copied().map_err(|e| match e {
            forthcoming::ResultError::Failed(failure) => failure.clone(),
            forthcoming::ResultError::Timeout => panic!("result(None) timed out"),
        }),
        4 => f
            .check_success()
            .map(|()| *f.get_result().unwrap())
            .map_err(Failure::clone),
        5 => {
            assert_eq!(wait_any([f]), Some(0));
            owned(f.get_result())
        }
        _ => {
            assert_eq!(
                wait([f], Some(HOUR), ReturnWhen::FirstException),
                (vec![0], vec![])
            );
            owned(f.get_result())
        }
    }
}

/// How the promise of a [`many_waiters_round`] ends.
#[derive(Clone, Copy)]
enum Ending {
    Value,
    Exception,
    Broken,
}

/// Eight threads block on one future with every kind of read, each linked
/// into its list before the next starts and all before the promise ends as
/// `ending` says; each reads the outcome.
fn many_waiters_round(round: u64, ending: Ending) {
    let (p, f) = promise::<u64, String>();
    std::thread::scope(|s| {
        let waiters: Vec<_> = (0..8)
            .map(|kind| {
                let f = &f;
                start_waiter(f, || s.spawn(move || read(kind + round as usize, f)))
            })
            .collect();
        let expected = match ending {
            Ending::Value => {
                p.set_result(round);
                Ok(round)
            }
            Ending::Exception => {
                p.set_exception(format!("failed {round}"));
                Err(Failure::Exception(format!("failed {round}")))
            }
            Ending::Broken => {
                drop(p);
                Err(Failure::BrokenPromise)
            }
        };
        for waiter in waiters {
            assert_eq!(waiter.join().unwrap(), expected, "round {round}");
        }
    });
}

#[test]
fn eight_threads_waiting_on_one_future_all_wake_with_the_value() {
    no_hang("eight waiters", || {
        for round in 0..scaled(60) as u64 {
            let ending = [Ending::Value, Ending::Value, Ending::Exception][round as usize % 3];
            many_waiters_round(round, ending);
        }
    });
}

#[test]
fn eight_threads_waiting_on_a_broken_promise_all_wake() {
    no_hang("eight waiters, broken promise", || {
        for round in 0..scaled(20) as u64 {
            many_waiters_round(round, Ending::Broken);
        }
    });
}

#[test]
fn one_hundred_thousand_handoffs_between_two_threads() {
    const HANDOFFS: u64 = scaled(100_000) as u64;
    no_hang("100k handoffs", || {
        let (to_setter, promises) = mpsc::channel::<(forthcoming::Promise<u64, ()>, u64)>();
        let setter = std::thread::spawn(move || {
            let mut count = 0_u64;
            for (p, value) in promises {
                p.set_result(value * 3);
                count += 1;
            }
            count
        });
        let mut sum = 0;
        for i in 0..HANDOFFS {
            let (p, f) = promise::<u64, ()>();
            to_setter.send((p, i)).unwrap();
            let value = if i % 2 == 0 {
                *f.get_result().unwrap()
            } else {
                assert_eq!(wait_any([&f]), Some(0));
                *f.get_result().unwrap()
            };
            assert_eq!(value, i * 3);
            sum += value;
        }
        drop(to_setter);
        assert_eq!(setter.join().unwrap(), HANDOFFS);
        assert_eq!(sum, 3 * HANDOFFS * (HANDOFFS - 1) / 2);
    });
}

#[test]
fn ping_pong_both_threads_block_on_futures() {
    const ROUNDS: u64 = scaled(20_000) as u64;
    no_hang("ping-pong", || {
        let (to_b, from_a) = mpsc::channel::<(forthcoming::Promise<u64, ()>, Future<u64, ()>)>();
        let b = std::thread::spawn(move || {
            for (reply, ping) in from_a {
                let value = *ping.get_result().unwrap();
                reply.set_result(value + 1);
            }
        });
        for i in 0..ROUNDS {
            let (ping_p, ping_f) = promise::<u64, ()>();
            let (pong_p, pong_f) = promise::<u64, ()>();
            to_b.send((pong_p, ping_f)).unwrap();
            ping_p.set_result(2 * i);
            assert_eq!(pong_f.get_result(), Ok(&(2 * i + 1)));
        }
        drop(to_b);
        b.join().unwrap();
    });
}
