//! A persistent thread that completes what it is handed.

use std::sync::mpsc;
use std::thread::{self, JoinHandle};

/// A long-lived thread running `f` on every job sent to it; dropping the
/// worker closes its queue and joins it, so no bench leaves a thread behind.
pub(crate) struct Worker<J: Send + 'static> {
    /// The job queue; `None` once closed.
    jobs: Option<mpsc::Sender<J>>,
    /// The thread, joined on drop.
    thread: Option<JoinHandle<()>>,
}

impl<J: Send + 'static> Worker<J> {
    /// Starts the thread.
    pub(crate) fn spawn(mut f: impl FnMut(J) + Send + 'static) -> Worker<J> {
        let (jobs, queue) = mpsc::channel::<J>();
        let thread = thread::spawn(move || {
            for job in queue {
                f(job);
            }
        });
        Worker {
            jobs: Some(jobs),
            thread: Some(thread),
        }
    }

    /// Hands `job` to the thread. The hand-off (an `mpsc` send and the
    /// worker's wake-up) is the same for every variant of a bench.
    pub(crate) fn send(&self, job: J) {
        self.jobs
            .as_ref()
            .expect("open until drop")
            .send(job)
            .unwrap_or_else(|_| panic!("worker thread gone"));
    }
}

impl<J: Send + 'static> Drop for Worker<J> {
    fn drop(&mut self) {
        drop(self.jobs.take());
        if let Some(thread) = self.thread.take() {
            let joined = thread.join();
            if joined.is_err() && !thread::panicking() {
                panic!("worker thread panicked");
            }
        }
    }
}
