//! The state word of one future: the head of its waiter list while pending,
//! a tag saying how it completed once it is done.
//!
//! | value                       | phase    | meaning                           |
//! |-----------------------------|----------|-----------------------------------|
//! | null                        | pending  | nobody waits                      |
//! | pointer to a node           | pending  | head of the intrusive waiter list |
//! | `COMPLETE`                  | complete | outcome is a value                |
//! | `COMPLETE \| FAILED`         | complete | outcome is a failure              |
//! | `ABANDONED` (\| head)        | pending  | the last future is gone           |
//!
//! Nodes are aligned to 8 bytes, so the tags never clash with a head, and a
//! pending word is the list's first link plus at most `ABANDONED`: unlinking
//! the head is the same CAS as unlinking any other node (keeping the tag),
//! and it fails once the word is complete.
//!
//! Who owns what: while pending, any waiter may push its node (CAS) and any
//! detacher may unlink a marked node (CAS); the promise alone may complete the
//! word (one RMW), after which the word never changes again, the outcome is
//! read-only, and the promise no longer touches the allocation. The last
//! future to go, if the word is still pending, sets `ABANDONED` (one RMW) and
//! leaves the allocation to the promise. Whichever of the two RMWs comes
//! second frees the allocation, so it is freed exactly once.
//!
//! Under `ABANDONED` no push succeeds (a consumer cannot push: it would
//! borrow a future; the producer's push finds the tag and counts as woken),
//! and the nodes linked are the producer's own (`Promise::wait_abandoned`):
//! the last future wakes them, and the producer unlinks them keeping the
//! tag, before it can complete. (A node of a consumer's wait stays linked
//! there only if that wait was leaked with `mem::forget`: its waiter is
//! leaked too, so the last future and the completer may still walk it.)

use std::fmt;

/// Tag bit: the future is complete and its outcome is published.
const COMPLETE: usize = 0b01;
/// Tag bit, only with `COMPLETE`: the outcome is a failure.
const FAILED: usize = 0b10;
/// Tag bit, only while pending: no future is left; the promise frees.
const ABANDONED: usize = 0b100;
/// Every tag bit: a node pointer has none (nodes are 8-aligned).
const TAGS: usize = COMPLETE | FAILED | ABANDONED;

/// A decoded copy of the state word, whose pending value points to an `N`
/// (the list's node type; the word knows nothing else of it).
pub(crate) struct State<N>(*mut N);

impl<N> Clone for State<N> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<N> Copy for State<N> {}

impl<N> State<N> {
    /// Pending, with no waiter.
    pub(crate) const EMPTY: State<N> = State(std::ptr::null_mut());

    /// Wraps a raw word read from the atomic.
    #[inline]
    pub(crate) fn from_raw(word: *mut N) -> State<N> {
        State(word)
    }

    /// The raw word to store in the atomic.
    #[inline]
    pub(crate) fn into_raw(self) -> *mut N {
        self.0
    }

    /// The terminal word for an outcome that is a failure or not.
    #[inline]
    pub(crate) fn completed(failed: bool) -> State<N> {
        let tag = if failed { COMPLETE | FAILED } else { COMPLETE };
        State(std::ptr::without_provenance_mut(tag))
    }

    /// Whether the future is complete.
    #[inline]
    pub(crate) fn is_complete(self) -> bool {
        self.0.addr() & COMPLETE != 0
    }

    /// Whether the future completed with a failure.
    #[inline]
    pub(crate) fn is_failure(self) -> bool {
        self.0.addr() & FAILED != 0
    }

    /// Whether the last future went away before completion.
    #[inline]
    pub(crate) fn is_abandoned(self) -> bool {
        self.0.addr() & ABANDONED != 0
    }

    /// The same word with `ABANDONED` set.
    #[inline]
    pub(crate) fn with_abandoned(self) -> State<N> {
        State(self.0.map_addr(|a| a | ABANDONED))
    }

    /// The same pending word with `head` as its first node, its tag bits
    /// (`ABANDONED`) kept: what unlinking the head writes.
    #[inline]
    pub(crate) fn with_head(self, head: *mut N) -> State<N> {
        State(head.map_addr(|a| a | (self.0.addr() & TAGS)))
    }

    /// The head of the waiter list; null when empty or complete.
    #[inline]
    pub(crate) fn head(self) -> *mut N {
        if self.is_complete() {
            std::ptr::null_mut()
        } else {
            self.0.map_addr(|a| a & !TAGS)
        }
    }
}

impl<N> fmt::Debug for State<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.is_complete(), self.is_failure()) {
            (true, true) => f.write_str("Complete(failure)"),
            (true, false) => f.write_str("Complete(value)"),
            (false, _) if self.is_abandoned() => write!(f, "Abandoned(head: {:p})", self.head()),
            (false, _) if self.0.is_null() => f.write_str("Pending(no waiters)"),
            (false, _) => write!(f, "Pending(head: {:p})", self.0),
        }
    }
}
