//! CPU-bound work (parsing, diffing, retrieval) from async code, without stalling the other tasks
//! of the tokio worker that runs it.
//!
//! On a multi-threaded runtime the work runs right here, on this thread, while the runtime moves
//! this worker's other tasks to another thread ([`tokio::task::block_in_place`]): no hand-off to
//! another thread and back, which costs tens of microseconds on a busy machine. A current-thread
//! runtime (tests, the CLI's one-shot commands) cannot do that. Work of a fraction of a
//! millisecond ([`run_short`]) simply runs, without moving the other tasks.
//!
//! ```text
//! let edits = cpu_bound(|| baseline.checked_edits(&old, &new));
//! let check = run_blocking(move || adds_syntax_errors(&before, &after)).await?;
//! let prompt = run_short(move || build(&input)).await?;
//! ```

use tokio::runtime::{Handle, RuntimeFlavor};

/// Whether this thread runs a multi-threaded tokio runtime, where blocking in place is allowed.
fn on_multi_thread_runtime() -> bool {
    Handle::try_current().is_ok_and(|h| h.runtime_flavor() == RuntimeFlavor::MultiThread)
}

/// Runs `work`, which may borrow, in place; on a current-thread runtime it just runs.
pub(crate) fn cpu_bound<T>(work: impl FnOnce() -> T) -> T {
    if on_multi_thread_runtime() {
        tokio::task::block_in_place(work)
    } else {
        work()
    }
}

/// Runs `work` in place; on a current-thread runtime it takes a thread of the blocking pool, so
/// that the runtime's one thread keeps serving its other tasks.
pub(crate) async fn run_blocking<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, tokio::task::JoinError> {
    if on_multi_thread_runtime() {
        Ok(tokio::task::block_in_place(work))
    } else {
        tokio::task::spawn_blocking(work).await
    }
}

/// Runs short CPU-bound work (a fraction of a millisecond, such as building a completion prompt)
/// right here, even on a multi-threaded runtime: handing this worker's other tasks to another
/// thread, as [`run_blocking`] does, wakes a thread on a machine with few cores and delayed the
/// 99th percentile of completions more than the work delays those tasks (measured by alternating
/// the two on the same requests). On a current-thread runtime it takes a thread of the blocking
/// pool, like [`run_blocking`].
pub(crate) async fn run_short<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, tokio::task::JoinError> {
    if on_multi_thread_runtime() {
        Ok(work())
    } else {
        tokio::task::spawn_blocking(work).await
    }
}

/// Work offered to rayon's pool that the caller does itself if no pool thread has started it by
/// the time the result is needed ([`Speculative::join`]). On an idle machine a pool thread takes
/// it and it runs beside the caller's own work; on a busy one, waiting for a pool thread to wake
/// could cost more than the work, so the caller runs it and never waits for a sleeping thread.
///
/// ```text
/// let multiline = Speculative::spawn(move || decide(&rope, cursor));
/// let prompt = build_prompt(&input);
/// let multiline = multiline.join();
/// ```
pub(crate) struct Speculative<T> {
    shared: std::sync::Arc<Shared<T>>,
}

type Job<T> = Box<dyn FnOnce() -> T + Send>;

struct Shared<T> {
    /// The work, until someone takes it.
    job: std::sync::Mutex<Option<Job<T>>>,
    /// The result of a pool thread's run (a panic is kept to be resumed by the caller).
    done: std::sync::Mutex<Option<std::thread::Result<T>>>,
    ready: std::sync::Condvar,
}

impl<T> Shared<T> {
    fn take_job(&self) -> Option<Job<T>> {
        self.job.lock().unwrap_or_else(|e| e.into_inner()).take()
    }
}

impl<T: Send + 'static> Speculative<T> {
    /// Offers `work` to rayon's pool.
    pub(crate) fn spawn(work: impl FnOnce() -> T + Send + 'static) -> Speculative<T> {
        let shared = std::sync::Arc::new(Shared {
            job: std::sync::Mutex::new(Some(Box::new(work) as Job<T>)),
            done: std::sync::Mutex::new(None),
            ready: std::sync::Condvar::new(),
        });
        let pool_side = std::sync::Arc::clone(&shared);
        rayon::spawn(move || {
            if let Some(job) = pool_side.take_job() {
                let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                *pool_side.done.lock().unwrap_or_else(|e| e.into_inner()) = Some(result);
                pool_side.ready.notify_all();
            }
        });
        Speculative { shared }
    }

    /// The result: the work runs here if no pool thread has started it, otherwise this waits for
    /// the pool thread to finish it. A panic in the work is resumed here.
    pub(crate) fn join(self) -> T {
        if let Some(job) = self.shared.take_job() {
            return job();
        }
        let mut done = self.shared.done.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            match done.take() {
                Some(Ok(value)) => return value,
                Some(Err(panic)) => std::panic::resume_unwind(panic),
                None => {
                    done = self
                        .shared
                        .ready
                        .wait(done)
                        .unwrap_or_else(|e| e.into_inner())
                }
            }
        }
    }
}

impl<T> Drop for Speculative<T> {
    /// Work nobody will read is not started.
    fn drop(&mut self) {
        drop(self.shared.take_job());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Barrier};

    #[test]
    fn the_result_comes_back_whoever_runs_the_work() {
        for i in 0..200 {
            let job = Speculative::spawn(move || i * 2);
            assert_eq!(job.join(), i * 2);
        }
    }

    #[test]
    fn work_a_pool_thread_started_is_waited_for_not_run_twice() {
        let runs = Arc::new(AtomicUsize::new(0));
        let started = Arc::new(Barrier::new(2));
        let job = {
            let (runs, started) = (Arc::clone(&runs), Arc::clone(&started));
            Speculative::spawn(move || {
                started.wait();
                std::thread::sleep(std::time::Duration::from_millis(20));
                runs.fetch_add(1, Ordering::SeqCst) + 1
            })
        };
        // The pool thread has the work: join must wait for its result.
        started.wait();
        assert_eq!(job.join(), 1);
        assert_eq!(runs.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn a_panic_in_the_work_reaches_the_caller() {
        let job = Speculative::spawn(|| -> usize { panic!("boom") });
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job.join()));
        assert!(caught.is_err());
    }

    #[test]
    fn dropped_work_is_not_run() {
        // Keep the pool busy so that the offered work cannot start before the drop.
        let threads = rayon::current_num_threads();
        let gate = Arc::new(Barrier::new(threads + 1));
        for _ in 0..threads {
            let gate = Arc::clone(&gate);
            rayon::spawn(move || {
                gate.wait();
            });
        }
        let ran = Arc::new(AtomicUsize::new(0));
        let job = {
            let ran = Arc::clone(&ran);
            Speculative::spawn(move || ran.fetch_add(1, Ordering::SeqCst))
        };
        drop(job);
        gate.wait();
        // Work offered from outside the pool is taken in the order it came: once every pool thread
        // holds one of these, the dropped work's turn is over.
        let drained = Arc::new(Barrier::new(threads + 1));
        for _ in 0..threads {
            let drained = Arc::clone(&drained);
            rayon::spawn(move || {
                drained.wait();
            });
        }
        drained.wait();
        assert_eq!(ran.load(Ordering::SeqCst), 0);
    }
}
