//! CPU-bound work (parsing, diffing, retrieval) from async code, without stalling the other tasks
//! of the tokio worker that runs it.
//!
//! On a multi-threaded runtime the work runs right here, on this thread, while the runtime moves
//! this worker's other tasks to another thread ([`tokio::task::block_in_place`]): no hand-off to
//! another thread and back, which costs tens of microseconds on a busy machine. A current-thread
//! runtime (tests, the CLI's one-shot commands) cannot do that.
//!
//! ```text
//! let edits = cpu_bound(|| baseline.checked_edits(&old, &new));
//! let prompt = run_blocking(move || build(&input)).await?;
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
