//! Blocking a thread on one or many wait lists: register one waiter, park
//! until its decision is satisfied or the deadline passes, detach.

use crate::decision::Rule;
use crate::list::WaitList;
use crate::waiter::{Parker, Registration};
use std::time::{Duration, Instant};

/// Blocks the calling thread on `lists` under `rule` until the decision is
/// satisfied or `deadline` passes. Returns the winning position under
/// [`Rule::First`] (always `Some` when `deadline` is `None`).
pub(crate) fn block<'a>(
    lists: impl IntoIterator<Item = &'a WaitList>,
    rule: Rule,
    deadline: Option<Instant>,
) -> Option<usize> {
    let registration = Registration::new(lists, rule, Parker::current_thread());
    registration.park(deadline);
    registration.decision().winner()
}

/// The deadline `timeout` from now; `None` (wait forever) when it is too far
/// to represent, so `Duration::MAX` never panics.
pub(crate) fn deadline_after(timeout: Duration) -> Option<Instant> {
    Instant::now().checked_add(timeout)
}
