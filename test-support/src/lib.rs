//! Helpers shared by forthcoming's test suites (`tests/`, `fuzz/` and
//! `loom-tests/`): drop-tracked values, a counting waker, a waker whose
//! `clone` panics, one poll by hand, and the shape check of a `wait` result.
//! Std only, so that every suite can depend on it.

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, RawWaker, RawWakerVTable, Wake, Waker};
use std::{fmt, future::Future, pin::Pin};

/// Counts the drops of the values it makes, value by value.
#[derive(Clone, Debug, Default)]
pub struct Drops(
    /// At index `id`: how many times value `id` was dropped.
    Arc<Mutex<Vec<u32>>>,
);

impl Drops {
    /// A log with no value yet.
    pub fn new() -> Drops {
        Drops::default()
    }

    /// A fresh value; ids count up from 0.
    pub fn make(&self) -> Tracked {
        let mut drops = self.0.lock().unwrap();
        drops.push(0);
        Tracked {
            id: u32::try_from(drops.len() - 1).expect("fewer than 2^32 values"),
            drops: self.clone(),
        }
    }

    /// How many values were made so far.
    pub fn made(&self) -> u32 {
        u32::try_from(self.0.lock().unwrap().len()).expect("fewer than 2^32 values")
    }

    /// How many times value `id` was dropped.
    pub fn drops(&self, id: u32) -> u32 {
        self.0.lock().unwrap()[id as usize]
    }

    /// Panics unless value `id` was dropped exactly `expected` times.
    pub fn assert_drops(&self, id: u32, expected: u32) {
        let drops = self.drops(id);
        assert_eq!(
            drops, expected,
            "value v{id} was dropped {drops} times, expected {expected}"
        );
    }

    /// Panics unless every value made was dropped exactly once.
    pub fn assert_all_dropped_once(&self) {
        for id in 0..self.made() {
            self.assert_drops(id, 1);
        }
    }
}

/// A value that counts its drop in the [`Drops`] that made it, and panics
/// if it is dropped a second time (only unsafe code can do that).
pub struct Tracked {
    /// Its id in the log; values compare by it.
    pub id: u32,
    /// Where its drop is counted.
    drops: Drops,
}

impl Drop for Tracked {
    fn drop(&mut self) {
        let before = {
            let mut drops = self.drops.0.lock().unwrap();
            drops[self.id as usize] += 1;
            drops[self.id as usize] - 1
        };
        assert_eq!(before, 0, "value v{} dropped twice", self.id);
    }
}

impl PartialEq for Tracked {
    fn eq(&self, other: &Tracked) -> bool {
        self.id == other.id
    }
}

impl fmt::Debug for Tracked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v{}", self.id)
    }
}

/// A waker that counts how often it was woken.
#[derive(Debug, Default)]
pub struct CountingWaker(
    /// Wake-ups so far.
    AtomicUsize,
);

impl CountingWaker {
    /// A fresh waker and the handle to read its count.
    pub fn new() -> (Arc<CountingWaker>, Waker) {
        let counter = Arc::new(CountingWaker::default());
        let waker = Waker::from(Arc::clone(&counter));
        (counter, waker)
    }

    /// How many wake-ups it received.
    pub fn wakes(&self) -> usize {
        self.0.load(SeqCst)
    }
}

impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.fetch_add(1, SeqCst);
    }
}

/// The message of the panic of [`clone_panics_waker`]'s `clone`.
pub const CLONE_PANIC: &str = "waker clone panics";

/// Panics with [`CLONE_PANIC`]: the `clone` of [`clone_panics_waker`].
fn clone_panics(_: *const ()) -> RawWaker {
    panic!("{CLONE_PANIC}")
}

/// Does nothing: `wake`, `wake_by_ref` and `drop` of [`clone_panics_waker`],
/// which owns nothing.
fn ignore(_: *const ()) {}

/// The vtable of [`clone_panics_waker`].
static CLONE_PANICS: RawWakerVTable = RawWakerVTable::new(clone_panics, ignore, ignore, ignore);

/// A waker whose `clone` panics with [`CLONE_PANIC`]: storing it in
/// atomic-waker's slot (a re-poll) panics halfway and leaves the slot locked.
/// It owns nothing, so nothing leaks through it.
pub fn clone_panics_waker() -> Waker {
    // SAFETY: no function of the vtable reads the data pointer, and none has
    // anything to release.
    unsafe { Waker::from_raw(RawWaker::new(std::ptr::null(), &CLONE_PANICS)) }
}

/// Polls `future` once with `waker`.
pub fn poll_with<F: Future + Unpin>(future: &mut F, waker: &Waker) -> Poll<F::Output> {
    Pin::new(future).poll(&mut Context::from_waker(waker))
}

/// Panics unless `(done, not_done)`, a `wait` result over `len` inputs, holds
/// every position below `len` exactly once, each list ascending.
pub fn assert_partition(done: &[usize], not_done: &[usize], len: usize) {
    let ascending = |v: &[usize]| v.windows(2).all(|w| w[0] < w[1]);
    assert!(ascending(done), "done {done:?} is not ascending");
    assert!(
        ascending(not_done),
        "not_done {not_done:?} is not ascending"
    );
    let mut seen = vec![0u8; len];
    for &i in done.iter().chain(not_done) {
        assert!(i < len, "position {i} out of 0..{len}");
        seen[i] += 1;
    }
    assert!(
        seen.iter().all(|&n| n == 1),
        "done {done:?} and not_done {not_done:?} do not partition 0..{len}"
    );
}
