//! The producer's handle: completes the future once, or breaks the promise
//! by being dropped.

use crate::failure::{Failure, Panic};
use crate::future::Future;
use crate::inner::{Failed, Inner, Outcome};
use crate::list::Wakeups;
use crate::unwind::drop_payload;
use std::fmt;
use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::ptr::NonNull;

/// Creates a connected promise and future, in one heap allocation.
///
/// ```
/// let (promise, future) = forthcoming::promise::<u32, String>();
/// std::thread::spawn(move || promise.set_result(42));
/// assert_eq!(future.get_result(), Ok(&42));
/// ```
pub fn promise<T, E>() -> (Promise<T, E>, Future<T, E>) {
    let inner = Inner::allocate();
    // SAFETY: `allocate` counted the one future made here; the promise is
    // the pair's only promise.
    unsafe { (Promise::from_inner(inner), Future::from_inner(inner)) }
}

/// A marker invariant in `X` (and `Send`, `Sync`: it holds no `X`).
type Invariant<X> = PhantomData<fn(X) -> X>;

/// The write side: fulfilled exactly once, by value.
///
/// Dropping a promise that was never fulfilled completes its future with
/// [`Failure::BrokenPromise`], so no waiter can hang forever.
///
/// # Panics
/// Completing (`set_result`, `set_exception`, `run`, or the drop) panics
/// only if user code panics in it, and only after the future is complete
/// and every other waiter woken:
/// - a waiting task's `Waker::wake` (see the crate docs on user code);
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
    /// The shared state, kept alive until the promise completes it.
    inner: NonNull<Inner<T, E>>,
    /// Owns a `T`/`E` to send, not shares them.
    _owns: PhantomData<Outcome<T, E>>,
    /// Invariant in `T` and `E` on purpose (see *Variance*), not only
    /// through `Inner`'s `UnsafeCell`.
    _invariant: Invariant<Outcome<T, E>>,
}

// SAFETY: a promise moves a `T` or an `E` into the shared state (so they must
// be `Send`), and may drop the outcome if it is the last handle. It never
// hands out references to them.
unsafe impl<T: Send, E: Send> Send for Promise<T, E> {}
// SAFETY: `&Promise` offers nothing that touches the shared state.
unsafe impl<T, E> Sync for Promise<T, E> {}

impl<T, E> Promise<T, E> {
    /// # Safety
    /// `inner` must come from `Inner::allocate`, with no other promise made
    /// for it.
    unsafe fn from_inner(inner: NonNull<Inner<T, E>>) -> Promise<T, E> {
        Promise {
            inner,
            _owns: PhantomData,
            _invariant: PhantomData,
        }
    }

    /// Completes the future with a value and wakes every waiter.
    /// Never blocks and never allocates.
    pub fn set_result(self, value: T) {
        self.fulfil(Ok(value));
    }

    /// Completes the future with the producer's error and wakes every
    /// waiter. Captures a backtrace here (see
    /// [`Future::get_traceback`]).
    pub fn set_exception(self, error: E) {
        self.fulfil(Err(Failed::here(Failure::Exception(error))));
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
            Ok(Err(error)) => Err(Failed::here(Failure::Exception(error))),
            Err(payload) => {
                let panic = Panic::from_payload(&*payload);
                drop_payload(payload);
                Err(Failed::here(Failure::Panicked(panic)))
            }
        };
        self.fulfil(outcome);
    }

    fn fulfil(self, outcome: Outcome<T, E>) {
        let this = ManuallyDrop::new(self);
        // SAFETY: `self` is consumed and its `Drop` suppressed, so this is the
        // pair's only completion.
        unsafe { Promise::complete(this.inner, outcome) };
    }

    /// Completes (which also gives up the promise's hold on the shared
    /// state), then wakes the waiters: a woken waiter that holds the last
    /// future may take the outcome by value at once.
    ///
    /// # Safety
    /// Called once per promise, which never touches `inner` again.
    #[inline]
    unsafe fn complete(inner: NonNull<Inner<T, E>>, outcome: Outcome<T, E>) {
        // SAFETY: this is the pair's only completion, and the promise does
        // not touch `inner` afterwards but to free it when told to.
        let wakeups = unsafe { Inner::complete(inner, outcome) };
        if !wakeups.is_empty() {
            // SAFETY: `wakeups` come from completing `inner`, just now.
            unsafe { Promise::wake_and_free(inner, wakeups) };
        }
    }

    /// Wakes the taken waiters, then, if no future was left, frees the
    /// shared state: after waking and unpinned, since dropping the outcome
    /// runs user code. A panic from a waker resumes last, once the future is
    /// complete, every waiter woken and the state freed; on a thread already
    /// unwinding (resuming would abort) it is dropped instead.
    ///
    /// # Safety
    /// `wakeups` come from [`Inner::complete`] on `inner`.
    #[cold]
    unsafe fn wake_and_free(inner: NonNull<Inner<T, E>>, wakeups: Wakeups) {
        let abandoned = wakeups.abandoned();
        let waker_panic = wakeups.wake_all();
        if abandoned {
            // SAFETY: just completed, and the wake-ups said abandoned.
            unsafe { Inner::free_abandoned(inner) };
        }
        if let Some(payload) = waker_panic {
            if std::thread::panicking() {
                drop_payload(payload);
            } else {
                resume_unwind(payload);
            }
        }
    }
}

impl<T, E> Drop for Promise<T, E> {
    fn drop(&mut self) {
        // SAFETY: a promise still alive has not completed (fulfilling consumes
        // it without running this), and it is dropped once.
        unsafe { Promise::complete(self.inner, Err(Failed::here(Failure::BrokenPromise))) };
    }
}

impl<T, E> fmt::Debug for Promise<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // SAFETY: the promise's handle keeps the shared state alive.
        let inner = unsafe { self.inner.as_ref() };
        f.debug_struct("Promise")
            .field("id", &inner.id.get())
            .finish_non_exhaustive()
    }
}
