//! Memory, measured by a counting global allocator: timed-out and cancelled
//! waits on futures that stay pending keep live memory bounded (JDK-8160402,
//! JDK-8303742), and the hot paths that promise not to allocate do not.

mod common;

use common::alloc::{CountingAllocator, live_allocs, live_bytes, thread_allocs};
use common::no_hang;
use forthcoming::{
    ReturnWhen, Waitable, promise, wait, wait_all, wait_all_async, wait_any, wait_any_async,
    wait_async,
};
use forthcoming_test_support::poll_with;
use std::future::IntoFuture;
use std::sync::Mutex;
use std::task::{Poll, Waker};
use std::time::Duration;

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

/// The live counters are process-wide: tests that read them run one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

const TINY: Duration = Duration::from_micros(1);
const ITERATIONS: usize = 100_000;
/// Live allocations that may appear between 10k and 100k iterations without
/// scaling with the count: epoch bags not yet collected, thread-locals, test
/// harness noise. A leak of one allocation per iteration would be 90,000.
const SLACK_ALLOCS: usize = 3_000;
const SLACK_BYTES: usize = 512 * 1024;

/// Runs `op(i)` for `ITERATIONS` iterations and checks that live memory after
/// all of them is within a constant of live memory after 10k of them.
fn assert_bounded(what: &str, op: impl FnMut(usize)) {
    assert_bounded_over(ITERATIONS, what, op);
}

/// [`assert_bounded`] over `iterations` (at least 10k) iterations.
fn assert_bounded_over(iterations: usize, what: &str, mut op: impl FnMut(usize)) {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    for i in 0..1_000 {
        op(i); // warm-up: epoch registration, thread-locals, lazy statics
    }
    for i in 1_000..10_000 {
        op(i);
    }
    let (allocs_10k, bytes_10k) = (live_allocs(), live_bytes());
    for i in 10_000..iterations {
        op(i);
    }
    let (allocs_end, bytes_end) = (live_allocs(), live_bytes());
    let grown_allocs = allocs_end.saturating_sub(allocs_10k);
    let grown_bytes = bytes_end.saturating_sub(bytes_10k);
    assert!(
        grown_allocs < SLACK_ALLOCS && grown_bytes < SLACK_BYTES,
        "{what}: live memory grew by {grown_allocs} allocations / {grown_bytes} bytes \
         from 10k to {iterations} iterations ({allocs_10k} -> {allocs_end} allocations)"
    );
}

#[test]
fn jdk_8160402_timed_out_waits_on_a_pending_future_keep_memory_bounded() {
    no_hang("timed-out waits", || {
        let (p, f) = promise::<u64, ()>();
        assert_bounded("wait_timeout(1us)", |_| assert!(!f.wait_timeout(TINY)));
        assert_bounded("result(Some(1us))", |_| {
            assert!(f.result(Some(TINY)).is_err())
        });
        assert!(
            !common::has_waiters(&f),
            "every timed-out wait unlinked itself"
        );
        p.set_result(1);
        assert_eq!(f.get_result(), Ok(&1));
    });
}

#[test]
fn jdk_8160402_timed_out_group_waits_keep_memory_bounded() {
    no_hang("timed-out group waits", || {
        let (pa, a) = promise::<u64, ()>();
        let (_pb, b) = promise::<u64, ()>();
        assert_bounded("wait([a, b], 1us, FirstCompleted)", |_| {
            let (done, not_done) = wait([&a, &b], Some(TINY), ReturnWhen::FirstCompleted);
            assert!(done.is_empty() && not_done == [0, 1]);
        });
        assert!(
            !common::has_waiters(&a),
            "every timed-out wait unlinked itself"
        );
        pa.set_result(1);
        assert_eq!(wait_any([&a, &b]), Some(0));
    });
}

#[test]
fn jdk_8160402_alternating_long_lived_and_timed_out_waiters_keep_memory_bounded() {
    // A waiter that stays linked on top while timed-out ones come and go
    // beneath it: "dead nodes pile up under a live head" must not happen.
    no_hang("live waiter over dead ones", || {
        let (p, f) = promise::<u64, ()>();
        let reader = f.clone();
        let blocked = std::thread::spawn(move || *reader.get_result().unwrap());
        common::await_registered(&f);
        assert_bounded("timed waits under a live waiter", |i| {
            if i % 2 == 0 {
                assert!(!f.wait_timeout(TINY));
            } else {
                let (done, _) = wait([&f, &f], Some(TINY), ReturnWhen::AllCompleted);
                assert!(done.is_empty());
            }
        });
        p.set_result(5);
        assert_eq!(blocked.join().unwrap(), 5);
    });
}

/// How a test cancels a pending async wait.
#[derive(Clone, Copy, Debug)]
enum Cancel {
    /// Poll it once by hand, then drop it.
    Drop,
    /// `tokio::time::timeout_at` with a deadline already passed: the wait
    /// is polled (registered), the timer fires, the wait is dropped.
    Timeout,
    /// A `biased` `tokio::select!` whose second branch is ready at once.
    SelectLoser,
}

/// Polls `wait` until it has registered, then cancels it as `how` says;
/// `past` is a deadline that has passed.
fn cancel<F: std::future::Future + Unpin>(
    runtime: &tokio::runtime::Runtime,
    past: tokio::time::Instant,
    how: Cancel,
    mut wait: F,
) {
    match how {
        Cancel::Drop => assert!(poll_with(&mut wait, Waker::noop()).is_pending()),
        Cancel::Timeout => {
            let outcome = runtime.block_on(async { tokio::time::timeout_at(past, wait).await });
            assert!(outcome.is_err(), "the wait is pending");
        }
        Cancel::SelectLoser => runtime.block_on(async {
            tokio::select! {
                biased;
                _ = wait => panic!("the wait is pending"),
                () = std::future::ready(()) => {}
            }
        }),
    }
}

#[test]
fn jdk_8160402_cancelled_async_waits_keep_memory_bounded() {
    no_hang("cancelled async waits", || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        // Tokio's timer rounds a deadline up to its next millisecond: one
        // taken before the loop has passed for every iteration but the first.
        let past = tokio::time::Instant::now();
        let (p, f) = promise::<u64, ()>();
        let (_q, g) = promise::<u64, ()>();
        // 100k waits, every kind of wait cancelled every way.
        assert_bounded("cancelled async waits", |i| {
            let how = [Cancel::Drop, Cancel::Timeout, Cancel::SelectLoser][i / 3 % 3];
            match i % 3 {
                0 => cancel(&runtime, past, how, (&f).into_future()),
                1 => cancel(&runtime, past, how, wait_any_async([&f, &g])),
                _ => cancel(
                    &runtime,
                    past,
                    how,
                    wait_async([&g, &f], ReturnWhen::FirstException),
                ),
            }
        });
        p.set_result(3);
        assert_eq!(
            futures::executor::block_on(wait_any_async([&g, &f])),
            Some(1)
        );
    });
}

#[test]
fn jdk_8303742_failure_after_many_timed_waits_and_among_registered_ones_frees_everything() {
    no_hang("failure after timed waits", || {
        let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        // Warm up this thread's epoch state and the harness.
        {
            let (_p, f) = promise::<Vec<u8>, String>();
            for _ in 0..1_000 {
                assert!(!f.wait_timeout(TINY));
            }
        }
        let before = live_allocs();
        for round in 0..100 {
            let (p, f) = promise::<Vec<u8>, String>();
            for _ in 0..200 {
                assert!(f.result(Some(TINY)).is_err());
            }
            // Still registered when the failure lands, dropped after it.
            let mut registered: Vec<_> = (0..10).map(|_| (&f).into_future()).collect();
            for wait in &mut registered {
                assert!(poll_with(wait, Waker::noop()).is_pending());
            }
            p.set_exception(format!("round {round}"));
            for wait in &mut registered {
                let failed = poll_with(wait, Waker::noop());
                assert!(matches!(failed, Poll::Ready(Err(_))));
            }
            drop(registered);
            assert!(f.get_exception().is_some());
        }
        let after = live_allocs();
        assert!(
            after.saturating_sub(before) < SLACK_ALLOCS,
            "100 failed futures after 20k timed waits left {} allocations alive",
            after.saturating_sub(before)
        );
    });
}

#[test]
fn reading_a_done_future_does_not_allocate() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let (p, f) = promise::<u64, String>();
    p.set_result(1);
    let _ = f.id();
    let before = thread_allocs();
    for _ in 0..10_000 {
        f.wait();
        assert!(f.wait_timeout(Duration::from_secs(1)));
        assert_eq!(f.get_result(), Ok(&1));
        assert_eq!(f.result(Some(Duration::ZERO)), Ok(&1));
        assert_eq!(f.check_success(), Ok(()));
        assert!(f.get_exception().is_none() && f.exception().is_none());
        assert_eq!(wait_any([&f, &f]), Some(0));
        let _ = f.id();
    }
    assert_eq!(
        thread_allocs() - before,
        0,
        "waiting on a done future allocated"
    );
}

#[test]
fn wait_any_finds_a_done_future_behind_pending_ones_without_allocating() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let (promises, futures): (Vec<_>, Vec<_>) = (0..64).map(|_| promise::<u64, ()>()).unzip();
    let mut promises = promises;
    promises.pop().unwrap().set_result(7);
    let before = thread_allocs();
    for _ in 0..1_000 {
        assert_eq!(wait_any(&futures), Some(63));
        let mixed = futures.iter().map(|f| f as &dyn Waitable);
        assert_eq!(wait_any(mixed), Some(63));
        let ready = poll_with(&mut wait_any_async(&futures), Waker::noop());
        assert_eq!(ready, Poll::Ready(Some(63)));
    }
    assert_eq!(
        thread_allocs() - before,
        0,
        "wait_any over 63 pending futures and a done one allocated"
    );
    drop(promises);
}

#[test]
fn waits_over_done_futures_allocate_only_their_result() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let (promises, futures): (Vec<_>, Vec<_>) = (0..64).map(|_| promise::<u64, ()>()).unzip();
    for (i, p) in promises.into_iter().enumerate() {
        p.set_result(i as u64);
    }
    let before = thread_allocs();
    for _ in 0..1_000 {
        // One allocation: `done`, sized at once; `not_done` stays empty.
        let (done, not_done) = wait(&futures, None, ReturnWhen::FirstException);
        assert_eq!((done.len(), not_done.len()), (64, 0));
        wait_all(&futures);
        assert_eq!(
            poll_with(&mut wait_all_async(&futures), Waker::noop()),
            Poll::Ready(())
        );
    }
    assert_eq!(
        thread_allocs() - before,
        1_000,
        "a wait over 64 done futures made more than its result vector"
    );
}

#[test]
fn an_async_wait_registers_once_and_re_polls_without_allocating() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let (promises, futures): (Vec<_>, Vec<_>) = (0..1024).map(|_| promise::<u64, ()>()).unzip();
    let waker = Waker::noop();
    // A `filter` hides the length (size hint 0..=1024): the node buffer is
    // still one allocation, sized by the upper bound.
    let before = thread_allocs();
    let mut any = wait_any_async(futures.iter().filter(|_| true));
    assert_eq!(thread_allocs() - before, 1, "creation: the pending lists");
    assert!(poll_with(&mut any, waker).is_pending());
    assert_eq!(
        thread_allocs() - before,
        3,
        "first poll: the waiter and one buffer of 1024 nodes"
    );
    let mut all = wait_all_async(&futures);
    let mut group = wait_async(&futures, ReturnWhen::FirstCompleted);
    let mut completion = (&futures[0]).into_future();
    assert!(poll_with(&mut all, waker).is_pending());
    assert!(poll_with(&mut group, waker).is_pending());
    assert!(poll_with(&mut completion, waker).is_pending());
    let before = thread_allocs();
    for _ in 0..1_000 {
        assert!(poll_with(&mut any, waker).is_pending());
        assert!(poll_with(&mut all, waker).is_pending());
        assert!(poll_with(&mut group, waker).is_pending());
        assert!(poll_with(&mut completion, waker).is_pending());
    }
    assert_eq!(
        thread_allocs() - before,
        0,
        "a re-poll allocated: it must only swap the waker"
    );
    drop((any, all, group, completion));
    drop(promises);
}

#[test]
fn a_pair_is_one_allocation_and_set_result_allocates_nothing() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let before = thread_allocs();
    let pairs: Vec<_> = (0..1_000).map(|_| promise::<u64, ()>()).collect::<Vec<_>>();
    let made = thread_allocs() - before;
    // One for the Vec's buffer, one per pair.
    assert_eq!(
        made,
        1_000 + 1,
        "promise() made {made} allocations for 1000 pairs"
    );
    let before = thread_allocs();
    let mut futures = Vec::with_capacity(pairs.len());
    let mut promises = Vec::with_capacity(pairs.len());
    for (p, f) in pairs {
        promises.push(p);
        futures.push(f);
    }
    let moved = thread_allocs() - before;
    assert_eq!(moved, 2);
    let before = thread_allocs();
    for (i, p) in promises.into_iter().enumerate() {
        p.set_result(i as u64);
    }
    assert_eq!(
        thread_allocs() - before,
        0,
        "set_result without waiters allocated"
    );
}

#[test]
fn completing_with_waiters_allocates_nothing_on_the_completer() {
    no_hang("completer allocations", || {
        let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        let mut allocated = 0;
        for round in 0..200 {
            let (p, f) = promise::<u64, ()>();
            let readers: Vec<_> = (0..2)
                .map(|_| {
                    let f = f.clone();
                    std::thread::spawn(move || *f.get_result().unwrap())
                })
                .collect();
            common::await_registered(&f);
            let before = thread_allocs();
            p.set_result(round);
            if round > 0 {
                // Round 0 warms up this thread's epoch registration.
                allocated += thread_allocs() - before;
            }
            for reader in readers {
                assert_eq!(reader.join().unwrap(), round);
            }
        }
        assert_eq!(allocated, 0, "completing a future with waiters allocated");
    });
}

#[test]
fn callbacks_are_freed_once_run_on_every_completion_path() {
    no_hang("callbacks", || {
        assert_bounded("a callback run by set_result", |i| {
            let (p, f) = promise::<u64, ()>();
            f.add_done_callback(move |done| assert_eq!(done.get_result(), Ok(&(i as u64))));
            p.set_result(i as u64);
        });
        assert_bounded("a callback on a future whose promise drops", |_| {
            let (p, f) = promise::<u64, ()>();
            f.add_done_callback(|done| assert!(done.get_exception().is_some()));
            drop(f);
            drop(p);
        });
        assert_bounded("a callback on a done future", |_| {
            let (p, f) = promise::<u64, ()>();
            p.set_result(1);
            f.add_done_callback(|done| assert!(done.done()));
        });
    });
}

#[test]
fn timed_out_producer_waits_keep_memory_bounded() {
    no_hang("timed-out wait_abandoned", || {
        let (p, f) = promise::<u64, ()>();
        assert_bounded("timed-out wait_abandoned", |_| {
            assert!(!p.wait_abandoned(Some(TINY)));
        });
        drop(f);
        assert!(p.is_abandoned());
    });
}

#[test]
fn dropped_as_completed_on_pending_futures_keep_memory_bounded() {
    let (_p, f) = promise::<u64, ()>();
    let (_q, g) = promise::<u64, ()>();
    assert_bounded("dropped as_completed", |_| {
        let mut order = forthcoming::as_completed([&f, &g]);
        assert!(order.next_timeout(Duration::ZERO).is_err());
    });
}

#[test]
fn scala_si_7336_a_pending_loop_of_tail_calls_keeps_constant_memory() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let (first, head) = promise::<u64, ()>();
    let mut p = first;
    let mut baseline = None;
    for i in 0..1_000_000 {
        let (next, f) = promise::<u64, ()>();
        p.forward(f);
        p = next;
        // The first rounds pay for this thread's epoch handle and worklist.
        if i == 10 {
            baseline = Some(live_allocs());
        }
        // Checked every 1000 calls: a leak of one allocation per call would
        // be 1000 more; the slack is other tests' allocations meanwhile.
        if let Some(baseline) = baseline.filter(|_| i % 1_000 == 0) {
            let live = live_allocs();
            assert!(
                live <= baseline + 100,
                "after {i} tail calls: {live} live allocations, {baseline} after 10"
            );
        }
    }
    p.set_result(7);
    assert_eq!(head.get_result(), Ok(&7));
}

#[test]
fn forwards_and_the_cycles_they_close_free_everything() {
    no_hang("forwards", || {
        assert_bounded("a forward to a shared future", |i| {
            let (p, f) = promise::<u64, ()>();
            let (q, g) = promise::<u64, ()>();
            p.forward(g.clone());
            q.set_result(i as u64);
            assert_eq!(f.get_result(), Ok(&(i as u64)));
        });
        assert_bounded("a forward linking a sole future", |i| {
            let (p, f) = promise::<u64, ()>();
            let (q, g) = promise::<u64, ()>();
            p.forward(g);
            q.set_result(i as u64);
            assert_eq!(f.get_result(), Ok(&(i as u64)));
        });
        assert_bounded("a promise forwarded to its own future", |_| {
            let (p, f) = promise::<u64, ()>();
            p.forward(f);
        });
        assert_bounded("a ring of three forwards", |_| {
            let (pa, fa) = promise::<u64, ()>();
            let (pb, fb) = promise::<u64, ()>();
            let (pc, fc) = promise::<u64, ()>();
            pa.forward(fb.clone());
            pb.forward(fc.clone());
            pc.forward(fa.clone());
            assert!([fa, fb, fc].iter().all(|f| f.get_exception().is_some()));
        });
    });
}

#[test]
fn a_million_futures_through_one_completion_queue_keep_memory_flat() {
    no_hang("completion queue", || {
        // Sixteen futures stay pending at every step, so each slab of nodes
        // is retired (eight at a time) when a take releases its last node.
        let mut queue = forthcoming::CompletionQueue::<u64, ()>::new();
        let mut window = std::collections::VecDeque::new();
        assert_bounded_over(1_000_000, "push, complete one, take one", |i| {
            let (p, f) = promise::<u64, ()>();
            queue.push(f);
            window.push_back(p);
            if window.len() > 16 {
                window.pop_front().unwrap().set_result(i as u64);
                let done = queue.wait_next().unwrap();
                assert_eq!(done.get_result(), Ok(&(i as u64)));
            }
        });
        assert_eq!(queue.len(), 16);
    });
}

#[test]
fn a_completion_queue_taking_each_future_before_the_next_keeps_memory_flat() {
    no_hang("completion queue, one at a time", || {
        // Nothing stays pending: every node of a slab is released by the
        // time it is used up, so it is retired when the next one is opened
        // (eight such slabs at a time).
        let mut queue = forthcoming::CompletionQueue::<u64, ()>::new();
        assert_bounded_over(200_000, "push, complete, take", |i| {
            let (p, f) = promise::<u64, ()>();
            queue.push(f);
            p.set_result(i as u64);
            let done = queue.wait_next().unwrap();
            assert_eq!(done.get_result(), Ok(&(i as u64)));
        });
        assert!(queue.is_empty());
    });
}

#[test]
fn completion_queues_dropped_with_futures_pending_free_every_slab() {
    no_hang("dropped completion queues", || {
        assert_bounded("a queue of 40, 10 taken, 20 pending at its drop", |i| {
            let mut queue = forthcoming::CompletionQueue::<u64, ()>::new();
            let mut pending = Vec::new();
            for k in 0..40 {
                let (p, f) = promise::<u64, ()>();
                queue.push(f);
                if k % 2 == 0 {
                    p.set_result(i as u64);
                } else {
                    pending.push(p);
                }
            }
            for _ in 0..10 {
                assert!(queue.wait_next().unwrap().done());
            }
            // Both slabs still hold nodes: the full one and the current.
            drop(queue);
            drop(pending);
        });
    });
}
