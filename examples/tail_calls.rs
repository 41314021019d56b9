//! A reduce over worker threads written as a chain of tail calls: each step
//! adds one number on a worker and hands the rest of the sum to the next
//! step with `Promise::forward`, so the caller's future completes with the
//! total, nothing blocks in between, and memory stays flat however long the
//! chain (each step's future is linked to the caller's). A done callback on
//! each reduction logs its result on the thread that completes it.
//!
//! Run with `cargo run --release --example tail_calls`.

use forthcoming::{Future, promise};
use std::sync::mpsc;
use std::thread;

/// A pool of worker threads that run boxed jobs.
struct Workers {
    /// One sender per worker; jobs go round-robin.
    queues: Vec<mpsc::Sender<Box<dyn FnOnce() + Send>>>,
}

impl Workers {
    fn new(count: usize) -> Workers {
        let queues = (0..count)
            .map(|i| {
                let (sender, jobs) = mpsc::channel::<Box<dyn FnOnce() + Send>>();
                thread::Builder::new()
                    .name(format!("worker {i}"))
                    .spawn(move || jobs.into_iter().for_each(|job| job()))
                    .expect("a worker thread starts");
                sender
            })
            .collect();
        Workers { queues }
    }

    fn run(&self, step: usize, job: impl FnOnce() + Send + 'static) {
        self.queues[step % self.queues.len()]
            .send(Box::new(job))
            .expect("workers live as long as the pool");
    }
}

/// The sum of `numbers[step..]` plus `total`, one step per job: the job
/// adds `numbers[step]` and forwards this call's result to the next call.
fn sum_from(
    workers: &'static Workers,
    numbers: &'static [u64],
    step: usize,
    total: u64,
) -> Future<u64, String> {
    let (result, future) = promise();
    workers.run(step, move || match numbers.get(step) {
        None => result.set_result(total),
        Some(&n) => match total.checked_add(n) {
            // A tail call: this call's result is the next call's.
            Some(total) => result.forward(sum_from(workers, numbers, step + 1, total)),
            None => result.set_exception(format!("overflow at step {step}")),
        },
    });
    future
}

fn main() {
    let workers: &'static Workers = Box::leak(Box::new(Workers::new(4)));
    let (log, logged) = mpsc::channel();
    let reductions: Vec<(u64, Future<u64, String>)> = [1_000u64, 10_000, 100_000]
        .into_iter()
        .map(|n| {
            let numbers: &'static [u64] = Box::leak((1..=n).collect::<Box<[u64]>>());
            let sum = sum_from(workers, numbers, 0, 0);
            let log = log.clone();
            sum.add_done_callback(move |done| {
                let on = thread::current().name().map(str::to_owned);
                let _ = log.send((n, done.get_result().ok().copied(), on));
            });
            (n, sum)
        })
        .collect();

    for (n, sum) in &reductions {
        println!(
            "sum of 1..={n} through {n} tail calls: {:?}",
            sum.get_result()
        );
        assert_eq!(sum.get_result(), Ok(&(n * (n + 1) / 2)));
    }
    for _ in &reductions {
        let (n, total, on) = logged.recv().expect("every callback runs");
        let on = on.as_deref().unwrap_or("an unnamed thread");
        println!("callback for 1..={n}: {total:?}, run on {on}");
    }
}
