//! The crate as a library author first uses it: an RPC client that fans
//! calls out to threads and reads them with `?` into `anyhow` and
//! `Box<dyn Error>`, the same calls awaited in tokio and in
//! `futures::executor`, one value read by many threads, waits over
//! references and trait objects, and done futures without a promise.

use forthcoming as fc;
use std::collections::HashMap;
use std::error::Error;
use std::fmt::{self, Debug, Display};
use std::io;
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
