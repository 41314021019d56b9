//! When a group wait returns: the public rule its decision word follows.

/// When [`wait`](crate::wait) returns (Python's `concurrent.futures` `return_when`).
/// The default is [`AllCompleted`](ReturnWhen::AllCompleted), as in Python.
///
/// ```
/// assert_eq!(forthcoming::ReturnWhen::default(), forthcoming::ReturnWhen::AllCompleted);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum ReturnWhen {
    /// When every future is done.
    #[default]
    AllCompleted,
    /// When at least one future is done.
    FirstCompleted,
    /// When at least one future is done with a failure (any
    /// [`Failure`](crate::Failure), a broken promise included), or every
    /// future is done.
    FirstException,
}
