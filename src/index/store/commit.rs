//! Commits: batching incremental changes, committing when a batch is due, persisting on drop, and
//! the committer thread that also takes the writer over when the lease frees.

use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use super::{Batch, IndexError, WorkspaceIndex, lock};

impl WorkspaceIndex {
    /// Records an uncommitted change and commits if the batch is due.
    pub(super) fn note_change(&self) -> Result<(), IndexError> {
        {
            let mut batch = lock(&self.batch);
            batch.pending += 1;
            batch.since.get_or_insert_with(Instant::now);
        }
        self.commit_if_due().map(|_| ())
    }

    /// Whether changes wait for a commit.
    pub fn has_pending(&self) -> bool {
        lock(&self.batch).pending > 0
    }

    /// Commits if `commit_batch_files` changes wait or the oldest waits for `commit_interval_ms`;
    /// returns whether it committed. Call it on a timer (or use
    /// [`spawn_committer`](Self::spawn_committer)).
    pub fn commit_if_due(&self) -> Result<bool, IndexError> {
        let due = {
            let batch = lock(&self.batch);
            batch.pending > 0
                && (batch.pending >= self.config.commit_batch_files.max(1)
                    || batch.since.is_some_and(|s| {
                        s.elapsed() >= Duration::from_millis(self.config.commit_interval_ms)
                    }))
        };
        if due {
            self.commit()?;
        }
        Ok(due)
    }

    /// Commits every change now and makes it searchable.
    pub fn commit(&self) -> Result<(), IndexError> {
        let current = {
            let mut slot = lock(&self.writer);
            let Some(writer) = slot.writer.as_mut() else {
                return Ok(());
            };
            writer.commit()?;
            *lock(&self.batch) = Batch::default();
            self.note_update();
            // The index the writer writes (read under its lock: a takeover replaces both).
            self.current()
        };
        current.reader.reload()?;
        Ok(())
    }

    /// Commits what waits for a commit, then waits until everything is on the disk: for a
    /// process about to end.
    pub fn persist(&self) {
        if self.has_pending()
            && let Err(error) = self.commit()
        {
            tracing::warn!(%error, "cannot commit the workspace index on close");
        }
        self.flush_to_disk();
    }

    /// Waits until every commit so far is on the disk (commits reach it behind, see
    /// [`CacheDirectory`]).
    pub fn flush_to_disk(&self) {
        if let Some(directory) = &self.current().directory {
            directory.flush();
        }
    }

    /// Starts a thread that commits due batches every `commit_interval_ms` (between 50 ms and a
    /// second) until `cancel` is cancelled or the index is dropped. While the index is read-only
    /// or in memory, the thread tries on each tick to move to the disk as its writer (see
    /// [`take_writer`](Self::take_writer)) and, once it has, re-indexes what changed meanwhile.
    pub fn spawn_committer(
        self: &Arc<Self>,
        cancel: CancellationToken,
    ) -> std::thread::JoinHandle<()> {
        let weak: Weak<WorkspaceIndex> = Arc::downgrade(self);
        let tick = Duration::from_millis(self.config.commit_interval_ms.clamp(50, 1000));
        std::thread::spawn(move || {
            while !cancel.is_cancelled() {
                std::thread::sleep(tick);
                let Some(index) = weak.upgrade() else {
                    break;
                };
                if index.is_read_only() || index.is_in_memory() {
                    index.catch_up_if_writable(&cancel);
                }
                if !index.is_read_only()
                    && let Err(error) = index.commit_if_due()
                {
                    tracing::warn!(%error, "cannot commit the workspace index");
                }
            }
        })
    }

    /// Takes the writer over if it is free and brings the index up to date.
    pub(super) fn catch_up_if_writable(&self, cancel: &CancellationToken) {
        match self.take_writer() {
            Ok(true) => match self.build(&crate::index::progress::NoProgress, cancel) {
                Ok(summary) => {
                    tracing::info!(summary = %summary.describe(), "caught up with the workspace")
                }
                Err(error) => tracing::warn!(%error, "cannot catch up with the workspace"),
            },
            Ok(false) => {}
            Err(error) => tracing::debug!(%error, "cannot take the index writer over"),
        }
    }
}
