//! The owned error of a read: a failure kept alive by a future handle, or a
//! time-out. It owns nothing borrowed, so `?` carries it into
//! `anyhow::Error` or `Box<dyn Error + Send + Sync>`.

use crate::failure::Failure;
use crate::inner::ReadHandle;
use std::error::Error;
use std::fmt;
use std::time::Duration;

/// Why [`Future::value`](crate::Future::value),
/// [`Future::value_timeout`](crate::Future::value_timeout) or
/// [`Future::ensure_success`](crate::Future::ensure_success) gave no value:
/// the future failed, or the
/// time-out passed first.
///
/// Unlike the borrowed `&Failure<E>` of [`Future::get_result`](crate::Future::get_result), it borrows
/// nothing: it holds a clone of the future (one counter increment, no
/// `E: Clone`), so it can leave the function that read the future. It is a
/// [`std::error::Error`] whenever `E: Display + Debug`, which covers
/// `String`, `&'static str`, `Box<dyn Error + Send + Sync>`,
/// `anyhow::Error` and every `E: Error`.
///
/// ```
/// use forthcoming::Failure;
/// use std::time::Duration;
///
/// fn lookup(key: &str) -> anyhow::Result<u64> {
///     let (promise, future) = forthcoming::promise::<u64, String>();
///     promise.set_exception(format!("no such key: {key}"));
///     let value = future.value()?; // a `FutureError<u64, String>` becomes an `anyhow::Error`
///     Ok(*value)
/// }
/// let error = lookup("k").unwrap_err();
/// assert_eq!(format!("{error:#}"), "exception: no such key: k");
/// let failure = error.downcast_ref::<forthcoming::FutureError<u64, String>>().unwrap().failure();
/// assert_eq!(failure, Some(&Failure::Exception("no such key: k".to_string())));
///
/// let (_promise, pending) = forthcoming::promise::<u64, String>();
/// let error = pending.value_timeout(Duration::from_millis(1)).unwrap_err();
/// assert!(error.is_timeout() && error.failure().is_none());
/// assert_eq!(error.to_string(), "timed out after 1ms waiting for the future");
/// ```
pub struct FutureError<T, E> {
    /// What happened.
    kind: Kind<T, E>,
}

/// The two ways a read ends without a value.
enum Kind<T, E> {
    /// The future was still pending after this long.
    Timeout(Duration),
    /// A handle on the future, which completed with a failure.
    Failed(ReadHandle<T, E>),
}

impl<T, E> FutureError<T, E> {
    /// The error of a read that waited `timeout` in vain.
    pub(crate) fn timeout(timeout: Duration) -> FutureError<T, E> {
        FutureError {
            kind: Kind::Timeout(timeout),
        }
    }

    /// The error of a read of `future`, which failed.
    pub(crate) fn failed(future: ReadHandle<T, E>) -> FutureError<T, E> {
        FutureError {
            kind: Kind::Failed(future),
        }
    }

    /// Whether the time-out passed before the future completed.
    ///
    /// ```
    /// let (_promise, future) = forthcoming::promise::<u8, ()>();
    /// let error = future.value_timeout(std::time::Duration::ZERO).unwrap_err();
    /// assert!(error.is_timeout());
    /// ```
    pub fn is_timeout(&self) -> bool {
        matches!(self.kind, Kind::Timeout(_))
    }

    /// The failure the future completed with; `None` for a time-out.
    ///
    /// ```
    /// use forthcoming::{Failure, Future};
    /// let future = Future::<u8, &str>::failed("refused");
    /// let error = future.ensure_success().unwrap_err();
    /// assert_eq!(error.failure(), Some(&Failure::Exception("refused")));
    /// ```
    pub fn failure(&self) -> Option<&Failure<E>> {
        match &self.kind {
            Kind::Timeout(_) => None,
            Kind::Failed(future) => Some(failure_of(future)),
        }
    }
}

/// The failure of a future known to have failed.
fn failure_of<T, E>(future: &ReadHandle<T, E>) -> &Failure<E> {
    match future.settled() {
        Some(Err(traced)) => &traced.failure,
        _ => unreachable!("a `FutureError` holds only a future that failed"),
    }
}

impl<T, E: fmt::Display> fmt::Display for FutureError<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            Kind::Timeout(timeout) => {
                write!(f, "timed out after {timeout:?} waiting for the future")
            }
            Kind::Failed(future) => fmt::Display::fmt(failure_of(future), f),
        }
    }
}

/// No `T: Debug` bound: it shows the time-out or the failure, never a value.
impl<T, E: fmt::Debug> fmt::Debug for FutureError<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            Kind::Timeout(timeout) => f.debug_tuple("Timeout").field(timeout).finish(),
            Kind::Failed(future) => f.debug_tuple("Failed").field(failure_of(future)).finish(),
        }
    }
}

/// `source()` is `None`: `Display` already shows the failure, `E`'s
/// message included, and `E` need not be an `Error` itself. When it is, its
/// own causes are one step away:
/// `error.failure().and_then(Failure::exception)` is the `&E`.
impl<T, E: fmt::Display + fmt::Debug> Error for FutureError<T, E> {}
