//! The one place that names atomics, `UnsafeCell`, threads and parking: loom's
//! under `cfg(forthcoming_loom)`, std's otherwise, so the code loom checks is
//! the code users run. The exception is the waker slot: loom's
//! `AtomicWaker` stands in for the `atomic-waker` crate (see README).

use crossbeam_epoch::{Collector, Guard, LocalHandle};
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

/// The crate's own epoch collector. Its garbage is only this crate's retired
/// waiters, whose drop runs no user code (a task's waker is taken out before
/// retirement), so no pin of the crate ever runs user code. Crossbeam-epoch's
/// default collector would also collect other libraries' garbage inside our
/// pins: a destructor there that panics or blocks could strand a completion
/// between writing its outcome and publishing it.
#[cfg(not(forthcoming_loom))]
fn collector() -> &'static Collector {
    static COLLECTOR: std::sync::OnceLock<Collector> = std::sync::OnceLock::new();
    COLLECTOR.get_or_init(Collector::new)
}

/// Under loom a model needs fresh statics each run: loom's `lazy_static`.
#[cfg(forthcoming_loom)]
fn collector() -> &'static Collector {
    loom::lazy_static! {
        static ref COLLECTOR: Collector = Collector::new();
    }
    &COLLECTOR
}

#[cfg(not(forthcoming_loom))]
std::thread_local! {
    /// This thread's participant in [`collector`].
    static HANDLE: LocalHandle = collector().register();
}

#[cfg(forthcoming_loom)]
loom::thread_local! {
    /// This thread's participant in [`collector`].
    static HANDLE: LocalHandle = collector().register();
}

/// Pins the current thread in the crate's collector.
///
/// On x86, crossbeam-epoch issues the pin's store-load barrier as a `SeqCst`
/// compare-exchange (a `lock cmpxchg`, a full barrier on the hardware). Loom
/// models `SeqCst` accesses as `AcqRel`, which drops that barrier and lets
/// the models free garbage a pinned thread can still see: false alarms. So
/// under loom an explicit `SeqCst` fence follows the pin, which is what the
/// hardware does anyway.
#[inline]
pub(crate) fn pin() -> Guard {
    // A thread whose thread-locals are being destroyed (a wait in a TLS
    // destructor) pins through a short-lived participant, as crossbeam's
    // default collector does.
    let guard = HANDLE
        .try_with(LocalHandle::pin)
        .unwrap_or_else(|_| collector().register().pin());
    #[cfg(forthcoming_loom)]
    fence(std::sync::atomic::Ordering::SeqCst);
    guard
}

/// Under loom, pushes this thread's retired garbage to the global queue and
/// tries to advance the epoch and collect, twice, so the models really free
/// waiters as soon as the epoch allows (epoch otherwise collects every 128
/// pins, which a small model never reaches, and a reclamation bug would go
/// unseen: a loom object read after its free makes loom panic). It multiplies
/// the interleavings, so `FORTHCOMING_LOOM_LAZY_COLLECT=1` turns it off for
/// the deeper three-thread runs. Call it unpinned. Without loom: nothing.
pub(crate) fn collect_eagerly() {
    #[cfg(forthcoming_loom)]
    if std::env::var_os("FORTHCOMING_LOOM_LAZY_COLLECT").is_none() {
        for _ in 0..2 {
            pin().flush();
        }
    }
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

/// Takes the waker out of `slot`, if one is there and no wake is taking it.
pub(crate) fn take_waker(slot: &AtomicWaker) -> Option<std::task::Waker> {
    #[cfg(forthcoming_loom)]
    return slot.take_waker();
    #[cfg(not(forthcoming_loom))]
    slot.take()
}
