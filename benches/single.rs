//! One pair at a time: create-complete-read, completing a pending pair (with and without a callback) and a tail-call link on one thread, and a cross-thread request/reply round trip, beside the peers.

use criterion::{BatchSize, Criterion};
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;

/// The value sent in `create_complete_read`.
const VALUE: u64 = 42;

/// What users write by hand: a slot under a mutex, and a condvar to wait on.
struct Slot<T> {
    /// The outcome, once set.
    value: Mutex<Option<T>>,
    /// Notified when `value` is set.
    ready: Condvar,
}

/// The write side of the hand-written future.
struct CondvarPromise<T>(Arc<Slot<T>>);

/// The read side of the hand-written future.
struct CondvarFuture<T>(Arc<Slot<T>>);

fn condvar_promise<T>() -> (CondvarPromise<T>, CondvarFuture<T>) {
    let slot = Arc::new(Slot {
        value: Mutex::new(None),
        ready: Condvar::new(),
    });
    (CondvarPromise(Arc::clone(&slot)), CondvarFuture(slot))
}

impl<T> CondvarPromise<T> {
    fn set_result(self, value: T) {
        *self.0.value.lock().unwrap() = Some(value);
        self.0.ready.notify_all();
    }
}

impl<T: Clone> CondvarFuture<T> {
    fn get_result(&self) -> T {
        let mut value = self.0.value.lock().unwrap();
        while value.is_none() {
            value = self.0.ready.wait(value).unwrap();
        }
        value.clone().expect("set")
    }
}

fn create_complete_read(c: &mut Criterion) {
    let mut group = c.benchmark_group("create_complete_read");

    group.bench_function("forthcoming", |b| {
        b.iter(|| {
            let (promise, future) = forthcoming::promise::<u64, ()>();
            promise.set_result(black_box(VALUE));
            *future.get_result().unwrap()
        })
    });

    group.bench_function("oneshot_recv", |b| {
        b.iter(|| {
            let (tx, rx) = oneshot::channel::<u64>();
            tx.send(black_box(VALUE)).unwrap();
            rx.recv().unwrap()
        })
    });

    group.bench_function("oneshot_try_recv", |b| {
        b.iter(|| {
            let (tx, rx) = oneshot::channel::<u64>();
            tx.send(black_box(VALUE)).unwrap();
            rx.try_recv().unwrap()
        })
    });

    group.bench_function("tokio_oneshot_try_recv", |b| {
        b.iter(|| {
            let (tx, mut rx) = tokio::sync::oneshot::channel::<u64>();
            tx.send(black_box(VALUE)).unwrap();
            rx.try_recv().unwrap()
        })
    });

    group.bench_function("std_mpsc_sync_channel_1", |b| {
        b.iter(|| {
            let (tx, rx) = std::sync::mpsc::sync_channel::<u64>(1);
            tx.send(black_box(VALUE)).unwrap();
            rx.recv().unwrap()
        })
    });

    group.bench_function("crossbeam_bounded_1", |b| {
        b.iter(|| {
            let (tx, rx) = crossbeam_channel::bounded::<u64>(1);
            tx.send(black_box(VALUE)).unwrap();
            rx.recv().unwrap()
        })
    });

    // std's futex `Condvar::notify_all` makes a wake syscall even with
    // nobody waiting: that is most of this one's cost.
    group.bench_function("mutex_condvar", |b| {
        b.iter(|| {
            let (promise, future): (_, CondvarFuture<u64>) = condvar_promise();
            promise.set_result(black_box(VALUE));
            future.get_result()
        })
    });

    group.finish();
}

fn complete_pending(c: &mut Criterion) {
    let mut group = c.benchmark_group("complete_pending");
    // Untimed: make a pair (and add the callback). Timed: complete it (which
    // runs the callback and frees it). The future is dropped untimed.
    let complete = |(promise, future): (forthcoming::Promise<u64, ()>, _)| {
        promise.set_result(black_box(VALUE));
        future
    };
    group.bench_function("forthcoming", |b| {
        b.iter_batched(
            forthcoming::promise::<u64, ()>,
            complete,
            BatchSize::SmallInput,
        )
    });
    group.bench_function("forthcoming_one_callback", |b| {
        b.iter_batched(
            || {
                let (promise, future) = forthcoming::promise::<u64, ()>();
                future.add_done_callback(|done| {
                    black_box(done);
                });
                (promise, future)
            },
            complete,
            BatchSize::SmallInput,
        )
    });
    group.bench_function("oneshot", |b| {
        b.iter_batched(
            oneshot::channel::<u64>,
            |(sender, receiver)| {
                sender.send(black_box(VALUE)).unwrap();
                receiver
            },
            BatchSize::SmallInput,
        )
    });
    group.bench_function("tokio_oneshot", |b| {
        b.iter_batched(
            tokio::sync::oneshot::channel::<u64>,
            |(sender, receiver)| {
                sender.send(black_box(VALUE)).unwrap();
                receiver
            },
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

fn tail_call_link(c: &mut Criterion) {
    let mut group = c.benchmark_group("tail_call_link");
    // One link of `let (next, f) = promise(); p.forward(f); p = next;` on a
    // chain whose root stays pending: `f` is the only handle of its block,
    // so `next` is redirected to the root and `f`'s block freed.
    let (mut tail, root) = forthcoming::promise::<u64, ()>();
    group.bench_function("forthcoming_forward", |b| {
        b.iter(|| {
            let (next, future) = forthcoming::promise();
            std::mem::replace(&mut tail, next).forward(future);
        })
    });
    tail.set_result(VALUE);
    assert_eq!(*root.get_result().unwrap(), VALUE);
    group.finish();
}

/// A forthcoming request: the responder answers `value + 1` through `reply`,
/// then waits on `next` for the following request.
struct Request {
    /// The payload.
    value: u64,
    /// Where the answer goes.
    reply: forthcoming::Promise<u64, ()>,
    /// The next request, set by the requester on its next round.
    next: forthcoming::Future<Request, ()>,
}

/// A `oneshot` request, the same chain as [`Request`].
struct OneshotRequest {
    /// The payload.
    value: u64,
    /// Where the answer goes.
    reply: oneshot::Sender<u64>,
    /// The next request.
    next: oneshot::Receiver<OneshotRequest>,
}

/// Waits for `future` and moves its outcome out.
///
/// Waits, then moves the outcome out: the future is the last handle, and
/// the completing RMW is the promise's release, so this cannot fail.
fn take<T, E>(future: forthcoming::Future<T, E>) -> Result<T, forthcoming::Failure<E>> {
    future.wait();
    match future.into_result() {
        Ok(outcome) => outcome,
        Err(_) => unreachable!("a done future with no clone is the last handle"),
    }
}

/// The park baseline's "stop" request.
const STOP: usize = usize::MAX;

fn round_trip(c: &mut Criterion) {
    let mut group = c.benchmark_group("round_trip");

    // Every variant: a long-lived responder; per round the requester makes
    // a request pair and a reply pair, hands the request (carrying the reply
    // sender and the next request's receiver) over the current request pair,
    // and blocks on the reply.
    {
        let (first, mut requests) = forthcoming::promise::<Request, ()>();
        let responder = thread::spawn(move || {
            // A dropped request promise (BrokenPromise) ends the loop.
            while let Ok(request) = take(requests) {
                request.reply.set_result(request.value + 1);
                requests = request.next;
            }
        });
        let mut current = Some(first);
        let mut value = 0u64;
        group.bench_function("forthcoming", |b| {
            b.iter(|| {
                let (reply, answer) = forthcoming::promise::<u64, ()>();
                let (next, next_future) = forthcoming::promise::<Request, ()>();
                let request = current.replace(next).expect("always set");
                request.set_result(Request {
                    value,
                    reply,
                    next: next_future,
                });
                value = *answer.get_result().unwrap();
            })
        });
        drop(current);
        responder.join().unwrap();
    }

    {
        let (first, mut requests) = oneshot::channel::<OneshotRequest>();
        let responder = thread::spawn(move || {
            // A dropped request sender ends the loop.
            while let Ok(request) = requests.recv() {
                request.reply.send(request.value + 1).unwrap();
                requests = request.next;
            }
        });
        let mut current = Some(first);
        let mut value = 0u64;
        group.bench_function("oneshot", |b| {
            b.iter(|| {
                let (reply, answer) = oneshot::channel::<u64>();
                let (next, next_receiver) = oneshot::channel::<OneshotRequest>();
                let request = current.replace(next).expect("always set");
                request
                    .send(OneshotRequest {
                        value,
                        reply,
                        next: next_receiver,
                    })
                    .unwrap_or_else(|_| panic!("responder gone"));
                value = answer.recv().unwrap();
            })
        });
        drop(current);
        responder.join().unwrap();
    }

    {
        // The ideal: nothing allocated, one flag each way, park/unpark.
        // `0` means empty; requests and replies are never 0.
        let request = Arc::new(AtomicUsize::new(0));
        let reply = Arc::new(AtomicUsize::new(0));
        let requester = thread::current();
        let responder = {
            let (request, reply) = (Arc::clone(&request), Arc::clone(&reply));
            thread::spawn(move || {
                loop {
                    // ORDERING: Acquire pairs with the requester's Release store.
                    let value = match request.swap(0, Ordering::Acquire) {
                        0 => {
                            thread::park();
                            continue;
                        }
                        value => value,
                    };
                    if value == STOP {
                        break;
                    }
                    // ORDERING: Release pairs with the requester's Acquire swap.
                    reply.store(value + 1, Ordering::Release);
                    requester.unpark();
                }
            })
        };
        let mut value = 1usize;
        group.bench_function("park_unpark_flag", |b| {
            b.iter(|| {
                // ORDERING: Release pairs with the responder's Acquire swap.
                request.store(value, Ordering::Release);
                responder.thread().unpark();
                loop {
                    // ORDERING: Acquire pairs with the responder's Release store.
                    match reply.swap(0, Ordering::Acquire) {
                        0 => thread::park(),
                        answer => {
                            value = answer % 1_000_000 + 1;
                            break;
                        }
                    }
                }
            })
        });
        request.store(STOP, Ordering::Release);
        responder.thread().unpark();
        responder.join().unwrap();
    }

    group.finish();
}

// Written out rather than `criterion_group!`, whose `pub fn` has no docs.
fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    create_complete_read(&mut criterion);
    complete_pending(&mut criterion);
    tail_call_link(&mut criterion);
    round_trip(&mut criterion);
    criterion.final_summary();
}
