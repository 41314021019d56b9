//! Process-unique future ids, assigned lazily so that creating a promise
//! costs no shared counter.

use crate::sync::AtomicU64;
use std::fmt;
use std::sync::atomic::Ordering::Relaxed;

/// The identity of one promise/future pair, shared by all its handles.
///
/// Unique for the life of the process (a 64-bit counter that cannot wrap in
/// practice), cheap to copy and compare, and displayed as a string of digits,
/// like the SDK's `id -> str`.
///
/// ```
/// use std::collections::HashMap;
/// let (_p1, call) = forthcoming::promise::<u8, ()>();
/// let (_p2, other) = forthcoming::promise::<u8, ()>();
/// let mut names = HashMap::new();
/// names.insert(call.id(), "call");
/// names.insert(other.id(), "other");
/// assert_eq!(names[&call.clone().id()], "call");
/// assert!(call.id().to_string().chars().all(|c| c.is_ascii_digit()));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FutureId(u64);

impl fmt::Display for FutureId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// An id slot, filled from the process counter on first use.
#[derive(Debug)]
pub(crate) struct LazyId(AtomicU64);

impl LazyId {
    /// An empty slot (0 is never handed out).
    pub(crate) fn new() -> LazyId {
        LazyId(AtomicU64::new(0))
    }

    /// The id, assigning one if this is the first call.
    pub(crate) fn get(&self) -> FutureId {
        // ORDERING: Relaxed throughout: the id is a value that publishes
        // nothing, and the CAS alone makes every caller agree on it.
        let current = self.0.load(Relaxed);
        if current != 0 {
            return FutureId(current);
        }
        let fresh = next_process_unique();
        match self.0.compare_exchange(0, fresh, Relaxed, Relaxed) {
            Ok(_) => FutureId(fresh),
            Err(winner) => FutureId(winner),
        }
    }
}

/// A process-wide counter for future ids. It publishes no data, so it is a
/// plain std atomic even under loom (loom atomics cannot live in a `static`).
fn next_process_unique() -> u64 {
    use std::sync::atomic::{AtomicU64 as StdAtomicU64, Ordering::Relaxed};
    static NEXT: StdAtomicU64 = StdAtomicU64::new(1);
    NEXT.fetch_add(1, Relaxed)
}
