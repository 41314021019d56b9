//! The error of a wait whose time-out passed before anything completed.

use std::fmt;

/// A wait's time-out passed before what it waited for happened.
///
/// Returned by the timed waits that have nothing else to report.
///
/// ```
/// let error = forthcoming::Timeout;
/// assert_eq!(error.to_string(), "timed out");
/// let boxed: Box<dyn std::error::Error + Send + Sync> = error.into();
/// assert!(boxed.is::<forthcoming::Timeout>());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Timeout;

impl fmt::Display for Timeout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("timed out")
    }
}

impl std::error::Error for Timeout {}
