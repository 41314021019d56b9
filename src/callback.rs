//! A callback to run once a future completes: a type-erased closure that
//! carries its own link, so a list of callbacks needs no allocation of its
//! own (a completion collects them without allocating). A callback is one
//! thin pointer to a [`Closure`], whose [`Header`] says how to run or drop
//! it, so pushing and popping move a pointer and call nothing.

use crate::unwind;
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::ptr::NonNull;

/// One boxed closure, run at most once; dropped unrun, it drops what the
/// closure captured. Owns the allocation it points to.
pub(crate) struct Callback(NonNull<Header>);

// SAFETY: the closure is `Send` (see `Callback::new`), and the header holds
// only function pointers and a link that its owner alone follows.
unsafe impl Send for Callback {}

/// The type-erased start of every [`Closure`].
struct Header {
    /// The callback below this one in a [`Callbacks`] stack (not owned
    /// through this link: the stack owns its chain). Meaningful only while
    /// in a stack.
    below: Option<NonNull<Header>>,
    /// Runs the closure and frees the allocation.
    run: unsafe fn(NonNull<Header>),
    /// Drops the closure unrun and frees the allocation.
    drop: unsafe fn(NonNull<Header>),
}

/// The allocation of a callback: its header first, so a pointer to the one
/// is a pointer to the other.
#[repr(C)]
struct Closure<F> {
    /// See [`Header`].
    header: Header,
    /// The user's work.
    run: F,
}

impl<F: FnOnce() + Send> Closure<F> {
    /// [`Header::run`] for this `F`.
    ///
    /// # Safety
    /// `header` comes from `Callback::new::<F>` and is given up.
    unsafe fn run(header: NonNull<Header>) {
        let run = {
            // SAFETY: the caller's guarantee: a leaked `Box<Closure<F>>`,
            // whose first field (`repr(C)`) `header` points to.
            let closure = unsafe { Box::from_raw(header.cast::<Closure<F>>().as_ptr()) };
            let Closure { run, .. } = *closure;
            run
        }; // The allocation is freed here, before the user's code runs.
        run();
    }

    /// [`Header::drop`] for this `F`.
    ///
    /// # Safety
    /// As [`Closure::run`].
    unsafe fn drop(header: NonNull<Header>) {
        // SAFETY: as in `run`.
        drop(unsafe { Box::from_raw(header.cast::<Closure<F>>().as_ptr()) });
    }
}

impl Callback {
    /// Boxes `run` (one allocation, link included).
    pub(crate) fn new<F: FnOnce() + Send + 'static>(run: F) -> Callback {
        let closure = Box::new(Closure {
            header: Header {
                below: None,
                run: Closure::<F>::run,
                drop: Closure::<F>::drop,
            },
            run,
        });
        Callback(NonNull::from(Box::leak(closure)).cast())
    }

    /// Runs the closure.
    pub(crate) fn run(self) {
        let header = self.into_raw();
        // SAFETY: `header` was owned by `self`, which is given up: it is a
        // live `Closure`, run once, and its `run` matches its type.
        unsafe { (header.as_ref().run)(header) }
    }

    /// Gives up ownership without dropping.
    fn into_raw(self) -> NonNull<Header> {
        let header = self.0;
        std::mem::forget(self);
        header
    }
}

impl Drop for Callback {
    fn drop(&mut self) {
        // SAFETY: `self` owns a live `Closure` whose `drop` matches its
        // type, and gives it up here, once.
        unsafe { (self.0.as_ref().drop)(self.0) }
    }
}

impl fmt::Debug for Callback {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Callback")
    }
}

/// A stack of callbacks linked through themselves. Dropping it drops the
/// callbacks left unrun, one after another (never recursively).
#[derive(Debug, Default)]
pub(crate) struct Callbacks {
    /// The callback pushed last; owns the chain below it.
    top: Option<NonNull<Header>>,
}

// SAFETY: the stack owns its callbacks, which are `Send`.
unsafe impl Send for Callbacks {}

impl Callbacks {
    /// Whether no callback is in the stack.
    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.top.is_none()
    }

    /// Pushes `callback` on top.
    #[inline]
    pub(crate) fn push(&mut self, callback: Callback) {
        let mut header = callback.into_raw();
        // SAFETY: the stack now owns the callback, and nobody else reaches
        // its header.
        unsafe { header.as_mut().below = self.top };
        self.top = Some(header);
    }

    /// Takes the callback on top, if any.
    #[inline]
    pub(crate) fn pop(&mut self) -> Option<Callback> {
        let header = self.top?;
        // SAFETY: the stack owns every callback in its chain.
        self.top = unsafe { header.as_ref().below };
        Some(Callback(header))
    }

    /// The stack's callback if it holds exactly one; otherwise the stack.
    #[inline]
    pub(crate) fn into_single(mut self) -> Result<Callback, Callbacks> {
        match self.top {
            // SAFETY: the stack owns every callback in its chain.
            Some(header) if unsafe { header.as_ref() }.below.is_none() => {
                self.top = None;
                Ok(Callback(header))
            }
            _ => Err(self),
        }
    }

    /// Moves every callback of `other` onto this stack, keeping their
    /// order: they pop in the order they would have popped from `other`,
    /// then this stack's own.
    pub(crate) fn append(&mut self, mut other: Callbacks) {
        let Some(top) = other.top.take() else {
            return;
        };
        let mut bottom = top;
        // SAFETY: `other` owned its chain, now this stack's: nobody else
        // reaches these headers.
        unsafe {
            while let Some(below) = bottom.as_ref().below {
                bottom = below;
            }
            bottom.as_mut().below = self.top;
        }
        self.top = Some(top);
    }
}

impl Drop for Callbacks {
    #[inline]
    fn drop(&mut self) {
        if !self.is_empty() {
            self.drop_each();
        }
    }
}

impl Callbacks {
    /// Drops every callback left, even past one whose captures panic in
    /// their `Drop`: the first such panic resumes once all are dropped.
    #[cold]
    fn drop_each(&mut self) {
        let mut first_panic = None;
        while let Some(callback) = self.pop() {
            if let Err(payload) = catch_unwind(AssertUnwindSafe(|| drop(callback))) {
                unwind::keep_first(&mut first_panic, payload);
            }
        }
        if let Some(payload) = first_panic {
            unwind::resume(payload);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Callback, Callbacks};
    use std::panic::{AssertUnwindSafe, catch_unwind};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

    /// Counts its drops; panics in its `Drop` if `panics`.
    struct Capture {
        drops: Arc<AtomicUsize>,
        panics: bool,
    }

    impl Drop for Capture {
        fn drop(&mut self) {
            self.drops.fetch_add(1, SeqCst);
            assert!(!self.panics, "a capture's drop panics");
        }
    }

    #[test]
    fn a_capture_whose_drop_panics_stops_no_other_drop() {
        let drops = Arc::new(AtomicUsize::new(0));
        let mut callbacks = Callbacks::default();
        for panics in [false, true, false] {
            let capture = Capture {
                drops: Arc::clone(&drops),
                panics,
            };
            callbacks.push(Callback::new(move || drop(capture)));
        }
        let dropped = catch_unwind(AssertUnwindSafe(|| drop(callbacks)));
        assert!(dropped.is_err(), "the capture's panic resumes");
        assert_eq!(drops.load(SeqCst), 3, "every capture dropped once");
    }
}
