//! Opening an index directory and the writer lease: versioning, corruption recovery, reading
//! another process's index or indexing into memory, and taking the writer over once the lease is
//! free.

use std::collections::HashMap;
use std::fs::{File, OpenOptions, TryLockError};
use std::path::Path;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use lru::LruCache;
use rustc_hash::FxHashMap;
use tantivy::collector::DocSetCollector;
use tantivy::directory::error::LockError;
use tantivy::directory::{Directory, INDEX_WRITER_LOCK};
use tantivy::query::TermQuery;
use tantivy::schema::{IndexRecordOption, Value};
use tantivy::{
    Index, IndexReader, IndexSettings, IndexWriter, ReloadPolicy, TantivyDocument, TantivyError,
    Term,
};

use crate::index::cache::QueryCache;
use crate::index::config::IndexConfig;
use crate::index::directory::CacheDirectory;
use crate::index::schema::{FILE, Fields, FileRecord, SCHEMA_VERSION};
use crate::index::tokenizer::{CODE_TOKENIZER, CodeTokenizer};
use crate::index::walk::Exclusions;
use crate::syntax::ChunkOptions;

use super::{
    Batch, Current, IndexError, LEASE_FILE, RECENT_TREES, Slot, VERSION_FILE, WorkspaceIndex,
    checkpoint, index_dir_for, lock,
};

/// The writer lease of an index directory: an exclusive lock on its [`LEASE_FILE`], let go when
/// the file is closed.
#[derive(Debug)]
pub(super) struct WriterLease {
    _file: File,
}

impl WriterLease {
    /// Takes the lease of `dir`, or `None` if another process (or another index of this one)
    /// holds it.
    pub(super) fn try_acquire(dir: &Path) -> Result<Option<WriterLease>, IndexError> {
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
            last_update_ms: AtomicU64::new(written_ms(dir)),
        })
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
    pub(super) fn publish(&self, slot: &mut MutexGuard<'_, Slot>, opening: Opening) {
        *self
            .current
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Arc::new(opening.current);
        *lock(&self.files) = opening.files;
        *lock(&self.batch) = Batch::default();
        checkpoint("publish:before_writer");
        **slot = opening.slot;
    }
}

/// An index opened or created, with its reader and file records.
pub(super) struct Opened {
    index: Index,
    reader: IndexReader,
    files: FxHashMap<String, FileRecord>,
    /// The directory of an index on disk.
    directory: Option<CacheDirectory>,
}

impl Opened {
    /// A new, empty index, ready to be read.
    pub(super) fn empty(
        index: Index,
        directory: Option<CacheDirectory>,
    ) -> Result<Opened, IndexError> {
        register_tokenizer(&index);
        let reader = open_reader(&index)?;
        Ok(Opened {
            index,
            reader,
            files: FxHashMap::default(),
            directory,
        })
    }
}

/// What opening an index directory gives: the index to use, its file records, and its writer if
/// this process writes it.
pub(super) struct Opening {
    current: Current,
    files: FxHashMap<String, FileRecord>,
    slot: Slot,
}

impl Opening {
    pub(super) fn new(opened: Opened, in_memory: bool, slot: Slot) -> Opening {
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
    pub(super) fn read_only(opened: Opened) -> Opening {
        Opening::new(opened, false, Slot::default())
    }

    /// An empty index in memory, with its writer.
    pub(super) fn in_memory(fields: &Fields, config: &IndexConfig) -> Result<Opening, IndexError> {
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
pub(super) fn open_with_lease(
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
pub(super) fn writer_lock_is_busy(dir: &Path) -> bool {
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
pub(super) fn open_without_lease(
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
pub(super) fn new_writer(
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

pub(super) fn register_tokenizer(index: &Index) {
    index
        .tokenizers()
        .register(CODE_TOKENIZER, CodeTokenizer::default());
}

pub(super) fn open_reader(index: &Index) -> tantivy::Result<IndexReader> {
    index
        .reader_builder()
        .reload_policy(ReloadPolicy::OnCommitWithDelay)
        .try_into()
}

/// Opens an existing index; `Ok(None)` if there is none, `Err(reason)` if it must be rebuilt.
pub(super) fn open_existing(dir: &Path, fields: &Fields) -> Result<Option<Opened>, String> {
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
pub(super) fn read_schema_version(dir: &Path) -> Option<u64> {
    std::fs::read_to_string(dir.join(VERSION_FILE))
        .ok()
        .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
        .and_then(|value| value.get("schema_version").and_then(|v| v.as_u64()))
}

/// Creates a new empty index in `dir`, the version marker first (so that a process opening the
/// directory meanwhile never takes the new index for one without a marker). If another process
/// (one that does not know the writer lease) created the index meanwhile, opens that one.
pub(super) fn create_or_open(dir: &Path, fields: &Fields) -> Result<Opened, IndexError> {
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
pub(super) fn create_in_memory(fields: &Fields) -> Result<Opened, IndexError> {
    Opened::empty(Index::create_in_ram(fields.schema.clone()), None)
}

/// Deletes the contents of an index directory, whose writer lease the caller holds, unless a
/// process holds tantivy's writer lock (an older augur, which does not know the lease); returns
/// whether it did. tantivy's lock is held while deleting, and the lock files themselves (tantivy's
/// and the lease) are kept: other processes may have them open, and a lock file replaced by a new
/// one would no longer exclude anybody.
pub(super) fn clear_unless_in_use(dir: &Path) -> Result<bool, IndexError> {
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
pub(super) fn is_lock_file(name: &str) -> bool {
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
pub(super) fn load_files(
    reader: &IndexReader,
    fields: &Fields,
) -> tantivy::Result<FxHashMap<String, FileRecord>> {
    let searcher = reader.searcher();
    let query = TermQuery::new(
        Term::from_field_text(fields.doc_type, FILE),
        IndexRecordOption::Basic,
    );
    let mut files = FxHashMap::default();
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

/// When the index in `dir` was last written (its `meta.json`), in milliseconds since the Unix
/// epoch; 0 when there is none.
fn written_ms(dir: &Path) -> u64 {
    std::fs::metadata(dir.join("meta.json"))
        .and_then(|meta| meta.modified())
        .ok()
        .and_then(|time| time.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_millis() as u64)
}

#[cfg(test)]
mod tests {
    //! Interleavings of two indexes of one directory at the points where the writer changes hands,
    //! set up deterministically with [`hooks`](crate::index::store::hooks).

    use std::cell::{Cell, RefCell};
    use std::path::{Path, PathBuf};
    use std::rc::Rc;
    use std::sync::Arc;

    use crate::index::WorkspaceIndex;
    use crate::index::store::hooks;
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
