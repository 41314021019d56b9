//! Several function calls run in parallel on threads; the caller waits with
//! `ReturnWhen::FirstException` to stop early on a failure, then consumes the
//! remaining results with `as_completed` as they arrive. A last call
//! produces until nobody will read its result: it checks
//! `Promise::is_abandoned` between steps and stops once the caller drops its
//! future.
//!
//! Run with `cargo run --release --example parallel_calls`.

use forthcoming::{Future, Promise, ReturnWhen, as_completed, promise, wait};
use std::thread;
use std::time::Duration;

/// A remote call that takes `millis` and fails for negative inputs.
fn remote_square(x: i64, millis: u64) -> Result<i64, String> {
    thread::sleep(Duration::from_millis(millis));
    if x < 0 {
        Err(format!("negative input {x}"))
    } else {
        Ok(x * x)
    }
}

/// Starts `remote_square(x)` on its own thread and returns its future.
fn spawn_call(x: i64, millis: u64) -> Future<i64, String> {
    let (promise, future) = promise();
    thread::spawn(move || promise.run(|| remote_square(x, millis)));
    future
}

/// A producer that would sum forever: it works in steps and stops as soon
/// as every future of its promise is gone. Returns how it ended.
fn sum_until_abandoned(promise: Promise<i64, String>) -> &'static str {
    let mut sum: i64 = 0;
    for step in 0..100_000 {
        if promise.is_abandoned() {
            return "stopped: nobody will read the sum";
        }
        sum = sum.wrapping_add(step);
        thread::sleep(Duration::from_millis(1));
    }
    promise.set_result(sum);
    "finished"
}

fn main() {
    let calls = vec![
        spawn_call(3, 30),
        spawn_call(-1, 10),
        spawn_call(5, 20),
        spawn_call(7, 40),
    ];

    // Stop at the first failure (or when all are done).
    let (done, not_done) = wait(&calls, None, ReturnWhen::FirstException);
    for &i in &done {
        match calls[i].get_result() {
            Ok(value) => println!("call #{i} returned {value}"),
            Err(failure) => println!("call #{i} failed: {failure}"),
        }
    }
    println!("still running after the first failure: {not_done:?}");

    // Consume the rest in completion order: one registration for all of
    // them, each completion handed over in O(1).
    for k in as_completed(not_done.iter().map(|&i| &calls[i])) {
        let i = not_done[k];
        let future = &calls[i];
        println!(
            "call #{i} (id {}) arrived: {:?}",
            future.id(),
            future.get_result()
        );
    }

    // A call whose result the caller decides it does not need after all.
    let (sum_promise, sum) = promise::<i64, String>();
    let producer = thread::spawn(move || sum_until_abandoned(sum_promise));
    assert!(!sum.wait_timeout(Duration::from_millis(5)));
    drop(sum);
    println!("the sum's producer {}", producer.join().unwrap());
}
