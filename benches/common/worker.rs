//! Persistent threads that complete what they are handed.

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

/// Two [`Worker`]s, each running `complete` on every job of the batch it is
/// handed: the producers of the benches that complete many futures.
pub(crate) struct Producers<J: Send + 'static>(
    /// The two threads, one batch each.
    [Worker<Vec<J>>; 2],
);

impl<J: Send + 'static> Producers<J> {
    /// Starts the two threads.
    pub(crate) fn spawn(complete: impl Fn(J) + Clone + Send + 'static) -> Producers<J> {
        Producers([(); 2].map(|_| {
            let complete = complete.clone();
            Worker::spawn(move |jobs: Vec<J>| jobs.into_iter().for_each(&complete))
        }))
    }

    /// Hands one batch to each thread (first the first thread's).
    pub(crate) fn send(&self, [first, second]: [Vec<J>; 2]) {
        self.0[0].send(first);
        self.0[1].send(second);
    }
}
