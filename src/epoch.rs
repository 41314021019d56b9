//! The crate's own crossbeam-epoch collector: every retired waiter is freed
//! through it, and every walk over a waiter list pins it.

use crossbeam_epoch::{Collector, Guard, LocalHandle};

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
/// under loom an explicit `SeqCst` fence follows an outermost pin, which is
/// what the hardware does anyway (a nested pin has no barrier).
#[inline]
pub(crate) fn pin() -> Guard {
    // A thread whose thread-locals are being destroyed (a wait in a TLS
    // destructor) pins through a short-lived participant, as crossbeam's
    // default collector does.
    #[cfg(not(forthcoming_loom))]
    let guard = HANDLE
        .try_with(LocalHandle::pin)
        .unwrap_or_else(|_| collector().register().pin());
    #[cfg(forthcoming_loom)]
    let (guard, outermost) = HANDLE
        .try_with(|handle| {
            let outermost = !handle.is_pinned();
            (handle.pin(), outermost)
        })
        .unwrap_or_else(|_| (collector().register().pin(), true));
    // A nested pin issues no barrier in crossbeam-epoch: nor does it here.
    #[cfg(forthcoming_loom)]
    if outermost {
        crate::sync::fence(std::sync::atomic::Ordering::SeqCst);
    }
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
