//! `Future::add_done_callback`: where and when a callback runs, exactly
//! once, with its captures dropped once on every path; chains in constant
//! stack (python-ndb #73, scylladb/python-driver #712); one panic policy
//! inline and queued (bpo-33110); a blocking wait inside a callback that
//! does not hang on work queued behind it (Twitter util's
//! `Scheduler.flush`, datastore-ndb-python #167).

mod common;

use common::{no_hang, scaled};
use forthcoming::{
    CompletionQueue, Failure, Future, Promise, ReturnWhen, as_completed, promise, wait,
};
use forthcoming_test_support::Drops;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Barrier, Mutex, mpsc};
use std::thread;
use std::time::Duration;

/// Counts how often each of `n` callbacks ran.
fn run_counts(n: usize) -> Arc<Vec<AtomicUsize>> {
    Arc::new((0..n).map(|_| AtomicUsize::new(0)).collect())
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .unwrap_or("<not a &str>")
}

#[test]
fn a_callback_on_a_done_future_runs_before_add_returns_on_this_thread() {
    let (p, f) = promise::<u32, ()>();
    p.set_result(5);
    let (sent, received) = mpsc::channel();
    f.add_done_callback(move |done| {
        sent.send((thread::current().id(), done.get_result().ok().copied()))
            .unwrap();
    });
    assert_eq!(received.try_recv(), Ok((thread::current().id(), Some(5))));
}

#[test]
fn a_callback_runs_on_the_completing_thread_once_the_outcome_is_set() {
    let (p, f) = promise::<u32, String>();
    let (sent, received) = mpsc::channel();
    f.add_done_callback(move |done| {
        sent.send((
            thread::current().id(),
            done.done(),
            done.exception().cloned(),
        ))
        .unwrap();
    });
    assert!(received.try_recv().is_err(), "ran before the completion");
    let completer = thread::spawn(move || {
        p.set_exception("down".to_string());
        thread::current().id()
    });
    let completer = completer.join().unwrap();
    assert_eq!(
        received.try_recv(),
        Ok((
            completer,
            true,
            Some(Failure::Exception("down".to_string()))
        ))
    );
}

#[test]
fn callbacks_added_while_another_thread_completes_each_run_exactly_once() {
    const ADDERS: usize = 8;
    let per_adder = scaled(2_000).max(10);
    for _ in 0..scaled(20).max(2) {
        let (p, f) = promise::<usize, ()>();
        let runs = run_counts(ADDERS * per_adder);
        let start = Arc::new(Barrier::new(ADDERS + 1));
        let adders: Vec<_> = (0..ADDERS)
            .map(|a| {
                let (f, runs, start) = (f.clone(), runs.clone(), start.clone());
                thread::spawn(move || {
                    start.wait();
                    for i in 0..per_adder {
                        let runs = runs.clone();
                        f.add_done_callback(move |done| {
                            assert_eq!(done.get_result(), Ok(&7), "ran before the outcome");
                            runs[a * per_adder + i].fetch_add(1, SeqCst);
                        });
                    }
                })
            })
            .collect();
        start.wait();
        p.set_result(7);
        for adder in adders {
            adder.join().unwrap();
        }
        for (i, count) in runs.iter().enumerate() {
            assert_eq!(count.load(SeqCst), 1, "callback {i}");
        }
    }
}

#[test]
fn a_dropped_promise_runs_its_callbacks_with_broken_promise_and_drops_their_captures() {
    let drops = Drops::new();
    let (p, f) = promise::<u32, ()>();
    let (sent, received) = mpsc::channel();
    for _ in 0..3 {
        let (captured, sent) = (drops.make(), sent.clone());
        f.add_done_callback(move |done| {
            sent.send(done.get_exception().cloned()).unwrap();
            drop(captured);
        });
    }
    drop(f); // the callbacks keep the outcome readable
    drop(p);
    let seen: Vec<_> = received.try_iter().collect();
    assert_eq!(seen, vec![Some(Failure::BrokenPromise); 3]);
    drops.assert_all_dropped_once();
}

#[test]
fn captures_are_dropped_once_whether_the_callback_runs_or_panics() {
    let drops = Drops::new();
    for panics in [false, true] {
        for done_first in [false, true] {
            let (p, f) = promise::<u32, ()>();
            if done_first {
                p.set_result(1);
                let captured = drops.make();
                let added = catch_unwind(AssertUnwindSafe(|| {
                    f.add_done_callback(move |_| {
                        let _captured = captured;
                        assert!(!panics, "callback panics");
                    });
                }));
                assert_eq!(added.is_err(), panics);
            } else {
                let captured = drops.make();
                f.add_done_callback(move |_| {
                    let _captured = captured;
                    assert!(!panics, "callback panics");
                });
                let completed = catch_unwind(AssertUnwindSafe(|| p.set_result(1)));
                assert_eq!(completed.is_err(), panics);
            }
        }
    }
    assert_eq!(drops.made(), 4);
    drops.assert_all_dropped_once();
}

#[test]
fn a_panicking_callback_stops_no_other_and_the_first_panic_resumes_from_the_completer() {
    let (p, f) = promise::<u32, ()>();
    let runs = run_counts(4);
    for i in 0..4 {
        let runs = runs.clone();
        f.add_done_callback(move |_| {
            runs[i].fetch_add(1, SeqCst);
            if i % 2 == 0 {
                panic!("callback panics");
            }
        });
    }
    let waiter = common::start_waiter(&f, || {
        let f = f.clone();
        thread::spawn(move || common::owned(f.get_result()))
    });
    let panic = catch_unwind(AssertUnwindSafe(|| p.set_result(3))).unwrap_err();
    assert_eq!(panic_message(&*panic), "callback panics");
    assert!(runs.iter().all(|count| count.load(SeqCst) == 1));
    assert_eq!(waiter.join().unwrap(), Ok(3));
    assert_eq!(f.get_result(), Ok(&3));
}

#[test]
fn a_panic_in_a_completion_a_callback_triggers_resumes_from_the_outermost_completer() {
    let (p1, f1) = promise::<u32, ()>();
    let (p2, f2) = promise::<u32, ()>();
    let runs = run_counts(2);
    f1.add_done_callback(move |_| p2.set_result(2));
    for i in 0..2 {
        let runs = runs.clone();
        f2.add_done_callback(move |_| {
            runs[i].fetch_add(1, SeqCst);
            assert!(i != 0, "nested callback panics");
        });
    }
    let panic = catch_unwind(AssertUnwindSafe(|| p1.set_result(1))).unwrap_err();
    assert_eq!(panic_message(&*panic), "nested callback panics");
    assert!(runs.iter().all(|count| count.load(SeqCst) == 1));
    assert_eq!(f2.get_result(), Ok(&2));
}

/// Builds `n` promises where the callback on each future completes the next
/// one with its value plus one; returns the first promise and last future.
fn callback_chain(n: usize) -> (forthcoming::Promise<u64, ()>, Future<u64, ()>) {
    let (first, mut future) = promise::<u64, ()>();
    for _ in 0..n {
        let (next, next_future) = promise::<u64, ()>();
        future.add_done_callback(move |done| next.set_result(done.get_result().unwrap() + 1));
        future = next_future;
    }
    (first, future)
}

#[test]
fn a_chain_of_a_million_callbacks_completes_on_a_256_kib_stack() {
    let n = common::CHAIN;
    let (first, last) = callback_chain(n);
    let completer = thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(move || first.set_result(0))
        .unwrap();
    completer
        .join()
        .expect("the chain completed without overflowing");
    assert_eq!(last.exception(), None);
    assert_eq!(last.get_result(), Ok(&(n as u64)));
}

#[test]
fn a_callback_added_inside_a_callback_to_a_done_future_is_queued_not_nested() {
    let n = common::CHAIN;
    let (p, f) = promise::<u64, ()>();
    p.set_result(0);
    let count = Arc::new(AtomicUsize::new(0));
    fn add(f: Future<u64, ()>, count: Arc<AtomicUsize>, left: usize) {
        if left == 0 {
            return;
        }
        f.clone().add_done_callback(move |_| {
            count.fetch_add(1, SeqCst);
            add(f, count, left - 1);
        });
    }
    let counted = count.clone();
    let adder = thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(move || add(f, counted, n))
        .unwrap();
    adder.join().expect("the callbacks ran without overflowing");
    assert_eq!(count.load(SeqCst), n);
}

#[test]
fn a_blocking_wait_inside_a_callback_runs_the_callbacks_queued_behind_it_first() {
    // A callback (`blocker`) waits on `gate`; the callback that completes
    // `gate` (`opener`) becomes due in the same run. Whichever of the two
    // the worklist runs first, nothing hangs; the test checks that in one of
    // the two orders `blocker` really found `gate` pending.
    let blocked_on_pending = no_hang("a blocking wait inside a callback", || {
        let mut blocked_on_pending = false;
        for opener_first in [false, true] {
            let (start, started) = promise::<(), ()>();
            let (to_blocker, for_blocker) = promise::<(), ()>();
            let (to_opener, for_opener) = promise::<(), ()>();
            let (gate, gate_future) = promise::<(), ()>();
            let (sent, received) = mpsc::channel();
            for_blocker.add_done_callback(move |_| {
                let pending = !gate_future.done();
                gate_future.wait();
                sent.send(pending).unwrap();
            });
            for_opener.add_done_callback(move |_| gate.set_result(()));
            started.add_done_callback(move |_| {
                if opener_first {
                    to_opener.set_result(());
                    to_blocker.set_result(());
                } else {
                    to_blocker.set_result(());
                    to_opener.set_result(());
                }
            });
            start.set_result(());
            blocked_on_pending |= received.try_recv().expect("the blocker ran");
        }
        blocked_on_pending
    });
    assert!(blocked_on_pending, "no order made the blocker wait");
}

#[test]
fn callbacks_run_after_every_waiting_thread_is_woken() {
    // The callback blocks until a thread that was waiting on the same future
    // has been woken and answered: it hangs if callbacks ran first.
    no_hang("a callback waiting for a woken waiter", || {
        let (p, f) = promise::<u32, ()>();
        let (answer, answered) = promise::<u32, ()>();
        let waiter = common::start_waiter(&f, || {
            let f = f.clone();
            thread::spawn(move || answer.set_result(f.get_result().unwrap() + 1))
        });
        let (sent, received) = mpsc::channel();
        f.add_done_callback(move |_| sent.send(answered.get_result().ok().copied()).unwrap());
        p.set_result(1);
        waiter.join().unwrap();
        assert_eq!(received.try_recv(), Ok(Some(2)));
    });
}

/// A task waker whose `wake` completes a promise.
struct CompleteOnWake(std::sync::Mutex<Option<Promise<u32, ()>>>);

impl std::task::Wake for CompleteOnWake {
    fn wake(self: Arc<Self>) {
        if let Some(promise) = self.0.lock().unwrap().take() {
            promise.set_result(2);
        }
    }
}

/// Checks that callbacks a task's waker makes due, inside a completion's
/// walk, run only after the walk: `register` makes a task wait on the
/// future it is given, with the waker it is given (its first poll
/// pending), then calls `complete` while the task is still registered.
///
/// The walk over the future's list meets the task (newest) before a
/// blocked thread: a callback run inside the walk would wait for the
/// thread's answer before the thread is woken, and hang.
fn callbacks_a_waker_makes_due_run_after_the_walk(
    register: impl FnOnce(&Future<u32, ()>, &std::task::Waker, &mut dyn FnMut()) + Send + 'static,
) {
    no_hang("a callback made due inside a walk", || {
        let (pa, fa) = promise::<u32, ()>();
        let (pb, fb) = promise::<u32, ()>();
        let (pc, fc) = promise::<u32, ()>();
        let thread = common::start_waiter(&fa, || {
            let fa = fa.clone();
            thread::spawn(move || {
                fa.wait();
                pc.set_result(3);
            })
        });
        let waker =
            std::task::Waker::from(Arc::new(CompleteOnWake(std::sync::Mutex::new(Some(pb)))));
        let (sent, received) = mpsc::channel();
        fb.add_done_callback(move |_| sent.send(fc.get_result().ok().copied()).unwrap());
        let mut pa = Some(pa);
        register(&fa, &waker, &mut || pa.take().unwrap().set_result(1));
        thread.join().unwrap();
        assert_eq!(received.try_recv(), Ok(Some(3)));
    });
}

#[test]
fn callbacks_a_waker_makes_due_run_after_the_walk_that_woke_it() {
    use forthcoming_test_support::poll_with;
    use std::future::IntoFuture;
    callbacks_a_waker_makes_due_run_after_the_walk(|future, waker, complete| {
        let mut task = future.into_future();
        assert!(poll_with(&mut task, waker).is_pending());
        complete();
    });
}

#[test]
fn callbacks_an_as_completed_consumer_s_waker_makes_due_run_after_the_walk() {
    use forthcoming_test_support::poll_with;
    use futures::StreamExt;
    callbacks_a_waker_makes_due_run_after_the_walk(|future, waker, complete| {
        let mut order = forthcoming::as_completed_async([future]);
        assert!(poll_with(&mut order.next(), waker).is_pending());
        complete();
    });
}

#[test]
fn callbacks_a_completion_queue_consumer_s_waker_makes_due_run_after_the_walk() {
    use forthcoming_test_support::poll_with;
    use futures::StreamExt;
    callbacks_a_waker_makes_due_run_after_the_walk(|future, waker, complete| {
        let mut queue = forthcoming::CompletionQueue::new();
        queue.push(future.clone());
        assert!(poll_with(&mut queue.next(), waker).is_pending());
        complete();
    });
}

/// A callback that appends `id` to `log`.
fn logs(log: &Arc<Mutex<Vec<u32>>>, id: u32) -> impl FnOnce(&Future<u32, ()>) + Send + 'static {
    let log = Arc::clone(log);
    move |_| log.lock().unwrap().push(id)
}

#[test]
fn callbacks_added_before_the_completion_run_in_the_order_added() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let (p, f) = promise::<u32, ()>();
    (0..4).for_each(|id| f.add_done_callback(logs(&log, id)));
    p.set_result(0);
    assert_eq!(*log.lock().unwrap(), [0, 1, 2, 3]);

    // g completes inside a callback of h, so its callbacks join a worklist
    // that still holds h's last one.
    log.lock().unwrap().clear();
    let (q, g) = promise::<u32, ()>();
    (10..14).for_each(|id| g.add_done_callback(logs(&log, id)));
    let (r, h) = promise::<u32, ()>();
    h.add_done_callback(move |_| q.set_result(1));
    h.add_done_callback(logs(&log, 20));
    r.set_result(2);
    let mut of_g = log.lock().unwrap().clone();
    assert!(of_g.contains(&20), "h's second callback ran: {of_g:?}");
    of_g.retain(|id| *id < 20);
    assert_eq!(of_g, [10, 11, 12, 13]);
}

/// Runs `look` inside a callback, right after making another callback due
/// on this thread (queued behind this one), which runs `queued`.
fn look_behind_a_queued_callback<R: Send + 'static>(
    queued: impl FnOnce() + Send + 'static,
    look: impl FnOnce() -> R + Send + 'static,
) -> R {
    let (p0, f0) = promise::<u32, ()>();
    let (px, fx) = promise::<(), ()>();
    fx.add_done_callback(move |_| queued());
    let (sent, received) = mpsc::channel();
    f0.add_done_callback(move |_| {
        px.set_result(()); // fx's callback is queued behind this one
        sent.send(look()).unwrap();
    });
    p0.set_result(0);
    received.recv().unwrap()
}

#[test]
fn a_zero_time_out_inside_a_callback_first_runs_the_callbacks_queued_behind_it() {
    let (p, f) = promise::<u32, ()>();
    let seen = look_behind_a_queued_callback(
        move || p.set_result(1),
        move || f.wait_timeout(Duration::ZERO),
    );
    assert!(seen, "Future::wait_timeout");

    let (p, f) = promise::<u32, ()>();
    let split = look_behind_a_queued_callback(
        move || p.set_result(1),
        move || wait([&f], Some(Duration::ZERO), ReturnWhen::AllCompleted),
    );
    assert_eq!(split, (vec![0], vec![]), "wait");

    let (p, f) = promise::<u32, ()>();
    let next = look_behind_a_queued_callback(
        move || p.set_result(1),
        move || as_completed([&f]).next_timeout(Duration::ZERO),
    );
    assert_eq!(next, Ok(Some(0)), "as_completed");

    let (p, f) = promise::<u32, ()>();
    let taken = look_behind_a_queued_callback(
        move || p.set_result(1),
        move || {
            let mut queue = CompletionQueue::new();
            queue.push(f);
            queue.wait_next_timeout(Duration::ZERO).map(|f| f.is_some())
        },
    );
    assert_eq!(taken, Ok(true), "CompletionQueue");

    let (p, f) = promise::<u32, ()>();
    let abandoned = look_behind_a_queued_callback(
        move || drop(f),
        move || p.wait_abandoned(Some(Duration::ZERO)),
    );
    assert!(abandoned, "Promise::wait_abandoned");
}
