//! `as_completed` and `as_completed_async`: the order (done at the call
//! first, ascending; then completion order), every position exactly once
//! under stress, duplicates, the time-out edge cases, "done at the call"
//! for the stream, and that a dropped one leaves no node linked (bpo-27144:
//! it keeps nothing of yielded futures).

mod common;

use common::{XorShift, has_waiters, no_hang, pairs, scaled};
use forthcoming::{Timeout, as_completed, as_completed_async, promise};
use forthcoming_test_support::{CountingWaker, poll_with};
use futures::StreamExt;
use futures::stream::FusedStream;
use std::task::Poll;
use std::thread;
use std::time::{Duration, Instant};

#[test]
fn done_at_the_call_first_ascending_then_completion_order() {
    let (promises, futures) = pairs::<usize, ()>(6);
    let mut promises: Vec<_> = promises.into_iter().map(Some).collect();
    for i in [4, 1] {
        promises[i].take().unwrap().set_result(i);
    }
    let mut order = as_completed(&futures);
    assert_eq!(order.len(), 6);
    let later = [3, 0, 5, 2];
    for i in later {
        promises[i].take().unwrap().set_result(i);
    }
    // The four later ones are taken off the stack at once: the length
    // still counts down by one a position.
    let mut yielded = Vec::new();
    while let Some(position) = order.next() {
        yielded.push(position);
        assert_eq!(order.len(), 6 - yielded.len());
    }
    assert_eq!(yielded, [1, 4, 3, 0, 5, 2]);
}

#[test]
fn exact_order_with_one_completer_thread() {
    no_hang("one completer", || {
        let n = scaled(1_000);
        let (promises, futures) = pairs::<usize, ()>(n);
        let mut permutation: Vec<usize> = (0..n).collect();
        XorShift::new(7).shuffle(&mut permutation);
        let expected = permutation.clone();
        let mut promises: Vec<_> = promises.into_iter().map(Some).collect();
        let order = as_completed(&futures);
        let completer = thread::spawn(move || {
            for i in permutation {
                promises[i].take().unwrap().set_result(i);
            }
        });
        assert_eq!(order.collect::<Vec<_>>(), expected);
        completer.join().unwrap();
    });
}

#[test]
fn every_position_once_with_four_completer_threads() {
    no_hang("four completers", || {
        let n = scaled(10_000);
        let (promises, futures) = pairs::<usize, ()>(n);
        let order = as_completed(&futures);
        let completers = common::complete_on_threads(promises, 4);
        let mut seen = vec![false; n];
        for position in order {
            assert!(!seen[position], "{position} yielded twice");
            assert_eq!(futures[position].get_result(), Ok(&position));
            seen[position] = true;
        }
        assert!(seen.iter().all(|&s| s));
        for completer in completers {
            completer.join().unwrap();
        }
    });
}

#[test]
fn duplicates_are_separate_positions() {
    let (p, f) = promise::<u8, ()>();
    let (q, g) = promise::<u8, ()>();
    let mut order = as_completed([&f, &g, &f]);
    p.set_result(1);
    let mut first_two = [order.next().unwrap(), order.next().unwrap()];
    first_two.sort_unstable();
    assert_eq!(first_two, [0, 2]);
    q.set_result(2);
    assert_eq!(order.next(), Some(1));
    assert_eq!(order.next(), None);
}

#[test]
fn the_stream_counts_done_at_its_call_not_at_its_first_poll() {
    let (p, f) = promise::<u8, ()>();
    let (q, g) = promise::<u8, ()>();
    let (r, h) = promise::<u8, ()>();
    r.set_result(2);
    let order = as_completed_async([&f, &g, &h, &g]);
    // Both complete after the call, before the first poll: completion
    // order, after the one done at the call.
    q.set_result(1);
    p.set_result(0);
    let positions: Vec<usize> = futures::executor::block_on(order.collect());
    assert_eq!(positions[0], 2, "done at the call: first");
    let mut duplicates = [positions[1], positions[2]];
    duplicates.sort_unstable();
    assert_eq!(duplicates, [1, 3], "g's two positions, when g completed");
    assert_eq!(positions[3], 0);
}

#[test]
fn empty_input() {
    let none: [&forthcoming::Future<u8, ()>; 0] = [];
    let mut order = as_completed(none);
    assert_eq!(order.next_timeout(Duration::ZERO), Ok(None));
    assert_eq!(order.next(), None);
    let mut stream = as_completed_async(none);
    assert_eq!(futures::executor::block_on(stream.next()), None);
    assert!(stream.is_terminated());
}

#[test]
fn zero_and_max_time_outs() {
    let (p, f) = promise::<u8, ()>();
    let (q, g) = promise::<u8, ()>();
    let mut order = as_completed([&f, &g]);
    assert_eq!(order.next_timeout(Duration::ZERO), Err(Timeout));
    assert_eq!(order.next_deadline(Instant::now()), Err(Timeout));
    p.set_result(0);
    // A zero time-out still returns a position that has completed.
    assert_eq!(order.next_timeout(Duration::ZERO), Ok(Some(0)));
    let completer = thread::spawn(move || q.set_result(1));
    assert_eq!(order.next_timeout(Duration::MAX), Ok(Some(1)));
    assert_eq!(order.next_timeout(Duration::MAX), Ok(None));
    completer.join().unwrap();
}

#[test]
fn bpo_27144_a_dropped_as_completed_leaves_no_node_linked() {
    let (promises, futures) = pairs::<u8, ()>(4);
    let mut promises = promises.into_iter();
    let mut order = as_completed(&futures);
    assert!(futures.iter().all(has_waiters));
    promises.next().unwrap().set_result(0);
    assert_eq!(order.next(), Some(0));
    drop(order);
    assert!(!futures.iter().any(has_waiters), "{futures:?}");
    // Fully drained, it lets go at the last position.
    let mut order = as_completed(&futures[1..]);
    for p in promises {
        p.set_result(1);
    }
    assert_eq!(order.by_ref().count(), 3);
    assert!(format!("{order:?}").contains("left: 0"), "{order:?}");
}

#[test]
fn a_timed_out_next_then_a_completion() {
    let (p, f) = promise::<u8, ()>();
    let mut order = as_completed([&f]);
    for _ in 0..scaled(100) {
        assert_eq!(order.next_timeout(Duration::from_micros(1)), Err(Timeout));
    }
    thread::scope(|s| {
        let consumer = s.spawn(move || order.next());
        p.set_result(1);
        assert_eq!(consumer.join().unwrap(), Some(0));
    });
}

#[test]
fn the_stream_sleeps_and_is_woken_once_per_batch() {
    let (p, f) = promise::<u8, ()>();
    let (q, g) = promise::<u8, ()>();
    let mut order = as_completed_async([&f, &g]);
    let (counter, waker) = CountingWaker::new();
    assert_eq!(poll_with(&mut order.next(), &waker), Poll::Pending);
    q.set_result(1);
    assert_eq!(counter.wakes(), 1);
    p.set_result(0);
    assert_eq!(counter.wakes(), 1, "only a sleeping consumer is woken");
    assert_eq!(poll_with(&mut order.next(), &waker), Poll::Ready(Some(1)));
    assert_eq!(poll_with(&mut order.next(), &waker), Poll::Ready(Some(0)));
    assert!(!order.is_terminated());
    assert_eq!(poll_with(&mut order.next(), &waker), Poll::Ready(None));
    assert!(order.is_terminated());
}

#[test]
fn the_stream_in_tokio_with_a_completer_thread() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let n = scaled(1_000);
    let (promises, futures) = pairs::<usize, ()>(n);
    let positions = runtime.block_on(async {
        let order = as_completed_async(&futures);
        let completer = thread::spawn(move || {
            for (i, p) in promises.into_iter().enumerate().rev() {
                p.set_result(i);
            }
        });
        let positions: Vec<usize> = order.collect().await;
        completer.join().unwrap();
        positions
    });
    assert_eq!(positions, (0..n).rev().collect::<Vec<_>>());
}
