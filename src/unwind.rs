//! Panics caught from user code (a closure given to `run`, a task's
//! `Waker::wake`), and dropping their payloads without a second unwind.

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};

/// What a panic unwinds with.
pub(crate) type PanicPayload = Box<dyn Any + Send>;

/// Drops a caught panic's payload without letting a panic from the
/// payload's own `Drop` escape (it would abort on a thread already
/// unwinding, or cut short whatever the caller was doing). The payload of
/// such a second panic is leaked, not dropped, so this cannot recurse.
pub(crate) fn drop_payload(payload: PanicPayload) {
    if let Err(second) = catch_unwind(AssertUnwindSafe(move || drop(payload))) {
        std::mem::forget(second);
    }
}

/// Resumes a panic caught from user code once the crate's own work is done;
/// on a thread already unwinding, where resuming would abort, drops it.
pub(crate) fn resume(payload: PanicPayload) {
    if std::thread::panicking() {
        drop_payload(payload);
    } else {
        resume_unwind(payload);
    }
}

/// Keeps `payload` in `first` if it holds no panic yet; drops it safely
/// otherwise: only the first panic of a batch of user code is resumed.
pub(crate) fn keep_first(first: &mut Option<PanicPayload>, payload: PanicPayload) {
    match first {
        None => *first = Some(payload),
        Some(_) => drop_payload(payload),
    }
}
