//! What every target shares: the expected outcome of a pair, quiet
//! intentional panics, bounded time-outs and the trace switch. Drop-tracked
//! values, counting wakers and the partition check come from
//! `forthcoming-test-support`, which the stable test suite shares.

use arbitrary::Arbitrary;
use forthcoming::{Failure, ReturnWhen};
use forthcoming_test_support::{Drops, Tracked, poll_with};
use futures_core::Stream;
use std::cell::Cell;
use std::fmt;
use std::pin::Pin;
use std::sync::{Arc, Once, OnceLock};
use std::task::{Poll, Wake, Waker};
use std::thread::Thread;
use std::time::Duration;

/// Limits every target shares: at most this many promise/future pairs.
pub const MAX_PAIRS: usize = 8;
/// Ops past this many are ignored (counted over all threads in `threads`).
pub const MAX_OPS: usize = 64;
/// Group waits use at most this many inputs.
pub const MAX_SET: usize = 8;
/// Microseconds of time-outs (and, in `threads`, sleeps) one run, or one
/// thread of a `threads` run, may spend.
pub const BUDGET_MICROS: u64 = 1_000;

/// The longest time-out any op may ask for.
pub const MAX_TIMEOUT_MICROS: u64 = 200;

/// The pair type every target uses.
pub type Fut = forthcoming::Future<Tracked, Tracked>;
/// The promise type every target uses.
pub type Prom = forthcoming::Promise<Tracked, Tracked>;

/// What a completed future must hold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expected {
    /// `Ok` with the value of this id.
    Value(u32),
    /// `Failure::Exception` with the error of this id.
    Exception(u32),
    /// `Failure::Panicked` with this message.
    Panicked(Option<String>),
    /// `Failure::BrokenPromise`.
    Broken,
}

impl Expected {
    /// Whether this outcome is a failure.
    pub fn is_failure(&self) -> bool {
        !matches!(self, Expected::Value(_))
    }

    /// The id of the value or error kept in the shared state, if any.
    pub fn stored(&self) -> Option<u32> {
        match self {
            Expected::Value(id) | Expected::Exception(id) => Some(*id),
            Expected::Panicked(_) | Expected::Broken => None,
        }
    }

    /// Panics unless `actual` is this outcome.
    pub fn check(&self, actual: Result<&Tracked, &Failure<Tracked>>) {
        let ok = match (self, actual) {
            (Expected::Value(id), Ok(value)) => value.id == *id,
            (Expected::Exception(id), Err(Failure::Exception(error))) => error.id == *id,
            (Expected::Panicked(message), Err(Failure::Panicked(panic))) => {
                panic.message() == message.as_deref()
            }
            (Expected::Broken, Err(Failure::BrokenPromise)) => true,
            _ => false,
        };
        assert!(ok, "outcome {actual:?}, expected {self:?}");
    }

    /// Panics unless `exception` (from `Future::exception`) fits this outcome.
    pub fn check_exception(&self, exception: Option<&Failure<Tracked>>) {
        match exception {
            None => assert!(!self.is_failure(), "exception() is None, expected {self:?}"),
            Some(failure) => self.check(Err(failure)),
        }
    }

    /// Panics unless `outcome` (from `Future::into_result`) is this outcome,
    /// and its stored value, if any, is dropped when `outcome` is, once.
    pub fn check_owned(&self, outcome: Result<Tracked, Failure<Tracked>>, log: &Drops) {
        self.check(outcome.as_ref());
        if let Some(id) = self.stored() {
            log.assert_drops(id, 0);
            drop(outcome);
            log.assert_drops(id, 1);
        }
    }
}

/// Makes a fresh value, publishes the outcome `expect` makes of its id, then
/// hands the value to `complete`. Returns the outcome.
fn publish_fresh(
    log: &Drops,
    expect: fn(u32) -> Expected,
    publish: impl FnOnce(&Expected),
    complete: impl FnOnce(Tracked),
) -> Expected {
    let value = log.make();
    let expected = expect(value.id);
    publish(&expected);
    complete(value);
    expected
}

/// What the closure given to `Promise::run` does.
#[derive(Arbitrary, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Body {
    /// Returns `Ok` with a fresh value.
    Ok,
    /// Returns `Err` with a fresh error.
    Err,
    /// `panic!("boom")`: a `&str` payload.
    PanicStr,
    /// `panic!("boom {n}")`: a `String` payload.
    PanicString(u8),
    /// `panic_any(7u32)`: a payload with no message.
    PanicAny,
    /// Panics while owning a fresh value, which the unwinding must drop.
    PanicHolding,
}

impl Body {
    /// Runs `promise.run` with this body. `publish` sees the expected outcome
    /// before the promise completes (so that another thread that sees the
    /// future done can look it up). Returns the expected outcome.
    pub fn run(self, promise: Prom, log: &Drops, publish: impl FnOnce(&Expected)) -> Expected {
        match self {
            Body::Ok => publish_fresh(log, Expected::Value, publish, |value| {
                promise.run(move || Ok(value))
            }),
            Body::Err => publish_fresh(log, Expected::Exception, publish, |error| {
                promise.run(move || Err(error))
            }),
            Body::PanicStr => {
                let expected = Expected::Panicked(Some("boom".into()));
                publish(&expected);
                expecting_panic(|| promise.run(|| panic!("boom")));
                expected
            }
            Body::PanicString(n) => {
                let expected = Expected::Panicked(Some(format!("boom {n}")));
                publish(&expected);
                expecting_panic(|| promise.run(move || panic!("boom {n}")));
                expected
            }
            Body::PanicAny => {
                let expected = Expected::Panicked(None);
                publish(&expected);
                expecting_panic(|| promise.run(|| std::panic::panic_any(7u32)));
                expected
            }
            Body::PanicHolding => {
                let held = log.make();
                let id = held.id;
                let expected = Expected::Panicked(Some("holding".into()));
                publish(&expected);
                expecting_panic(|| {
                    promise.run(move || {
                        let _held = held;
                        panic!("holding")
                    })
                });
                // The unwinding dropped the value the body owned, once.
                log.assert_drops(id, 1);
                expected
            }
        }
    }
}

/// How a promise is completed (or broken) by a completing op.
#[derive(Arbitrary, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Completer {
    /// `set_result` with a fresh value.
    SetResult,
    /// `set_exception` with a fresh error.
    SetException,
    /// Dropped unset: `BrokenPromise`.
    Drop,
    /// `run` with this body.
    Run(Body),
}

impl Completer {
    /// Whether the outcome is a failure.
    pub fn fails(self) -> bool {
        !matches!(self, Completer::SetResult | Completer::Run(Body::Ok))
    }

    /// Completes `promise` this way; `publish` sees the expected outcome
    /// first. Returns the expected outcome.
    pub fn complete(self, promise: Prom, log: &Drops, publish: impl FnOnce(&Expected)) -> Expected {
        match self {
            Completer::SetResult => publish_fresh(log, Expected::Value, publish, |value| {
                promise.set_result(value)
            }),
            Completer::SetException => publish_fresh(log, Expected::Exception, publish, |error| {
                promise.set_exception(error)
            }),
            Completer::Drop => {
                publish(&Expected::Broken);
                drop(promise);
                Expected::Broken
            }
            Completer::Run(body) => body.run(promise, log, publish),
        }
    }
}

/// `ReturnWhen`, decoded from the input.
#[derive(Arbitrary, Clone, Copy, Debug, PartialEq, Eq)]
pub enum When {
    /// `ReturnWhen::AllCompleted`.
    All,
    /// `ReturnWhen::FirstCompleted`.
    First,
    /// `ReturnWhen::FirstException`.
    Exception,
}

impl When {
    /// The crate's value.
    pub fn get(self) -> ReturnWhen {
        match self {
            When::All => ReturnWhen::AllCompleted,
            When::First => ReturnWhen::FirstCompleted,
            When::Exception => ReturnWhen::FirstException,
        }
    }
}

/// Whether a wait under `when` is over, given for each input whether it is
/// done (`Some(failed)`) or pending (`None`). Conditions are monotonic.
pub fn satisfied(states: &[Option<bool>], when: ReturnWhen) -> bool {
    let all = states.iter().all(Option::is_some);
    match when {
        ReturnWhen::AllCompleted => all,
        // An empty input returns at once (documented for `wait`).
        ReturnWhen::FirstCompleted => states.is_empty() || states.iter().any(Option::is_some),
        ReturnWhen::FirstException => all || states.contains(&Some(true)),
    }
}

/// The exact `(done, not_done)` a wait must return when nothing changes
/// during it.
pub fn split(states: &[Option<bool>]) -> (Vec<usize>, Vec<usize>) {
    (0..states.len()).partition(|&i| states[i].is_some())
}

/// A time-out decoded from the input.
#[derive(Arbitrary, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Timeout {
    /// `Some(Duration::ZERO)`: only check.
    Zero,
    /// `Some(n µs)`, `n` capped at [`MAX_TIMEOUT_MICROS`].
    Micros(u8),
    /// `None`: wait forever (only where the target knows the wait ends).
    Forever,
}

/// A time budget, so that one input cannot spend long asleep.
#[derive(Debug)]
pub struct Budget {
    /// Microseconds of time-outs left.
    left: u64,
}

impl Budget {
    /// A budget of `micros` microseconds.
    pub fn new(micros: u64) -> Budget {
        Budget { left: micros }
    }

    /// `micros` (capped), or zero once the budget is spent.
    pub fn take(&mut self, micros: u8) -> Duration {
        let micros = u64::from(micros).min(MAX_TIMEOUT_MICROS).min(self.left);
        self.left -= micros;
        Duration::from_micros(micros)
    }

    /// The time-out to use for `timeout`, where `forever_ok` says whether an
    /// untimed wait is known to end (if not, it becomes a zero time-out).
    pub fn timeout(&mut self, timeout: Timeout, forever_ok: bool) -> Option<Duration> {
        match timeout {
            Timeout::Zero => Some(Duration::ZERO),
            Timeout::Micros(n) => Some(self.take(n)),
            Timeout::Forever if forever_ok => None,
            Timeout::Forever => Some(Duration::ZERO),
        }
    }
}

thread_local! {
    /// Set while a body that is meant to panic runs on this thread.
    static EXPECTING_PANIC: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f`, whose panics are intentional (caught by `Promise::run`): the
/// panic hook stays quiet for them, and only for them.
pub fn expecting_panic<R>(f: impl FnOnce() -> R) -> R {
    quiet_intentional_panics();
    EXPECTING_PANIC.with(|flag| flag.set(true));
    let result = f();
    EXPECTING_PANIC.with(|flag| flag.set(false));
    result
}

/// Installs, once, a hook that ignores intentional panics and hands every
/// other one to the hook it replaces (libFuzzer's aborting hook, or the
/// default one).
fn quiet_intentional_panics() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !EXPECTING_PANIC.with(Cell::get) {
                previous(info);
            }
        }));
    });
}

/// Whether `FORTHCOMING_FUZZ_TRACE` is set: then every op is printed, resolved
/// (which pair, which future, which value), to stderr.
pub fn tracing() -> bool {
    static TRACE: OnceLock<bool> = OnceLock::new();
    *TRACE.get_or_init(|| std::env::var_os("FORTHCOMING_FUZZ_TRACE").is_some())
}

/// Prints one trace line when tracing is on.
pub fn trace(line: fmt::Arguments<'_>) {
    if tracing() {
        eprintln!("{line}");
    }
}

/// `index` into a collection of `len` items (`None` when empty).
pub fn pick(index: u8, len: usize) -> Option<usize> {
    (len > 0).then(|| usize::from(index) % len)
}

/// Decodes an input as libFuzzer's `fuzz_target!` does: too short for the
/// type's size hint, or undecodable, means the input is skipped.
pub fn decode<T: for<'a> Arbitrary<'a>>(data: &[u8]) -> Option<T> {
    if data.len() < T::size_hint(0).0 {
        return None;
    }
    T::arbitrary_take_rest(arbitrary::Unstructured::new(data)).ok()
}

/// Formats a numbered op list, one op a line: the readable reproducer that
/// `cargo fuzz fmt <target> <input>` prints.
pub fn fmt_ops<Op: fmt::Debug>(
    f: &mut fmt::Formatter<'_>,
    header: fmt::Arguments<'_>,
    ops: impl Iterator<Item = Op>,
) -> fmt::Result {
    writeln!(f, "{header}")?;
    for (i, op) in ops.enumerate() {
        writeln!(f, "  {i:3}: {op:?}")?;
    }
    write!(
        f,
        "(replay with FORTHCOMING_FUZZ_TRACE=1 to see every op resolved)"
    )
}

/// Wakes a parked thread.
struct ThreadWaker(Thread);

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

/// Drives `future` to completion on this thread, parking between polls.
pub fn block_on<F: std::future::Future + Unpin>(mut future: F) -> F::Output {
    let waker = Waker::from(Arc::new(ThreadWaker(std::thread::current())));
    loop {
        if let Poll::Ready(output) = poll_with(&mut future, &waker) {
            return output;
        }
        std::thread::park();
    }
}

/// The next item of `stream`, as a future (futures-util's `StreamExt::next`).
pub fn next_of<S: Stream + Unpin>(
    stream: &mut S,
) -> impl std::future::Future<Output = Option<S::Item>> + Unpin + '_ {
    std::future::poll_fn(move |cx| Pin::new(&mut *stream).poll_next(cx))
}
