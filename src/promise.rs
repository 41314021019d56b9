//! The producer's handle: completes the future once, or breaks the promise
//! by being dropped.

use crate::abandoned::Abandoned;
use crate::failure::{Failure, Panic};
use crate::future::Future;
use crate::inner::{Abandonable, Outcome, WriteHandle, failed, pair};
use crate::registration::{block, deadline_after, time_is_up};
use crate::return_when::ReturnWhen;
use crate::unwind::drop_payload;
use std::fmt;
use std::marker::PhantomData;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Duration;

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
        self.fulfil(failed(Failure::Exception(error)));
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
            Ok(Err(error)) => failed(Failure::Exception(error)),
            Err(payload) => {
                let panic = Panic::from_payload(&*payload);
                drop_payload(payload);
                failed(Failure::Panicked(panic))
            }
        };
        self.fulfil(outcome);
    }

    /// Whether every future of this promise is gone: each clone dropped,
    /// and no callback ([`Future::add_done_callback`]) holding one. Then
    /// nobody will read the outcome, and the producer may stop working on
    /// it. A wait (blocking or async) borrows its futures, so it keeps them
    /// alive. Never blocks: one load.
    ///
    /// ```
    /// let (promise, future) = forthcoming::promise::<u8, ()>();
    /// let clone = future.clone();
    /// drop(future);
    /// assert!(!promise.is_abandoned());
    /// drop(clone);
    /// assert!(promise.is_abandoned());
    /// promise.set_result(1); // still allowed: the outcome is dropped
    /// ```
    #[inline]
    pub fn is_abandoned(&self) -> bool {
        self.handle.is_abandoned()
    }

    /// Blocks until the promise is abandoned (see [`Promise::is_abandoned`])
    /// or `timeout` passes; returns whether it is abandoned.
    ///
    /// `None` waits forever, as does a time-out too long to represent;
    /// `Some(Duration::ZERO)` only looks. Called inside a callback, it first
    /// runs the callbacks queued on this thread, as every blocking wait
    /// does. Nothing is installed until a producer waits: the last future
    /// then wakes it.
    ///
    /// ```
    /// use std::time::Duration;
    /// let (promise, future) = forthcoming::promise::<u8, ()>();
    /// assert!(!promise.wait_abandoned(Some(Duration::from_millis(1))));
    /// std::thread::spawn(move || drop(future));
    /// assert!(promise.wait_abandoned(None));
    /// ```
    pub fn wait_abandoned(&self, timeout: Option<Duration>) -> bool {
        // A time-out too long to represent gives no deadline: wait forever.
        let deadline = timeout.and_then(deadline_after);
        // The wait ends early when a forward links the promise's block (its
        // push fails on the link): then it waits again where abandonment
        // shows now. That happens once per link, so this loop ends.
        while !self.is_abandoned() {
            if time_is_up(deadline) {
                return self.is_abandoned();
            }
            let woken = block(
                [self.handle.abandonment_list()],
                ReturnWhen::FirstCompleted,
                deadline,
            );
            if woken.is_none() {
                // Timed out.
                return self.is_abandoned();
            }
        }
        true
    }

    /// A future that resolves once the promise is abandoned (see
    /// [`Promise::is_abandoned`]), in any executor: the producer's
    /// `select!` arm to stop work nobody will read.
    ///
    /// ```
    /// let (promise, future) = forthcoming::promise::<u8, ()>();
    /// std::thread::spawn(move || drop(future));
    /// futures::executor::block_on(promise.abandoned());
    /// assert!(promise.is_abandoned());
    /// ```
    pub fn abandoned(&self) -> Abandoned<'_> {
        Abandoned::new(&self.handle)
    }

    /// Completes the future with `source`'s outcome once `source` completes:
    /// a *tail call*, where a function returns another call's future as its
    /// own result. Nothing blocks and nothing is cloned: readers of this
    /// promise's futures borrow the one outcome `source` stores (its value,
    /// its failure with the same backtrace, a broken promise or a panic).
    /// The futures keep their own [`id`](Future::id).
    ///
    /// - `source` already done: the future completes now, on this thread.
    /// - `source`'s only handle, pending and unwaited: no waiting at all.
    ///   `source`'s promise is redirected to this promise's future, and
    ///   completing it completes that future directly. So a loop of tail
    ///   calls that forwards each promise to the next call's future keeps
    ///   O(1) memory, however long, and completes in constant stack. (Built
    ///   the other way, each promise forwarded to a future whose promise was
    ///   forwarded already, every level keeps its block, 40 bytes for a
    ///   `u64`, until the chain completes.)
    /// - Otherwise a forwarding node on `source` completes this future when
    ///   `source` completes, on that thread (as a callback: see
    ///   [`Future::add_done_callback`], chains run in constant stack). The
    ///   node holds `source` until then, so `source`'s promise is not
    ///   [abandoned](Promise::is_abandoned) meanwhile, even once this
    ///   promise's futures are gone.
    /// - This promise already abandoned (no future of it left): nobody can
    ///   read the outcome, so `source` is dropped at once.
    /// - A forward that closes a cycle (`source` is this promise's own
    ///   future, or waits on it through earlier forwards) could never
    ///   complete: the future completes with [`Failure::BrokenPromise`] now,
    ///   and so does every future waiting on it. Two threads closing one
    ///   cycle from its two ends at the same moment may each miss the
    ///   other's half: the futures then stay pending and the cycle's memory
    ///   is never freed (no undefined behaviour).
    ///
    /// ```
    /// use forthcoming::{Future, promise};
    ///
    /// // `sum(n)` returns its result through a chain of tail calls.
    /// fn sum(n: u64, total: u64) -> Future<u64, ()> {
    ///     let (result, future) = promise();
    ///     std::thread::spawn(move || {
    ///         if n == 0 {
    ///             result.set_result(total);
    ///         } else {
    ///             result.forward(sum(n - 1, total + n)); // a tail call
    ///         }
    ///     });
    ///     future
    /// }
    /// assert_eq!(sum(100, 0).get_result(), Ok(&5050));
    /// ```
    pub fn forward(self, source: Future<T, E>)
    where
        T: Send + Sync + 'static,
        E: Send + Sync + 'static,
    {
        self.handle.forward(source.into_handle());
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
