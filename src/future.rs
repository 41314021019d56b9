//! The read side: a cloneable handle on the outcome, with the blocking API
//! of both seeds (`get_result`, `check_success`, `result(timeout)`, ...).

use crate::callback::Callback;
use crate::failure::{Failure, ResultError};
use crate::future_error::FutureError;
use crate::id::FutureId;
use crate::inner::{Inner, Outcome, ReadHandle, failed, pair};
use crate::list::WaitList;
use crate::registration::{block, deadline_after, register_callback, time_is_up};
use crate::return_when::ReturnWhen;
use crate::trampoline;
use crate::waitable::{Waitable, sealed};
use std::backtrace::Backtrace;
use std::fmt;
use std::time::{Duration, Instant};

/// A handle on the outcome of a [`Promise`](crate::Promise): a value `T` or a
/// [`Failure<E>`].
///
/// Clones share one outcome. Methods named `get_*`, `wait*`,
/// `check_success` and `result` block the thread until the future is done
/// (or the time-out passes); `done` and `exception` never block. Waiting on
/// a future that is already done is one atomic load: no allocation, no
/// read-modify-write.
///
/// ```
/// use std::time::Duration;
/// use forthcoming::{Failure, ResultError};
///
/// let (promise, future) = forthcoming::promise::<String, std::io::Error>();
/// assert!(matches!(future.result(Some(Duration::ZERO)), Err(ResultError::Timeout)));
/// let reader = future.clone();
/// let handle = std::thread::spawn(move || reader.get_result().map(|s| s.len()).ok());
/// promise.set_result("hello".to_string());
/// assert_eq!(handle.join().unwrap(), Some(5));
/// assert!(future.done());
/// assert!(future.exception().is_none());
/// ```
pub struct Future<T, E> {
    /// One counted handle on the shared state.
    handle: ReadHandle<T, E>,
}

impl<T, E> Future<T, E> {
    /// The counted handle, given up.
    pub(crate) fn into_handle(self) -> ReadHandle<T, E> {
        self.handle
    }

    /// The future of a new pair.
    pub(crate) fn from_handle(handle: ReadHandle<T, E>) -> Future<T, E> {
        Future { handle }
    }

    /// A future already done with `value`, with no promise: for tests, caches,
    /// or a call that has its answer at hand. It costs what a promise
    /// completed at once costs: one allocation.
    ///
    /// ```
    /// let cached = forthcoming::Future::<u64, String>::ready(42);
    /// assert!(cached.done());
    /// assert_eq!(cached.get_result(), Ok(&42));
    /// ```
    pub fn ready(value: T) -> Future<T, E> {
        Future::completed(Ok(value))
    }

    /// A future already done with the failure
    /// [`Failure::Exception(error)`](Failure::Exception), with no promise
    /// (the backtrace is captured here, as by
    /// [`Promise::set_exception`](crate::Promise::set_exception)).
    ///
    /// ```
    /// use forthcoming::{Failure, Future};
    /// let refused = Future::<u64, &str>::failed("connection refused");
    /// assert_eq!(refused.get_result(), Err(&Failure::Exception("connection refused")));
    /// ```
    pub fn failed(error: E) -> Future<T, E> {
        Future::completed(failed(Failure::Exception(error)))
    }

    /// A future of a new pair, completed at once with `outcome`.
    fn completed(outcome: Outcome<T, E>) -> Future<T, E> {
        let (write, read) = pair();
        write.complete(outcome);
        Future::from_handle(read)
    }

    /// The shared state.
    fn inner(&self) -> &Inner<T, E> {
        &self.handle
    }

    /// Whether the outcome has arrived. Never blocks.
    ///
    /// ```
    /// let (promise, future) = forthcoming::promise::<u8, ()>();
    /// assert!(!future.done());
    /// promise.set_result(1);
    /// assert!(future.done());
    /// ```
    pub fn done(&self) -> bool {
        self.inner().list.state().is_complete()
    }

    /// The failure, if the future completed with one. Never blocks: `None`
    /// while pending or on success (the SDK's `exception` property).
    ///
    /// ```
    /// use forthcoming::Failure;
    /// let (promise, future) = forthcoming::promise::<u8, &str>();
    /// assert_eq!(future.exception(), None); // pending
    /// promise.set_exception("boom");
    /// assert_eq!(future.exception(), Some(&Failure::Exception("boom")));
    /// ```
    pub fn exception(&self) -> Option<&Failure<E>> {
        match self.inner().settled() {
            Some(Err(traced)) => Some(&traced.failure),
            _ => None,
        }
    }

    /// Blocks until the outcome arrives.
    ///
    /// ```
    /// let (promise, future) = forthcoming::promise::<u8, ()>();
    /// std::thread::spawn(move || promise.set_result(1));
    /// future.wait();
    /// assert!(future.done());
    /// ```
    #[inline]
    pub fn wait(&self) {
        if !self.done() {
            self.block_until_done();
        }
    }

    /// `wait` when the outcome has not arrived yet.
    #[cold]
    fn block_until_done(&self) {
        block([&self.inner().list], ReturnWhen::FirstCompleted, None);
    }

    /// Blocks until the outcome arrives or `timeout` passes; returns
    /// [`done`](Self::done). `Duration::ZERO` only checks; a time-out too
    /// long to represent as an `Instant` waits forever.
    ///
    /// ```
    /// use std::time::Duration;
    /// let (promise, future) = forthcoming::promise::<u8, ()>();
    /// assert!(!future.wait_timeout(Duration::from_millis(1)));
    /// promise.set_result(1);
    /// assert!(future.wait_timeout(Duration::ZERO));
    /// ```
    pub fn wait_timeout(&self, timeout: Duration) -> bool {
        self.wait_until(deadline_after(timeout))
    }

    /// Blocks until the outcome arrives or `deadline` passes; returns
    /// [`done`](Self::done). A deadline in the past only checks.
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// let (promise, future) = forthcoming::promise::<u8, ()>();
    /// let deadline = Instant::now() + Duration::from_millis(1);
    /// assert!(!future.wait_deadline(deadline));
    /// promise.set_result(1);
    /// assert!(future.wait_deadline(deadline)); // past: only checks
    /// ```
    pub fn wait_deadline(&self, deadline: Instant) -> bool {
        self.wait_until(Some(deadline))
    }

    fn wait_until(&self, deadline: Option<Instant>) -> bool {
        if self.done() {
            return true;
        }
        if time_is_up(deadline) {
            return self.done();
        }
        block([&self.inner().list], ReturnWhen::FirstCompleted, deadline);
        self.done()
    }

    /// Waits, then returns the value or the failure (NDB's `get_result`;
    /// the failure is returned, never panicked).
    ///
    /// The value and the failure are borrowed from the future; to return
    /// the failure from a function with `?`, use [`value`](Self::value).
    ///
    /// ```
    /// use forthcoming::Failure;
    /// let (promise, future) = forthcoming::promise::<String, ()>();
    /// std::thread::spawn(move || promise.set_result("hi".to_string()));
    /// assert_eq!(future.get_result().map(String::as_str), Ok("hi"));
    ///
    /// let (broken, future) = forthcoming::promise::<String, ()>();
    /// drop(broken);
    /// assert_eq!(future.get_result(), Err(&Failure::BrokenPromise));
    /// ```
    pub fn get_result(&self) -> Result<&T, &Failure<E>> {
        self.wait();
        self.settled()
    }

    /// Waits at most `timeout` (`None`: forever), then returns the value, the
    /// failure, or [`ResultError::Timeout`] (the SDK's `result(timeout)`).
    ///
    /// The owned form, for `?`, is [`value_timeout`](Self::value_timeout).
    ///
    /// ```
    /// use forthcoming::ResultError;
    /// use std::time::Duration;
    /// let (promise, future) = forthcoming::promise::<u8, ()>();
    /// assert_eq!(future.result(Some(Duration::from_millis(1))), Err(ResultError::Timeout));
    /// promise.set_result(1);
    /// assert_eq!(future.result(None), Ok(&1));
    /// ```
    pub fn result(&self, timeout: Option<Duration>) -> Result<&T, ResultError<'_, E>> {
        let done = match timeout {
            None => {
                self.wait();
                true
            }
            Some(timeout) => self.wait_timeout(timeout),
        };
        if !done {
            return Err(ResultError::Timeout);
        }
        self.settled().map_err(ResultError::Failed)
    }

    /// Waits, then returns `Ok(())` on a value or the failure (NDB's
    /// `check_success`).
    ///
    /// The owned form, for `?`, is [`ensure_success`](Self::ensure_success).
    ///
    /// ```
    /// use forthcoming::Failure;
    /// let (promise, future) = forthcoming::promise::<u8, &str>();
    /// promise.set_exception("denied");
    /// assert_eq!(future.check_success(), Err(&Failure::Exception("denied")));
    /// ```
    pub fn check_success(&self) -> Result<(), &Failure<E>> {
        self.get_result().map(|_| ())
    }

    /// Waits, then returns the value, or the failure as an owned
    /// [`FutureError`] that `?` turns into an `anyhow::Error` or a
    /// `Box<dyn Error + Send + Sync>` (the borrowed form is
    /// [`get_result`](Self::get_result)).
    ///
    /// ```
    /// fn total(parts: &[forthcoming::Future<u64, String>]) -> anyhow::Result<u64> {
    ///     let mut sum = 0;
    ///     for part in parts {
    ///         sum += part.value()?;
    ///     }
    ///     Ok(sum)
    /// }
    /// let good = forthcoming::Future::ready(2);
    /// let bad = forthcoming::Future::failed("shard 3 is down".to_string());
    /// assert_eq!(total(&[good.clone(), good.clone()]).unwrap(), 4);
    /// assert_eq!(total(&[good, bad]).unwrap_err().to_string(), "exception: shard 3 is down");
    /// ```
    #[doc(alias = "get_result")]
    pub fn value(&self) -> Result<&T, FutureError<T, E>> {
        match self.get_result() {
            Ok(value) => Ok(value),
            Err(_) => Err(FutureError::failed(self.handle.clone())),
        }
    }

    /// Waits at most `timeout`, then returns the value, or the failure or
    /// the time-out as an owned [`FutureError`] (the borrowed form is
    /// [`result`](Self::result)). `Duration::ZERO` only checks.
    ///
    /// ```
    /// use std::error::Error;
    /// use std::time::Duration;
    ///
    /// fn fetch(reply: &forthcoming::Future<String, std::io::Error>) -> Result<usize, Box<dyn Error + Send + Sync>> {
    ///     Ok(reply.value_timeout(Duration::from_millis(1))?.len())
    /// }
    /// let (promise, reply) = forthcoming::promise();
    /// let error = fetch(&reply).unwrap_err();
    /// assert_eq!(error.to_string(), "timed out after 1ms waiting for the future");
    /// promise.set_result("pong".to_string());
    /// assert_eq!(fetch(&reply).unwrap(), 4);
    /// ```
    #[doc(alias = "result")]
    pub fn value_timeout(&self, timeout: Duration) -> Result<&T, FutureError<T, E>> {
        if !self.wait_timeout(timeout) {
            return Err(FutureError::timeout(timeout));
        }
        self.value()
    }

    /// Waits, then returns `Ok(())` on a value, or the failure as an owned
    /// [`FutureError`] (the borrowed form is
    /// [`check_success`](Self::check_success)).
    ///
    /// ```
    /// fn commit(write: &forthcoming::Future<(), &'static str>) -> anyhow::Result<()> {
    ///     write.ensure_success()?;
    ///     Ok(())
    /// }
    /// let (promise, write) = forthcoming::promise();
    /// promise.set_exception("disk full");
    /// assert_eq!(commit(&write).unwrap_err().to_string(), "exception: disk full");
    /// ```
    #[doc(alias = "check_success")]
    pub fn ensure_success(&self) -> Result<(), FutureError<T, E>> {
        self.value().map(|_| ())
    }

    /// Waits, then returns the failure, or `None` on a value (NDB's
    /// `get_exception`).
    ///
    /// ```
    /// let (promise, future) = forthcoming::promise::<u8, &str>();
    /// std::thread::spawn(move || promise.set_result(1));
    /// assert_eq!(future.get_exception(), None);
    /// ```
    pub fn get_exception(&self) -> Option<&Failure<E>> {
        self.get_result().err()
    }

    /// Waits, then returns the backtrace captured where the failure was set
    /// (`Some` for every failure; it is empty unless `RUST_BACKTRACE` or
    /// `RUST_LIB_BACKTRACE` enables capture), or `None` on a value.
    ///
    /// ```
    /// let (promise, future) = forthcoming::promise::<u8, &str>();
    /// promise.set_exception("boom");
    /// let trace = future.get_traceback().expect("a failure has one");
    /// println!("the failure was set at:\n{trace}");
    /// ```
    pub fn get_traceback(&self) -> Option<&Backtrace> {
        self.wait();
        match self.inner().settled() {
            Some(Err(traced)) => Some(&traced.backtrace),
            _ => None,
        }
    }

    /// The pair's process-unique id, shared by every clone.
    ///
    /// ```
    /// let (promise, future) = forthcoming::promise::<u8, ()>();
    /// assert_eq!(future.clone().id(), future.id());
    /// assert_ne!(forthcoming::Future::<u8, ()>::ready(1).id(), future.id());
    /// # drop(promise);
    /// ```
    pub fn id(&self) -> FutureId {
        self.inner().id.get()
    }

    /// Takes the outcome by value if the future is done and no other handle
    /// reads its outcome (a clone, or a future forwarded from this one with
    /// [`Promise::forward`](crate::Promise::forward)); otherwise gives the
    /// handle back. Never blocks. Once a wait has seen
    /// the future done, the promise is already out of the way, so a sole
    /// future succeeds here, unless it was forwarded
    /// ([`Promise::forward`](crate::Promise::forward)) to a future that
    /// still has other handles: its value is that one's.
    ///
    /// ```
    /// let (promise, future) = forthcoming::promise::<Vec<u8>, ()>();
    /// promise.set_result(vec![1, 2]);
    /// let copy = future.clone();
    /// let future = future.into_result().unwrap_err(); // `copy` still shares it
    /// drop(copy);
    /// assert_eq!(future.into_result().ok(), Some(Ok(vec![1, 2])));
    /// ```
    pub fn into_result(self) -> Result<Result<T, Failure<E>>, Self> {
        match self.handle.into_outcome() {
            Ok(outcome) => Ok(outcome.map_err(|traced| traced.failure)),
            Err(handle) => Err(Future { handle }),
        }
    }

    /// Runs `callback` once, with a handle to this future, when it is done
    /// (NDB's `add_callback`, Python's `add_done_callback`).
    ///
    /// - Already done: it runs on this thread before this returns.
    /// - Otherwise it runs on the thread that completes the future
    ///   ([`Promise::set_result`](crate::Promise::set_result),
    ///   `set_exception`, `run`, or the promise's drop, with
    ///   [`Failure::BrokenPromise`]), after the outcome is published and
    ///   every waiting thread and task is woken.
    /// - While a thread runs callbacks, callbacks that become due on it (a
    ///   callback that completes another promise, or adds a callback to a
    ///   done future) are queued and run before the outermost completing
    ///   call returns: chains of any length run in constant stack. A wait
    ///   inside a callback (blocking, or with a time-out already passed)
    ///   first runs the callbacks queued on its thread, so it cannot wait
    ///   for, or miss, what one of them completes.
    ///
    /// The callbacks added before the future completes run in the order
    /// they were added (as Python's); one added while it completes may run
    /// at once, on this thread, before them. The callback holds a handle,
    /// so the outcome stays readable, and it runs no earlier than the
    /// outcome is set.
    ///
    /// # Panics
    /// A panicking callback stops no other callback or waiter; the first
    /// panic resumes out of the call that ran the callbacks (the
    /// completing call, or this one for a future already done), once they
    /// have all run.
    ///
    /// ```
    /// use std::sync::mpsc;
    /// let (promise, future) = forthcoming::promise::<u32, String>();
    /// let (sent, received) = mpsc::channel();
    /// future.add_done_callback(move |done| sent.send(done.get_result().ok().copied()).unwrap());
    /// promise.set_result(7); // runs the callback here, on this thread
    /// assert_eq!(received.try_recv(), Ok(Some(7)));
    /// ```
    pub fn add_done_callback<F>(&self, callback: F)
    where
        F: FnOnce(&Future<T, E>) + Send + 'static,
        T: Send + Sync + 'static,
        E: Send + Sync + 'static,
    {
        let handle = self.clone();
        let callback = Callback::new(move || callback(&handle));
        let due = if self.done() {
            Some(callback)
        } else {
            register_callback(&self.inner().list, callback, std::ptr::null())
        };
        if let Some(callback) = due {
            trampoline::run_now(callback);
        }
    }

    /// The outcome of a future known to be done.
    fn settled(&self) -> Result<&T, &Failure<E>> {
        match self.try_read() {
            Some(outcome) => outcome,
            None => unreachable!("settled() is called only after the future is done"),
        }
    }

    /// The outcome if the future is done; never blocks.
    #[inline]
    pub(crate) fn try_read(&self) -> Option<Result<&T, &Failure<E>>> {
        let outcome = self.inner().settled()?;
        Some(outcome.map_err(|traced| &traced.failure))
    }
}

impl<T, E> Clone for Future<T, E> {
    fn clone(&self) -> Self {
        Future {
            handle: self.handle.clone(),
        }
    }
}

/// Shows the id, the state word and, once done, the value or the failure.
///
/// ```
/// let (promise, future) = forthcoming::promise::<u8, String>();
/// assert!(format!("{future:?}").contains("Pending"));
/// promise.set_result(7);
/// assert!(format!("{future:?}").ends_with("value: 7 }"));
/// let failed = forthcoming::Future::<u8, String>::failed("no".into());
/// assert!(format!("{failed:?}").ends_with(r#"failure: Exception("no") }"#));
/// ```
impl<T: fmt::Debug, E: fmt::Debug> fmt::Debug for Future<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = f.debug_struct("Future");
        out.field("id", &self.id())
            .field("state", &self.inner().list.state());
        match self.inner().settled() {
            Some(Ok(value)) => out.field("value", value),
            Some(Err(traced)) => out.field("failure", &traced.failure),
            None => &mut out,
        };
        out.finish()
    }
}

impl<T, E> sealed::Sealed for Future<T, E> {
    fn wait_list(&self) -> &WaitList {
        &self.inner().list
    }
}

impl<T, E> Waitable for Future<T, E> {}
