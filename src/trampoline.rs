//! Runs callbacks without recursion. Callbacks that become due while this
//! thread is already running callbacks (a callback that completes another
//! promise) are queued on a thread-local worklist and run by the outermost
//! run, so chains of any length run in constant stack.

use crate::callback::Callback;
use crate::callback::Callbacks;
use crate::unwind::{PanicPayload, keep_first};
use std::cell::Cell;
use std::panic::{AssertUnwindSafe, catch_unwind};

/// This thread's callbacks still to run, while a run is under way.
#[derive(Default)]
struct Worklist {
    /// Whether a [`run`] is under way on this thread (lower in its stack).
    running: Cell<bool>,
    /// Callbacks queued for the run under way.
    queued: Cell<Callbacks>,
    /// The first panic of a callback of the run under way.
    first_panic: Cell<Option<PanicPayload>>,
}

/// [`WALK`]: this thread is not walking a list (or its walk has run no
/// waker yet).
const NOT_WALKING: u8 = 0;
/// [`WALK`]: this thread walks a list, pinned, and has run a waker.
const WALKING: u8 = 1;
/// [`WALK`]: as `WALKING`, and callbacks were queued meanwhile.
const WALKING_QUEUED: u8 = 2;

#[cfg(not(forthcoming_loom))]
std::thread_local! {
    /// This thread's worklist.
    static WORKLIST: Worklist = Worklist::default();
    /// Whether this thread walks a list, pinned, and runs a waker there:
    /// its `Waker::wake` (user code) may complete a promise, whose
    /// callbacks are queued then, for the walk's caller to run once
    /// unpinned.
    static WALK: Cell<u8> = const { Cell::new(NOT_WALKING) };
}

#[cfg(forthcoming_loom)]
loom::thread_local! {
    /// This thread's worklist (loom threads share one OS thread).
    static WORKLIST: Worklist = Worklist::default();
    /// As above.
    static WALK: Cell<u8> = Cell::new(NOT_WALKING);
}

/// A walk over a list, pinned, under way on this thread (see [`WALK`]),
/// and the user code it ran: the wakers of tasks, and of consumers that
/// sleep on a ready stack or a queue's stack (a blocked thread's waker, or
/// a task's). The thread is marked only before the walk's first waker, so
/// a walk that unparks only threads, pushes only onto stacks whose
/// consumer is awake, and takes callbacks out (to run later) touches no
/// thread-local and catches nothing.
#[must_use = "the walk ends when `finish` is called"]
#[derive(Debug)]
pub(crate) struct Walk {
    /// What [`WALK`] said before this walk marked the thread; `None` while
    /// it has not.
    outer: Option<u8>,
    /// The first panic of a waker the walk ran.
    panic: Option<PanicPayload>,
}

impl Walk {
    /// A walk that has run no user code yet: the thread is not marked.
    #[inline]
    pub(crate) fn begin() -> Walk {
        Walk {
            outer: None,
            panic: None,
        }
    }

    /// Runs `wake`, a waker (user code), within the walk: marks the
    /// thread first if this walk has not yet (so that the callbacks the
    /// waker makes due are queued for the walk's caller), and catches its
    /// panic, so that the walk goes on and wakes every other waiter (the
    /// first panic is kept for the caller to resume).
    ///
    /// Unwind safety: every caller takes the waker out of its slot before
    /// it runs, so a panic leaves the slot as a finished wake does.
    #[inline]
    pub(crate) fn run_waker(&mut self, wake: impl FnOnce()) {
        if self.outer.is_none() {
            self.outer = Some(WALK.with(|walk| walk.replace(WALKING)));
        }
        if let Err(payload) = catch_unwind(AssertUnwindSafe(wake)) {
            keep_first(&mut self.panic, payload);
        }
    }

    /// Ends the walk. Returns whether callbacks were queued during it that
    /// the caller must run (with [`run`]) once it has unpinned (a walk
    /// inside another leaves them to the outer one), and the first panic
    /// of a waker, for the caller to resume once its own work is done.
    #[inline]
    pub(crate) fn finish(self) -> (bool, Option<PanicPayload>) {
        let Walk { outer, panic } = self;
        let Some(outer) = outer else {
            // No waker ran, so nothing was queued.
            return (false, panic);
        };
        let queued = WALK.with(|walk| {
            let queued = walk.get() == WALKING_QUEUED;
            match outer {
                NOT_WALKING => {
                    walk.set(NOT_WALKING);
                    queued
                }
                outer => {
                    walk.set(if queued { WALKING_QUEUED } else { outer });
                    false
                }
            }
        });
        (queued, panic)
    }
}

/// Runs `callbacks` on this thread. If no run is under way here, this is
/// the outermost one: it runs them, and every callback queued meanwhile,
/// before it returns, and returns the first panic among them (each panic is
/// caught, so one callback's panic stops no other). If a run is under way
/// (a callback is completing a promise), or this thread walks a list pinned
/// (a waker is completing one, see [`Walk`]), the callbacks are queued for
/// it and this returns `None` at once.
pub(crate) fn run(callbacks: Callbacks) -> Option<PanicPayload> {
    let mut callbacks = Some(callbacks);
    let outcome = WORKLIST.try_with(|worklist| {
        let batch = callbacks.take().unwrap_or_default();
        // Inside a pinned walk: queued for the walk's caller (see `Walk`).
        if WALK.with(|walk| walk.get() != NOT_WALKING) {
            WALK.with(|walk| walk.set(WALKING_QUEUED));
            worklist.queue(batch);
            return None;
        }
        if worklist.running.replace(true) {
            worklist.queue(batch);
            return None;
        }
        // The outermost run. A batch of one (a future's one callback, a
        // forward) runs at once, as it would if queued: popped first, from
        // the top. A longer batch is queued, so that what one of its
        // callbacks makes due runs before the rest of the batch.
        match batch.into_single() {
            Ok(callback) => worklist.run_one(callback),
            Err(batch) => worklist.queue(batch),
        }
        worklist.drain();
        worklist.running.set(false);
        worklist.first_panic.take()
    });
    match (outcome, callbacks) {
        (Ok(panic), _) => panic,
        // This thread's locals are being destroyed (a promise completed in
        // a thread-local's destructor): no worklist, so run them here.
        (Err(_), Some(callbacks)) => run_unqueued(callbacks),
        (Err(_), None) => None,
    }
}

/// Runs `callback` on this thread at once, or queued for the run under way
/// (see [`run`]); a panic resumes from here, once the run is over.
pub(crate) fn run_now(callback: Callback) {
    let mut callbacks = Callbacks::default();
    callbacks.push(callback);
    if let Some(payload) = run(callbacks) {
        crate::unwind::resume(payload);
    }
}

/// Runs the callbacks queued on this thread, if a run is under way: a wait
/// inside a callback calls this first (or before its last look, when its
/// time-out has passed), so it cannot wait for, or miss, work queued behind
/// it on its own thread. Their panics are kept for the
/// outermost run.
pub(crate) fn run_queued() {
    let _ = WORKLIST.try_with(|worklist| {
        if worklist.running.get() {
            worklist.drain();
        }
    });
}

impl Worklist {
    /// Adds `callbacks` to the queue.
    fn queue(&self, callbacks: Callbacks) {
        let mut queued = self.queued.take();
        queued.append(callbacks);
        self.queued.set(queued);
    }

    /// Runs queued callbacks until none is left, keeping the first panic.
    fn drain(&self) {
        while let Some(callback) = self.pop() {
            self.run_one(callback);
        }
    }

    /// Runs `callback`, keeping its panic if it is the run's first.
    fn run_one(&self, callback: Callback) {
        // Unwind safety: the worklist is consistent between callbacks, and
        // a panicking callback is consumed like a finished one.
        if let Err(payload) = catch_unwind(AssertUnwindSafe(|| callback.run())) {
            self.keep_panic(payload);
        }
    }

    /// Takes the next queued callback.
    fn pop(&self) -> Option<Callback> {
        let mut queued = self.queued.take();
        let callback = queued.pop();
        self.queued.set(queued);
        callback
    }

    /// Keeps `payload` if it is the run's first panic; drops it otherwise.
    fn keep_panic(&self, payload: PanicPayload) {
        let mut first = self.first_panic.take();
        keep_first(&mut first, payload);
        self.first_panic.set(first);
    }
}

/// [`run`] without a worklist: each callback runs here, its own completions
/// nested inside it.
fn run_unqueued(mut callbacks: Callbacks) -> Option<PanicPayload> {
    let mut first_panic = None;
    while let Some(callback) = callbacks.pop() {
        if let Err(payload) = catch_unwind(AssertUnwindSafe(|| callback.run())) {
            keep_first(&mut first_panic, payload);
        }
    }
    first_panic
}
