//! The bulk build: walking the workspace and indexing every new or changed file in parallel,
//! with the bulk writer settings and periodic commits, and compaction.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::sync_channel;
use std::time::Instant;

use tokio_util::sync::CancellationToken;

use crate::index::progress::{IndexProgress, IndexSummary};
use crate::index::schema::FileRecord;
use crate::index::walk::{Candidate, walk};

use super::open::new_writer;
use super::update::Prepared;
use super::{
    BULK_FILES, Building, FILES_PER_BUILD_COMMIT, IndexError, WorkspaceIndex, checkpoint, lock,
};

impl WorkspaceIndex {
    /// Walks the workspace and brings the index up to date: new and changed files (by mtime and
    /// size, then content hash) are parsed in parallel on `config.threads` threads, files gone are
    /// removed. Cancelling keeps what was done; the rest is indexed next time.
    pub fn build(
        &self,
        progress: &dyn IndexProgress,
        cancel: &CancellationToken,
    ) -> Result<IndexSummary, IndexError> {
        let started = Instant::now();
        let _building = {
            // Counted under the writer's lock, which takeovers check it under.
            let _slot = lock(&self.writer);
            self.builds.fetch_add(1, Ordering::SeqCst);
            Building(&self.builds)
        };
        let (candidates, skipped) = walk(&self.root, &self.config, &self.exclusions);
        let mut summary = IndexSummary {
            files: candidates.len(),
            skipped,
            ..IndexSummary::default()
        };
        if self.is_read_only() {
            summary.read_only = true;
            summary.files_unchanged = candidates.len();
            progress.begin(0);
            summary.seconds = started.elapsed().as_secs_f64();
            progress.end(&summary);
            return Ok(summary);
        }
        let known = lock(&self.files).clone();
        let present: HashSet<&str> = candidates.iter().map(|c| c.rel.as_str()).collect();
        let gone: Vec<String> = known
            .keys()
            .filter(|rel| !present.contains(String::as_str(rel)))
            .cloned()
            .collect();
        let mut changes = 0usize;
        for rel in &gone {
            self.delete_docs(rel);
            lock(&self.files).remove(rel);
            summary.files_removed += 1;
            changes += 1;
        }
        let to_process: Vec<&Candidate> = candidates
            .iter()
            .filter(|c| {
                known
                    .get(&c.rel)
                    .is_none_or(|r| r.mtime != c.mtime || r.size != c.size)
            })
            .collect();
        summary.files_unchanged = candidates.len() - to_process.len();
        let total = to_process.len();
        progress.begin(total);
        // Many files: a writer with more threads and memory for the duration of the run.
        let bulk = total >= BULK_FILES
            && self.config.bulk_writer_threads > self.config.writer_threads.max(1);
        if bulk {
            self.commit()?;
            self.replace_writer(
                self.config.bulk_writer_threads,
                self.config.bulk_writer_memory_mb,
            );
        }

        let next = AtomicUsize::new(0);
        let threads = self.config.effective_threads().min(total.max(1));
        let (sender, receiver) = sync_channel::<(usize, Prepared)>(64);
        let mut result: Result<(), IndexError> = Ok(());
        std::thread::scope(|scope| {
            for _ in 0..threads {
                let sender = sender.clone();
                let (next, to_process, known) = (&next, &to_process, &known);
                scope.spawn(move || {
                    loop {
                        if cancel.is_cancelled() {
                            break;
                        }
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(candidate) = to_process.get(i) else {
                            break;
                        };
                        let prepared = self.prepare(candidate, known.get(&candidate.rel));
                        if sender.send((i, prepared)).is_err() {
                            break;
                        }
                    }
                });
            }
            drop(sender);
            let mut done = 0;
            for (i, prepared) in receiver.iter() {
                let candidate = to_process[i];
                let was_known = known.contains_key(&candidate.rel);
                // A document open in the editor is newer than the disk: leave it to the editor's
                // updates.
                let prepared = if lock(&self.versions).contains_key(&candidate.rel) {
                    Prepared::Unchanged(
                        lock(&self.files)
                            .get(&candidate.rel)
                            .cloned()
                            .unwrap_or_else(|| FileRecord {
                                rel: candidate.rel.clone(),
                                hash: String::new(),
                                mtime: candidate.mtime,
                                size: candidate.size,
                            }),
                    )
                } else {
                    prepared
                };
                match prepared {
                    Prepared::Documents {
                        record,
                        docs,
                        symbols,
                        chunks,
                        bytes,
                        lines,
                    } => {
                        if let Err(error) = self.replace_docs(&candidate.rel, was_known, docs) {
                            result = Err(error);
                            break;
                        }
                        lock(&self.files).insert(candidate.rel.clone(), record);
                        summary.files_indexed += 1;
                        summary.symbols += symbols;
                        summary.chunks += chunks;
                        summary.bytes += bytes;
                        summary.lines += lines;
                        changes += 1;
                    }
                    Prepared::Unchanged(record) => {
                        lock(&self.files).insert(candidate.rel.clone(), record);
                        summary.files_unchanged += 1;
                    }
                    Prepared::Skipped(reason) => {
                        if was_known {
                            self.delete_docs(&candidate.rel);
                            lock(&self.files).remove(&candidate.rel);
                            changes += 1;
                        }
                        summary.files = summary.files.saturating_sub(1);
                        *summary.skipped.entry(reason).or_default() += 1;
                    }
                }
                done += 1;
                progress.file_done(done, total, &candidate.path);
                if changes >= FILES_PER_BUILD_COMMIT {
                    if let Err(error) = self.commit() {
                        result = Err(error);
                        break;
                    }
                    changes = 0;
                }
                if cancel.is_cancelled() {
                    break;
                }
            }
            // Workers blocked on a full channel stop once the receiver is gone.
            drop(receiver);
        });
        summary.cancelled = cancel.is_cancelled();
        let committed = self.commit();
        if bulk {
            self.replace_writer(self.config.writer_threads, self.config.writer_memory_mb);
        }
        result?;
        committed?;
        if bulk && !summary.cancelled {
            self.compact()?;
        }
        // Other processes read the disk: a whole build is there when it ends.
        self.flush_to_disk();
        summary.seconds = started.elapsed().as_secs_f64();
        progress.end(&summary);
        Ok(summary)
    }

    /// Merges all segments into one and waits for it: each search term is looked up once per
    /// segment, so a freshly built index (one segment per indexing thread and commit) searches
    /// several times slower than a merged one. Later small updates make small segments again,
    /// which tantivy's merge policy merges among themselves.
    pub fn compact(&self) -> Result<(), IndexError> {
        let started = Instant::now();
        // The writer is locked only to start the merge: updates go on while it runs.
        let (ids, merging, current) = {
            let mut slot = lock(&self.writer);
            let Some(writer) = slot.writer.as_mut() else {
                return Ok(());
            };
            let current = self.current();
            let ids = current.index.searchable_segment_ids()?;
            if ids.len() < 2 {
                return Ok(());
            }
            let merging = writer.merge(&ids);
            (ids, merging, current)
        };
        merging.wait()?;
        current.reader.reload()?;
        // The merged-away files are deleted from the disk before compaction is called done.
        self.flush_to_disk();
        tracing::info!(
            segments = ids.len(),
            seconds = started.elapsed().as_secs_f64(),
            "index segments merged"
        );
        Ok(())
    }

    /// Replaces the writer with one of `threads` threads and `memory_mb` megabytes. tantivy's lock
    /// is let go in between, but the writer lease is kept, so no other augur takes the index over
    /// meanwhile.
    pub(super) fn replace_writer(&self, threads: usize, memory_mb: usize) {
        let mut slot = lock(&self.writer);
        if slot.writer.is_none() {
            return;
        }
        slot.writer = None;
        checkpoint("replace_writer:dropped");
        let writer = new_writer(&self.current().index, threads, memory_mb);
        match writer {
            Ok(Some(writer)) => slot.writer = Some(writer),
            Ok(None) => {
                // Only a process that does not know the lease (an older augur) can have taken it.
                tracing::warn!(
                    dir = %self.dir.display(),
                    "another process took tantivy's index writer lock while this augur held the \
                     writer lease; the index is now read-only"
                );
                slot.lease = None;
            }
            Err(error) => {
                tracing::warn!(%error, "cannot reopen the index writer; the index is now read-only");
                slot.lease = None;
            }
        }
    }
}
