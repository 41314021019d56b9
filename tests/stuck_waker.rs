//! A re-poll whose new waker's `clone` panics leaves atomic-waker's slot
//! locked with the old waker inside, so dropping the wait cannot take that
//! waker out. It must then be leaked, never dropped inside a later pin of
//! the crate's epoch collector: there its `Drop` (user code) would run
//! between a completion writing its outcome and publishing it.
//!
//! Its own test binary: the crate's collector is process-wide, and the
//! epoch steps below (a fresh thread's first pin collects and advances the
//! epoch once) hold only when no other test pins it meanwhile.

mod common;

use forthcoming::promise;
use forthcoming_test_support::{clone_panics_waker, poll_with};
use std::future::IntoFuture;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::task::{Wake, Waker};

/// Set while a drop of the stuck waker would be the bug under test.
static ARMED: AtomicBool = AtomicBool::new(false);

/// The waker left in the locked slot.
struct Stuck;

impl Wake for Stuck {
    fn wake(self: Arc<Self>) {}
}

impl Drop for Stuck {
    fn drop(&mut self) {
        assert!(!ARMED.load(SeqCst), "the stuck waker was dropped in a pin");
    }
}

/// On a fresh thread, polls a pending `.await` and completes it: that
/// thread's first pin collects the crate's epoch garbage.
fn complete_with_a_waiter_on_a_fresh_thread() -> (bool, bool) {
    std::thread::spawn(|| {
        let (promise, future) = promise::<u32, ()>();
        let mut waiting = (&future).into_future();
        assert!(poll_with(&mut waiting, Waker::noop()).is_pending());
        let completing = catch_unwind(AssertUnwindSafe(move || promise.set_result(5)));
        (completing.is_ok(), future.done())
    })
    .join()
    .expect("the completing thread")
}

#[test]
fn a_waker_stuck_by_a_panicking_clone_never_drops_inside_a_completion() {
    let (_promise, future) = promise::<u32, ()>();
    std::thread::scope(|scope| {
        scope.spawn(|| {
            let mut wait = (&future).into_future();
            assert!(poll_with(&mut wait, &Waker::from(Arc::new(Stuck))).is_pending());
            let bad = clone_panics_waker();
            let repoll = catch_unwind(AssertUnwindSafe(|| poll_with(&mut wait, &bad)));
            assert!(repoll.is_err(), "the clone panics inside the re-poll");
            drop(wait); // the slot is locked: the stuck waker stays in the waiter
        });
    });
    // Advance the epoch once, then arm: the next fresh thread's first pin,
    // inside a completion, would free the dropped wait's waiter.
    assert_eq!(complete_with_a_waiter_on_a_fresh_thread(), (true, true));
    ARMED.store(true, SeqCst);

    let completed = complete_with_a_waiter_on_a_fresh_thread();
    ARMED.store(false, SeqCst);

    assert_eq!(completed, (true, true), "set_result finished, future done");
}
