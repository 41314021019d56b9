//! The decision word of one waiter: completers race on it, and exactly one
//! of them learns that it satisfied the wait and owes the wake-up.
//!
//! | `ReturnWhen`     | word while waiting             | over when                            |
//! |------------------|--------------------------------|--------------------------------------|
//! | `FirstCompleted` | `WAITING`                      | an index won the CAS, or `CANCELLED` |
//! | `AllCompleted`   | pending count + 1              | the count reaches 0, or `FIRED`      |
//! | `FirstException` | pending count + 1, `FIRED` bit | count 0, or `FIRED`                  |
//! | every            | unused                         | never: each notification counts      |
//!
//! "every" serves a ready stack, a queue's future and a callback (whose
//! one node is notified once).
//!
//! The extra 1 of a countdown is held by registration and dropped when it
//! ends, so no completion seen during registration can end the wait early,
//! and every future is counted once: by its completer if its node was
//! linked, by the registrar if its push found it complete.
//!
//! # Orderings
//! Every RMW on the word is `AcqRel` and every load `Acquire`, so a waiter
//! that sees the decision satisfied also sees the completions that
//! satisfied it. No wait relies on that alone: each one detaches its
//! nodes before it returns, and detaching reads each future's word with
//! `Acquire` (a node the completer took is found complete, by coherence with
//! the swap that took it), which orders the completion itself, so no loom
//! model can fail when one of these is weakened. They stay because they
//! cost nothing that matters (a read-modify-write is one locked instruction
//! on x86 whatever its ordering, an `Acquire` load a plain load) and keep
//! the decision self-sufficient, should a wait ever skip detaching (a
//! `wait_all` whose countdown reached zero has nothing left to unlink).

use crate::return_when::ReturnWhen;
use crate::sync::AtomicUsize;
use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed};

/// `FirstCompleted`: nobody has won yet.
const WAITING: usize = usize::MAX;
/// `FirstCompleted`: the waiter gave up (time-out or drop) before anybody won, or
/// there was nothing to wait on.
const CANCELLED: usize = usize::MAX - 1;
/// Countdowns: the wait is over (a failure under `FirstException`, or the
/// waiter gave up); the low bits still count.
const FIRED: usize = 1 << (usize::BITS - 1);

/// The word completers race on.
#[derive(Debug)]
pub(crate) struct Decision {
    /// Encoded as the table in the module docs says.
    word: AtomicUsize,
    /// How to read and update `word`; `None`: every notification passes
    /// (see [`Decision::every`]).
    return_when: Option<ReturnWhen>,
}

impl Decision {
    /// A decision over `count` futures, registration still running.
    pub(crate) fn new(return_when: ReturnWhen, count: usize) -> Decision {
        let initial = match return_when {
            // Over no future, the wait is over at once, with no winner.
            ReturnWhen::FirstCompleted if count == 0 => CANCELLED,
            ReturnWhen::FirstCompleted => WAITING,
            // Saturate: a countdown above 2^63 futures cannot be built anyway.
            ReturnWhen::AllCompleted | ReturnWhen::FirstException => {
                count.saturating_add(1).min(FIRED - 1)
            }
        };
        Decision {
            word: AtomicUsize::new(initial),
            return_when: Some(return_when),
        }
    }

    /// A decision every notification passes: each completion is handed on
    /// (to a ready stack, or to a waiter whose one node is notified once)
    /// and the wait is never over by itself.
    pub(crate) fn every() -> Decision {
        Decision {
            word: AtomicUsize::new(0),
            return_when: None,
        }
    }

    /// Records that input `index` completed (`failed` says how). Returns
    /// `true` for exactly one caller: the one that satisfied the wait.
    pub(crate) fn notify(&self, index: usize, failed: bool) -> bool {
        // ORDERING (all arms): AcqRel, see the module docs: Release so that
        // a waiter that Acquire-loads the word also sees the future's state
        // word complete (written before); Acquire keeps one chain.
        match self.return_when {
            None => true,
            Some(ReturnWhen::FirstCompleted) => self
                .word
                .compare_exchange(WAITING, index, AcqRel, Relaxed)
                .is_ok(),
            Some(ReturnWhen::FirstException) if failed => {
                let before = self.word.fetch_or(FIRED, AcqRel);
                before & FIRED == 0 && before != 0
            }
            Some(ReturnWhen::AllCompleted | ReturnWhen::FirstException) => {
                self.word.fetch_sub(1, AcqRel) == 1
            }
        }
    }

    /// Ends registration: drops the countdown's extra 1. Returns `true` if
    /// that satisfied the wait.
    pub(crate) fn end_registration(&self) -> bool {
        match self.return_when {
            None | Some(ReturnWhen::FirstCompleted) => false,
            // ORDERING: AcqRel, as in `notify`; this is a countdown step.
            Some(ReturnWhen::AllCompleted | ReturnWhen::FirstException) => {
                self.word.fetch_sub(1, AcqRel) == 1
            }
        }
    }

    /// Whether the wait is over: satisfied, or (after `cancel`, or over no
    /// future) given up.
    pub(crate) fn is_over(&self) -> bool {
        // ORDERING: Acquire pairs with the Release of `notify`: a caller that
        // sees the wait satisfied sees the futures that satisfied it complete
        // (see the module docs).
        let word = self.word.load(Acquire);
        match self.return_when {
            None => false,
            Some(ReturnWhen::FirstCompleted) => word != WAITING,
            Some(ReturnWhen::AllCompleted | ReturnWhen::FirstException) => {
                word == 0 || word & FIRED != 0
            }
        }
    }

    /// The index that won a `FirstCompleted` decision, if any.
    pub(crate) fn winner(&self) -> Option<usize> {
        // ORDERING: Acquire, as in `is_over`.
        let word = self.word.load(Acquire);
        (self.return_when == Some(ReturnWhen::FirstCompleted)
            && word != WAITING
            && word != CANCELLED)
            .then_some(word)
    }

    /// The waiter gives up: later notifications find the wait over and owe
    /// no wake-up. Returns `true` if nobody had satisfied it first.
    pub(crate) fn cancel(&self) -> bool {
        match self.return_when {
            None => false,
            // ORDERING: AcqRel; on failure, Acquire sees the winner's future complete.
            Some(ReturnWhen::FirstCompleted) => self
                .word
                .compare_exchange(WAITING, CANCELLED, AcqRel, Acquire)
                .is_ok(),
            Some(ReturnWhen::AllCompleted | ReturnWhen::FirstException) => {
                // ORDERING: AcqRel, as in `notify`.
                let before = self.word.fetch_or(FIRED, AcqRel);
                before & FIRED == 0 && before != 0
            }
        }
    }
}
