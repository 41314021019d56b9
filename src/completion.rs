//! `(&future).await`: the same wait, from any async executor.

use crate::failure::Failure;
use crate::future::Future;
use crate::registration::Registration;
use crate::return_when::ReturnWhen;
use crate::waitable::sealed::Sealed;
use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

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
        }
    }
}

/// The future returned by `(&future).into_future()`.
///
/// It registers on its first `Pending` poll and stays registered across
/// polls: a re-poll only swaps the waker. Dropping it (cancellation, e.g.
/// by `tokio::time::timeout`) unlinks its registration at once, lock-free.
#[must_use = "futures do nothing unless polled"]
pub struct Completion<'a, T, E> {
    /// What is awaited.
    future: &'a Future<T, E>,
    /// Present between the first `Pending` poll and completion or drop.
    registration: Option<Registration<'a>>,
}

impl<'a, T, E> std::future::Future for Completion<'a, T, E> {
    type Output = Result<&'a T, &'a Failure<E>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let future = self.future;
        if !future.done() {
            let lists = || [future.wait_list()];
            Registration::with_waker(
                &mut self.registration,
                cx.waker(),
                lists,
                ReturnWhen::FirstCompleted,
            );
            // Checked after the waker is in place: a completion from here on
            // wakes the new waker, one before it is seen now.
            if !future.done() {
                return Poll::Pending;
            }
        }
        self.registration = None;
        Poll::Ready(future.get_result())
    }
}

impl<T, E> fmt::Debug for Completion<'_, T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Completion")
            .field("future", self.future)
            .field("registered", &self.registration.is_some())
            .finish()
    }
}
