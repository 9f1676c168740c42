//! Configuration of the workspace index (`[index]`).
//!
//! ```
//! use augur::index::config::IndexConfig;
//!
//! let config: IndexConfig = toml::from_str("max_file_bytes = 2048\nexclude = [\"*.gen.go\"]").unwrap();
//! assert_eq!(config.max_file_bytes, 2048);
//! assert!(config.enabled);
//! ```

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// What the indexer walks and what it leaves out, where the index lives, and how it commits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct IndexConfig {
    /// Whether the workspace is indexed at all.
    pub enabled: bool,
    /// Files larger than this many bytes are skipped.
    pub max_file_bytes: u64,
    /// Extra glob patterns of files never indexed nor sent to a model (secrets, generated code).
    /// They are matched against the file name and against the path relative to the workspace root,
    /// in addition to the built-in secret patterns (`.env*`, `*.pem`, `*.key`, `id_rsa*`, ...).
    pub exclude: Vec<String>,
    /// The directory holding the indexes (one per workspace root). Unset: the user cache
    /// directory (`~/.cache/augur/indexes` on Linux). The `AUGUR_CACHE_DIR` environment variable
    /// takes precedence over both.
    #[schemars(extend("x-augur-user-only" = true))]
    pub cache_dir: Option<PathBuf>,
    /// Whether hidden files and directories (names starting with a dot) are indexed.
    pub include_hidden: bool,
    /// Threads that parse files during a full indexing; 0 means one per core.
    pub threads: usize,
    /// Threads of the tantivy writer for incremental updates (tokenising and writing segments;
    /// parsing has its own threads). Each commit joins and restarts them, so one commits fastest.
    pub writer_threads: usize,
    /// The memory budget of that writer in megabytes (at least 15 per writer thread).
    pub writer_memory_mb: usize,
    /// Threads of the tantivy writer while a run indexes many files (500 or more).
    pub bulk_writer_threads: usize,
    /// The memory budget of that writer in megabytes (at least 15 per writer thread).
    pub bulk_writer_memory_mb: usize,
    /// How long the LSP layer waits after the last `didChange` of a document before re-indexing
    /// it, in milliseconds.
    pub debounce_ms: u64,
    /// The longest time an update waits before it is committed and becomes searchable, in
    /// milliseconds. Updates in between are batched into one commit.
    pub commit_interval_ms: u64,
    /// The number of updated files that forces a commit before `commit_interval_ms` has passed.
    pub commit_batch_files: usize,
    /// The size cap of a retrieval chunk in bytes.
    pub chunk_max_bytes: usize,
}

impl Default for IndexConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            max_file_bytes: 1024 * 1024,
            exclude: Vec::new(),
            cache_dir: None,
            include_hidden: false,
            threads: 0,
            writer_threads: 1,
            writer_memory_mb: 24,
            bulk_writer_threads: 2,
            bulk_writer_memory_mb: 64,
            debounce_ms: 500,
            commit_interval_ms: 1000,
            commit_batch_files: 100,
            chunk_max_bytes: 1536,
        }
    }
}

impl IndexConfig {
    /// The number of parsing threads: `threads`, or the number of cores when it is 0.
    pub fn effective_threads(&self) -> usize {
        if self.threads > 0 {
            self.threads
        } else {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_fields_are_rejected() {
        assert!(toml::from_str::<IndexConfig>("nope = 1").is_err());
        let config: IndexConfig =
            toml::from_str("cache_dir = \"/tmp/x\"\ncommit_interval_ms = 5").unwrap();
        assert_eq!(config.cache_dir, Some(PathBuf::from("/tmp/x")));
        assert_eq!(config.commit_interval_ms, 5);
        assert_eq!(config.max_file_bytes, IndexConfig::default().max_file_bytes);
    }
}
