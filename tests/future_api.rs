//! The read side's public API, one method at a time: `done`, `exception`,
//! `wait*`, `get_result`, `result`, `check_success`, `get_exception`,
//! `get_traceback`, `id`, `into_result`. (The handles' auto traits are
//! asserted at compile time in `lib.rs`.)

mod common;

use common::{HOUR, await_registered, no_hang, owned, scaled};
use forthcoming::{Failure, FutureId, ResultError, promise};
use std::collections::HashSet;
use std::sync::Barrier;
use std::time::{Duration, Instant};

const SHORT: Duration = Duration::from_millis(2);

#[test]
fn done_and_exception_never_block() {
    let (p, f) = promise::<u8, &str>();
    assert!(!f.done());
    assert_eq!(f.exception(), None, "pending: no exception yet");
    p.set_result(1);
    assert!(f.done());
    assert_eq!(f.exception(), None, "success: no exception");

    let (p, f) = promise::<u8, &str>();
    p.set_exception("bad");
    assert!(f.done());
    assert_eq!(f.exception(), Some(&Failure::Exception("bad")));

    let (p, f) = promise::<u8, &str>();
    drop(p);
    assert!(f.done());
    assert_eq!(f.exception(), Some(&Failure::BrokenPromise));
}

#[test]
fn wait_returns_once_completed_from_another_thread() {
    let (p, f) = promise::<u32, ()>();
    let reader = f.clone();
    let waiter = std::thread::spawn(move || {
        reader.wait();
        reader.done()
    });
    await_registered(&f);
    p.set_result(9);
    assert!(
        waiter.join().unwrap(),
        "wait() returned before the future was done"
    );
    f.wait(); // already done: returns at once
    assert_eq!(f.get_result(), Ok(&9));
}

#[test]
fn wait_timeout_reports_pending_then_done() {
    let (p, f) = promise::<u32, ()>();
    assert!(!f.wait_timeout(SHORT));
    assert!(!f.done(), "a timed-out wait leaves the future pending");
    let reader = f.clone();
    let waiter = std::thread::spawn(move || reader.wait_timeout(HOUR));
    await_registered(&f);
    p.set_result(3);
    assert!(waiter.join().unwrap());
    assert!(f.wait_timeout(SHORT));
}

#[test]
fn wait_deadline_reports_pending_then_done() {
    let (p, f) = promise::<u32, ()>();
    assert!(!f.wait_deadline(Instant::now() + SHORT));
    assert!(!f.done());
    let reader = f.clone();
    let far = Instant::now() + HOUR;
    let waiter = std::thread::spawn(move || reader.wait_deadline(far));
    await_registered(&f);
    p.set_exception(());
    assert!(waiter.join().unwrap());
}

#[test]
fn get_result_returns_value_or_failure_without_panicking() {
    let (p, f) = promise::<String, i32>();
    let reader = f.clone();
    let waiter = std::thread::spawn(move || owned(reader.get_result()));
    p.set_result("v".to_string());
    assert_eq!(waiter.join().unwrap(), Ok("v".to_string()));
    assert_eq!(f.get_result(), Ok(&"v".to_string()));

    let (p, f) = promise::<String, i32>();
    p.set_exception(-1);
    assert_eq!(f.get_result(), Err(&Failure::Exception(-1)));

    let (p, f) = promise::<String, i32>();
    drop(p);
    assert_eq!(f.get_result(), Err(&Failure::BrokenPromise));
}

#[test]
fn result_tells_timeout_from_failure() {
    let (p, f) = promise::<u8, &str>();
    assert_eq!(f.result(Some(SHORT)), Err(ResultError::Timeout));
    p.set_exception("boom");
    assert_eq!(
        f.result(Some(Duration::ZERO)),
        Err(ResultError::Failed(&Failure::Exception("boom")))
    );
    assert_eq!(
        f.result(None),
        Err(ResultError::Failed(&Failure::Exception("boom")))
    );

    let (p, f) = promise::<u8, &str>();
    let reader = f.clone();
    let waiter =
        std::thread::spawn(move || reader.result(None).copied().map_err(|e| e.to_string()));
    p.set_result(4);
    assert_eq!(waiter.join().unwrap(), Ok(4));
    assert_eq!(f.result(Some(SHORT)), Ok(&4));
}

#[test]
fn result_with_long_timeout_waits_for_the_value() {
    let (p, f) = promise::<u8, ()>();
    let reader = f.clone();
    let waiter = std::thread::spawn(move || {
        reader
            .result(Some(HOUR))
            .copied()
            .map_err(|e| format!("{e:?}"))
    });
    await_registered(&f);
    p.set_result(8);
    assert_eq!(waiter.join().unwrap(), Ok(8));
}

#[test]
fn check_success_and_get_exception() {
    let (p, f) = promise::<u8, &str>();
    p.set_result(1);
    assert_eq!(f.check_success(), Ok(()));
    assert_eq!(f.get_exception(), None);

    let (p, f) = promise::<u8, &str>();
    p.set_exception("e");
    assert_eq!(f.check_success(), Err(&Failure::Exception("e")));
    assert_eq!(f.get_exception(), Some(&Failure::Exception("e")));

    let (p, f) = promise::<u8, &str>();
    drop(p);
    assert_eq!(f.check_success(), Err(&Failure::BrokenPromise));
    assert_eq!(f.get_exception(), Some(&Failure::BrokenPromise));
}

#[test]
fn get_exception_blocks_until_completion() {
    let (p, f) = promise::<u8, &'static str>();
    let reader = f.clone();
    let waiter = std::thread::spawn(move || reader.get_exception().cloned());
    await_registered(&f);
    p.set_exception("late");
    assert_eq!(waiter.join().unwrap(), Some(Failure::Exception("late")));
}

#[test]
fn get_traceback_is_some_for_every_failure_and_none_on_success() {
    let (p, f) = promise::<u8, &str>();
    p.set_result(1);
    assert!(f.get_traceback().is_none());

    let (p, f) = promise::<u8, &str>();
    p.set_exception("e");
    assert!(f.get_traceback().is_some());

    let (p, f) = promise::<u8, &str>();
    drop(p);
    assert!(
        f.get_traceback().is_some(),
        "broken promise has a traceback"
    );

    let (p, f) = promise::<u8, &str>();
    p.run(|| panic!("in run"));
    assert!(
        f.get_traceback().is_some(),
        "a captured panic has a traceback"
    );

    let (p, f) = promise::<u8, &str>();
    p.run(|| Err("returned error"));
    assert!(f.get_traceback().is_some());

    let (p, f) = promise::<u8, &str>();
    p.run(|| Ok(2));
    assert!(f.get_traceback().is_none());
}

#[test]
fn get_traceback_waits_for_the_outcome() {
    let (p, f) = promise::<u8, ()>();
    let reader = f.clone();
    let waiter = std::thread::spawn(move || {
        let some = reader.get_traceback().is_some();
        (some, reader.done())
    });
    await_registered(&f);
    drop(p);
    assert_eq!(waiter.join().unwrap(), (true, true));
}

#[test]
fn ids_are_unique_shared_by_clones_and_display_as_digits() {
    let mut seen = HashSet::new();
    let mut keep = Vec::new();
    for _ in 0..scaled(10_000) {
        let (p, f) = promise::<u8, ()>();
        assert!(seen.insert(f.id()), "duplicate id {}", f.id());
        keep.push((p, f));
    }
    let (_, f) = &keep[17];
    let clone = f.clone();
    assert_eq!(clone.id(), f.id());
    let text = f.id().to_string();
    assert!(!text.is_empty());
    assert!(text.chars().all(|c| c.is_ascii_digit()), "{text:?}");
    assert_eq!(text.parse::<u64>().map(|n| n.to_string()), Ok(text.clone()));
    assert!(
        format!("{:?}", keep[17].0).contains(&text),
        "the promise's Debug names the pair's id"
    );
}

#[test]
fn ids_are_unique_across_threads_and_agree_between_racing_clones() {
    let per_thread = scaled(2_000);
    let ids: Vec<Vec<FutureId>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                s.spawn(move || {
                    (0..per_thread)
                        .map(|_| promise::<u8, ()>().1.id())
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let all: HashSet<_> = ids.iter().flatten().copied().collect();
    assert_eq!(all.len(), 4 * per_thread);

    for _ in 0..200 {
        let (_p, f) = promise::<u8, ()>();
        let clones: Vec<_> = (0..3).map(|_| f.clone()).collect();
        let seen: Vec<FutureId> = std::thread::scope(|s| {
            let handles: Vec<_> = clones.iter().map(|c| s.spawn(move || c.id())).collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert!(
            seen.iter().all(|id| *id == f.id()),
            "{seen:?} vs {}",
            f.id()
        );
    }
}

#[test]
fn into_result_gives_the_handle_back_while_pending() {
    let (p, f) = promise::<Vec<u8>, ()>();
    let f = f.into_result().expect_err("pending: the handle comes back");
    assert!(!f.done());
    p.set_result(vec![7]);
    assert_eq!(f.into_result().ok(), Some(Ok(vec![7])));
}

#[test]
fn into_result_gives_the_handle_back_while_a_clone_lives() {
    let (p, f) = promise::<Vec<u8>, ()>();
    p.set_result(vec![1, 2]);
    let clone = f.clone();
    let f = f
        .into_result()
        .expect_err("a clone still shares the outcome");
    assert_eq!(f.get_result(), Ok(&vec![1, 2]));
    let clone = clone
        .into_result()
        .expect_err("`f` still shares the outcome");
    drop(f);
    assert_eq!(clone.into_result().ok(), Some(Ok(vec![1, 2])));
}

#[test]
fn into_result_moves_failures_out() {
    let (p, f) = promise::<u8, String>();
    p.set_exception("e".into());
    assert_eq!(
        f.into_result().ok(),
        Some(Err(Failure::Exception("e".to_string())))
    );

    let (p, f) = promise::<u8, String>();
    drop(p);
    assert_eq!(f.into_result().ok(), Some(Err(Failure::BrokenPromise)));
}

#[test]
fn into_result_after_a_clone_dies_on_another_thread() {
    let (p, f) = promise::<String, ()>();
    let clone = f.clone();
    let reader = std::thread::spawn(move || owned(clone.get_result()));
    p.set_result("x".into());
    assert_eq!(reader.join().unwrap(), Ok("x".into()));
    assert_eq!(f.into_result().ok(), Some(Ok("x".to_string())));
}

#[test]
fn debug_output_is_informative() {
    let (p, f) = promise::<u8, ()>();
    let pending = format!("{f:?}");
    assert!(pending.contains("Future"), "{pending}");
    assert!(pending.contains(&f.id().to_string()), "{pending}");
    p.set_result(1);
    assert_ne!(format!("{f:?}"), pending, "Debug shows the state");
}

/// Readers of a done future borrow the one stored value without a lock: in
/// every round each of four threads takes a borrow and holds it while meeting
/// the others at a barrier, which would deadlock (and fail `no_hang`) if a
/// borrow kept a lock another reader needs; every borrow is of the same value.
#[test]
fn readers_holding_borrows_of_one_value_do_not_block_each_other() {
    const ROUNDS: usize = scaled(1_000);
    const READERS: usize = 4;
    let (p, f) = promise::<u64, ()>();
    p.set_result(11);
    let stored = std::ptr::from_ref(f.get_result().unwrap()).addr();
    no_hang("readers of a done future", move || {
        let holding = Barrier::new(READERS);
        std::thread::scope(|s| {
            for _ in 0..READERS {
                s.spawn(|| {
                    for round in 0..ROUNDS {
                        let value = f.get_result().unwrap();
                        let checked = f.result(Some(Duration::ZERO)).unwrap();
                        holding.wait();
                        assert_eq!((*value, *checked), (11, 11), "round {round}");
                        assert_eq!(std::ptr::from_ref(value).addr(), stored);
                        assert_eq!(std::ptr::from_ref(checked).addr(), stored);
                    }
                });
            }
        });
    });
}

#[test]
fn zero_sized_and_overaligned_values() {
    let (p, f) = promise::<(), ()>();
    let reader = f.clone();
    let waiter = std::thread::spawn(move || reader.get_result() == Ok(&()));
    await_registered(&f);
    p.set_result(());
    assert!(waiter.join().unwrap());
    assert_eq!(f.into_result().ok(), Some(Ok(())));

    #[derive(Debug, PartialEq)]
    #[repr(align(128))]
    struct Aligned([u8; 128]);
    let (p, f) = promise::<Aligned, Aligned>();
    p.set_exception(Aligned([3; 128]));
    let failure = f.get_exception().expect("set");
    let error = failure.exception().expect("an exception");
    assert_eq!(std::ptr::from_ref(error).addr() % 128, 0);
    assert_eq!(error, &Aligned([3; 128]));
}
