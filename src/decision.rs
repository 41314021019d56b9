//! The decision word of one waiter: completers race on it, and exactly one
//! of them learns that it satisfied the wait and owes the wake-up.
//!
//! | rule           | word while waiting            | satisfied when          |
//! |----------------|-------------------------------|-------------------------|
//! | `First`        | `WAITING`                     | an index won the CAS, or `CANCELLED` |
//! | `All`          | pending count + 1             | the count reaches 0     |
//! | `AllOrFailure` | pending count + 1, `FIRED` bit | count 0, or `FIRED`    |
//!
//! The extra 1 of a countdown is held by registration and dropped when it
//! ends, so no completion seen during registration can end the wait early,
//! and every future is counted once: by its completer if its node was
//! linked, by the registrar if its push found it complete.
//!
//! # Orderings
//! Every RMW on the word is `AcqRel` and every load `Acquire`, so a waiter
//! that sees the decision satisfied also sees the completions that
//! satisfied it. No wait relies on that alone today: each one detaches its
//! nodes before it returns, and detaching reads each future's word with
//! `Acquire` (a node the completer took is found complete, by coherence with
//! the swap that took it), which orders the completion itself. The loom
//! models agree: in the mutation sweep (README), none of this file's 15
//! weakened orderings (`AcqRel` to `Release` or `Acquire`, `Acquire` to
//! `Relaxed`) failed a model. They stay because they cost nothing that
//! matters (a read-modify-write is one locked instruction on x86 whatever
//! its ordering, an `Acquire` load a plain load) and keep the decision
//! self-sufficient, should a wait ever skip detaching (a `wait_all` whose
//! countdown reached zero has nothing left to unlink).

use crate::sync::AtomicUsize;
use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed};

/// `First`: nobody has won yet.
const WAITING: usize = usize::MAX;
/// `First`: the waiter gave up (time-out or drop) before anybody won, or
/// there was nothing to wait on.
const CANCELLED: usize = usize::MAX - 1;
/// Countdown rules: the wait is over (a failure under `AllOrFailure`, or the
/// waiter gave up); the low bits still count.
const FIRED: usize = 1 << (usize::BITS - 1);

/// When a wait over several futures is satisfied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Rule {
    /// The first completion wins, and its index is kept.
    First,
    /// Every future completed.
    All,
    /// Every future completed, or one completed with a failure.
    AllOrFailure,
}

/// The word completers race on.
#[derive(Debug)]
pub(crate) struct Decision {
    /// Encoded as the table in the module docs says.
    word: AtomicUsize,
    /// How to read and update `word`.
    rule: Rule,
}

impl Decision {
    /// A decision over `count` futures, registration still running.
    pub(crate) fn new(rule: Rule, count: usize) -> Decision {
        let initial = match rule {
            // Over no future, the wait is over at once, with no winner.
            Rule::First if count == 0 => CANCELLED,
            Rule::First => WAITING,
            // Saturate: a countdown above 2^63 futures cannot be built anyway.
            Rule::All | Rule::AllOrFailure => count.saturating_add(1).min(FIRED - 1),
        };
        Decision {
            word: AtomicUsize::new(initial),
            rule,
        }
    }

    /// Records that input `index` completed (`failed` says how). Returns
    /// `true` for exactly one caller: the one that satisfied the wait.
    pub(crate) fn notify(&self, index: usize, failed: bool) -> bool {
        // ORDERING (all arms): AcqRel, see the module docs: Release so that
        // a waiter that Acquire-loads the word also sees the future's state
        // word complete (written before); Acquire keeps one chain.
        match self.rule {
            Rule::First => self
                .word
                .compare_exchange(WAITING, index, AcqRel, Relaxed)
                .is_ok(),
            Rule::AllOrFailure if failed => {
                let before = self.word.fetch_or(FIRED, AcqRel);
                before & FIRED == 0 && before != 0
            }
            Rule::All | Rule::AllOrFailure => self.word.fetch_sub(1, AcqRel) == 1,
        }
    }

    /// Ends registration: drops the countdown's extra 1. Returns `true` if
    /// that satisfied the wait.
    pub(crate) fn end_registration(&self) -> bool {
        match self.rule {
            Rule::First => false,
            // ORDERING: AcqRel, as in `notify`; this is a countdown step.
            Rule::All | Rule::AllOrFailure => self.word.fetch_sub(1, AcqRel) == 1,
        }
    }

    /// Whether the wait is over: satisfied, or (after `cancel`, or over no
    /// future) given up.
    pub(crate) fn is_satisfied(&self) -> bool {
        // ORDERING: Acquire pairs with the Release of `notify`: a caller that
        // sees the wait satisfied sees the futures that satisfied it complete
        // (see the module docs).
        let word = self.word.load(Acquire);
        match self.rule {
            Rule::First => word != WAITING,
            Rule::All | Rule::AllOrFailure => word == 0 || word & FIRED != 0,
        }
    }

    /// The index that won a `First` decision, if any.
    pub(crate) fn winner(&self) -> Option<usize> {
        // ORDERING: Acquire, as in `is_satisfied`.
        let word = self.word.load(Acquire);
        (self.rule == Rule::First && word != WAITING && word != CANCELLED).then_some(word)
    }

    /// The waiter gives up: later notifications find the wait over and owe
    /// no wake-up. Returns `true` if nobody had satisfied it first.
    pub(crate) fn cancel(&self) -> bool {
        match self.rule {
            // ORDERING: AcqRel; on failure, Acquire sees the winner's future complete.
            Rule::First => self
                .word
                .compare_exchange(WAITING, CANCELLED, AcqRel, Acquire)
                .is_ok(),
            Rule::All | Rule::AllOrFailure => {
                // ORDERING: AcqRel, as in `notify`.
                let before = self.word.fetch_or(FIRED, AcqRel);
                before & FIRED == 0 && before != 0
            }
        }
    }
}
