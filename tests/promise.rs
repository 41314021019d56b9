//! The write side and the failure types: `set_result`, `set_exception`,
//! `run` (panics captured), broken promises, `Failure`/`ResultError` as
//! errors, and drop-tracked values proving that every value and error is
//! dropped exactly once on every path.

mod common;

use common::{XorShift, await_registered, scaled};
use forthcoming::{Failure, ResultError, promise};
use forthcoming_test_support::{Drops, Tracked};
use std::error::Error;
use std::io;

#[test]
fn set_result_and_set_exception_complete_the_future() {
    let (p, f) = promise::<u8, String>();
    p.set_result(5);
    assert_eq!(f.get_result(), Ok(&5));

    let (p, f) = promise::<u8, String>();
    p.set_exception("no".into());
    assert_eq!(f.get_result(), Err(&Failure::Exception("no".to_string())));
    assert_eq!(
        f.exception().and_then(Failure::exception),
        Some(&"no".to_string())
    );
}

#[test]
fn run_maps_ok_and_err() {
    let (p, f) = promise::<u8, &str>();
    p.run(|| Ok(1));
    assert_eq!(f.get_result(), Ok(&1));

    let (p, f) = promise::<u8, &str>();
    p.run(|| Err("e"));
    assert_eq!(f.get_result(), Err(&Failure::Exception("e")));
}

#[test]
fn run_captures_a_str_panic_with_its_message() {
    let (p, f) = promise::<u8, ()>();
    p.run(|| panic!("boom"));
    match f.get_result() {
        Err(Failure::Panicked(panic)) => {
            assert_eq!(panic.message(), Some("boom"));
            assert!(panic.to_string().contains("boom"), "{panic}");
        }
        other => panic!("expected a captured panic, got {other:?}"),
    }
    assert!(f.get_exception().unwrap().exception().is_none());
}

#[test]
fn run_captures_a_formatted_panic_with_its_message() {
    let (p, f) = promise::<u8, String>();
    let code = 7;
    p.run(|| panic!("code {code}"));
    match f.get_result() {
        Err(Failure::Panicked(panic)) => assert_eq!(panic.message(), Some("code 7")),
        other => panic!("expected a captured panic, got {other:?}"),
    }
    assert!(f.get_exception().unwrap().to_string().contains("code 7"));
}

#[test]
fn run_captures_a_non_string_panic() {
    let (p, f) = promise::<u8, ()>();
    p.run(|| std::panic::panic_any(42_u32));
    match f.get_result() {
        Err(Failure::Panicked(panic)) => {
            assert_eq!(panic.message(), None);
            assert!(!panic.to_string().is_empty());
        }
        other => panic!("expected a captured panic, got {other:?}"),
    }
}

#[test]
fn run_wakes_a_blocked_waiter_even_when_the_function_panics() {
    let (p, f) = promise::<u8, ()>();
    let reader = f.clone();
    let waiter =
        std::thread::spawn(move || matches!(reader.get_result(), Err(Failure::Panicked(_))));
    await_registered(&f);
    p.run(|| panic!("late"));
    assert!(waiter.join().unwrap());
}

#[test]
fn promise_dropped_by_a_panicking_thread_breaks_the_future() {
    let (p, f) = promise::<u8, ()>();
    let reader = f.clone();
    let waiter = std::thread::spawn(move || reader.get_result() == Err(&Failure::BrokenPromise));
    await_registered(&f);
    let panicked = std::thread::spawn(move || {
        let _owned = p;
        panic!("producer died");
    })
    .join();
    assert!(panicked.is_err());
    assert!(waiter.join().unwrap());
}

#[test]
fn failure_display_source_and_error() {
    let inner = io::Error::other("disk on fire");
    let failure: Failure<io::Error> = Failure::Exception(inner);
    assert!(failure.to_string().contains("disk on fire"), "{failure}");
    // Display shows the exception, so the source is the exception's own
    // (an `io::Error::other` has none): a chain names it once.
    assert!(failure.source().is_none());
    assert!(failure.exception().is_some());

    let (p, f) = promise::<u8, io::Error>();
    p.run(|| panic!("oops"));
    let panicked = f.get_exception().unwrap();
    assert!(panicked.source().is_none());
    assert!(panicked.to_string().contains("oops"), "{panicked}");
    assert!(panicked.exception().is_none());

    // Usable as a boxed error with `?`.
    fn fails() -> Result<(), Box<dyn Error + Send + Sync>> {
        let (p, f) = promise::<u8, io::Error>();
        p.set_exception(io::Error::other("via ?"));
        f.check_success().map_err(Failure::clone_err)?;
        Ok(())
    }
    assert!(fails().unwrap_err().to_string().contains("via ?"));
}

/// `Failure<io::Error>` is not `Clone` (io::Error is not); rebuild an owned one.
trait CloneErr {
    fn clone_err(&self) -> Failure<io::Error>;
}

impl CloneErr for Failure<io::Error> {
    fn clone_err(&self) -> Failure<io::Error> {
        match self {
            Failure::Exception(e) => Failure::Exception(io::Error::new(e.kind(), e.to_string())),
            Failure::Panicked(p) => Failure::Panicked(p.clone()),
            Failure::BrokenPromise => Failure::BrokenPromise,
        }
    }
}

#[test]
fn result_error_display_and_source() {
    let timeout: ResultError<'_, io::Error> = ResultError::Timeout;
    assert!(timeout.to_string().contains("timed out"), "{timeout}");
    assert!(timeout.source().is_none());

    let (p, f) = promise::<u8, io::Error>();
    p.set_exception(io::Error::other("inner"));
    let err = f.result(None).unwrap_err();
    assert!(matches!(err, ResultError::Failed(Failure::Exception(_))));
    assert!(err.to_string().contains("inner"), "{err}");
    // Display shows the failure, so the source is the exception's own
    // (none here): a chain names it once.
    assert!(err.source().is_none());
}

#[test]
fn value_dropped_once_when_last_future_drops_after_set() {
    let drops = Drops::new();
    let (p, f) = promise::<Tracked, ()>();
    let clones = [f.clone(), f.clone()];
    let value = drops.make();
    let id = value.id;
    p.set_result(value);
    assert_eq!(f.get_result().map(|v| v.id), Ok(id));
    drop(f);
    drops.assert_drops(id, 0); // clones still share the value
    let [a, b] = clones;
    drop(b);
    drops.assert_drops(id, 0);
    drop(a);
    drops.assert_drops(id, 1);
}

#[test]
fn value_dropped_once_when_futures_are_gone_before_set() {
    let drops = Drops::new();
    let (p, f) = promise::<Tracked, ()>();
    drop(f.clone());
    drop(f);
    // Nobody can read it: dropped by the promise.
    p.set_result(drops.make());
    drops.assert_all_dropped_once();
}

#[test]
fn error_dropped_once_on_every_failure_path() {
    let drops = Drops::new();
    let (p, f) = promise::<(), Tracked>();
    let error = drops.make();
    let id = error.id;
    p.set_exception(error);
    assert_eq!(
        f.exception().and_then(Failure::exception).map(|e| e.id),
        Some(id)
    );
    drop(f);
    drops.assert_all_dropped_once();

    let (p, f) = promise::<(), Tracked>();
    drop(f);
    p.set_exception(drops.make());
    drops.assert_all_dropped_once();

    let (p, f) = promise::<(), Tracked>();
    p.run(|| Err(drops.make()));
    drop(f);
    drops.assert_all_dropped_once();

    let (p, f) = promise::<Tracked, ()>();
    p.run(|| Ok(drops.make()));
    drop(f);
    drops.assert_all_dropped_once();
}

#[test]
fn into_result_moves_the_value_out_once() {
    let drops = Drops::new();
    let (p, f) = promise::<Tracked, Tracked>();
    let value = drops.make();
    let id = value.id;
    p.set_result(value);
    let value = f.into_result().expect("last handle, done").ok().unwrap();
    drops.assert_drops(id, 0); // moved out, not dropped
    assert_eq!(value.id, id);
    drop(value);
    drops.assert_drops(id, 1); // dropped once, by the caller

    let (p, f) = promise::<Tracked, Tracked>();
    let error = drops.make();
    let id = error.id;
    p.set_exception(error);
    let failure = f.into_result().ok().unwrap().unwrap_err();
    drops.assert_drops(id, 0);
    drop(failure);
    drops.assert_drops(id, 1);
}

#[test]
fn into_result_refused_drops_nothing() {
    let drops = Drops::new();
    let (p, f) = promise::<Tracked, ()>();
    let f = f.into_result().expect_err("pending");
    let value = drops.make();
    let id = value.id;
    p.set_result(value);
    let clone = f.clone();
    let f = f.into_result().expect_err("a clone lives");
    drops.assert_drops(id, 0);
    drop(clone);
    let value = f.into_result().ok().unwrap().unwrap();
    drop(value);
    drops.assert_all_dropped_once();
}

#[test]
fn captured_panic_drops_what_the_function_owned_once() {
    let drops = Drops::new();
    let owned = drops.make();
    let (p, f) = promise::<u8, ()>();
    p.run(move || {
        let _keep = owned;
        panic!("unwinds through a value")
    });
    drops.assert_all_dropped_once();
    assert!(matches!(f.get_result(), Err(Failure::Panicked(_))));
}

#[test]
fn clones_dropped_on_other_threads_drop_the_value_once() {
    let drops = Drops::new();
    for round in 0..scaled(50) {
        let (p, f) = promise::<Tracked, ()>();
        let readers: Vec<_> = (0..4)
            .map(|_| {
                let clone = f.clone();
                std::thread::spawn(move || clone.get_result().map(|v| v.id).ok())
            })
            .collect();
        let value = drops.make();
        let id = value.id;
        let setter = std::thread::spawn(move || p.set_result(value));
        drop(f);
        for reader in readers {
            assert_eq!(reader.join().unwrap(), Some(id), "round {round}");
        }
        setter.join().unwrap();
        drops.assert_all_dropped_once();
    }
}

#[test]
fn random_handle_drop_orders_drop_every_value_once() {
    let drops = Drops::new();
    let mut rng = XorShift::new(7);
    for _ in 0..scaled(300) {
        let (p, f) = promise::<Tracked, Tracked>();
        let mut futures: Vec<_> = (0..rng.below(4)).map(|_| f.clone()).collect();
        futures.push(f);
        rng.shuffle(&mut futures);
        let keep = rng.below(futures.len() + 1);
        let late = futures.split_off(keep);
        drop(futures); // some handles go before the outcome
        match rng.below(3) {
            0 => p.set_result(drops.make()),
            1 => p.set_exception(drops.make()),
            _ => drop(p), // a broken promise holds no value
        }
        let threads: Vec<_> = late
            .into_iter()
            .map(|f| std::thread::spawn(move || f.wait()))
            .collect();
        threads.into_iter().for_each(|t| t.join().unwrap());
        drops.assert_all_dropped_once();
    }
}
