//! Progress reporting and the summary of an indexing run, as plain core types (the LSP layer maps
//! them to `$/progress`, the CLI to a progress bar).
//!
//! ```
//! use augur::index::progress::IndexProgress;
//! use std::path::Path;
//! use std::sync::atomic::{AtomicUsize, Ordering};
//!
//! let seen = AtomicUsize::new(0);
//! let progress = |done: usize, _total: usize, _path: &Path| seen.store(done, Ordering::Relaxed);
//! progress.file_done(3, 10, Path::new("src/a.rs"));
//! assert_eq!(seen.load(Ordering::Relaxed), 3);
//! ```

use std::path::Path;

use serde::Serialize;

use super::walk::{SkipCounts, SkipReason};

/// Receives progress of an indexing run. All methods have empty defaults; the callbacks come from
/// the thread that runs the indexing.
pub trait IndexProgress: Sync {
    /// Indexing starts: `total` files need to be read (unchanged files are not counted).
    fn begin(&self, total: usize) {
        let _ = total;
    }

    /// One more file is done: `done` of `total`, the last being `path`.
    fn file_done(&self, done: usize, total: usize, path: &Path) {
        let _ = (done, total, path);
    }

    /// Indexing ended (finished or cancelled).
    fn end(&self, summary: &IndexSummary) {
        let _ = summary;
    }
}

/// A progress receiver that ignores everything.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl IndexProgress for NoProgress {}

impl<F: Fn(usize, usize, &Path) + Sync> IndexProgress for F {
    fn file_done(&self, done: usize, total: usize, path: &Path) {
        self(done, total, path)
    }
}

/// What an indexing run did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct IndexSummary {
    /// Files seen by the walk and indexable (changed or not).
    pub files: usize,
    /// Files (re-)parsed and written.
    pub files_indexed: usize,
    /// Files whose hash or mtime had not changed.
    pub files_unchanged: usize,
    /// Files gone from the workspace and removed from the index.
    pub files_removed: usize,
    /// Symbols written.
    pub symbols: usize,
    /// Chunks written.
    pub chunks: usize,
    /// Bytes of the files written.
    pub bytes: u64,
    /// Lines of the files written.
    pub lines: u64,
    /// Wall-clock seconds.
    pub seconds: f64,
    /// Files skipped, by reason.
    pub skipped: SkipCounts,
    /// Whether the run was cancelled (what was done is kept; the rest is indexed next time).
    pub cancelled: bool,
    /// Whether the index was read-only (another process holds the writer) so nothing was written.
    pub read_only: bool,
}

impl IndexSummary {
    /// Throughput in megabytes (10^6 bytes) per second of the files written.
    pub fn megabytes_per_second(&self) -> f64 {
        if self.seconds > 0.0 {
            self.bytes as f64 / 1e6 / self.seconds
        } else {
            0.0
        }
    }

    /// The total number of skipped files.
    pub fn skipped_total(&self) -> usize {
        self.skipped.values().sum()
    }

    /// A one-line human summary (`1234 files (56 changed), 789 symbols, ...`).
    pub fn describe(&self) -> String {
        let mut line = format!(
            "{} files ({} indexed, {} unchanged, {} removed), {} symbols, {} chunks, {:.1} MB in {:.2} s ({:.1} MB/s)",
            self.files,
            self.files_indexed,
            self.files_unchanged,
            self.files_removed,
            self.symbols,
            self.chunks,
            self.bytes as f64 / 1e6,
            self.seconds,
            self.megabytes_per_second()
        );
        if !self.skipped.is_empty() {
            let reasons: Vec<String> = self
                .skipped
                .iter()
                .map(|(reason, n)| format!("{n} {}", SkipReason::describe(*reason)))
                .collect();
            line.push_str(&format!(
                "; skipped {}: {}",
                self.skipped_total(),
                reasons.join(", ")
            ));
        }
        if self.cancelled {
            line.push_str("; cancelled");
        }
        if self.read_only {
            line.push_str("; read-only (another augur holds the index)");
        }
        line
    }
}
