//! The producer's handle: completes the future once, or breaks the promise
//! by being dropped.

use crate::failure::{Failure, Panic, TracedFailure};
use crate::future::Future;
use crate::inner::{Outcome, WriteHandle, pair};
use crate::unwind::drop_payload;
use std::fmt;
use std::marker::PhantomData;
use std::panic::{AssertUnwindSafe, catch_unwind};

/// Creates a connected promise and future, in one heap allocation.
///
/// ```
/// let (promise, future) = forthcoming::promise::<u32, String>();
/// std::thread::spawn(move || promise.set_result(42));
/// assert_eq!(future.get_result(), Ok(&42));
/// ```
pub fn promise<T, E>() -> (Promise<T, E>, Future<T, E>) {
    let (write, read) = pair();
    let promise = Promise {
        handle: write,
        _invariant: PhantomData,
    };
    (promise, Future::from_handle(read))
}

/// A marker invariant in `X` (and `Send`, `Sync`: it holds no `X`).
type Invariant<X> = PhantomData<fn(X) -> X>;

/// The write side: fulfilled exactly once, by value.
///
/// Dropping a promise that was never fulfilled completes its future with
/// [`Failure::BrokenPromise`], so no waiter can hang forever.
///
/// ```
/// use forthcoming::{Failure, Promise};
/// /// A worker that answers one request; it gives up on bad input.
/// fn answer(request: u32, reply: Promise<u32, String>) {
///     if request == 0 {
///         return; // dropped unset: the caller sees a broken promise
///     }
///     reply.set_result(request * 2);
/// }
/// let (reply, future) = forthcoming::promise();
/// std::thread::spawn(move || answer(21, reply));
/// assert_eq!(future.get_result(), Ok(&42));
/// let (reply, future) = forthcoming::promise();
/// answer(0, reply);
/// assert_eq!(future.get_result(), Err(&Failure::BrokenPromise));
/// ```
///
/// # Panics
/// Completing (`set_result`, `set_exception`, `run`, or the drop) panics
/// only if user code panics in it, and only after the future is complete,
/// every other waiter woken and every callback run:
/// - a waiting task's `Waker::wake` (see the crate docs on user code);
/// - a callback ([`Future::add_done_callback`]), this future's or one that a
///   callback's own completions made due on this thread;
/// - the outcome's `Drop`, when every future was already gone: the
///   completing thread then frees the shared state, outcome included.
///
/// # Variance
/// A promise is invariant in `T` and `E`: a `Promise<&'static str, ()>`
/// cannot become a promise of a shorter-lived `&str`, which would let it
/// send a borrowed value to a future that reads it as `'static`.
///
/// ```compile_fail
/// fn shorten<'a>(p: forthcoming::Promise<&'static str, ()>) -> forthcoming::Promise<&'a str, ()> {
///     p
/// }
/// ```
#[must_use = "dropping a Promise breaks it: its futures fail with Failure::BrokenPromise"]
pub struct Promise<T, E> {
    /// Completes the shared state once; dropped unused, breaks the promise.
    handle: WriteHandle<T, E>,
    /// Invariant in `T` and `E` on purpose (see *Variance*), not only
    /// through the shared state's `UnsafeCell`.
    _invariant: Invariant<Outcome<T, E>>,
}

impl<T, E> Promise<T, E> {
    /// Completes the future with a value and wakes every waiter.
    /// Never blocks and never allocates.
    ///
    /// ```
    /// let (promise, future) = forthcoming::promise::<u8, ()>();
    /// promise.set_result(7);
    /// assert_eq!(future.get_result(), Ok(&7));
    /// ```
    pub fn set_result(self, value: T) {
        self.fulfil(Ok(value));
    }

    /// Completes the future with the producer's error and wakes every
    /// waiter. Captures a backtrace here (see
    /// [`Future::get_traceback`]).
    ///
    /// ```
    /// use forthcoming::Failure;
    /// let (promise, future) = forthcoming::promise::<u8, String>();
    /// promise.set_exception("no route".to_string());
    /// assert_eq!(future.get_result(), Err(&Failure::Exception("no route".to_string())));
    /// ```
    pub fn set_exception(self, error: E) {
        self.fulfil(Err(TracedFailure::here(Failure::Exception(error))));
    }

    /// Runs `f` on this thread and completes the future with what it returns,
    /// or with [`Failure::Panicked`] if it panics (the panic does not
    /// propagate, even if its payload's own `Drop` panics too).
    ///
    /// ```
    /// use forthcoming::Failure;
    /// let (promise, future) = forthcoming::promise::<u32, ()>();
    /// promise.run(|| panic!("boom"));
    /// assert!(matches!(future.get_result(), Err(Failure::Panicked(p)) if p.message() == Some("boom")));
    /// ```
    pub fn run(self, f: impl FnOnce() -> Result<T, E>) {
        let outcome = match catch_unwind(AssertUnwindSafe(f)) {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(error)) => Err(TracedFailure::here(Failure::Exception(error))),
            Err(payload) => {
                let panic = Panic::from_payload(&*payload);
                drop_payload(payload);
                Err(TracedFailure::here(Failure::Panicked(panic)))
            }
        };
        self.fulfil(outcome);
    }

    fn fulfil(self, outcome: Outcome<T, E>) {
        self.handle.complete(outcome);
    }
}

impl<T, E> fmt::Debug for Promise<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Promise")
            .field("id", &self.handle.id())
            .finish_non_exhaustive()
    }
}
