//! `(&future).await` and `future.await`: the same wait, from any async
//! executor, giving the outcome by reference or by value.

use crate::failure::Failure;
use crate::future::Future;
use crate::list::{State, WaitList};
use crate::registration::Registration;
use crate::return_when::ReturnWhen;
use crate::waitable::sealed::Sealed;
use futures_core::FusedFuture;
use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

/// Awaits the outcome: `(&future).await` is `Result<&T, &Failure<E>>`, as
/// [`Future::get_result`], without blocking the thread and without any
/// runtime dependency.
///
/// ```
/// let (promise, future) = forthcoming::promise::<u8, ()>();
/// std::thread::spawn(move || promise.set_result(7));
/// assert_eq!(futures::executor::block_on(async { (&future).await }), Ok(&7));
/// ```
impl<'a, T, E> std::future::IntoFuture for &'a Future<T, E> {
    type Output = Result<&'a T, &'a Failure<E>>;
    type IntoFuture = Completion<'a, T, E>;

    fn into_future(self) -> Completion<'a, T, E> {
        Completion {
            future: self,
            registration: None,
            terminated: false,
        }
    }
}

/// The future returned by `(&future).into_future()`.
///
/// It registers on its first `Pending` poll and stays registered across
/// polls: a re-poll only swaps the waker. Dropping it (cancellation, e.g.
/// by `tokio::time::timeout`) unlinks its registration at once, lock-free.
///
/// ```
/// use std::future::IntoFuture;
/// let (promise, future) = forthcoming::promise::<u8, ()>();
/// let completion: forthcoming::Completion<'_, u8, ()> = (&future).into_future();
/// promise.set_result(3);
/// assert_eq!(futures::executor::block_on(completion), Ok(&3));
/// ```
#[must_use = "futures do nothing unless polled"]
pub struct Completion<'a, T, E> {
    /// What is awaited.
    future: &'a Future<T, E>,
    /// Present between the first `Pending` poll and completion or drop.
    registration: Option<Registration<'a>>,
    /// Whether a poll returned `Ready` (see [`FusedFuture`]).
    terminated: bool,
}

impl<'a, T, E> std::future::Future for Completion<'a, T, E> {
    type Output = Result<&'a T, &'a Failure<E>>;

    #[inline]
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let future = self.future;
        // Done before any registration: one load, nothing to undo.
        let done = match &self.registration {
            None => future.try_read(),
            Some(_) => None,
        };
        let outcome = match done {
            Some(outcome) => outcome,
            None => {
                ready!(poll_done(future.wait_list(), &mut self.registration, cx));
                future.get_result()
            }
        };
        self.terminated = true;
        Poll::Ready(outcome)
    }
}

/// Terminated once it returned `Ready`, so `futures::select!` polls it no
/// more (polled anyway, it is `Ready` again with the same outcome).
///
/// ```
/// use futures::future::FusedFuture;
/// use std::future::IntoFuture;
/// let (promise, future) = forthcoming::promise::<u8, ()>();
/// let mut completion = (&future).into_future();
/// assert!(!completion.is_terminated());
/// promise.set_result(1);
/// assert_eq!(futures::executor::block_on(&mut completion), Ok(&1));
/// assert!(completion.is_terminated());
/// ```
impl<T, E> FusedFuture for Completion<'_, T, E> {
    fn is_terminated(&self) -> bool {
        self.terminated
    }
}

/// Awaits the outcome by value: `future.await` is `Result<T, Failure<E>>`,
/// moved out when this is the future's last handle (as
/// [`Future::into_result`]), cloned otherwise, as
/// `futures::future::Shared` does; hence `T: Clone, E: Clone`. Without
/// them, `(&future).await` reads the outcome by reference.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let (promise, future) = forthcoming::promise::<String, ()>();
/// let reader = tokio::spawn(async move { future.await });
/// promise.set_result("hello".to_string());
/// assert_eq!(reader.await.unwrap(), Ok("hello".to_string()));
/// # }
/// ```
///
/// A value that is not `Clone` is not awaited by value:
///
/// ```compile_fail,E0277
/// struct Connection; // not Clone
/// async fn take(future: forthcoming::Future<Connection, ()>) -> Connection {
///     future.await.ok().unwrap()
/// }
/// ```
impl<T: Clone, E: Clone> std::future::IntoFuture for Future<T, E> {
    type Output = Result<T, Failure<E>>;
    type IntoFuture = OwnedCompletion<T, E>;

    fn into_future(self) -> OwnedCompletion<T, E> {
        OwnedCompletion {
            registration: None,
            future: Some(self),
        }
    }
}

/// The future returned by `future.into_future()`: it owns the
/// [`Future`] handle and waits as [`Completion`] does (registered from its
/// first `Pending` poll, unlinked at once when dropped).
///
/// # Panics
/// When polled again after it returned `Ready` (the outcome was handed
/// out), as an `async fn`'s future does.
///
/// ```
/// use std::future::IntoFuture;
/// let (promise, future) = forthcoming::promise::<u8, ()>();
/// let completion: forthcoming::OwnedCompletion<u8, ()> = future.into_future();
/// promise.set_result(3);
/// assert_eq!(futures::executor::block_on(completion), Ok(3));
/// ```
#[must_use = "futures do nothing unless polled"]
pub struct OwnedCompletion<T, E> {
    /// Present between the first `Pending` poll and completion or drop. It
    /// is linked into `future`'s list, so it is declared first: fields drop
    /// in order, so it is unlinked while the list is alive.
    registration: Option<Registration<'static>>,
    /// What is awaited; `None` once the outcome was returned.
    future: Option<Future<T, E>>,
}

/// Nothing in it is pinned: the outcome lives behind the handle, on the heap.
impl<T, E> Unpin for OwnedCompletion<T, E> {}

impl<T: Clone, E: Clone> std::future::Future for OwnedCompletion<T, E> {
    type Output = Result<T, Failure<E>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let Some(future) = &this.future else {
            panic!("`OwnedCompletion` polled after it returned `Ready`");
        };
        // SAFETY: the list lives in the shared state, which the counted
        // handle `this.future` keeps allocated (invariant I2 of `Inner`) at a
        // fixed address (moving `this` moves only the handle). The extended
        // reference goes only to the registration, which keeps it in its
        // nodes and does not hand it out, and the registration is dropped
        // before the handle: by `poll_done` before the handle is taken
        // below, inside `Registration::with_waker` if a waker panics, and
        // first when `this` is dropped (declaration order). Leaking `this`
        // leaks the handle too, so the list then lives forever.
        let list: &'static WaitList = unsafe { &*std::ptr::from_ref(future.wait_list()) };
        ready!(poll_done(list, &mut this.registration, cx));
        let Some(future) = this.future.take() else {
            unreachable!("checked above");
        };
        Poll::Ready(match future.into_result() {
            Ok(outcome) => outcome,
            Err(shared) => shared.get_result().cloned().map_err(Failure::clone),
        })
    }
}

/// Terminated once it returned `Ready` (the outcome was handed out), so
/// `futures::select!` polls it no more.
///
/// ```
/// use futures::future::FusedFuture;
/// use std::future::IntoFuture;
/// let (promise, future) = forthcoming::promise::<u8, ()>();
/// let mut completion = future.into_future();
/// promise.set_result(1);
/// assert_eq!(futures::executor::block_on(&mut completion), Ok(1));
/// assert!(completion.is_terminated());
/// ```
impl<T: Clone, E: Clone> FusedFuture for OwnedCompletion<T, E> {
    fn is_terminated(&self) -> bool {
        self.future.is_none()
    }
}

/// Ready once `list`'s future is done (see [`poll_state`]).
fn poll_done<'a>(
    list: &'a WaitList,
    registration: &mut Option<Registration<'a>>,
    cx: &mut Context<'_>,
) -> Poll<()> {
    poll_state(list, registration, cx, State::is_complete)
}

/// Ready once `list`'s state satisfies `ready` (which, once true, stays
/// true). Until then the task's waker is registered in `registration`
/// (registering on the first call, only swapping the waker on later ones);
/// once ready, the registration is dropped.
pub(crate) fn poll_state<'a>(
    list: &'a WaitList,
    registration: &mut Option<Registration<'a>>,
    cx: &mut Context<'_>,
    ready: fn(State) -> bool,
) -> Poll<()> {
    if !ready(list.state()) {
        Registration::with_waker(
            registration,
            cx.waker(),
            || [list],
            ReturnWhen::FirstCompleted,
        );
        // Checked after the waker is in place: a notification from here on
        // wakes the new waker, one before it is seen now.
        if !ready(list.state()) {
            return Poll::Pending;
        }
    }
    *registration = None;
    Poll::Ready(())
}

impl<T: fmt::Debug, E: fmt::Debug> fmt::Debug for Completion<'_, T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Completion")
            .field("future", self.future)
            .field("registered", &self.registration.is_some())
            .field("terminated", &self.terminated)
            .finish()
    }
}

impl<T: fmt::Debug, E: fmt::Debug> fmt::Debug for OwnedCompletion<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedCompletion")
            .field("future", &self.future)
            .field("registered", &self.registration.is_some())
            .finish()
    }
}
