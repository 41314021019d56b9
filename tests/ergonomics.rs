//! The crate as a library author first uses it: an RPC client that fans
//! calls out to threads and reads them with `?` into `anyhow` and
//! `Box<dyn Error>`, the same calls awaited in tokio and in
//! `futures::executor`, one value read by many threads, waits over
//! references and trait objects, and done futures without a promise.

use forthcoming as fc;
use std::collections::HashMap;
use std::error::Error;
use std::fmt::{self, Debug, Display};
use std::future::{Future as _, IntoFuture};
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::task::{Context, Poll, Waker};
use std::thread;
use std::time::Duration;

/// A cache answers from memory with a future already done, so callers read
/// a hit and a miss the same way.
#[test]
fn a_cache_hands_out_done_futures() {
    let mut cache: HashMap<&str, u64> = HashMap::new();
    cache.insert("answer", 42);
    let lookup = |key: &str| match cache.get(key) {
        Some(&hit) => fc::Future::ready(hit),
        None => fc::Future::failed(format!("{key}: not cached")),
    };
    let hit: fc::Future<u64, String> = lookup("answer");
    assert!(hit.done());
    assert_eq!(hit.get_result(), Ok(&42));
    let miss = lookup("question");
    assert!(miss.done());
    assert_eq!(
        miss.get_result(),
        Err(&fc::Failure::Exception("question: not cached".to_string()))
    );
    assert!(miss.get_traceback().is_some(), "a failure has a backtrace");
    // No promise holds on to it: a sole handle takes the value out.
    assert_eq!(lookup("answer").into_result().ok(), Some(Ok(42)));
}

/// What an application's error types have in common: the bound under which
/// a `FutureError` is an `Error` that `?` converts.
trait AppError: Display + Debug + Send + Sync + 'static {}
impl<E: Display + Debug + Send + Sync + 'static> AppError for E {}

fn read_into_anyhow<E: AppError>(call: &fc::Future<u64, E>) -> anyhow::Result<u64> {
    Ok(*call.value()?)
}

fn read_soon_into_anyhow<E: AppError>(call: &fc::Future<u64, E>) -> anyhow::Result<u64> {
    Ok(*call.value_timeout(Duration::ZERO)?)
}

fn check_into_anyhow<E: AppError>(call: &fc::Future<u64, E>) -> anyhow::Result<()> {
    call.ensure_success()?;
    Ok(())
}

type BoxError = Box<dyn Error + Send + Sync>;

fn read_into_box<E: AppError>(call: &fc::Future<u64, E>) -> Result<u64, BoxError> {
    Ok(*call.value()?)
}

fn read_soon_into_box<E: AppError>(call: &fc::Future<u64, E>) -> Result<u64, BoxError> {
    Ok(*call.value_timeout(Duration::ZERO)?)
}

fn check_into_box<E: AppError>(call: &fc::Future<u64, E>) -> Result<(), BoxError> {
    call.ensure_success()?;
    Ok(())
}

/// Every message of `error`'s chain, outermost first, as anyhow's `{:#}`
/// prints it.
fn chain<'a>(error: &'a (dyn Error + 'a)) -> String {
    let mut messages = vec![error.to_string()];
    let mut next = error.source();
    while let Some(cause) = next {
        messages.push(cause.to_string());
        next = cause.source();
    }
    messages.join(": ")
}

/// Reads a failed, a pending and a successful future of error type `E`
/// through all six functions, and checks each message appears once.
fn each_read_takes_one_question_mark<E: AppError>(error: E, message: &str) {
    let failed = fc::Future::<u64, E>::failed(error);
    let expected = format!("exception: {message}");
    for result in [read_into_anyhow(&failed), read_soon_into_anyhow(&failed)] {
        let error = result.unwrap_err();
        assert_eq!(format!("{error:#}"), expected);
        assert_eq!(
            format!("{error:?}").matches(message).count(),
            1,
            "{error:?}"
        );
        let owned = error.downcast_ref::<fc::FutureError<u64, E>>().unwrap();
        assert!(!owned.is_timeout());
        assert!(matches!(owned.failure(), Some(fc::Failure::Exception(_))));
    }
    let error = check_into_anyhow(&failed)
        .unwrap_err()
        .context("saving the order");
    assert_eq!(
        format!("{error:#}"),
        format!("saving the order: {expected}")
    );
    for result in [read_into_box(&failed), read_soon_into_box(&failed)] {
        assert_eq!(chain(&*result.unwrap_err()), expected);
    }
    assert_eq!(chain(&*check_into_box(&failed).unwrap_err()), expected);

    let (promise, pending) = fc::promise::<u64, E>();
    let timed_out = "timed out after 0ns waiting for the future";
    let error = read_soon_into_anyhow(&pending).unwrap_err();
    assert_eq!(format!("{error:#}"), timed_out);
    assert!(
        error
            .downcast_ref::<fc::FutureError<u64, E>>()
            .unwrap()
            .is_timeout()
    );
    assert_eq!(
        chain(&*read_soon_into_box(&pending).unwrap_err()),
        timed_out
    );

    promise.set_result(7);
    assert_eq!(read_into_anyhow(&pending).unwrap(), 7);
    assert_eq!(read_soon_into_anyhow(&pending).unwrap(), 7);
    check_into_anyhow(&pending).unwrap();
    assert_eq!(read_into_box(&pending).unwrap(), 7);
    assert_eq!(read_soon_into_box(&pending).unwrap(), 7);
    check_into_box(&pending).unwrap();
}

#[test]
fn string_errors_flow_into_anyhow_and_box_dyn_error() {
    each_read_takes_one_question_mark("no route to shard 3".to_string(), "no route to shard 3");
}

#[test]
fn static_str_errors_flow_into_anyhow_and_box_dyn_error() {
    each_read_takes_one_question_mark("no route to shard 3", "no route to shard 3");
}

#[test]
fn boxed_errors_flow_into_anyhow_and_box_dyn_error() {
    let boxed: BoxError = "no route to shard 3".into();
    each_read_takes_one_question_mark(boxed, "no route to shard 3");
}

#[test]
fn anyhow_errors_flow_into_anyhow_and_box_dyn_error() {
    let error = anyhow::anyhow!("no route to shard 3");
    each_read_takes_one_question_mark(error, "no route to shard 3");
}

#[test]
fn std_errors_flow_into_anyhow_and_box_dyn_error() {
    let error = io::Error::new(io::ErrorKind::HostUnreachable, "no route to shard 3");
    each_read_takes_one_question_mark(error, "no route to shard 3");
    each_read_takes_one_question_mark(RpcError::reset(), "shard 3 failed");
}

/// A transport error with a cause, as RPC libraries define them.
#[derive(Debug)]
struct RpcError {
    /// What failed.
    call: &'static str,
    /// Why.
    cause: io::Error,
}

impl RpcError {
    fn reset() -> RpcError {
        RpcError {
            call: "shard 3",
            cause: io::Error::new(io::ErrorKind::ConnectionReset, "connection reset"),
        }
    }
}

impl Display for RpcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} failed", self.call)
    }
}

impl Error for RpcError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&self.cause)
    }
}

/// The borrowed errors chain to the exception's own cause, each message once.
#[test]
fn borrowed_failures_chain_each_message_once() {
    let failed = fc::Future::<u64, RpcError>::failed(RpcError::reset());
    let expected = "exception: shard 3 failed: connection reset";
    assert_eq!(chain(failed.get_result().unwrap_err()), expected);
    assert_eq!(chain(&failed.result(None).unwrap_err()), expected);
    assert_eq!(chain(failed.check_success().unwrap_err()), expected);
}

/// A panic and a broken promise read through the owned error say what they
/// are.
#[test]
fn panics_and_broken_promises_flow_into_anyhow() {
    let (promise, panicked) = fc::promise::<u64, String>();
    promise.run(|| panic!("shard 3 crashed"));
    let error = read_into_anyhow(&panicked).unwrap_err();
    assert_eq!(format!("{error:#}"), "panicked: shard 3 crashed");

    let (promise, broken) = fc::promise::<u64, String>();
    drop(promise);
    let error = check_into_box(&broken).unwrap_err();
    let owned = error
        .downcast_ref::<fc::FutureError<u64, String>>()
        .unwrap();
    assert_eq!(owned.failure(), Some(&fc::Failure::BrokenPromise));
    assert!(error.to_string().starts_with("broken promise"), "{error}");
}

/// A request waits on futures of different types at once, and on the part
/// of a list still pending, through `Vec`s of references.
#[test]
fn a_heterogeneous_wait_over_vecs_of_references() {
    let (status_promise, status) = fc::promise::<u16, String>();
    let (body_promise, body) = fc::promise::<Vec<u8>, io::Error>();
    let (cancel, cancelled) = fc::promise::<(), ()>();
    let all: Vec<&dyn fc::Waitable> = vec![&status, &body, &cancelled];
    let responder = thread::spawn(move || status_promise.set_result(200));
    assert_eq!(fc::wait_any(&all), Some(0));
    responder.join().unwrap();
    let (done, not_done) = fc::wait(&all, Some(Duration::ZERO), fc::ReturnWhen::AllCompleted);
    assert_eq!((done, not_done), (vec![0], vec![1, 2]));

    // The calls still pending, as references: waited on through `&rest`.
    let rest: Vec<&dyn fc::Waitable> = all.iter().copied().filter(|w| !w.is_done()).collect();
    let responder = thread::spawn(move || body_promise.set_result(b"ok".to_vec()));
    assert_eq!(fc::wait_any(&rest), Some(0));
    responder.join().unwrap();
    drop(cancel);
    fc::wait_all(&all);
    assert_eq!(body.get_result().ok().map(Vec::len), Some(2));
    assert!(cancelled.get_result().is_err());

    let (mut promises, calls): (Vec<_>, Vec<_>) =
        (0..4).map(|_| fc::promise::<u64, String>()).unzip();
    let rest: Vec<&fc::Future<u64, String>> = calls.iter().filter(|c| !c.done()).collect();
    let third = promises.remove(2);
    let responder = thread::spawn(move || third.set_result(9));
    assert_eq!(fc::wait_any(&rest), Some(2));
    responder.join().unwrap();
}

/// The async group waits take the same `Vec`s of references.
#[test]
fn async_group_waits_over_vecs_of_references() {
    let (status_promise, status) = fc::promise::<u16, String>();
    let (body_promise, body) = fc::promise::<Vec<u8>, io::Error>();
    let all: Vec<&dyn fc::Waitable> = vec![&status, &body];
    let rest: Vec<&fc::Future<Vec<u8>, io::Error>> = vec![&body];
    let responder = thread::spawn(move || {
        status_promise.set_result(200);
        body_promise.set_result(b"ok".to_vec());
    });
    futures::executor::block_on(async {
        assert!(fc::wait_any_async(&all).await.is_some());
        fc::wait_all_async(&all).await;
        assert_eq!(fc::wait_any_async(&rest).await, Some(0));
        let (done, not_done) = fc::wait_async(&rest, fc::ReturnWhen::AllCompleted).await;
        assert_eq!((done, not_done), (vec![0], vec![]));
    });
    responder.join().unwrap();
}

/// An RPC client: each call runs on a worker thread and hands back a
/// future; shard 3 is down.
#[derive(Clone, Copy, Debug)]
struct Client;

impl Client {
    fn call(self, shard: u64) -> fc::Future<u64, String> {
        let (promise, reply) = fc::promise();
        thread::spawn(move || {
            promise.run(|| match shard {
                3 => Err(format!("shard {shard} is down")),
                _ => Ok(shard * 10),
            })
        });
        reply
    }

    /// Fans out one call per shard and adds the replies.
    fn total(self, shards: impl IntoIterator<Item = u64>) -> anyhow::Result<u64> {
        let calls: Vec<_> = shards.into_iter().map(|shard| self.call(shard)).collect();
        let mut sum = 0;
        for call in &calls {
            sum += call.value()?;
        }
        Ok(sum)
    }
}

#[test]
fn a_fan_out_client_on_threads_sums_or_names_the_failed_call() {
    assert_eq!(Client.total([1, 2, 4]).unwrap(), 70);
    let error = Client
        .total([1, 2, 3, 4])
        .unwrap_err()
        .context("summing shards");
    assert_eq!(
        format!("{error:#}"),
        "summing shards: exception: shard 3 is down"
    );

    // Stop at the first failure, leave the rest running.
    let calls: Vec<_> = (1..=4).map(|shard| Client.call(shard)).collect();
    let (done, _) = fc::wait(&calls, None, fc::ReturnWhen::FirstException);
    assert!(done.contains(&2), "{done:?}");
    assert!(calls[2].ensure_success().is_err());
}

/// One value read by sixteen threads: each borrows the one stored value.
#[test]
fn sixteen_threads_read_one_value() {
    let (promise, config) = fc::promise::<Vec<String>, String>();
    let config = &config;
    thread::scope(|scope| {
        let readers: Vec<_> = (0..16)
            .map(|_| scope.spawn(move || -> anyhow::Result<usize> { Ok(config.value()?.len()) }))
            .collect();
        promise.set_result(vec!["a".into(), "b".into()]);
        for reader in readers {
            assert_eq!(reader.join().unwrap().unwrap(), 2);
        }
    });
}

/// The same client awaited in tokio: owned futures move into spawned tasks,
/// and tokio's time-out takes a reference.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_awaited_in_tokio() {
    let tasks: Vec<_> = (1..=4)
        .map(|shard| tokio::spawn(async move { Client.call(shard).await }))
        .collect();
    let mut replies = Vec::new();
    for task in tasks {
        replies.push(task.await.unwrap());
    }
    assert_eq!(replies[..2], [Ok(10), Ok(20)]);
    assert_eq!(
        replies[2],
        Err(fc::Failure::Exception("shard 3 is down".to_string()))
    );
    assert_eq!(replies[3], Ok(40));

    let (promise, slow) = fc::promise::<u64, String>();
    let late = tokio::time::timeout(Duration::from_millis(1), &slow).await;
    assert!(late.is_err(), "nothing completes `slow` yet");
    let shared = slow.clone();
    let reader = tokio::spawn(async move { shared.await });
    promise.set_result(9);
    assert_eq!(reader.await.unwrap(), Ok(9));
    assert_eq!(tokio::time::timeout(Duration::MAX, slow).await, Ok(Ok(9)));
}

/// The same client awaited in `futures::executor`, by reference and by value.
#[test]
fn the_client_awaited_in_futures_executor() {
    let calls: Vec<_> = (1..=4).map(|shard| Client.call(shard)).collect();
    futures::executor::block_on(async {
        assert_eq!((&calls[0]).await, Ok(&10));
        assert_eq!(fc::wait_any_async(&calls[3..]).await, Some(0));
        let owned = futures::future::join_all(calls.iter().cloned().map(IntoFuture::into_future));
        let owned = owned.await;
        assert_eq!(owned[3], Ok(40));
        assert!(owned[2].is_err());
    });
}

/// A value that counts how often it was cloned.
#[derive(Debug)]
struct Tally(Arc<AtomicUsize>);

impl Clone for Tally {
    fn clone(&self) -> Tally {
        self.0.fetch_add(1, SeqCst);
        Tally(Arc::clone(&self.0))
    }
}

/// Awaiting the last handle moves the value out; awaiting one of several
/// clones it.
#[test]
fn owned_await_moves_the_last_handle_and_clones_a_shared_one() {
    let clones = Arc::new(AtomicUsize::new(0));
    let sole = fc::Future::<Tally, ()>::ready(Tally(Arc::clone(&clones)));
    futures::executor::block_on(async { sole.await }).unwrap();
    assert_eq!(clones.load(SeqCst), 0, "moved out");

    let shared = fc::Future::<Tally, ()>::ready(Tally(Arc::clone(&clones)));
    futures::executor::block_on(shared.clone().into_future()).unwrap();
    assert_eq!(clones.load(SeqCst), 1, "cloned: `shared` keeps its own");
    assert!(shared.get_result().is_ok());
}

/// A waker that counts its wake-ups.
struct Wakes(AtomicUsize);

impl std::task::Wake for Wakes {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, SeqCst);
    }
}

/// An owned await that was registered and then dropped (a lost `select!`,
/// a time-out) unlinks itself before its handle goes; one kept is woken.
#[test]
fn owned_awaits_registered_then_dropped_or_completed() {
    let wakes = Arc::new(Wakes(AtomicUsize::new(0)));
    let waker = Waker::from(Arc::clone(&wakes));
    let mut cx = Context::from_waker(&waker);
    let (promise, sole) = fc::promise::<String, ()>();
    let mut waiting = sole.into_future();
    assert!(Pin::new(&mut waiting).poll(&mut cx).is_pending());
    drop(waiting); // the last handle, dropped while registered
    promise.set_result("nobody reads this".into());
    assert_eq!(wakes.0.load(SeqCst), 0, "unlinked: not woken");

    let (promise, future) = fc::promise::<String, ()>();
    let mut waiting = future.clone().into_future();
    assert!(Pin::new(&mut waiting).poll(&mut cx).is_pending());
    assert!(
        Pin::new(&mut waiting).poll(&mut cx).is_pending(),
        "a re-poll"
    );
    promise.set_result("x".into());
    assert_eq!(wakes.0.load(SeqCst), 1);
    let ready = Pin::new(&mut waiting).poll(&mut cx);
    assert_eq!(ready, Poll::Ready(Ok("x".to_string())));
    assert_eq!(future.into_result().ok(), Some(Ok("x".to_string())));
}

/// Printing a future while debugging shows what it holds.
#[test]
fn debug_shows_the_outcome() {
    let (promise, reply) = fc::promise::<u64, String>();
    let pending = format!("{reply:?}");
    assert!(
        pending.contains("Pending") && !pending.contains("value"),
        "{pending}"
    );
    promise.set_result(42);
    let id = reply.id();
    assert_eq!(
        format!("{reply:?}"),
        format!("Future {{ id: FutureId({id}), state: Complete(value), value: 42 }}")
    );
    let refused = fc::Future::<u64, String>::failed("refused".into());
    let id = refused.id();
    assert_eq!(
        format!("{refused:?}"),
        format!(
            "Future {{ id: FutureId({id}), state: Complete(failure), failure: Exception(\"refused\") }}"
        )
    );
}
