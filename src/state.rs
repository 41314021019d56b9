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
//! | `FORWARDED` (\| head)        | pending  | the promise was forwarded         |
//! | `LINKED` \| block            | pending  | completing completes that block   |
//!
//! Nodes are aligned to 16 bytes, so the tags never clash with a head, and a
//! pending word is the list's first link plus at most `ABANDONED` and
//! `FORWARDED`: unlinking the head is the same CAS as unlinking any other
//! node (keeping the tags), and it fails once the word is complete.
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
//!
//! `Promise::forward` (see `inner.rs`) adds two states. `FORWARDED` says
//! the block's promise was forwarded: a forwarding node or a link, not a
//! live promise, will complete it (a forward reads it to look for a cycle
//! only where one can close). `LINKED`: a forward that takes a block's only
//! future while nobody waits on it sets the word from null to a link to the
//! block the forward completes (8-aligned, so `LINKED` reads its own tag
//! bits only). The block then has no future and no waiter, and its promise
//! alone owns it: completing, it frees the block and completes the linked
//! one instead. Only the promise's completing RMW changes a linked word.

use std::fmt;

/// Tag bit: the future is complete and its outcome is published.
const COMPLETE: usize = 0b01;
/// Tag bit: with `COMPLETE`, the outcome is a failure; without it, the rest
/// of the word is a link to another block (`LINKED`).
const FAILED: usize = 0b10;
/// Tag bits of a link (see the module docs).
const LINKED: usize = FAILED;
/// Tag bit, only while pending: no future is left; the promise frees.
const ABANDONED: usize = 0b100;
/// Tag bit, only while pending and not linked: the promise was forwarded.
const FORWARDED: usize = 0b1000;
/// Every tag bit of a pending word: a node pointer has none (nodes are
/// 16-aligned).
const TAGS: usize = COMPLETE | FAILED | ABANDONED | FORWARDED;
/// The tag bits of a link: a block pointer is only 8-aligned.
const LINK_TAGS: usize = COMPLETE | FAILED | ABANDONED;

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

    /// Whether the word is an open list: pending, neither abandoned nor a
    /// link, so a push may join it.
    #[inline]
    pub(crate) fn is_open(self) -> bool {
        self.0.addr() & (COMPLETE | FAILED | ABANDONED) == 0
    }

    /// Whether the future completed with a failure.
    #[inline]
    pub(crate) fn is_failure(self) -> bool {
        self.0.addr() & (COMPLETE | FAILED) == COMPLETE | FAILED
    }

    /// The word that links to `block` (8-aligned).
    #[inline]
    pub(crate) fn linked_to(block: *mut ()) -> State<N> {
        State(block.map_addr(|a| a | LINKED).cast())
    }

    /// The block this word links to, if it is a link.
    #[inline]
    pub(crate) fn link(self) -> Option<*mut ()> {
        (self.0.addr() & (COMPLETE | LINKED) == LINKED)
            .then(|| self.0.map_addr(|a| a & !LINK_TAGS).cast())
    }

    /// Whether the block's promise was forwarded (and the word is not a
    /// link).
    #[inline]
    pub(crate) fn is_forwarded(self) -> bool {
        self.0.addr() & (COMPLETE | LINKED | FORWARDED) == FORWARDED
    }

    /// The same pending word with `FORWARDED` set.
    #[inline]
    pub(crate) fn with_forwarded(self) -> State<N> {
        State(self.0.map_addr(|a| a | FORWARDED))
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
    /// (`ABANDONED`, `FORWARDED`) kept: what a push or unlinking the head
    /// writes.
    #[inline]
    pub(crate) fn with_head(self, head: *mut N) -> State<N> {
        State(head.map_addr(|a| a | (self.0.addr() & TAGS)))
    }

    /// The head of the waiter list; null when empty, complete or linked.
    #[inline]
    pub(crate) fn head(self) -> *mut N {
        if self.0.addr() & (COMPLETE | LINKED) != 0 {
            std::ptr::null_mut()
        } else {
            self.0.map_addr(|a| a & !TAGS)
        }
    }
}

impl<N> fmt::Debug for State<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_complete() {
            let outcome = if self.is_failure() {
                "failure"
            } else {
                "value"
            };
            return write!(f, "Complete({outcome})");
        }
        if self.link().is_some() {
            return f.write_str("Linked");
        }
        f.write_str(if self.is_abandoned() {
            "Abandoned("
        } else {
            "Pending("
        })?;
        if self.is_forwarded() {
            f.write_str("forwarded, ")?;
        }
        match self.head() {
            head if head.is_null() => f.write_str("no waiters)"),
            head => write!(f, "head: {head:p})"),
        }
    }
}
