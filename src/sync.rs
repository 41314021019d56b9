//! The one place that names atomics, `UnsafeCell`, threads and parking: loom's
//! under `cfg(forthcoming_loom)`, std's otherwise, so the code loom checks is
//! the code users run.

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
    sync::atomic::{AtomicPtr, AtomicU64, AtomicUsize, fence},
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

/// Under loom, pushes retired garbage to the global queue and collects it
/// now, so the models really free waiters (epoch otherwise collects only
/// every 128 pins, which a small model never reaches, and a reclamation bug
/// would go unseen). Without loom this does nothing.
pub(crate) fn collect_eagerly(guard: &crossbeam_epoch::Guard) {
    #[cfg(forthcoming_loom)]
    guard.flush();
    #[cfg(not(forthcoming_loom))]
    let _ = guard;
}

/// A process-wide counter for future ids. It publishes no data, so it is a
/// plain std atomic even under loom (loom atomics cannot live in a `static`).
pub(crate) fn next_process_unique() -> u64 {
    use std::sync::atomic::{AtomicU64 as StdAtomicU64, Ordering::Relaxed};
    static NEXT: StdAtomicU64 = StdAtomicU64::new(1);
    NEXT.fetch_add(1, Relaxed)
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
