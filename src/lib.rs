//! A lock-free, one-shot completion primitive: a [`Promise`] fulfilled once,
//! [`Future`] handles that read the outcome, and waits over one or many
//! futures ([`wait_any`], [`wait_all`], [`wait`] with [`ReturnWhen`]).
//!
//! ```
//! use forthcoming::{promise, wait, ReturnWhen};
//! use std::time::Duration;
//!
//! let (promise, future) = promise::<u64, String>();
//! let worker = std::thread::spawn(move || promise.set_result(6 * 7));
//! assert_eq!(future.get_result(), Ok(&42));
//! worker.join().unwrap();
//!
//! let (slow, pending) = forthcoming::promise::<u64, String>();
//! let (done, not_done) = wait([&future, &pending], Some(Duration::from_millis(5)), ReturnWhen::AllCompleted);
//! assert_eq!((done, not_done), (vec![0], vec![1]));
//! drop(slow); // a dropped promise completes its future with Failure::BrokenPromise
//! assert_eq!(pending.get_result(), Err(&forthcoming::Failure::BrokenPromise));
//! ```
//!
//! # Async
//! `(&future).await` reads the outcome by reference, `future.await` by value
//! (for `T: Clone, E: Clone`: moved out of the last handle, cloned from a
//! shared one), and [`wait_any_async`], [`wait_all_async`] and
//! [`wait_async`] wait on many. Nothing depends on a runtime; time-outs are
//! the executor's, and a dropped wait unlinks itself at once.
//!
//! ```
//! use forthcoming as fc;
//! use std::time::Duration;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let (promise, reply) = fc::promise::<u64, String>();
//! let (_never, silent) = fc::promise::<u64, String>();
//! let reader = reply.clone();
//! let task = tokio::spawn(async move { reader.await }); // by value
//! promise.set_result(7);
//! assert_eq!(task.await.unwrap(), Ok(7));
//! assert_eq!((&reply).await, Ok(&7)); // by reference
//! assert!(tokio::time::timeout(Duration::from_millis(1), &silent).await.is_err());
//! assert_eq!(fc::wait_any_async([&silent, &reply]).await, Some(1));
//! # }
//! ```
//!
//! The 2024 prelude brings in `std::future::Future`, so where both meet,
//! name this crate's type by path, `use forthcoming as fc;` then
//! `fc::Future<T, E>` (as above), or import it by name, which shadows the
//! prelude's in that module.
//!
//! # Errors
//! A read that fails gives a [`Failure`]: the producer's exception, a
//! captured panic, or a broken promise. Each read comes in two forms:
//! - borrowed, as the seeds have them: [`Future::get_result`],
//!   [`Future::result`] and [`Future::check_success`] return `&Failure<E>`
//!   (or [`ResultError`]), which borrows the future;
//! - owned, for `?`: [`Future::value`], [`Future::value_timeout`] and
//!   [`Future::ensure_success`] return a [`FutureError`], which keeps the
//!   failure alive through a clone of the handle. It is a
//!   [`std::error::Error`] for every `E: Display + Debug` (`String`,
//!   `&'static str`, `Box<dyn Error + Send + Sync>`, `anyhow::Error`, any
//!   `E: Error`), so `?` turns it into an `anyhow::Error` or a
//!   `Box<dyn Error + Send + Sync>`.
//!
//! ```
//! use forthcoming as fc;
//! use std::error::Error;
//! use std::time::Duration;
//!
//! fn read(reply: &fc::Future<u64, Box<dyn Error + Send + Sync>>) -> anyhow::Result<u64> {
//!     Ok(*reply.value()?)
//! }
//! fn read_soon(reply: &fc::Future<u64, anyhow::Error>) -> Result<u64, Box<dyn Error + Send + Sync>> {
//!     Ok(*reply.value_timeout(Duration::from_millis(1))?)
//! }
//!
//! let refused = fc::Future::failed("connection refused".into());
//! let error = read(&refused).unwrap_err().context("fetching the profile");
//! // Each message once: the failure's source is the exception's own source.
//! assert_eq!(format!("{error:#}"), "fetching the profile: exception: connection refused");
//!
//! let (_unset, silent) = fc::promise::<u64, anyhow::Error>();
//! assert_eq!(read_soon(&silent).unwrap_err().to_string(), "timed out after 1ms waiting for the future");
//! ```
//!
//! Awaiting by value gives `Result<T, Failure<E>>`; the failure is an
//! `Error` (for `?`) when `E` is one.
//!
//! # Python / NDB names in Rust
//! | Python / NDB name | Rust |
//! |---|---|
//! | NDB `get_result()` | [`Future::get_result`] (borrowed), [`Future::value`] (owned error), `(&future).await`, `future.await` |
//! | NDB `check_success()` | [`Future::check_success`], [`Future::ensure_success`] |
//! | NDB `get_exception()`, SDK `exception` | [`Future::get_exception`] (waits), [`Future::exception`] (never blocks) |
//! | NDB `get_traceback()` | [`Future::get_traceback`] |
//! | NDB / SDK `done()` | [`Future::done`] |
//! | NDB `wait()` | [`Future::wait`], [`Future::wait_timeout`], [`Future::wait_deadline`] |
//! | NDB `wait_any`, `wait_all` | [`wait_any`], [`wait_all`] (and `_async`) |
//! | `concurrent.futures.as_completed` | [`as_completed`], [`as_completed_async`] |
//! | NDB `QueueFuture`, dask `as_completed(...).add` | [`CompletionQueue`] |
//! | SDK `result(timeout)` | [`Future::result`] (borrowed), [`Future::value_timeout`] (owned error) |
//! | SDK `id` | [`Future::id`] |
//! | SDK `Future.wait(futures, timeout, return_when)` | [`wait`], [`wait_async`], [`ReturnWhen`] |
//! | `concurrent.futures` `add_done_callback(fn)`, NDB `add_callback` | [`Future::add_done_callback`] |
//! | SDK tail calls (a function returns another call's future) | [`Promise::forward`] |
//! | SDK `FunctionCallFailure`, `TimeoutError` | [`Failure`], [`ResultError::Timeout`], [`FutureError::is_timeout`] |
//! | (the producer) | [`promise`], [`Promise::set_result`], [`Promise::set_exception`], [`Promise::run`] |
//! | tokio `Sender::closed()`, oneshot `is_closed()` | [`Promise::is_abandoned`], [`Promise::wait_abandoned`], [`Promise::abandoned`] |
//!
//! # How it works
//! Each pair shares one allocation whose state word is either the head of an
//! intrusive list of waiter nodes (pending) or a completion tag. Completing
//! is one atomic swap that takes the whole list, then one wake-up per waiter;
//! waiting on a done future is one Acquire load. A group wait links one
//! waiter (one parker, one decision word) into every future's list; the
//! completers race on the decision word with one atomic operation each, and
//! the winner wakes the parker. Waiters that time out unlink their nodes
//! (Harris-style marking), and nodes are reclaimed with `crossbeam-epoch`.
//! There is no lock anywhere. Every protocol is checked by a loom model in
//! `loom-tests/`.
//!
//! # User code: wakers and panics
//! The crate calls a task's [`Waker`](std::task::Waker) and drops it; none
//! of that can stop a completion halfway or leave a waiter unwoken:
//! - `wake` runs on the completing thread. If it panics, the completion
//!   still wakes every other waiter, and the first such panic then resumes
//!   from [`Promise::set_result`], [`Promise::set_exception`],
//!   [`Promise::run`] or the promise's drop (on a thread already unwinding,
//!   where resuming would abort, it is dropped instead). `wake` runs while
//!   the completer is pinned in the crate's epoch collector, so a `wake`
//!   that blocks delays the freeing of the crate's cancelled waits until it
//!   returns (memory, never correctness).
//! - A dropped async wait unlinks itself, then drops its waker on the
//!   dropping thread (unless a completion is waking it at that very moment:
//!   then the completer drops it after its `wake`). A waker whose `Drop`
//!   panics panics there, with the futures already left consistent. What
//!   is freed later through the epoch runs no user code, and the crate's
//!   epoch collector is its own, so no other library's garbage runs inside
//!   its pins either.
//! - A re-poll stores the new waker with `atomic-waker`, whose `register` is
//!   not unwind-safe: if the waker's `clone` (or the previous waker's
//!   `drop`) panics there, its slot stays locked and would never wake again.
//!   So the wait then drops that registration (unlinking it, and leaking the
//!   waker stuck in the slot rather than dropping it inside the crate)
//!   before the panic goes on; polled again, it registers afresh and is
//!   woken as usual.
//!   The streams of [`as_completed_async`] and [`CompletionQueue`] keep
//!   their registrations instead and replace the locked slot by an empty
//!   one (leaking the stuck waker the same way); polled again, they store
//!   the new waker there and are woken as usual.
//!
//! # User code: callbacks
//! A callback ([`Future::add_done_callback`]) runs once, on the thread that
//! completes its future (or on the thread that adds it, if the future is
//! done already), after the outcome is published and every waiting thread
//! and task is woken, outside the crate's epoch pins (one exception
//! below). There it may do
//! anything: read the future, complete other promises, add callbacks,
//! block. A future's callbacks added before it completes run in the order
//! they were added.
//! - Completing a promise inside a callback does not run that promise's
//!   callbacks inside this one: they are queued on the thread's worklist
//!   and run, one after another, before the outermost completing call
//!   returns. Chains of callbacks run in constant stack.
//! - A wait inside a callback (blocking, or with a time-out already
//!   passed) first runs the callbacks queued on its thread, so it never
//!   waits for, or misses, work queued behind it.
//! - A task's `Waker::wake` runs inside the completer's walk; if it
//!   completes a promise, that promise's callbacks are queued too, and run
//!   once the walk is over and unpinned. The one exception: a `wake` that
//!   itself waits (any wait, even one whose time-out has passed) first
//!   runs the callbacks queued on its thread, as every wait does, so
//!   those run inside the walk and its pin, as that `wake` does, rather
//!   than leave the wait to hang on them.
//! - A panicking callback stops no other callback or waiter; the first
//!   panic resumes from the outermost completing call once everything has
//!   run (from `add_done_callback` itself for a future already done), or
//!   is dropped on a thread already unwinding.

// Module map, bottom layer first; a module uses only those above it or in
// its own layer. The one cycle is the data's own, in layer 2: a node (in
// `list`) points to its waiter, a waiter owns its nodes, and a waiter's
// parker may be a `ready` stack or a queue's slab, whose stack links
// through nodes.
//
//  1. Shims and plain data: `sync` (the loom shim: atomics, cells, parking),
//     `epoch` (the crate's collector), `state` (the state word's bits),
//     `id`, `failure`, `unwind`, `return_when`, `timeout`, `callback` (a
//     boxed closure with its own link), `trampoline` (the thread's
//     callback worklist) and `waker_slot` (a stream's waker, replaced if
//     storing one panics).
//  2. The lock-free core: `list` (a future's waiter list: push, complete,
//     detach, link) <-> `waiter` (one parker, one `decision` word, N nodes)
//     <-> `ready` (the ready stacks of `as_completed` and the queue).
//  3. `registration`: links one waiter into N lists, parks or keeps a
//     waker, and unlinks on drop.
//  4. `inner`: the shared block of one pair and its two handles, the only
//     owners of its life.
//  5. The public API: `promise`, `abandoned` (the producer's await for
//     abandonment), `future`, `future_error` (the owned error of a read),
//     `completion` (`(&future).await`, `future.await`), `waitable`, `group`
//     and `group_async` (waits over many futures), `as_completed` and
//     `completion_queue` (completion order, over layer 2's ready stacks).

// Layer 1.
mod callback;
mod epoch;
mod failure;
mod id;
mod return_when;
mod state;
mod sync;
mod timeout;
mod trampoline;
mod unwind;
mod waker_slot;
// Layer 2.
mod decision;
mod list;
mod ready;
mod waiter;
// Layers 3 and 4.
mod inner;
mod registration;
// Layer 5.
mod abandoned;
mod as_completed;
mod completion;
mod completion_queue;
mod future;
mod future_error;
mod group;
mod group_async;
mod promise;
mod waitable;

pub use abandoned::Abandoned;
pub use as_completed::{AsCompleted, AsCompletedAsync, as_completed, as_completed_async};
pub use completion::{Completion, OwnedCompletion};
pub use completion_queue::CompletionQueue;
pub use failure::{Failure, Panic, ResultError};
pub use future::Future;
pub use future_error::FutureError;
pub use group::{wait, wait_all, wait_any};
pub use group_async::{Wait, WaitAll, WaitAny, wait_all_async, wait_any_async, wait_async};
pub use id::FutureId;
pub use promise::{Promise, promise};
pub use return_when::ReturnWhen;
pub use timeout::Timeout;
pub use waitable::Waitable;

/// Compile-time facts: handle sizes and exactly which auto traits hold.
mod compile_time {
    use super::*;
    use static_assertions::{assert_eq_size, assert_impl_all, assert_not_impl_any};
    use std::cell::Cell;
    use std::rc::Rc;

    assert_eq_size!(Future<u64, ()>, usize);
    assert_eq_size!(Promise<u64, ()>, usize);
    assert_eq_size!(Option<Future<u64, ()>>, usize);
    assert_impl_all!(Future<u64, String>: Send, Sync, Clone, Waitable);
    assert_impl_all!(Promise<u64, String>: Send, Sync);
    assert_impl_all!(Promise<Cell<u8>, ()>: Send);
    assert_not_impl_any!(Future<Rc<u8>, ()>: Send, Sync);
    assert_not_impl_any!(Future<u8, Rc<u8>>: Send, Sync);
    assert_not_impl_any!(Future<Cell<u8>, ()>: Send, Sync);
    assert_not_impl_any!(Promise<Rc<u8>, ()>: Send);
    assert_not_impl_any!(Promise<u8, Rc<u8>>: Send);
    assert_impl_all!(Failure<std::io::Error>: std::error::Error, Send, Sync);
    assert_impl_all!(ResultError<'static, std::io::Error>: std::error::Error);
    // The owned error converts with `?` for the error types applications use.
    assert_impl_all!(FutureError<u64, String>: std::error::Error, Send, Sync);
    assert_impl_all!(FutureError<u64, &'static str>: std::error::Error, Send, Sync);
    assert_impl_all!(FutureError<u64, std::io::Error>: std::error::Error, Send, Sync);
    assert_impl_all!(FutureError<Box<dyn Fn()>, ()>: std::fmt::Debug); // T need not be Debug
    assert_impl_all!(Timeout: std::error::Error, Copy, Eq, std::hash::Hash, Send, Sync);
    assert_impl_all!(FutureId: Copy, Eq, std::hash::Hash, std::fmt::Display, Send, Sync);
    assert_impl_all!(dyn Waitable: Waitable);
    assert_impl_all!(&'static Future<u64, String>: Waitable);
    assert_impl_all!(&'static dyn Waitable: Waitable);
    // The async waits' futures may move between an executor's threads and
    // need no pinning; a `Completion` is as thread-safe as its future.
    assert_impl_all!(Completion<'static, u64, String>: Send, Sync, Unpin, futures_core::FusedFuture);
    assert_not_impl_any!(Completion<'static, Cell<u8>, ()>: Send, Sync);
    assert_impl_all!(OwnedCompletion<u64, String>: Send, Sync, Unpin, futures_core::FusedFuture);
    assert_impl_all!(OwnedCompletion<std::marker::PhantomPinned, ()>: Unpin);
    assert_not_impl_any!(OwnedCompletion<Cell<u8>, ()>: Send, Sync);
    assert_impl_all!(WaitAny<'static>: Send, Sync, Unpin);
    assert_impl_all!(Abandoned<'static>: Send, Sync, Unpin);
    assert_impl_all!(AsCompleted<'static>: Send, Sync, ExactSizeIterator);
    assert_impl_all!(AsCompletedAsync<'static>: Send, Sync, Unpin, futures_core::stream::FusedStream);
    assert_impl_all!(WaitAll<'static>: Send, Sync, Unpin);
    assert_impl_all!(CompletionQueue<u64, String>: Send, Sync, Unpin, futures_core::Stream);
    assert_impl_all!(CompletionQueue<std::marker::PhantomPinned, ()>: Unpin);
    assert_not_impl_any!(CompletionQueue<Cell<u8>, ()>: Send, Sync);
    assert_impl_all!(Wait<'static>: Send, Sync, Unpin);
    // The shared block of a `u64` future: state word, count, id and a
    // two-word outcome (a failure is boxed), so the word and the value share
    // a cache line more often than not. (Loom's atomics are larger.)
    #[cfg(not(forthcoming_loom))]
    assert_eq_size!(crate::inner::Inner<u64, ()>, [usize; 5]);
}

/// Compiles and runs the README's Rust examples as doctests, so they stay true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
