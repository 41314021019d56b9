//! A callback to run once a future completes: a type-erased closure that
//! carries its own link, so a list of callbacks needs no allocation of its
//! own (a completion collects them without allocating).

use std::fmt;

/// One boxed closure, run at most once; dropped unrun, it drops what the
/// closure captured.
pub(crate) struct Callback(Box<dyn Job>);

/// What [`Callback`] erases: the closure and the link to the next callback
/// of the list it is in.
trait Job: Send {
    /// The link to the callback below this one in a [`Callbacks`] stack.
    fn below(&mut self) -> &mut Option<Callback>;
    /// Runs the closure, consuming the job.
    fn run(self: Box<Self>);
}

/// The one implementation of [`Job`].
struct Closure<F> {
    /// See [`Job::below`].
    below: Option<Callback>,
    /// The user's work.
    run: F,
}

impl<F: FnOnce() + Send> Job for Closure<F> {
    fn below(&mut self) -> &mut Option<Callback> {
        &mut self.below
    }

    fn run(self: Box<Self>) {
        (self.run)();
    }
}

impl Callback {
    /// Boxes `run` (one allocation, link included).
    pub(crate) fn new(run: impl FnOnce() + Send + 'static) -> Callback {
        Callback(Box::new(Closure { below: None, run }))
    }

    /// Runs the closure.
    pub(crate) fn run(self) {
        self.0.run();
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
    /// The callback pushed last.
    top: Option<Callback>,
}

impl Callbacks {
    /// Whether no callback is in the stack.
    pub(crate) fn is_empty(&self) -> bool {
        self.top.is_none()
    }

    /// Pushes `callback` on top.
    pub(crate) fn push(&mut self, mut callback: Callback) {
        *callback.0.below() = self.top.take();
        self.top = Some(callback);
    }

    /// Takes the callback on top, if any.
    pub(crate) fn pop(&mut self) -> Option<Callback> {
        let mut callback = self.top.take()?;
        self.top = callback.0.below().take();
        Some(callback)
    }

    /// Moves every callback of `other` onto this stack.
    pub(crate) fn append(&mut self, mut other: Callbacks) {
        while let Some(callback) = other.pop() {
            self.push(callback);
        }
    }
}

impl Drop for Callbacks {
    fn drop(&mut self) {
        while let Some(callback) = self.pop() {
            drop(callback);
        }
    }
}
