//! Why a future did not produce a value, and the error of a timed read.

use std::any::Any;
use std::backtrace::Backtrace;
use std::error::Error;
use std::fmt;

/// The failure outcome of a future.
///
/// It tells apart an error the producer set ([`Promise::set_exception`]), a
/// panic captured by [`Promise::run`], and a promise dropped without any
/// outcome.
///
/// ```
/// use forthcoming::{Failure, Future};
/// fn describe(future: &Future<u8, String>) -> String {
///     match future.get_result() {
///         Ok(value) => format!("got {value}"),
///         Err(Failure::Exception(error)) => format!("the producer said: {error}"),
///         Err(Failure::Panicked(panic)) => format!("the producer {panic}"),
///         Err(Failure::BrokenPromise) => "nobody will answer".to_string(),
///     }
/// }
/// let (promise, future) = forthcoming::promise();
/// promise.run(|| panic!("out of memory"));
/// assert_eq!(describe(&future), "the producer panicked: out of memory");
/// assert_eq!(describe(&Future::failed("busy".into())), "the producer said: busy");
/// ```
///
/// [`Promise::set_exception`]: crate::Promise::set_exception
/// [`Promise::run`]: crate::Promise::run
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure<E> {
    /// The producer set this error.
    Exception(E),
    /// The function run by [`Promise::run`](crate::Promise::run) panicked.
    Panicked(Panic),
    /// The [`Promise`](crate::Promise) was dropped without a result or an
    /// exception: nobody will ever complete this future.
    BrokenPromise,
}

impl<E> Failure<E> {
    /// The producer's error, if this failure is one.
    ///
    /// ```
    /// use forthcoming::Failure;
    /// assert_eq!(Failure::Exception("busy").exception(), Some(&"busy"));
    /// assert_eq!(Failure::<&str>::BrokenPromise.exception(), None);
    /// ```
    pub fn exception(&self) -> Option<&E> {
        match self {
            Failure::Exception(error) => Some(error),
            _ => None,
        }
    }
}

impl<E: fmt::Display> fmt::Display for Failure<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Exception(error) => write!(f, "exception: {error}"),
            Failure::Panicked(panic) => write!(f, "{panic}"),
            Failure::BrokenPromise => f.write_str(
                "broken promise: the Promise was dropped without a result or an exception",
            ),
        }
    }
}

/// The source is the producer's error's own source: its message is already
/// in `Display`, so a chain (anyhow's `{:#}`) prints each message once.
impl<E: Error + 'static> Error for Failure<E> {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            Failure::Exception(error) => error.source(),
            Failure::Panicked(_) | Failure::BrokenPromise => None,
        }
    }
}

/// A failure with the backtrace captured where it was set: what a failed
/// future stores.
#[derive(Debug)]
pub(crate) struct TracedFailure<E> {
    /// What went wrong.
    pub(crate) failure: Failure<E>,
    /// Where it was set (honours `RUST_BACKTRACE`).
    pub(crate) backtrace: Backtrace,
}

/// A panic captured by [`Promise::run`](crate::Promise::run): its message,
/// when the payload was a string.
///
/// ```
/// use forthcoming::Failure;
/// let (promise, future) = forthcoming::promise::<u8, ()>();
/// promise.run(|| panic!("index {} out of range", 7));
/// let Some(Failure::Panicked(panic)) = future.exception() else { unreachable!() };
/// assert_eq!(panic.message(), Some("index 7 out of range"));
/// assert_eq!(panic.to_string(), "panicked: index 7 out of range");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Panic {
    /// The payload's text, if it was a `&str` or a `String`.
    message: Option<Box<str>>,
}

impl Panic {
    /// Keeps the text of a panic payload (the payload itself is not `Sync`).
    pub(crate) fn from_payload(payload: &(dyn Any + Send)) -> Panic {
        let message = payload
            .downcast_ref::<&str>()
            .map(|text| Box::from(*text))
            .or_else(|| {
                payload
                    .downcast_ref::<String>()
                    .map(|text| text.as_str().into())
            });
        Panic { message }
    }

    /// The panic message, when the payload was a string.
    ///
    /// ```
    /// use forthcoming::Failure;
    /// let (promise, future) = forthcoming::promise::<u8, ()>();
    /// promise.run(|| std::panic::panic_any(42)); // not a string
    /// let Some(Failure::Panicked(panic)) = future.exception() else { unreachable!() };
    /// assert_eq!(panic.message(), None);
    /// ```
    pub fn message(&self) -> Option<&str> {
        self.message.as_deref()
    }
}

impl fmt::Display for Panic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.message {
            Some(message) => write!(f, "panicked: {message}"),
            None => f.write_str("panicked with a non-string payload"),
        }
    }
}

/// Why [`Future::result`](crate::Future::result) returned no value.
///
/// It borrows the failure from the future; the owned form, which `?`
/// carries out of a function, is [`FutureError`](crate::FutureError).
///
/// ```
/// use forthcoming::{Failure, ResultError};
/// use std::time::Duration;
/// let (promise, future) = forthcoming::promise::<u8, &str>();
/// let wait = Some(Duration::from_millis(1));
/// assert_eq!(future.result(wait), Err(ResultError::Timeout));
/// promise.set_exception("refused");
/// assert_eq!(future.result(wait), Err(ResultError::Failed(&Failure::Exception("refused"))));
/// assert_eq!(future.result(wait).unwrap_err().to_string(), "exception: refused");
/// ```
#[derive(Debug, PartialEq, Eq)]
pub enum ResultError<'a, E> {
    /// The time-out passed before the future completed.
    Timeout,
    /// The future completed with this failure.
    Failed(&'a Failure<E>),
}

impl<E: fmt::Display> fmt::Display for ResultError<'_, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResultError::Timeout => f.write_str("timed out waiting for the future"),
            ResultError::Failed(failure) => fmt::Display::fmt(failure, f),
        }
    }
}

/// The source is the failure's (see [`Failure`]'s `Error`): `Display`
/// already shows the failure, so each message appears once in a chain.
impl<E: Error + 'static> Error for ResultError<'_, E> {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            ResultError::Timeout => None,
            ResultError::Failed(failure) => failure.source(),
        }
    }
}
