//! The on-disk index of one workspace root: opening (with versioning, corruption recovery and the
//! writer lease), full and incremental indexing, and batched commits.
//!
//! # Several processes on one index
//!
//! The process that writes an index directory holds its writer lease: an exclusive lock on the
//! file `augur-writer.lock` in that directory (an operating-system file lock, let go when the file
//! is closed, also when the process dies). A process takes the lease before it deletes, rebuilds or
//! opens a writer, and keeps it until the index is dropped, also while it replaces tantivy's writer
//! around a bulk build. A process without the lease never deletes anything: it reads the index (or,
//! if the directory holds no index it can read, indexes into memory), and its committer thread
//! polls the lease; once the lease is free, it takes it and reopens the directory from scratch as
//! its writer (a fresh tantivy directory, so that the files the previous writer made are garbage
//! collected too). tantivy's own writer lock stays underneath: an augur from before the lease holds
//! only that one, and its index is neither deleted nor written meanwhile.
//!
//! The parts: `open` (opening and the writer lease), `build` (the bulk build), `update`
//! (incremental updates) and `commit` (batched commits and the committer thread).

mod build;
mod commit;
mod open;
mod update;

use open::WriterLease;
pub use open::delete_index_dir;

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::Instant;

use lru::LruCache;
use rustc_hash::FxHashMap;
use tantivy::{Index, IndexReader, IndexWriter, TantivyError};

use super::cache::QueryCache;
use super::config::IndexConfig;
use super::directory::CacheDirectory;
use super::schema::{Fields, FileRecord};
use super::walk::{Exclusions, SkipReason, relative_path, relative_str};
use crate::syntax::{ChunkOptions, Language};
use crate::workspace::starts_with_root;

/// The file in an index directory that records the schema version.
const VERSION_FILE: &str = "augur-index.json";

/// The file in an index directory whose exclusive lock is the writer lease (see the module
/// documentation).
const LEASE_FILE: &str = "augur-writer.lock";

/// The environment variable that overrides where indexes are kept.
pub const CACHE_DIR_ENV: &str = "AUGUR_CACHE_DIR";

/// A run with at least this many files to parse uses the bulk writer settings.
const BULK_FILES: usize = 500;

/// During a full indexing, a commit every this many files keeps work done if the process dies.
const FILES_PER_BUILD_COMMIT: usize = 5000;

/// Errors of the index.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    /// tantivy failed.
    #[error("index: {0}")]
    Tantivy(#[from] TantivyError),
    /// The file system failed.
    #[error("index I/O: {0}")]
    Io(#[from] std::io::Error),
    /// A path outside the workspace root.
    #[error("{0} is outside the workspace root")]
    OutsideRoot(PathBuf),
}

/// What an incremental update did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpdateOutcome {
    /// The file's documents were replaced (searchable after the next commit).
    Updated,
    /// The file's documents were removed.
    Removed,
    /// Nothing to do: same content as indexed.
    Unchanged,
    /// An older version than one already applied; ignored (the newest wins).
    Stale,
    /// The file is not indexed (excluded, too large, binary, unsupported language).
    Skipped(SkipReason),
    /// Another process holds the index writer; this one only reads.
    ReadOnly,
}

/// Commits not yet made.
#[derive(Debug, Default)]
struct Batch {
    pending: usize,
    since: Option<Instant>,
}

/// The index of one workspace root.
pub struct WorkspaceIndex {
    /// The root, canonicalised.
    pub(crate) root: PathBuf,
    /// The root as given (maybe through a symbolic link): hits are reported under it, as the
    /// editor knows the files.
    pub(crate) given_root: PathBuf,
    dir: PathBuf,
    pub(crate) config: IndexConfig,
    pub(crate) fields: Fields,
    /// The tantivy index in use, with its reader and query cache: replaced as a whole when this
    /// process takes the writer over or moves from memory to the disk.
    current: RwLock<Arc<Current>>,
    /// The writer and the lease. Whoever needs it together with `current` or `files` locks it
    /// first.
    writer: Mutex<Slot>,
    exclusions: Exclusions,
    chunk_options: ChunkOptions,
    files: Mutex<FxHashMap<String, FileRecord>>,
    versions: Mutex<HashMap<String, i64>>,
    /// The last parse of files re-indexed one at a time, so that the next update of the same
    /// file (typing, saving) parses only what changed.
    recent_trees: Mutex<LruCache<String, RecentTree>>,
    batch: Mutex<Batch>,
    /// The number of builds running: the index in use is not replaced under them.
    builds: AtomicUsize,
    /// When the index last changed, in milliseconds since the Unix epoch (0: not known): the
    /// last commit of this process, else the time the index on disk was last written.
    last_update_ms: AtomicU64,
}

/// How many files' last parse [`WorkspaceIndex::update_text`] and friends keep.
const RECENT_TREES: std::num::NonZeroUsize = std::num::NonZeroUsize::new(8).unwrap();

/// Files larger than this are parsed whole on every update (their tree and text are not kept).
const MAX_RECENT_TREE_BYTES: usize = 512 * 1024;

/// A file's text when it was last indexed, and its syntax tree.
struct RecentTree {
    language: Language,
    text: String,
    tree: tree_sitter::Tree,
}

/// The tantivy index a [`WorkspaceIndex`] uses, and what reads it.
pub(crate) struct Current {
    index: Index,
    pub(crate) reader: IndexReader,
    /// Document frequencies and stored documents of the reader's current searcher generation
    /// (generations are numbered per reader, so the cache goes with it).
    pub(crate) cache: QueryCache,
    /// The directory of an index on disk, whose writes go to the disk behind the commits.
    directory: Option<CacheDirectory>,
    /// Whether the index lives in memory because the directory holds none this process can read
    /// and another process holds the writer lease.
    in_memory: bool,
}

/// The writer of a [`WorkspaceIndex`], and the lease that entitles it to write the directory.
#[derive(Default)]
struct Slot {
    /// `None` while another process writes the index.
    writer: Option<IndexWriter>,
    /// Held while this process writes the index on disk (never for an index in memory); declared
    /// after the writer, so that the writer lets tantivy's lock go first when both are dropped.
    lease: Option<WriterLease>,
}

/// Counts a running build while it lives.
struct Building<'a>(&'a AtomicUsize);

impl Drop for Building<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl std::fmt::Debug for WorkspaceIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkspaceIndex")
            .field("root", &self.root)
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

/// Locks a mutex, recovering the data if a thread panicked while holding it.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Runs the hook a unit test set for the point `name` of opening, taking over or replacing the
/// writer, to interleave another index there; nothing outside unit tests.
fn checkpoint(name: &'static str) {
    #[cfg(test)]
    hooks::run(name);
    #[cfg(not(test))]
    let _ = name;
}

/// The directory that holds the indexes: `AUGUR_CACHE_DIR`, else `config.cache_dir`, else the user
/// cache directory, else the system temporary directory.
pub fn cache_dir(config: &IndexConfig) -> PathBuf {
    if let Some(dir) = std::env::var_os(CACHE_DIR_ENV).filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    if let Some(dir) = &config.cache_dir {
        return dir.clone();
    }
    directories::ProjectDirs::from("", "", "augur")
        .map(|dirs| dirs.cache_dir().to_path_buf())
        .unwrap_or_else(|| std::env::temp_dir().join("augur"))
}

/// The index directory of a workspace root: `<cache>/indexes/<root name>-<hash of the path>`.
pub fn index_dir_for(root: &Path, config: &IndexConfig) -> PathBuf {
    let root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    let hash = blake3::hash(root.to_string_lossy().as_bytes()).to_hex();
    let name: String = root
        .file_name()
        .map(|n| {
            n.to_string_lossy()
                .chars()
                .map(|c| {
                    if c.is_alphanumeric() || c == '-' || c == '_' {
                        c
                    } else {
                        '_'
                    }
                })
                .collect()
        })
        .unwrap_or_else(|| "root".to_string());
    cache_dir(config)
        .join("indexes")
        .join(format!("{name}-{}", &hash.as_str()[..16]))
}

impl WorkspaceIndex {
    /// The tantivy index in use, its reader and query cache.
    pub(crate) fn current(&self) -> Arc<Current> {
        self.current
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// The workspace root (canonicalised).
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The workspace root as given when opening (absolute); hit paths are under it.
    pub fn given_root(&self) -> &Path {
        &self.given_root
    }

    /// Whether `path` is under the root (in either spelling).
    pub fn contains_path(&self, path: &Path) -> bool {
        starts_with_root(path, &self.root) || starts_with_root(path, &self.given_root)
    }

    /// The path relative to the root (`/`-separated) of a file under the root, and the file's
    /// path under the canonical root. Accepts the root's given spelling, its canonical one, and
    /// paths through symbolic links (also for files that no longer exist).
    pub(crate) fn resolve(&self, path: &Path) -> Option<(String, PathBuf)> {
        for root in [&self.root, &self.given_root] {
            if let Some(rel) = relative_path(root, path) {
                let local = self.root.join(&rel);
                return Some((rel, local));
            }
        }
        let canonical = path.canonicalize().ok().or_else(|| {
            let parent = path.parent()?.canonicalize().ok()?;
            Some(parent.join(path.file_name()?))
        })?;
        let rel = relative_path(&self.root, &canonical)?;
        Some((rel, canonical))
    }

    /// Refuses a file (`local`, under the root) whose real path leaves the root through a
    /// symbolic link, and forgets what was indexed under its path: the index never follows a
    /// link out of the workspace, whatever event names the file.
    fn require_really_inside(&self, path: &Path, local: &Path) -> Result<(), IndexError> {
        if crate::workspace::real_path(local).is_ok_and(|real| real.starts_with(&self.root)) {
            return Ok(());
        }
        self.remove_path(local)?;
        Err(IndexError::OutsideRoot(path.to_path_buf()))
    }

    /// The directory of the index.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Whether another process holds the writer, so this one only reads.
    pub fn is_read_only(&self) -> bool {
        lock(&self.writer).writer.is_none()
    }

    /// Whether this index lives in memory: the directory holds no index this process can read
    /// (one being rebuilt, or one of another schema version) and another process holds the writer
    /// lease. [`take_writer`](Self::take_writer) moves it to the disk once it can.
    pub fn is_in_memory(&self) -> bool {
        self.current().in_memory
    }

    /// Whether a file must never be indexed nor sent to a model (secret patterns and the config's
    /// `exclude` globs). Use it to refuse completions in such files too.
    pub fn is_excluded(&self, path: &Path) -> bool {
        self.exclusions.is_excluded(&self.exclusion_key(path))
    }

    /// The path the exclusions are asked about for `path`: relative to the root as
    /// [`resolve`](Self::resolve) finds it, else `path` itself. Borrowed from `path` when it is
    /// spelled plainly under the root (checked per retrieved hit, per keystroke).
    pub(crate) fn exclusion_key<'a>(&self, path: &'a Path) -> Cow<'a, Path> {
        let rel = [&self.root, &self.given_root]
            .into_iter()
            .find_map(|root| relative_str(root, path));
        match rel {
            Some(Cow::Borrowed(rel)) => Cow::Borrowed(Path::new(rel)),
            Some(Cow::Owned(rel)) => Cow::Owned(PathBuf::from(rel)),
            None => match self.resolve(path) {
                Some((rel, _)) => Cow::Owned(PathBuf::from(rel)),
                None => Cow::Borrowed(path),
            },
        }
    }

    /// The secret patterns and `exclude` globs of the configuration the index was opened with.
    pub(crate) fn exclusions(&self) -> &Exclusions {
        &self.exclusions
    }

    /// The number of files in the index.
    pub fn file_count(&self) -> usize {
        lock(&self.files).len()
    }

    /// When the index last changed, in milliseconds since the Unix epoch, if known.
    pub fn last_update_ms(&self) -> Option<u64> {
        match self.last_update_ms.load(Ordering::Relaxed) {
            0 => None,
            ms => Some(ms),
        }
    }

    /// Notes that the index changed now.
    pub(crate) fn note_update(&self) {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        self.last_update_ms.store(now, Ordering::Relaxed);
    }

    /// Whether a file (relative path, `/`-separated) is in the index.
    pub fn contains_file(&self, rel: &str) -> bool {
        lock(&self.files).contains_key(rel)
    }
}

impl Drop for WorkspaceIndex {
    fn drop(&mut self) {
        self.persist();
    }
}

#[cfg(test)]
pub(crate) mod hooks {
    //! Hooks of the unit tests at the [`checkpoint`](super::checkpoint)s, per thread.

    use std::cell::RefCell;

    type Hook = (&'static str, Box<dyn FnOnce()>);

    thread_local! {
        static HOOK: RefCell<Option<Hook>> = const { RefCell::new(None) };
    }

    /// Runs `hook` the next time this thread reaches the point `name`.
    pub(crate) fn set(name: &'static str, hook: impl FnOnce() + 'static) {
        HOOK.with(|h| *h.borrow_mut() = Some((name, Box::new(hook))));
    }

    /// Whether the hook set has not run yet.
    pub(crate) fn pending() -> bool {
        HOOK.with(|h| h.borrow().is_some())
    }

    pub(super) fn run(name: &'static str) {
        let hook = HOOK.with(|h| {
            let mut h = h.borrow_mut();
            if h.as_ref().is_some_and(|(at, _)| *at == name) {
                h.take()
            } else {
                None
            }
        });
        if let Some((_, hook)) = hook {
            hook();
        }
    }
}
