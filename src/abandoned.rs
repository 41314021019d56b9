//! `Promise::abandoned()`: the producer's side, awaiting the moment no
//! future is left to read the outcome.

use crate::completion::poll_state;
use crate::inner::Abandonable;
use crate::list::{State, WaitList};
use crate::registration::Registration;
use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

/// The future returned by [`Promise::abandoned`](crate::Promise::abandoned):
/// resolves once every future of the promise is gone, in any executor.
///
/// It registers on its first `Pending` poll (the only time the producer's
/// waker is linked into the future's list) and stays registered across
/// polls; dropping it unlinks it at once. Polled again after `Ready`, it is
/// `Ready` again: abandonment is for good.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let (promise, future) = forthcoming::promise::<u64, ()>();
/// let producer = tokio::spawn(async move {
///     let abandoned: forthcoming::Abandoned<'_> = promise.abandoned();
///     abandoned.await; // stop working: nobody will read the result
/// });
/// drop(future);
/// producer.await.unwrap();
/// # }
/// ```
#[must_use = "futures do nothing unless polled"]
pub struct Abandoned<'a> {
    /// The promise's handle, which says where abandonment shows.
    promise: &'a (dyn Abandonable + Sync),
    /// The list registered on: `promise`'s abandonment list when it was.
    list: &'a WaitList,
    /// Present between the first `Pending` poll and readiness or drop.
    registration: Option<Registration<'a>>,
}

impl<'a> Abandoned<'a> {
    /// Awaits the abandonment of `promise`'s futures.
    pub(crate) fn new(promise: &'a (dyn Abandonable + Sync)) -> Abandoned<'a> {
        Abandoned {
            promise,
            list: promise.abandonment_list(),
            registration: None,
        }
    }
}

impl std::future::Future for Abandoned<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        loop {
            let ready = poll_state(this.list, &mut this.registration, cx, State::is_abandoned);
            // A forward that took the promise's block for a link (its only
            // future, while nobody waited) moved abandonment to the block
            // the link leads to; a push onto the link fails. It happens
            // once per link, so this loop ends.
            let list = this.promise.abandonment_list();
            if ready.is_ready() || std::ptr::eq(list, this.list) {
                return ready;
            }
            this.registration = None;
            this.list = list;
        }
    }
}

impl fmt::Debug for Abandoned<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Abandoned")
            .field("state", &self.list.state())
            .field("registered", &self.registration.is_some())
            .finish()
    }
}
