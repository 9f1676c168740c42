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

use std::collections::{HashMap, HashSet};
use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::sync_channel;
use std::sync::{Arc, Mutex, MutexGuard, RwLock, Weak};
use std::time::{Duration, Instant};

use lru::LruCache;
use tantivy::collector::DocSetCollector;
use tantivy::directory::error::LockError;
use tantivy::directory::{Directory, INDEX_WRITER_LOCK};
use tantivy::query::TermQuery;
use tantivy::schema::{IndexRecordOption, Value};
use tantivy::{
    Index, IndexReader, IndexSettings, IndexWriter, ReloadPolicy, TantivyDocument, TantivyError,
    Term,
};
use tokio_util::sync::CancellationToken;

use super::cache::QueryCache;
use super::config::IndexConfig;
use super::directory::CacheDirectory;
use super::progress::{IndexProgress, IndexSummary};
use super::schema::{FILE, Fields, FileRecord, SCHEMA_VERSION};
use super::tokenizer::{CODE_TOKENIZER, CodeTokenizer};
use super::walk::{
    Candidate, Exclusions, SkipReason, is_ignored, mtime_of, read_text, relative_path, walk,
};
use crate::syntax::{ChunkOptions, Language, outline, outline_of_tree, parse, reparse_changed};

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
    files: Mutex<HashMap<String, FileRecord>>,
    versions: Mutex<HashMap<String, i64>>,
    /// The last parse of files re-indexed one at a time, so that the next update of the same
    /// file (typing, saving) parses only what changed.
    recent_trees: Mutex<LruCache<String, RecentTree>>,
    batch: Mutex<Batch>,
    /// The number of builds running: the index in use is not replaced under them.
    builds: AtomicUsize,
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

/// The writer lease of an index directory: an exclusive lock on its [`LEASE_FILE`], let go when
/// the file is closed.
#[derive(Debug)]
struct WriterLease {
    _file: File,
}

impl WriterLease {
    /// Takes the lease of `dir`, or `None` if another process (or another index of this one)
    /// holds it.
    fn try_acquire(dir: &Path) -> Result<Option<WriterLease>, IndexError> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(dir.join(LEASE_FILE))?;
        match file.try_lock() {
            Ok(()) => Ok(Some(WriterLease { _file: file })),
            Err(TryLockError::WouldBlock) => Ok(None),
            Err(TryLockError::Error(error)) => Err(error.into()),
        }
    }
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
    /// Opens (or creates) the index of `root` in the cache directory.
    pub fn open(root: &Path, config: &IndexConfig) -> Result<WorkspaceIndex, IndexError> {
        WorkspaceIndex::open_in(root, &index_dir_for(root, config), config)
    }

    /// Opens (or creates) the index of `root` in `dir`. If no other process holds the writer
    /// lease, this one takes it and writes the index; an index of another schema version or one
    /// that cannot be read is deleted and rebuilt first (logged). If another process holds the
    /// lease, nothing is deleted: a readable index is opened read-only (searches work and see that
    /// process's commits, updates return [`UpdateOutcome::ReadOnly`]), anything else (an index
    /// being rebuilt, or one of another schema version) leaves this index in memory; either way
    /// [`take_writer`](Self::take_writer) moves to the disk once it can.
    pub fn open_in(
        root: &Path,
        dir: &Path,
        config: &IndexConfig,
    ) -> Result<WorkspaceIndex, IndexError> {
        let given_root = std::path::absolute(root).unwrap_or_else(|_| root.to_path_buf());
        let root = root.canonicalize().unwrap_or_else(|_| given_root.clone());
        std::fs::create_dir_all(dir)?;
        let fields = Fields::new();
        let opening = match WriterLease::try_acquire(dir)? {
            Some(lease) => match open_with_lease(dir, &fields, config, lease, false)? {
                Some(opening) => opening,
                None => Opening::in_memory(&fields, config)?,
            },
            None => open_without_lease(dir, &fields, config)?,
        };
        Ok(WorkspaceIndex {
            root,
            given_root,
            dir: dir.to_path_buf(),
            exclusions: Exclusions::new(config),
            chunk_options: ChunkOptions {
                max_bytes: config.chunk_max_bytes.max(64),
                ..ChunkOptions::default()
            },
            config: config.clone(),
            fields,
            current: RwLock::new(Arc::new(opening.current)),
            writer: Mutex::new(opening.slot),
            files: Mutex::new(opening.files),
            versions: Mutex::new(HashMap::new()),
            recent_trees: Mutex::new(LruCache::new(RECENT_TREES)),
            batch: Mutex::new(Batch::default()),
            builds: AtomicUsize::new(0),
        })
    }

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
        path.starts_with(&self.root) || path.starts_with(&self.given_root)
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

    /// Moves a read-only or in-memory index to the disk as its writer once the writer lease is
    /// free: reopens the directory from scratch (rebuilding an index of another schema version or
    /// a corrupt one), loads its file records, and only then lets updates write; returns `true`,
    /// and the caller runs [`build`](Self::build) to catch up with the files changed meanwhile.
    /// Returns `false` if this index already writes the disk, if another process holds the lease,
    /// or while a build of this index runs. An index in memory whose directory meanwhile holds an
    /// index this process can read (another augur has rebuilt it) switches to reading that one,
    /// read-only, and returns `false` too.
    pub fn take_writer(&self) -> Result<bool, IndexError> {
        let mut slot = lock(&self.writer);
        let in_memory = self.is_in_memory();
        if (slot.writer.is_some() && !in_memory) || self.builds.load(Ordering::SeqCst) > 0 {
            return Ok(false);
        }
        let Some(lease) = WriterLease::try_acquire(&self.dir)? else {
            if in_memory && let Ok(Some(opened)) = open_existing(&self.dir, &self.fields) {
                self.publish(&mut slot, Opening::read_only(opened));
                tracing::info!(
                    dir = %self.dir.display(),
                    "another augur has made the workspace index; reading it instead of the one in memory"
                );
            }
            return Ok(false);
        };
        if writer_lock_is_busy(&self.dir) {
            // An older augur, which does not know the lease, writes the directory: nothing to
            // open until it lets go.
            return Ok(false);
        }
        let Some(opening) = open_with_lease(&self.dir, &self.fields, &self.config, lease, true)?
        else {
            return Ok(false);
        };
        if opening.slot.writer.is_none() {
            return Ok(false);
        }
        self.publish(&mut slot, opening);
        tracing::info!(dir = %self.dir.display(), "took over the index writer");
        Ok(true)
    }

    /// Makes a freshly opened index the one in use: its reader and file records first, its writer
    /// last, under the writer's lock, so that an update sees either the state before or the whole
    /// new one.
    fn publish(&self, slot: &mut MutexGuard<'_, Slot>, opening: Opening) {
        *self
            .current
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Arc::new(opening.current);
        *lock(&self.files) = opening.files;
        *lock(&self.batch) = Batch::default();
        checkpoint("publish:before_writer");
        **slot = opening.slot;
    }

    /// Whether a file must never be indexed nor sent to a model (secret patterns and the config's
    /// `exclude` globs). Use it to refuse completions in such files too.
    pub fn is_excluded(&self, path: &Path) -> bool {
        let rel = self.resolve(path).map(|(rel, _)| rel);
        self.exclusions
            .is_excluded(rel.as_deref().map(Path::new).unwrap_or(path))
    }

    /// The number of files in the index.
    pub fn file_count(&self) -> usize {
        lock(&self.files).len()
    }

    /// Whether a file (relative path, `/`-separated) is in the index.
    pub fn contains_file(&self, rel: &str) -> bool {
        lock(&self.files).contains_key(rel)
    }

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
    fn replace_writer(&self, threads: usize, memory_mb: usize) {
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

    /// Reads, hashes and parses one file for a full indexing.
    fn prepare(&self, candidate: &Candidate, known: Option<&FileRecord>) -> Prepared {
        let text = match read_text(&candidate.path, self.config.max_file_bytes) {
            Ok(text) => text,
            Err(reason) => return Prepared::Skipped(reason),
        };
        if crate::secrets::contains_secret(&text) {
            return Prepared::Skipped(SkipReason::SecretContent);
        }
        let record = FileRecord {
            rel: candidate.rel.clone(),
            hash: blake3::hash(text.as_bytes()).to_hex().to_string(),
            mtime: candidate.mtime,
            size: candidate.size,
        };
        if known.is_some_and(|k| k.hash == record.hash) {
            return Prepared::Unchanged(record);
        }
        self.documents(record, candidate.language, &text)
    }

    fn documents(&self, record: FileRecord, language: Language, text: &str) -> Prepared {
        let outline = outline(language, text, &self.chunk_options);
        self.prepared(record, language, text, &outline)
    }

    /// Like [`documents`](Self::documents), parsing incrementally from the file's last parse
    /// when it is kept, and keeping this one.
    fn documents_reusing_tree(
        &self,
        record: FileRecord,
        language: Language,
        text: &str,
    ) -> Prepared {
        let previous = lock(&self.recent_trees).pop(&record.rel);
        if text.len() > MAX_RECENT_TREE_BYTES {
            return self.documents(record, language, text);
        }
        let tree = match previous {
            Some(previous) if previous.language == language => {
                reparse_changed(language, &previous.text, &previous.tree, text)
            }
            _ => parse(language, text),
        };
        let Some(tree) = tree else {
            return self.documents(record, language, text);
        };
        let outline = outline_of_tree(language, &tree, text, &self.chunk_options);
        lock(&self.recent_trees).put(
            record.rel.clone(),
            RecentTree {
                language,
                text: text.to_string(),
                tree,
            },
        );
        self.prepared(record, language, text, &outline)
    }

    fn prepared(
        &self,
        record: FileRecord,
        language: Language,
        text: &str,
        outline: &crate::syntax::Outline,
    ) -> Prepared {
        let docs = self.fields.documents(&record, language, text, outline);
        Prepared::Documents {
            record,
            docs,
            symbols: outline.symbols.len(),
            chunks: outline.chunks.len(),
            bytes: text.len() as u64,
            lines: text.lines().count() as u64,
        }
    }

    fn path_term(&self, rel: &str) -> Term {
        Term::from_field_text(self.fields.path, rel)
    }

    fn delete_docs(&self, rel: &str) {
        if let Some(writer) = lock(&self.writer).writer.as_ref() {
            writer.delete_term(self.path_term(rel));
        }
    }

    fn replace_docs(
        &self,
        rel: &str,
        delete_old: bool,
        docs: Vec<TantivyDocument>,
    ) -> Result<(), IndexError> {
        let slot = lock(&self.writer);
        let Some(writer) = slot.writer.as_ref() else {
            return Ok(());
        };
        if delete_old {
            writer.delete_term(self.path_term(rel));
        }
        for doc in docs {
            writer.add_document(doc)?;
        }
        Ok(())
    }

    /// Re-indexes a file from text the editor holds (a debounced `didChange`). `version` is the
    /// document version: an update older than one already applied to this path is ignored, so the
    /// newest wins whatever order updates arrive in. The change is committed with the next batch
    /// (see [`commit_if_due`](Self::commit_if_due)).
    pub fn update_text(
        &self,
        path: &Path,
        text: &str,
        version: Option<i64>,
    ) -> Result<UpdateOutcome, IndexError> {
        let (rel, local) = self
            .resolve(path)
            .ok_or_else(|| IndexError::OutsideRoot(path.to_path_buf()))?;
        self.require_really_inside(path, &local)?;
        let path = local.as_path();
        if let Some(version) = version {
            let mut versions = lock(&self.versions);
            let last = versions.entry(rel.clone()).or_insert(version);
            if version < *last {
                return Ok(UpdateOutcome::Stale);
            }
            *last = version;
        }
        let mtime = std::fs::metadata(path).map(|m| mtime_of(&m)).unwrap_or(0);
        self.update_with(&rel, path, text, mtime)
    }

    fn update_with(
        &self,
        rel: &str,
        path: &Path,
        text: &str,
        mtime: u64,
    ) -> Result<UpdateOutcome, IndexError> {
        if self.is_read_only() {
            return Ok(UpdateOutcome::ReadOnly);
        }
        let skip = if self.exclusions.is_excluded(Path::new(rel)) {
            Some(SkipReason::Secret)
        } else if text.len() as u64 > self.config.max_file_bytes {
            Some(SkipReason::TooLarge)
        } else if Language::from_path(path).is_none() {
            Some(SkipReason::Unsupported)
        } else if super::admit::holds_secret(text) {
            Some(SkipReason::SecretContent)
        } else {
            None
        };
        if let Some(reason) = skip {
            if lock(&self.files).remove(rel).is_some() {
                self.delete_docs(rel);
                self.note_change()?;
            }
            return Ok(UpdateOutcome::Skipped(reason));
        }
        let Some(language) = Language::from_path(path) else {
            return Ok(UpdateOutcome::Skipped(SkipReason::Unsupported));
        };
        let hash = blake3::hash(text.as_bytes()).to_hex().to_string();
        let known = lock(&self.files).get(rel).cloned();
        if known.as_ref().is_some_and(|k| k.hash == hash) {
            return Ok(UpdateOutcome::Unchanged);
        }
        let record = FileRecord {
            rel: rel.to_string(),
            hash,
            mtime,
            size: text.len() as u64,
        };
        if let Prepared::Documents { record, docs, .. } =
            self.documents_reusing_tree(record, language, text)
        {
            self.replace_docs(rel, known.is_some(), docs)?;
            lock(&self.files).insert(rel.to_string(), record);
            self.note_change()?;
        }
        Ok(UpdateOutcome::Updated)
    }

    /// Re-indexes a file from disk (`didSave`, a watched-file change or creation). A file that is
    /// gone is removed; a directory is walked.
    pub fn update_path(&self, path: &Path) -> Result<UpdateOutcome, IndexError> {
        let (rel, local) = self
            .resolve(path)
            .ok_or_else(|| IndexError::OutsideRoot(path.to_path_buf()))?;
        self.require_really_inside(path, &local)?;
        let path = local.as_path();
        let metadata = match std::fs::metadata(path) {
            Ok(metadata) => metadata,
            Err(_) => return self.remove_path(path),
        };
        if metadata.is_dir() {
            let mut outcome = UpdateOutcome::Unchanged;
            let (candidates, _) = walk(path, &self.config, &self.exclusions);
            for candidate in candidates {
                if self.update_path(&candidate.path)? == UpdateOutcome::Updated {
                    outcome = UpdateOutcome::Updated;
                }
            }
            return Ok(outcome);
        }
        if self.exclusions.is_excluded(Path::new(&rel)) {
            return self.update_with(&rel, path, "", 0);
        }
        if !self.contains_file(&rel) && is_ignored(&self.root, path, &self.config) {
            return Ok(UpdateOutcome::Skipped(SkipReason::Ignored));
        }
        match read_text(path, self.config.max_file_bytes) {
            Ok(text) => {
                // The disk is now the newest version: forget editor versions of this path.
                lock(&self.versions).remove(&rel);
                self.update_with(&rel, path, &text, mtime_of(&metadata))
            }
            Err(reason) => {
                if lock(&self.files).remove(&rel).is_some() {
                    self.delete_docs(&rel);
                    self.note_change()?;
                }
                Ok(UpdateOutcome::Skipped(reason))
            }
        }
    }

    /// Removes a file, or every file under a directory, from the index (a deletion, or the old
    /// side of a rename).
    pub fn remove_path(&self, path: &Path) -> Result<UpdateOutcome, IndexError> {
        if self.is_read_only() {
            return Ok(UpdateOutcome::ReadOnly);
        }
        let (rel, _) = self
            .resolve(path)
            .ok_or_else(|| IndexError::OutsideRoot(path.to_path_buf()))?;
        let prefix = format!("{rel}/");
        let removed: Vec<String> = {
            let mut files = lock(&self.files);
            let matching: Vec<String> = files
                .keys()
                .filter(|k| **k == rel || k.starts_with(&prefix))
                .cloned()
                .collect();
            let mut trees = lock(&self.recent_trees);
            for key in &matching {
                files.remove(key);
                trees.pop(key);
            }
            matching
        };
        lock(&self.versions).retain(|k, _| *k != rel && !k.starts_with(&prefix));
        if removed.is_empty() {
            return Ok(UpdateOutcome::Unchanged);
        }
        for key in &removed {
            self.delete_docs(key);
        }
        self.note_change()?;
        Ok(UpdateOutcome::Removed)
    }

    /// A rename: removes `from` and indexes `to` from disk.
    pub fn rename_path(&self, from: &Path, to: &Path) -> Result<UpdateOutcome, IndexError> {
        self.remove_path(from)?;
        self.update_path(to)
    }

    /// Records an uncommitted change and commits if the batch is due.
    fn note_change(&self) -> Result<(), IndexError> {
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
    fn catch_up_if_writable(&self, cancel: &CancellationToken) {
        match self.take_writer() {
            Ok(true) => match self.build(&super::progress::NoProgress, cancel) {
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

impl Drop for WorkspaceIndex {
    fn drop(&mut self) {
        self.persist();
    }
}

/// The outcome of reading and parsing one file.
enum Prepared {
    Documents {
        record: FileRecord,
        docs: Vec<TantivyDocument>,
        symbols: usize,
        chunks: usize,
        bytes: u64,
        lines: u64,
    },
    Unchanged(FileRecord),
    Skipped(SkipReason),
}

/// An index opened or created, with its reader and file records.
struct Opened {
    index: Index,
    reader: IndexReader,
    files: HashMap<String, FileRecord>,
    /// The directory of an index on disk.
    directory: Option<CacheDirectory>,
}

impl Opened {
    /// A new, empty index, ready to be read.
    fn empty(index: Index, directory: Option<CacheDirectory>) -> Result<Opened, IndexError> {
        register_tokenizer(&index);
        let reader = open_reader(&index)?;
        Ok(Opened {
            index,
            reader,
            files: HashMap::new(),
            directory,
        })
    }
}

/// What opening an index directory gives: the index to use, its file records, and its writer if
/// this process writes it.
struct Opening {
    current: Current,
    files: HashMap<String, FileRecord>,
    slot: Slot,
}

impl Opening {
    fn new(opened: Opened, in_memory: bool, slot: Slot) -> Opening {
        Opening {
            current: Current {
                index: opened.index,
                reader: opened.reader,
                cache: QueryCache::default(),
                directory: opened.directory,
                in_memory,
            },
            files: opened.files,
            slot,
        }
    }

    /// An index on disk that another process writes.
    fn read_only(opened: Opened) -> Opening {
        Opening::new(opened, false, Slot::default())
    }

    /// An empty index in memory, with its writer.
    fn in_memory(fields: &Fields, config: &IndexConfig) -> Result<Opening, IndexError> {
        let opened = create_in_memory(fields)?;
        let writer = new_writer(
            &opened.index,
            config.writer_threads,
            config.writer_memory_mb,
        )?;
        Ok(Opening::new(
            opened,
            true,
            Slot {
                writer,
                lease: None,
            },
        ))
    }
}

/// Opens `dir` holding its writer lease: an index of another schema version or a corrupt one is
/// deleted and rebuilt first, all under the lease, which goes with the writer. If a process that
/// does not know the lease (an older augur) holds tantivy's writer lock, the lease is let go
/// (logged) and the index is opened read-only, or not at all (`None`) if it had to be rebuilt.
/// `polling` (a takeover attempt, repeated every tick) logs that at debug level only.
fn open_with_lease(
    dir: &Path,
    fields: &Fields,
    config: &IndexConfig,
    lease: WriterLease,
    polling: bool,
) -> Result<Option<Opening>, IndexError> {
    let opened = match open_existing(dir, fields) {
        Ok(Some(opened)) => opened,
        Ok(None) => create_or_open(dir, fields)?,
        Err(reason) => {
            if !clear_unless_in_use(dir)? {
                if polling {
                    tracing::debug!(dir = %dir.display(), %reason, "an older augur writes the workspace index");
                } else {
                    tracing::warn!(
                        dir = %dir.display(),
                        %reason,
                        "cannot rebuild the workspace index while an older augur writes it; \
                         indexing into memory until it can"
                    );
                }
                return Ok(None);
            }
            tracing::warn!(dir = %dir.display(), %reason, "rebuilding the workspace index");
            checkpoint("open_with_lease:cleared");
            create_or_open(dir, fields)?
        }
    };
    let writer = new_writer(
        &opened.index,
        config.writer_threads,
        config.writer_memory_mb,
    )?;
    if writer.is_none() {
        if polling {
            tracing::debug!(dir = %dir.display(), "an older augur holds tantivy's index writer lock");
        } else {
            tracing::warn!(
                dir = %dir.display(),
                "this augur holds the writer lease, but another process (an older augur?) holds \
                 tantivy's index writer lock; opening the index read-only"
            );
        }
    }
    let lease = writer.as_ref().map(|_| lease);
    Ok(Some(Opening::new(opened, false, Slot { writer, lease })))
}

/// Whether a process holds tantivy's writer lock of `dir` (tried and let go at once).
fn writer_lock_is_busy(dir: &Path) -> bool {
    CacheDirectory::open(dir).is_ok_and(|directory| {
        matches!(
            directory.acquire_lock(&INDEX_WRITER_LOCK),
            Err(LockError::LockBusy)
        )
    })
}

/// Opens `dir` while another process holds its writer lease, without deleting anything: an index
/// this process can read is opened read-only; anything else (no index yet, or one being rebuilt,
/// or one of another schema version) leaves this process an index in memory.
fn open_without_lease(
    dir: &Path,
    fields: &Fields,
    config: &IndexConfig,
) -> Result<Opening, IndexError> {
    match open_existing(dir, fields) {
        Ok(Some(opened)) => {
            tracing::info!(dir = %dir.display(), "another augur writes the workspace index; opening it read-only");
            Ok(Opening::read_only(opened))
        }
        Ok(None) => {
            tracing::info!(
                dir = %dir.display(),
                "another augur is creating the workspace index; indexing into memory until it can be read"
            );
            Opening::in_memory(fields, config)
        }
        Err(reason) => {
            tracing::warn!(
                dir = %dir.display(),
                %reason,
                "cannot rebuild the workspace index while another augur writes it; indexing into \
                 memory until it can be read or rebuilt"
            );
            Opening::in_memory(fields, config)
        }
    }
}

/// A writer, or `None` if another process holds the writer lock.
fn new_writer(
    index: &Index,
    threads: usize,
    memory_mb: usize,
) -> Result<Option<IndexWriter>, IndexError> {
    let threads = threads.clamp(1, 8);
    let budget = memory_mb.max(15 * threads) * 1024 * 1024;
    match index.writer_with_num_threads(threads, budget) {
        Ok(writer) => Ok(Some(writer)),
        Err(TantivyError::LockFailure(LockError::LockBusy, _)) => Ok(None),
        Err(error) => Err(error.into()),
    }
}

fn register_tokenizer(index: &Index) {
    index
        .tokenizers()
        .register(CODE_TOKENIZER, CodeTokenizer::default());
}

fn open_reader(index: &Index) -> tantivy::Result<IndexReader> {
    index
        .reader_builder()
        .reload_policy(ReloadPolicy::OnCommitWithDelay)
        .try_into()
}

/// Opens an existing index; `Ok(None)` if there is none, `Err(reason)` if it must be rebuilt.
fn open_existing(dir: &Path, fields: &Fields) -> Result<Option<Opened>, String> {
    let marker = dir.join(VERSION_FILE);
    let has_meta = dir.join("meta.json").exists();
    if !marker.exists() {
        return if has_meta {
            Err("no schema version marker".into())
        } else {
            Ok(None)
        };
    }
    let version = read_schema_version(dir);
    if version != Some(u64::from(SCHEMA_VERSION)) {
        return Err(format!(
            "schema version {version:?}, expected {SCHEMA_VERSION}"
        ));
    }
    if !has_meta {
        return Ok(None);
    }
    let directory = CacheDirectory::open(dir).map_err(|e| format!("cannot open: {e}"))?;
    let index = Index::open(directory.clone()).map_err(|e| format!("cannot open: {e}"))?;
    if index.schema() != fields.schema {
        return Err("the schema differs".into());
    }
    register_tokenizer(&index);
    let reader = open_reader(&index).map_err(|e| format!("cannot read: {e}"))?;
    let files = load_files(&reader, fields).map_err(|e| format!("cannot read files: {e}"))?;
    Ok(Some(Opened {
        index,
        reader,
        files,
        directory: Some(directory),
    }))
}

/// The schema version recorded in an index directory, if any.
fn read_schema_version(dir: &Path) -> Option<u64> {
    std::fs::read_to_string(dir.join(VERSION_FILE))
        .ok()
        .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
        .and_then(|value| value.get("schema_version").and_then(|v| v.as_u64()))
}

/// Creates a new empty index in `dir`, the version marker first (so that a process opening the
/// directory meanwhile never takes the new index for one without a marker). If another process
/// (one that does not know the writer lease) created the index meanwhile, opens that one.
fn create_or_open(dir: &Path, fields: &Fields) -> Result<Opened, IndexError> {
    std::fs::create_dir_all(dir)?;
    std::fs::write(
        dir.join(VERSION_FILE),
        format!("{{\"schema_version\": {SCHEMA_VERSION}}}\n"),
    )?;
    let directory =
        CacheDirectory::open(dir).map_err(|e| TantivyError::SystemError(e.to_string()))?;
    // Compressing the document store on the indexing thread spares a thread per segment: a
    // one-file update commits a tiny segment, where starting and joining that thread costs more
    // than the compression.
    let settings = IndexSettings {
        docstore_compress_dedicated_thread: false,
        ..IndexSettings::default()
    };
    match Index::create(directory.clone(), fields.schema.clone(), settings) {
        Ok(index) => Opened::empty(index, Some(directory)),
        Err(TantivyError::IndexAlreadyExists) => match open_existing(dir, fields) {
            Ok(Some(opened)) => Ok(opened),
            Ok(None) => Err(TantivyError::IndexAlreadyExists.into()),
            Err(reason) => Err(TantivyError::SystemError(reason).into()),
        },
        Err(error) => Err(error.into()),
    }
}

/// Creates an empty index in memory, for a process that must not touch the one on disk.
fn create_in_memory(fields: &Fields) -> Result<Opened, IndexError> {
    Opened::empty(Index::create_in_ram(fields.schema.clone()), None)
}

/// Deletes the contents of an index directory, whose writer lease the caller holds, unless a
/// process holds tantivy's writer lock (an older augur, which does not know the lease); returns
/// whether it did. tantivy's lock is held while deleting, and the lock files themselves (tantivy's
/// and the lease) are kept: other processes may have them open, and a lock file replaced by a new
/// one would no longer exclude anybody.
fn clear_unless_in_use(dir: &Path) -> Result<bool, IndexError> {
    let directory =
        CacheDirectory::open(dir).map_err(|e| TantivyError::SystemError(e.to_string()))?;
    let _held = match directory.acquire_lock(&INDEX_WRITER_LOCK) {
        Ok(held) => held,
        Err(LockError::LockBusy) => return Ok(false),
        Err(LockError::IoError(error)) => return Err(IndexError::Io(std::io::Error::other(error))),
    };
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        if is_lock_file(&name.to_string_lossy()) {
            continue;
        }
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            std::fs::remove_dir_all(&path)?;
        } else {
            std::fs::remove_file(&path)?;
        }
    }
    Ok(true)
}

/// Whether a file name is the writer lease or one of tantivy's lock files.
fn is_lock_file(name: &str) -> bool {
    name == LEASE_FILE || (name.starts_with(".tantivy-") && name.ends_with(".lock"))
}

/// Deletes the index in `dir` (`augur index --rebuild`) unless another process writes it (holds
/// its writer lease, or tantivy's writer lock); returns whether it did (`true` also when there was
/// nothing to delete). The lock files stay.
pub fn delete_index_dir(dir: &Path) -> Result<bool, IndexError> {
    if !dir.exists() {
        return Ok(true);
    }
    let Some(_lease) = WriterLease::try_acquire(dir)? else {
        return Ok(false);
    };
    clear_unless_in_use(dir)
}

/// Reads the file records of the index.
fn load_files(
    reader: &IndexReader,
    fields: &Fields,
) -> tantivy::Result<HashMap<String, FileRecord>> {
    let searcher = reader.searcher();
    let query = TermQuery::new(
        Term::from_field_text(fields.doc_type, FILE),
        IndexRecordOption::Basic,
    );
    let mut files = HashMap::new();
    for address in searcher.search(&query, &DocSetCollector)? {
        let doc: TantivyDocument = searcher.doc(address)?;
        let text = |field| {
            doc.get_first(field)
                .and_then(|v| v.as_str())
                .map(str::to_string)
        };
        let number = |field| doc.get_first(field).and_then(|v| v.as_u64()).unwrap_or(0);
        if let (Some(rel), Some(hash)) = (text(fields.path), text(fields.hash)) {
            files.insert(
                rel.clone(),
                FileRecord {
                    rel,
                    hash,
                    mtime: number(fields.mtime),
                    size: number(fields.size),
                },
            );
        }
    }
    Ok(files)
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

#[cfg(test)]
mod tests {
    //! Interleavings of two indexes of one directory at the points where the writer changes hands,
    //! set up deterministically with [`hooks`](super::hooks).

    use std::cell::{Cell, RefCell};
    use std::path::{Path, PathBuf};
    use std::rc::Rc;
    use std::sync::Arc;

    use super::{WorkspaceIndex, hooks};
    use crate::index::{IndexConfig, NoProgress, SearchQuery, UpdateOutcome};

    /// A workspace of a few files and a separate index directory, both temporary.
    struct Workspace {
        root: tempfile::TempDir,
        cache: tempfile::TempDir,
    }

    impl Workspace {
        fn new() -> Workspace {
            let ws = Workspace {
                root: tempfile::tempdir().unwrap(),
                cache: tempfile::tempdir().unwrap(),
            };
            ws.write("a.rs", "pub fn alpha_function() {}\n");
            ws.write("b.rs", "pub fn beta_function() {}\n");
            ws.write("c.py", "def gamma_function():\n    pass\n");
            ws
        }

        fn path(&self, rel: &str) -> PathBuf {
            self.root.path().join(rel)
        }

        fn write(&self, rel: &str, text: &str) {
            std::fs::write(self.path(rel), text).unwrap();
        }

        fn dir(&self) -> PathBuf {
            self.cache.path().join("index")
        }

        fn open(&self) -> WorkspaceIndex {
            open(self.root.path(), &self.dir())
        }
    }

    fn open(root: &Path, dir: &Path) -> WorkspaceIndex {
        WorkspaceIndex::open_in(root, dir, &IndexConfig::default()).unwrap()
    }

    fn build(index: &WorkspaceIndex) -> crate::index::IndexSummary {
        index.build(&NoProgress, &Default::default()).unwrap()
    }

    /// How many symbols of exactly this name are found.
    fn symbols_named(index: &WorkspaceIndex, name: &str) -> usize {
        let query = SearchQuery {
            text: name.into(),
            limit: 10,
            ..Default::default()
        };
        let hits = index.search(&query).unwrap();
        hits.iter()
            .filter(|h| h.kind.is_some() && h.name == name)
            .count()
    }

    #[test]
    fn a_rebuild_holds_the_lease_until_its_writer_exists() {
        let ws = Workspace::new();
        drop(ws.open());
        std::fs::write(ws.dir().join("meta.json"), "{ this is not json").unwrap();
        // A second index opens the directory right after the first has cleared it.
        let second = Rc::new(RefCell::new(None));
        let (root, dir, slot) = (ws.root.path().to_owned(), ws.dir(), second.clone());
        hooks::set("open_with_lease:cleared", move || {
            *slot.borrow_mut() = Some(open(&root, &dir));
        });
        let first = ws.open();
        assert!(!hooks::pending(), "the first never rebuilt the index");
        let second = second.take().unwrap();
        assert!(!first.is_read_only() && !first.is_in_memory());
        // Nothing to read yet, and nothing it may delete: the second indexes into memory.
        assert!(second.is_in_memory());
        assert_eq!(build(&first).files_indexed, 3);
        // Once the index is there, the second reads it instead.
        assert!(!second.take_writer().unwrap());
        assert!(!second.is_in_memory() && second.is_read_only());
        assert_eq!(symbols_named(&second, "alpha_function"), 1);
        // What the first wrote survives both.
        drop(second);
        drop(first);
        let summary = build(&ws.open());
        assert_eq!((summary.files_indexed, summary.files_unchanged), (0, 3));
    }

    #[test]
    fn replacing_the_writer_keeps_the_lease() {
        let ws = Workspace::new();
        let first = ws.open();
        build(&first);
        let second = Arc::new(ws.open());
        assert!(second.is_read_only());
        // The second tries to take over while the first has no tantivy writer.
        let took = Rc::new(Cell::new(None));
        let (peer, seen) = (second.clone(), took.clone());
        hooks::set("replace_writer:dropped", move || {
            seen.set(Some(peer.take_writer().unwrap()));
        });
        first.replace_writer(2, 64);
        assert_eq!(took.get(), Some(false));
        assert!(!first.is_read_only());
        assert!(second.is_read_only());
        first
            .update_text(&ws.path("a.rs"), "pub fn still_the_writer() {}\n", Some(1))
            .unwrap();
        first.commit().unwrap();
        assert_eq!(symbols_named(&first, "still_the_writer"), 1);
    }

    #[test]
    fn a_takeover_lets_updates_in_only_with_the_new_records() {
        let ws = Workspace::new();
        let first = ws.open();
        build(&first);
        let second = Arc::new(ws.open());
        // The first indexes a file the second has not seen, then exits.
        ws.write("late.rs", "pub fn late_function() {}\n");
        assert_eq!(
            first.update_path(&ws.path("late.rs")).unwrap(),
            UpdateOutcome::Updated
        );
        drop(first);
        assert!(!second.contains_file("late.rs"));
        // When the records are in place, updates cannot write yet.
        let observed = Rc::new(Cell::new(None));
        let (peer, seen) = (second.clone(), observed.clone());
        hooks::set("publish:before_writer", move || {
            let writable = matches!(peer.writer.try_lock(), Ok(slot) if slot.writer.is_some());
            seen.set(Some((peer.contains_file("late.rs"), writable)));
        });
        assert!(second.take_writer().unwrap());
        assert_eq!(observed.get(), Some((true, false)));
        // An update of the same text finds its record: no second copy of its documents.
        assert_eq!(
            second
                .update_text(&ws.path("late.rs"), "pub fn late_function() {}\n", Some(1))
                .unwrap(),
            UpdateOutcome::Unchanged
        );
        second.commit().unwrap();
        assert_eq!(symbols_named(&second, "late_function"), 1);
    }
}
