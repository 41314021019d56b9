//! The one place that names atomics, `UnsafeCell`, threads and parking: loom's
//! under `cfg(forthcoming_loom)`, std's otherwise, so the code loom checks is
//! the code users run. The exception is the waker slot: loom's
//! `AtomicWaker` stands in for the `atomic-waker` crate
//! (see loom-tests/README.md).

use std::time::Instant;

#[cfg(forthcoming_loom)]
pub(crate) use loom::{
    cell::UnsafeCell,
    future::AtomicWaker,
    sync::atomic::{AtomicPtr, AtomicU64, AtomicUsize, fence},
    thread::{self, Thread},
};

#[cfg(not(forthcoming_loom))]
pub(crate) use atomic_waker::AtomicWaker;
#[cfg(not(forthcoming_loom))]
pub(crate) use std::{
    sync::atomic::{AtomicPtr, AtomicU64, AtomicUsize},
    thread::{self, Thread},
};

/// Parks the current thread until it is unparked, a spurious wake-up happens,
/// or `deadline` passes. Returns `true` once `deadline` has passed.
#[cfg(not(forthcoming_loom))]
pub(crate) fn park_until(deadline: Instant) -> bool {
    let now = Instant::now();
    if now >= deadline {
        return true;
    }
    thread::park_timeout(deadline - now);
    Instant::now() >= deadline
}

/// Loom has no clock: a timed park yields once (so other threads may run) and
/// then reports the deadline as passed, which lets a model place the time-out
/// at every point of the schedule.
#[cfg(forthcoming_loom)]
pub(crate) fn park_until(_deadline: Instant) -> bool {
    thread::yield_now();
    true
}

/// `std::cell::UnsafeCell` with loom's closure-based access, so call sites
/// are the same under both configurations.
#[cfg(not(forthcoming_loom))]
#[derive(Debug)]
pub(crate) struct UnsafeCell<T>(std::cell::UnsafeCell<T>);

#[cfg(not(forthcoming_loom))]
impl<T> UnsafeCell<T> {
    /// Wraps `value`.
    pub(crate) const fn new(value: T) -> Self {
        Self(std::cell::UnsafeCell::new(value))
    }

    /// Runs `f` with a shared pointer to the value.
    pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
        f(self.0.get())
    }

    /// Runs `f` with a mutable pointer to the value.
    pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
        f(self.0.get())
    }
}

/// Stores `waker` in `slot` (atomic-waker and loom spell this differently).
pub(crate) fn register_waker(slot: &AtomicWaker, waker: &std::task::Waker) {
    #[cfg(forthcoming_loom)]
    slot.register_by_ref(waker);
    #[cfg(not(forthcoming_loom))]
    slot.register(waker);
}

/// Takes the waker out of `slot`, if one is there and no wake is taking it.
pub(crate) fn take_waker(slot: &AtomicWaker) -> Option<std::task::Waker> {
    #[cfg(forthcoming_loom)]
    return slot.take_waker();
    #[cfg(not(forthcoming_loom))]
    slot.take()
}
