//! `CompletionQueue`: completion order (a future done at the push counts as
//! completing there), pushes between takes, clones of one future as
//! separate entries, every future exactly once under stress, the time-out
//! edge cases, forwarded futures, the stream in tokio and in
//! `futures::executor`, and a dropped queue leaving no node linked.

mod common;

use common::{XorShift, has_waiters, no_hang, pairs, scaled};
use forthcoming::{CompletionQueue, Future, Timeout, promise};
use forthcoming_test_support::{CountingWaker, poll_with};
use futures::StreamExt;
use std::task::Poll;
use std::thread;
use std::time::{Duration, Instant};

/// The value of a future the queue handed back, which must be done.
fn value(future: Future<usize, ()>) -> usize {
    assert!(future.done(), "handed back before it completed");
    *future.get_result().unwrap()
}

#[test]
fn exact_order_with_one_completer_thread() {
    no_hang("one completer", || {
        let n = scaled(1_000);
        let (promises, futures) = pairs::<usize, ()>(n);
        let mut queue = CompletionQueue::new();
        for future in futures {
            queue.push(future);
        }
        let mut permutation: Vec<usize> = (0..n).collect();
        XorShift::new(11).shuffle(&mut permutation);
        let expected = permutation.clone();
        let mut promises: Vec<_> = promises.into_iter().map(Some).collect();
        let completer = thread::spawn(move || {
            for i in permutation {
                promises[i].take().unwrap().set_result(i);
            }
        });
        let order: Vec<usize> = std::iter::from_fn(|| queue.wait_next().map(value)).collect();
        assert_eq!(order, expected);
        completer.join().unwrap();
    });
}

#[test]
fn done_at_the_push_comes_after_what_completed_before() {
    let mut queue = CompletionQueue::<usize, ()>::new();
    let (p0, f0) = promise();
    let (p1, f1) = promise();
    queue.push(f0);
    queue.push(f1);
    p1.set_result(1);
    queue.push(Future::ready(2));
    p0.set_result(0);
    queue.push(Future::ready(3));
    let order: Vec<usize> = std::iter::from_fn(|| queue.wait_next().map(value)).collect();
    assert_eq!(order, [1, 2, 0, 3]);
}

#[test]
fn pushes_between_takes_hand_back_in_order() {
    let mut queue = CompletionQueue::<usize, ()>::new();
    let mut pending = Vec::new();
    for round in 0..scaled(100) {
        let (p, f) = promise();
        queue.push(f);
        pending.push(p);
        if round % 3 == 2 {
            // Complete the oldest two; one more stays pending each time.
            for (i, p) in pending.drain(..2).enumerate() {
                p.set_result(round + i);
            }
            assert_eq!(queue.wait_next().map(value), Some(round));
            assert_eq!(queue.wait_next().map(value), Some(round + 1));
            assert_eq!(queue.len(), pending.len());
        }
    }
    assert_eq!(
        queue.wait_next_timeout(Duration::ZERO).unwrap_err(),
        Timeout
    );
    let left = pending.len();
    drop(pending);
    let broken = std::iter::from_fn(|| queue.wait_next()).filter(|f| f.exception().is_some());
    assert_eq!(broken.count(), left);
    assert!(queue.is_empty());
}

#[test]
fn clones_of_one_future_are_separate_entries() {
    let mut queue = CompletionQueue::<usize, ()>::new();
    let (p, f) = promise();
    let (q, g) = promise();
    queue.push(f.clone());
    queue.push(g);
    queue.push(f);
    assert_eq!(queue.len(), 3);
    p.set_result(0);
    // Both clones come back once their future completes, before `g`.
    assert_eq!(queue.wait_next().map(value), Some(0));
    assert_eq!(queue.wait_next().map(value), Some(0));
    assert_eq!(
        queue.wait_next_timeout(Duration::ZERO).unwrap_err(),
        Timeout
    );
    q.set_result(1);
    assert_eq!(queue.wait_next().map(value), Some(1));
    assert!(queue.is_empty());
}

#[test]
fn every_future_once_with_four_completer_threads() {
    no_hang("four completers", || {
        let n = scaled(10_000);
        let (promises, futures) = pairs::<usize, ()>(n);
        let mut queue = CompletionQueue::new();
        // Half pushed before the completers start, half while they run.
        let mut futures = futures.into_iter();
        for future in futures.by_ref().take(n / 2) {
            queue.push(future);
        }
        let completers = common::complete_on_threads(promises, 4);
        let mut seen = vec![false; n];
        let mut record = |future| {
            let i = value(future);
            assert!(!seen[i], "{i} handed back twice");
            seen[i] = true;
        };
        for future in futures {
            queue.push(future);
            if let Ok(Some(done)) = queue.wait_next_timeout(Duration::ZERO) {
                record(done);
            }
        }
        while let Some(done) = queue.wait_next() {
            record(done);
        }
        assert!(seen.iter().all(|&s| s));
        for completer in completers {
            completer.join().unwrap();
        }
    });
}

#[test]
fn empty_queue() {
    let mut queue = CompletionQueue::<u8, ()>::default();
    assert_eq!(
        queue.wait_next_timeout(Duration::ZERO).unwrap().map(|_| ()),
        None
    );
    assert!(queue.wait_next().is_none());
    assert!(futures::executor::block_on(queue.next()).is_none());
    assert_eq!(
        format!("{queue:?}"),
        "CompletionQueue { len: 0, taken_ready: 0, .. }"
    );
}

#[test]
fn zero_and_max_time_outs() {
    let mut queue = CompletionQueue::<usize, ()>::new();
    let (p, f) = promise();
    let (q, g) = promise();
    queue.push(f);
    queue.push(g);
    assert_eq!(
        queue.wait_next_timeout(Duration::ZERO).unwrap_err(),
        Timeout
    );
    assert_eq!(
        queue.wait_next_deadline(Instant::now()).unwrap_err(),
        Timeout
    );
    p.set_result(0);
    // A zero time-out still hands back a future that has completed.
    assert_eq!(
        queue.wait_next_timeout(Duration::ZERO).unwrap().map(value),
        Some(0)
    );
    let completer = thread::spawn(move || q.set_result(1));
    assert_eq!(
        queue.wait_next_timeout(Duration::MAX).unwrap().map(value),
        Some(1)
    );
    assert_eq!(
        queue.wait_next_timeout(Duration::MAX).unwrap().map(value),
        None
    );
    completer.join().unwrap();
}

#[test]
fn a_dropped_queue_leaves_no_node_linked() {
    let (promises, futures) = pairs::<usize, ()>(4);
    let watched: Vec<_> = futures.clone();
    let mut queue = CompletionQueue::new();
    for future in futures {
        queue.push(future);
    }
    assert!(watched.iter().all(has_waiters));
    let mut promises = promises.into_iter();
    promises.next().unwrap().set_result(0);
    promises.next().unwrap().set_result(1);
    assert_eq!(queue.wait_next().map(value), Some(0));
    // One completed and not taken, two pending: dropped half-way.
    drop(queue);
    assert!(!watched.iter().any(has_waiters), "{watched:?}");
    for (i, p) in promises.enumerate() {
        p.set_result(i + 2);
    }
    assert_eq!(watched[3].get_result(), Ok(&3));
}

#[test]
fn forwarded_futures_and_callbacks() {
    let mut queue = CompletionQueue::<usize, ()>::new();
    let (target, forwarded) = promise();
    let (source, waited) = promise();
    target.forward(waited.clone());
    queue.push(forwarded);
    queue.push(waited.clone());
    let (tx, rx) = std::sync::mpsc::channel();
    waited.add_done_callback(move |f| tx.send(*f.get_result().unwrap()).unwrap());
    drop(waited);
    source.set_result(5);
    assert_eq!(rx.recv(), Ok(5));
    let mut values: Vec<usize> = std::iter::from_fn(|| queue.wait_next().map(value)).collect();
    values.sort_unstable();
    assert_eq!(values, [5, 5]);
}

#[test]
fn the_stream_sleeps_and_is_woken_once_per_batch() {
    let mut queue = CompletionQueue::<usize, ()>::new();
    let (p, f) = promise();
    let (q, g) = promise();
    queue.push(f);
    queue.push(g);
    let (counter, waker) = CountingWaker::new();
    assert!(poll_with(&mut queue.next(), &waker).is_pending());
    q.set_result(1);
    assert_eq!(counter.wakes(), 1);
    p.set_result(0);
    assert_eq!(counter.wakes(), 1, "only a sleeping consumer is woken");
    let mut poll = || match poll_with(&mut queue.next(), &waker) {
        Poll::Ready(next) => next.map(value),
        Poll::Pending => panic!("pending with futures complete"),
    };
    assert_eq!([poll(), poll(), poll()], [Some(1), Some(0), None]);
}

#[test]
fn the_stream_in_tokio_with_pushes_while_draining() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let n = scaled(1_000);
    let values = runtime.block_on(async {
        let mut queue = CompletionQueue::<usize, ()>::new();
        let (promises, futures) = pairs::<usize, ()>(n);
        let completer = thread::spawn(move || {
            for (i, p) in promises.into_iter().enumerate().rev() {
                p.set_result(i);
            }
        });
        let mut values = Vec::new();
        for future in futures {
            queue.push(future);
            if queue.len() > 8 {
                values.push(value(queue.next().await.unwrap()));
            }
        }
        while let Some(done) = queue.next().await {
            values.push(value(done));
        }
        completer.join().unwrap();
        values
    });
    let mut sorted = values.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, (0..n).collect::<Vec<_>>());
}

#[test]
fn the_stream_in_futures_block_on() {
    let (promises, futures) = pairs::<usize, ()>(scaled(100));
    let mut queue = CompletionQueue::new();
    for future in futures {
        queue.push(future);
    }
    let completer = thread::spawn(move || {
        for (i, p) in promises.into_iter().enumerate() {
            p.set_result(i);
        }
    });
    let values: Vec<usize> = futures::executor::block_on(queue.map(value).collect());
    assert_eq!(values, (0..scaled(100)).collect::<Vec<_>>());
    completer.join().unwrap();
}

#[test]
fn pushing_a_done_future_wakes_a_sleeping_stream_and_later_completions_still_do() {
    // Another task shares the queue and pushes while this one sleeps.
    let mut queue = CompletionQueue::<usize, ()>::new();
    let (p, f) = promise::<usize, ()>();
    queue.push(f);
    let (wakes, waker) = CountingWaker::new();
    let mut next = queue.next();
    assert!(poll_with(&mut next, &waker).is_pending());
    drop(next);
    queue.push(Future::ready(1));
    assert_eq!(wakes.wakes(), 1, "the push woke the sleeping task");
    let mut next = queue.next();
    let Poll::Ready(Some(done)) = poll_with(&mut next, &waker) else {
        panic!("the pushed future is ready");
    };
    assert_eq!(value(done), 1);
    let mut next = queue.next();
    assert!(poll_with(&mut next, &waker).is_pending());
    drop(next);
    p.set_result(2);
    assert_eq!(wakes.wakes(), 2, "a later completion wakes it too");
}

/// Counts its drops in the shared counter.
struct Counted(std::sync::Arc<std::sync::atomic::AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
}

#[test]
fn every_held_value_is_dropped_once_whatever_path_its_future_took() {
    use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
    let drops = std::sync::Arc::new(AtomicUsize::new(0));
    // Ten slabs and more: full ones released (retired eight at a time),
    // full ones still holding nodes, and the current one.
    let n = 32 * 10 + 7;
    let mut queue = CompletionQueue::<Counted, ()>::new();
    let mut pending = Vec::new();
    let mut handed_back = 0;
    for k in 0..n {
        let (p, f) = promise::<Counted, ()>();
        match k % 4 {
            // Done at the push.
            0 => {
                p.set_result(Counted(drops.clone()));
                queue.push(f);
            }
            // Completed after the push, taken or left on the stack.
            1 | 2 => {
                queue.push(f);
                p.set_result(Counted(drops.clone()));
            }
            // Pending at the queue's drop.
            _ => {
                queue.push(f);
                pending.push(p);
            }
        }
        if k % 3 == 0 {
            if let Some(done) = queue.wait_next_timeout(Duration::ZERO).unwrap() {
                assert!(done.done());
                handed_back += 1;
            }
        }
    }
    assert_eq!(drops.load(Relaxed), handed_back);
    drop(queue);
    let completed = n - pending.len();
    assert_eq!(drops.load(Relaxed), completed);
    for p in pending {
        p.set_result(Counted(drops.clone()));
    }
    assert_eq!(drops.load(Relaxed), n);
}
