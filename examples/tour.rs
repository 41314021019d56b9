//! A short tour of forthcoming: producers on threads, waits with time-outs,
//! a failure, a captured panic, a broken promise, and group waits.
//!
//! Run with `cargo run --release --example tour`.

use forthcoming::{Failure, ResultError, ReturnWhen, promise, wait, wait_any};
use std::backtrace::BacktraceStatus;
use std::thread;
use std::time::{Duration, Instant};

fn main() {
    let start = Instant::now();
    let elapsed = || format!("{:>6.2} ms", start.elapsed().as_secs_f64() * 1e3);

    // 1. A value produced on another thread.
    let (promise_a, answer) = promise::<u64, String>();
    let producer = thread::spawn(move || {
        thread::sleep(Duration::from_millis(20)); // pretend to work
        promise_a.set_result(42);
    });
    match answer.result(Some(Duration::from_millis(1))) {
        Err(ResultError::Timeout) => {
            println!("[{}] answer not ready after 1 ms: timed out", elapsed())
        }
        other => println!("[{}] answer early: {other:?}", elapsed()),
    }
    let value = answer.get_result();
    println!("[{}] answer = {value:?} (id {})", elapsed(), answer.id());
    producer.join().expect("producer thread");

    // 2. A failure set by the producer, read without panicking.
    let (promise_b, lookup) = promise::<u64, String>();
    thread::spawn(move || promise_b.set_exception("key not found".to_string()));
    match lookup.check_success() {
        Ok(()) => println!("[{}] lookup succeeded", elapsed()),
        Err(failure) => println!("[{}] lookup failed: {failure}", elapsed()),
    }
    let trace = lookup.get_traceback().expect("a failure has a backtrace");
    match trace.status() {
        BacktraceStatus::Captured => println!("[{}] it was set at:\n{trace}", elapsed()),
        BacktraceStatus::Disabled => println!(
            "[{}] no backtrace of where it was set: RUST_BACKTRACE is unset (run with RUST_BACKTRACE=1)",
            elapsed()
        ),
        _ => println!("[{}] backtraces are not supported here", elapsed()),
    }

    // 3. A panic inside the producer's function is captured, not propagated.
    // (Silence the default hook, which would print the panic as it happens.)
    std::panic::set_hook(Box::new(|_| {}));
    let (promise_c, risky) = promise::<u64, String>();
    thread::spawn(move || promise_c.run(|| panic!("division by zero")));
    if let Err(Failure::Panicked(panic)) = risky.get_result() {
        println!("[{}] risky call: {panic}", elapsed());
    }

    // 4. A producer that gives up: nobody waits forever.
    let (promise_d, abandoned) = promise::<u64, String>();
    thread::spawn(move || drop(promise_d));
    println!(
        "[{}] abandoned: {}",
        elapsed(),
        abandoned.get_exception().expect("a failure")
    );

    // 5. Calls #1 to #4 in flight (`calls[i]` is call #i+1); take them as they
    // come, then wait for the rest.
    let numbers = |positions: &[usize]| -> Vec<usize> { positions.iter().map(|i| i + 1).collect() };
    let calls: Vec<_> = (1..=4u64)
        .map(|i| {
            let (promise, future) = promise::<u64, String>();
            thread::spawn(move || {
                thread::sleep(Duration::from_millis(5 * (5 - i)));
                promise.set_result(i * i);
            });
            future
        })
        .collect();
    let first = wait_any(&calls).expect("four calls");
    println!(
        "[{}] first call to finish: #{} = {:?}",
        elapsed(),
        first + 1,
        calls[first].get_result()
    );
    let (done, not_done) = wait(
        &calls,
        Some(Duration::from_millis(8)),
        ReturnWhen::AllCompleted,
    );
    println!(
        "[{}] after 8 ms more: calls {:?} done, {:?} not done",
        elapsed(),
        numbers(&done),
        numbers(&not_done)
    );
    let (done, _) = wait(&calls, None, ReturnWhen::AllCompleted);
    let values: Vec<_> = done
        .iter()
        .map(|&i| *calls[i].get_result().expect("a value"))
        .collect();
    println!("[{}] all done: {values:?}", elapsed());
}
