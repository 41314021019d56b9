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

impl<E> TracedFailure<E> {
    /// `failure`, with a backtrace of the caller, boxed for the outcome.
    pub(crate) fn here(failure: Failure<E>) -> Box<TracedFailure<E>> {
        Box::new(TracedFailure {
            failure,
            backtrace: Backtrace::capture(),
        })
    }
}

/// A panic captured by [`Promise::run`](crate::Promise::run): its message,
/// when the payload was a string.
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
