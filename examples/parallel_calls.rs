//! Several function calls run in parallel on threads; the caller waits with
//! `ReturnWhen::FirstException` to stop early on a failure, then consumes the
//! remaining results with `wait_any` as they arrive.
//!
//! Run with `cargo run --release --example parallel_calls`.

use forthcoming::{Future, ReturnWhen, promise, wait, wait_any};
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

    // Consume the rest in completion order.
    let mut remaining: Vec<&Future<i64, String>> = not_done.iter().map(|&i| &calls[i]).collect();
    let mut positions = not_done;
    while let Some(k) = wait_any(remaining.iter().copied()) {
        let future = remaining.swap_remove(k);
        let i = positions.swap_remove(k);
        println!(
            "call #{i} (id {}) arrived: {:?}",
            future.id(),
            future.get_result()
        );
    }
}
