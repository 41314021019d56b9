//! The read side: a cloneable handle on the outcome, with the blocking API
//! of both seeds (`get_result`, `check_success`, `result(timeout)`, ...).

use crate::callback::{Callback, Callbacks};
use crate::failure::{Failure, ResultError};
use crate::id::FutureId;
use crate::inner::{Inner, ReadHandle};
use crate::list::WaitList;
use crate::registration::{block, deadline_after, register_callback};
use crate::return_when::ReturnWhen;
use crate::trampoline;
use crate::unwind;
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
    /// The future of a new pair.
    pub(crate) fn from_handle(handle: ReadHandle<T, E>) -> Future<T, E> {
        Future { handle }
    }

    /// The shared state.
    fn inner(&self) -> &Inner<T, E> {
        &self.handle
    }

    /// Whether the outcome has arrived. Never blocks.
    pub fn done(&self) -> bool {
        self.inner().list.state().is_complete()
    }

    /// The failure, if the future completed with one. Never blocks: `None`
    /// while pending or on success (the SDK's `exception` property).
    pub fn exception(&self) -> Option<&Failure<E>> {
        match self.inner().outcome() {
            Some(Err(traced)) => Some(&traced.failure),
            _ => None,
        }
    }

    /// Blocks until the outcome arrives.
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
    pub fn wait_timeout(&self, timeout: Duration) -> bool {
        self.wait_until(deadline_after(timeout))
    }

    /// Blocks until the outcome arrives or `deadline` passes; returns
    /// [`done`](Self::done). A deadline in the past only checks.
    pub fn wait_deadline(&self, deadline: Instant) -> bool {
        self.wait_until(Some(deadline))
    }

    fn wait_until(&self, deadline: Option<Instant>) -> bool {
        if self.done() {
            return true;
        }
        if deadline.is_some_and(|deadline| Instant::now() >= deadline) {
            return false;
        }
        block([&self.inner().list], ReturnWhen::FirstCompleted, deadline);
        self.done()
    }

    /// Waits, then returns the value or the failure (NDB's `get_result`;
    /// the failure is returned, never panicked).
    pub fn get_result(&self) -> Result<&T, &Failure<E>> {
        self.wait();
        self.settled()
    }

    /// Waits at most `timeout` (`None`: forever), then returns the value, the
    /// failure, or [`ResultError::Timeout`] (the SDK's `result(timeout)`).
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
    pub fn check_success(&self) -> Result<(), &Failure<E>> {
        self.get_result().map(|_| ())
    }

    /// Waits, then returns the failure, or `None` on a value (NDB's
    /// `get_exception`).
    pub fn get_exception(&self) -> Option<&Failure<E>> {
        self.get_result().err()
    }

    /// Waits, then returns the backtrace captured where the failure was set
    /// (`Some` for every failure; it is empty unless `RUST_BACKTRACE` or
    /// `RUST_LIB_BACKTRACE` enables capture), or `None` on a value.
    pub fn get_traceback(&self) -> Option<&Backtrace> {
        self.wait();
        match self.inner().outcome() {
            Some(Err(traced)) => Some(&traced.backtrace),
            _ => None,
        }
    }

    /// The pair's process-unique id, shared by every clone.
    pub fn id(&self) -> FutureId {
        self.inner().id.get()
    }

    /// Takes the outcome by value if the future is done and has no clone;
    /// otherwise gives the handle back. Never blocks. Once a wait has seen
    /// the future done, the promise is already out of the way, so a sole
    /// future always succeeds here.
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
    ///   call returns: chains of any length run in constant stack. A
    ///   blocking wait inside a callback first runs the callbacks queued
    ///   on its thread, so it cannot wait for one of them.
    ///
    /// Callbacks of one future run in no promised order. The callback holds
    /// a handle, so the outcome stays readable, and it runs no earlier
    /// than the outcome is set.
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
            register_callback(&self.inner().list, callback)
        };
        if let Some(callback) = due {
            let mut callbacks = Callbacks::default();
            callbacks.push(callback);
            if let Some(payload) = trampoline::run(callbacks) {
                unwind::resume(payload);
            }
        }
    }

    /// The outcome of a future known to be done.
    fn settled(&self) -> Result<&T, &Failure<E>> {
        match self.inner().outcome() {
            Some(Ok(value)) => Ok(value),
            Some(Err(traced)) => Err(&traced.failure),
            None => unreachable!("settled() is called only after the future is done"),
        }
    }
}

impl<T, E> Clone for Future<T, E> {
    fn clone(&self) -> Self {
        Future {
            handle: self.handle.clone(),
        }
    }
}

impl<T, E> fmt::Debug for Future<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Future")
            .field("id", &self.id())
            .field("state", &self.inner().list.state())
            .finish()
    }
}

impl<T, E> sealed::Sealed for Future<T, E> {
    fn wait_list(&self) -> &WaitList {
        &self.inner().list
    }
}

impl<T, E> Waitable for Future<T, E> {}
