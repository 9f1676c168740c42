//! A tantivy directory for a rebuildable cache: memory-mapped files like tantivy's
//! [`MmapDirectory`], without the `fsync` calls, and with small files written behind.
//!
//! Every commit of an [`MmapDirectory`] syncs each new segment file, the metadata and the
//! directory; on a busy disk that costs tens of milliseconds per commit, which incremental
//! updates cannot afford. The index is a cache: a process crash loses nothing (the page cache
//! survives it), and after an operating-system crash a damaged index fails to open and is
//! rebuilt. Metadata is still replaced atomically (written to a temporary file, then renamed).
//!
//! Creating a file is itself slow on some file systems (ext4 without a journal scans past every
//! inode freed in the last 30 seconds, and a bulk build frees thousands), and a one-file commit
//! creates about ten. So small files (new segment files under [`SPILL_BYTES`], the metadata and
//! deletions) are written *behind*: the commit puts them in memory, where this process reads them
//! at once, and one background thread applies them to the disk in the order they were made. The
//! disk therefore always holds a state tantivy once committed: a process that dies with work in
//! the queue leaves the previous commit, whose files the index records as they were, and the next
//! start re-indexes what changed. Dropping the last handle of a directory waits for its queue;
//! [`CacheDirectory::flush`] waits on demand.
//!
//! ```no_run
//! # use augur::index::directory::CacheDirectory;
//! let directory = CacheDirectory::open(std::path::Path::new("/tmp/index")).unwrap();
//! let index = tantivy::Index::open(directory.clone()).unwrap();
//! // ... commit ...
//! directory.flush(); // everything committed so far is on disk
//! # drop(index);
//! ```

use std::collections::{HashMap, VecDeque};
use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;

use tantivy::directory::error::{
    DeleteError, LockError, OpenDirectoryError, OpenReadError, OpenWriteError,
};
use tantivy::directory::{
    AntiCallToken, Directory, DirectoryLock, FileHandle, INDEX_WRITER_LOCK, Lock, MmapDirectory,
    OwnedBytes, TerminatingWrite, WatchCallback, WatchHandle, WritePtr,
};

/// A file that grows past this size while being written goes straight to the disk.
pub const SPILL_BYTES: usize = 1 << 20;

/// Writers wait while more than this many bytes wait for the disk.
const MAX_QUEUED_BYTES: usize = 64 << 20;

/// A memory-mapped directory that does not `fsync` and writes small files behind.
#[derive(Debug, Clone)]
pub struct CacheDirectory {
    inner: MmapDirectory,
    behind: Arc<Behind>,
}

impl CacheDirectory {
    /// Opens an existing directory.
    pub fn open(root: &Path) -> Result<CacheDirectory, OpenDirectoryError> {
        Ok(CacheDirectory {
            inner: MmapDirectory::open(root)?,
            behind: Arc::new(Behind {
                shared: Arc::new(Shared {
                    root: root.to_path_buf(),
                    state: Mutex::new(State::default()),
                    changed: Condvar::new(),
                }),
                thread: Mutex::new(None),
            }),
        })
    }

    /// Waits until every change made so far is on the disk (or the disk refused one).
    pub fn flush(&self) {
        self.behind.shared.wait_for_disk();
    }

    /// The number of changes that wait for the disk.
    pub fn queued(&self) -> usize {
        self.behind.shared.lock().queue.len()
    }
}

/// What a queued change does to the disk.
enum Operation {
    /// Creates a new file with these bytes.
    Create(OwnedBytes),
    /// Replaces a file atomically (a temporary file, then a rename).
    Replace(OwnedBytes),
    /// Deletes a file.
    Delete,
}

struct Queued {
    seq: u64,
    path: PathBuf,
    operation: Operation,
}

impl Queued {
    fn bytes(&self) -> usize {
        match &self.operation {
            Operation::Create(bytes) | Operation::Replace(bytes) => bytes.len(),
            Operation::Delete => 0,
        }
    }
}

/// The queue and what this process sees of the files in it.
#[derive(Default)]
struct State {
    /// The newest queued change of each path: `Some` written, `None` deleted.
    overlay: HashMap<PathBuf, (u64, Option<OwnedBytes>)>,
    queue: VecDeque<Queued>,
    /// The sequence number of the newest change queued.
    queued_seq: u64,
    /// Every change up to this sequence number is done.
    done_seq: u64,
    queued_bytes: usize,
    /// The disk refused a change: later ones stay in memory only, so that the disk keeps the
    /// last commit that was written whole.
    failed: bool,
    closed: bool,
}

/// The part the background thread shares.
struct Shared {
    root: PathBuf,
    state: Mutex<State>,
    changed: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn wait<'a>(&self, guard: MutexGuard<'a, State>) -> MutexGuard<'a, State> {
        self.changed
            .wait(guard)
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn wait_for_disk(&self) {
        let mut state = self.lock();
        while state.done_seq < state.queued_seq && !state.failed {
            state = self.wait(state);
        }
    }

    /// The background thread: applies queued changes in order until closed and drained.
    fn run(&self) {
        loop {
            let next = {
                let mut state = self.lock();
                loop {
                    if let Some(next) = state.queue.pop_front() {
                        break Some((next, state.failed));
                    }
                    if state.closed {
                        break None;
                    }
                    state = self.wait(state);
                }
            };
            let Some((next, failed)) = next else {
                return;
            };
            let outcome = if failed { Err(None) } else { self.apply(&next) };
            let mut state = self.lock();
            match outcome {
                // Done, or a replacement that a newer one in the queue makes moot.
                Ok(()) => {
                    if state
                        .overlay
                        .get(&next.path)
                        .is_some_and(|(seq, _)| *seq == next.seq)
                    {
                        state.overlay.remove(&next.path);
                    }
                }
                Err(error) => {
                    if let Some(error) = error {
                        tracing::warn!(
                            %error,
                            path = %self.root.join(&next.path).display(),
                            "cannot write the workspace index to the disk; later changes stay in memory"
                        );
                    }
                    state.failed = true;
                }
            }
            state.done_seq = next.seq;
            state.queued_bytes -= next.bytes();
            self.changed.notify_all();
        }
    }

    fn apply(&self, queued: &Queued) -> Result<(), Option<io::Error>> {
        let target = self.root.join(&queued.path);
        match &queued.operation {
            Operation::Create(bytes) => {
                let mut file = OpenOptions::new()
                    .write(true)
                    .create(true)
                    .truncate(true)
                    .open(&target)?;
                file.write_all(bytes)?;
                Ok(())
            }
            Operation::Replace(bytes) => {
                let newer = self
                    .lock()
                    .overlay
                    .get(&queued.path)
                    .is_some_and(|(seq, _)| *seq != queued.seq);
                if newer {
                    // A newer replacement follows in the queue; the disk skips this one.
                    return Ok(());
                }
                Ok(replace_file(&self.root, &target, bytes)?)
            }
            Operation::Delete => match std::fs::remove_file(&target) {
                Err(error) if error.kind() != io::ErrorKind::NotFound => Err(Some(error)),
                _ => Ok(()),
            },
        }
    }
}

/// The queue's owner: dropping the last directory handle drains the queue.
struct Behind {
    shared: Arc<Shared>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl std::fmt::Debug for Behind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Behind")
            .field("root", &self.shared.root)
            .finish_non_exhaustive()
    }
}

impl Behind {
    /// Queues a change, seen at once by this process; waits while the queue is full.
    fn push(&self, path: &Path, operation: Operation) {
        let bytes = match &operation {
            Operation::Create(bytes) | Operation::Replace(bytes) => Some(bytes.clone()),
            Operation::Delete => None,
        };
        {
            let mut state = self.shared.lock();
            while state.queued_bytes > MAX_QUEUED_BYTES && !state.failed {
                state = self.shared.wait(state);
            }
            state.queued_seq += 1;
            let seq = state.queued_seq;
            state.overlay.insert(path.to_path_buf(), (seq, bytes));
            let queued = Queued {
                seq,
                path: path.to_path_buf(),
                operation,
            };
            state.queued_bytes += queued.bytes();
            state.queue.push_back(queued);
        }
        self.shared.changed.notify_all();
        self.start();
    }

    /// Starts the background thread on first use.
    fn start(&self) {
        let mut thread = self.thread.lock().unwrap_or_else(PoisonError::into_inner);
        if thread.is_none() {
            let shared = Arc::clone(&self.shared);
            match std::thread::Builder::new()
                .name("augur-index-disk".into())
                .spawn(move || shared.run())
            {
                Ok(handle) => *thread = Some(handle),
                Err(error) => {
                    tracing::warn!(%error, "cannot start the index's disk writer; the index stays in memory");
                    self.shared.lock().failed = true;
                    self.shared.changed.notify_all();
                }
            }
        }
    }

    /// What the queue says of a path: `Some(Some(bytes))` written, `Some(None)` deleted, `None`
    /// if the disk is up to date for it.
    fn lookup(&self, path: &Path) -> Option<Option<OwnedBytes>> {
        self.shared
            .lock()
            .overlay
            .get(path)
            .map(|(_, bytes)| bytes.clone())
    }
}

impl Drop for Behind {
    fn drop(&mut self) {
        self.shared.lock().closed = true;
        self.shared.changed.notify_all();
        let thread = self
            .thread
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(thread) = thread {
            let _ = thread.join();
        }
    }
}

/// The writer lock, let go only once the queue is on the disk.
struct FlushBeforeRelease {
    shared: Arc<Shared>,
    _held: DirectoryLock,
}

impl Drop for FlushBeforeRelease {
    fn drop(&mut self) {
        self.shared.wait_for_disk();
    }
}

/// Writes `bytes` to a temporary file beside `target`, then renames it over `target`.
fn replace_file(root: &Path, target: &Path, bytes: &[u8]) -> io::Result<()> {
    let n = TEMPORARY.fetch_add(1, Ordering::Relaxed);
    let temporary = root.join(format!(".augur-{}-{n}.tmp", std::process::id()));
    let result =
        std::fs::write(&temporary, bytes).and_then(|()| std::fs::rename(&temporary, target));
    if result.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    result
}

/// A new file: kept in memory and queued when it ends small, written to the disk directly once it
/// grows past [`SPILL_BYTES`].
struct BehindFile {
    behind: Arc<Behind>,
    root: PathBuf,
    path: PathBuf,
    buffer: Vec<u8>,
    file: Option<File>,
}

impl BehindFile {
    fn spill(&mut self) -> io::Result<()> {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(self.root.join(&self.path))?;
        file.write_all(&self.buffer)?;
        self.buffer = Vec::new();
        self.file = Some(file);
        Ok(())
    }
}

impl Write for BehindFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if let Some(file) = &mut self.file {
            return file.write(buf);
        }
        self.buffer.extend_from_slice(buf);
        if self.buffer.len() > SPILL_BYTES {
            self.spill()?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.file {
            Some(file) => file.flush(),
            None => Ok(()),
        }
    }
}

impl TerminatingWrite for BehindFile {
    fn terminate_ref(&mut self, _: AntiCallToken) -> io::Result<()> {
        if let Some(file) = &mut self.file {
            return file.flush();
        }
        let bytes = OwnedBytes::new(std::mem::take(&mut self.buffer));
        self.behind.push(&self.path, Operation::Create(bytes));
        Ok(())
    }
}

/// Makes temporary file names unique within the process.
static TEMPORARY: AtomicU64 = AtomicU64::new(0);

impl Directory for CacheDirectory {
    fn get_file_handle(&self, path: &Path) -> Result<Arc<dyn FileHandle>, OpenReadError> {
        match self.behind.lookup(path) {
            Some(Some(bytes)) => Ok(Arc::new(bytes)),
            Some(None) => Err(OpenReadError::FileDoesNotExist(path.to_path_buf())),
            None => self.inner.get_file_handle(path),
        }
    }

    fn delete(&self, path: &Path) -> Result<(), DeleteError> {
        let exists = match self.behind.lookup(path) {
            Some(bytes) => bytes.is_some(),
            None => self.inner.exists(path).unwrap_or(false),
        };
        if !exists {
            return Err(DeleteError::FileDoesNotExist(path.to_path_buf()));
        }
        self.behind.push(path, Operation::Delete);
        Ok(())
    }

    fn exists(&self, path: &Path) -> Result<bool, OpenReadError> {
        match self.behind.lookup(path) {
            Some(bytes) => Ok(bytes.is_some()),
            None => self.inner.exists(path),
        }
    }

    fn open_write(&self, path: &Path) -> Result<WritePtr, OpenWriteError> {
        if self.exists(path).unwrap_or(false) {
            return Err(OpenWriteError::FileAlreadyExists(path.to_path_buf()));
        }
        Ok(BufWriter::new(Box::new(BehindFile {
            behind: Arc::clone(&self.behind),
            root: self.behind.shared.root.clone(),
            path: path.to_path_buf(),
            buffer: Vec::new(),
            file: None,
        })))
    }

    fn atomic_read(&self, path: &Path) -> Result<Vec<u8>, OpenReadError> {
        match self.behind.lookup(path) {
            Some(Some(bytes)) => Ok(bytes.as_slice().to_vec()),
            Some(None) => Err(OpenReadError::FileDoesNotExist(path.to_path_buf())),
            None => self.inner.atomic_read(path),
        }
    }

    fn atomic_write(&self, path: &Path, data: &[u8]) -> io::Result<()> {
        self.behind
            .push(path, Operation::Replace(OwnedBytes::new(data.to_vec())));
        Ok(())
    }

    fn sync_directory(&self) -> io::Result<()> {
        Ok(())
    }

    fn acquire_lock(&self, lock: &Lock) -> Result<DirectoryLock, LockError> {
        let held = self.inner.acquire_lock(lock)?;
        if lock.filepath != INDEX_WRITER_LOCK.filepath {
            return Ok(held);
        }
        // The next writer, perhaps another process, reads the disk: the queue reaches it before
        // the writer lock is let go.
        Ok(DirectoryLock::from(Box::new(FlushBeforeRelease {
            shared: Arc::clone(&self.behind.shared),
            _held: held,
        })))
    }

    fn watch(&self, watch_callback: WatchCallback) -> tantivy::Result<WatchHandle> {
        self.inner.watch(watch_callback)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(directory: &CacheDirectory, path: &str, bytes: &[u8]) {
        let mut writer = directory.open_write(Path::new(path)).unwrap();
        writer.write_all(bytes).unwrap();
        writer.terminate().unwrap();
    }

    #[test]
    fn small_files_are_readable_at_once_and_reach_the_disk_on_flush() {
        let dir = tempfile::tempdir().unwrap();
        let directory = CacheDirectory::open(dir.path()).unwrap();
        write(&directory, "a.idx", b"hello");
        let handle = directory.get_file_handle(Path::new("a.idx")).unwrap();
        assert_eq!(handle.read_bytes(0..5).unwrap().as_slice(), b"hello");
        assert!(directory.exists(Path::new("a.idx")).unwrap());
        directory
            .atomic_write(Path::new("meta.json"), b"{1}")
            .unwrap();
        directory
            .atomic_write(Path::new("meta.json"), b"{2}")
            .unwrap();
        assert_eq!(
            directory.atomic_read(Path::new("meta.json")).unwrap(),
            b"{2}"
        );
        directory.flush();
        assert_eq!(directory.queued(), 0);
        assert_eq!(std::fs::read(dir.path().join("a.idx")).unwrap(), b"hello");
        assert_eq!(std::fs::read(dir.path().join("meta.json")).unwrap(), b"{2}");
        // After the flush the disk answers, with the same bytes.
        let handle = directory.get_file_handle(Path::new("a.idx")).unwrap();
        assert_eq!(handle.read_bytes(0..5).unwrap().as_slice(), b"hello");
    }

    #[test]
    fn deletions_are_seen_at_once_and_applied_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let directory = CacheDirectory::open(dir.path()).unwrap();
        write(&directory, "b.pos", b"bytes");
        directory.delete(Path::new("b.pos")).unwrap();
        assert!(!directory.exists(Path::new("b.pos")).unwrap());
        assert!(matches!(
            directory.get_file_handle(Path::new("b.pos")),
            Err(OpenReadError::FileDoesNotExist(_))
        ));
        assert!(matches!(
            directory.delete(Path::new("b.pos")),
            Err(DeleteError::FileDoesNotExist(_))
        ));
        directory.flush();
        assert!(!dir.path().join("b.pos").exists());
    }

    #[test]
    fn when_the_disk_refuses_a_change_later_ones_stay_in_memory() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("index");
        std::fs::create_dir(&root).unwrap();
        let directory = CacheDirectory::open(&root).unwrap();
        write(&directory, "kept.idx", b"on disk");
        directory.flush();
        // The directory disappears under the index (a cache cleaner, say).
        std::fs::remove_dir_all(&root).unwrap();
        write(&directory, "lost.idx", b"in memory");
        directory
            .atomic_write(Path::new("meta.json"), b"{3}")
            .unwrap();
        directory.flush();
        // Nothing is written any more, not even where the directory comes back.
        std::fs::create_dir(&root).unwrap();
        write(&directory, "later.idx", b"later");
        directory.flush();
        assert!(!root.join("later.idx").exists());
        // This process still reads everything it wrote.
        for (path, bytes) in [("lost.idx", &b"in memory"[..]), ("later.idx", b"later")] {
            let handle = directory.get_file_handle(Path::new(path)).unwrap();
            assert_eq!(handle.read_bytes(0..bytes.len()).unwrap().as_slice(), bytes);
        }
        assert_eq!(
            directory.atomic_read(Path::new("meta.json")).unwrap(),
            b"{3}"
        );
    }

    #[test]
    fn large_files_go_straight_to_the_disk() {
        let dir = tempfile::tempdir().unwrap();
        let directory = CacheDirectory::open(dir.path()).unwrap();
        let big = vec![7u8; SPILL_BYTES + 10];
        write(&directory, "c.store", &big);
        assert_eq!(directory.queued(), 0);
        assert_eq!(std::fs::read(dir.path().join("c.store")).unwrap(), big);
        assert!(matches!(
            directory.open_write(Path::new("c.store")),
            Err(OpenWriteError::FileAlreadyExists(_))
        ));
    }

    #[test]
    fn dropping_the_last_handle_drains_the_queue() {
        let dir = tempfile::tempdir().unwrap();
        let directory = CacheDirectory::open(dir.path()).unwrap();
        let clone = directory.clone();
        write(&directory, "d.fast", b"fast");
        directory
            .atomic_write(Path::new("meta.json"), b"{}")
            .unwrap();
        drop(directory);
        drop(clone);
        assert_eq!(std::fs::read(dir.path().join("d.fast")).unwrap(), b"fast");
        assert_eq!(std::fs::read(dir.path().join("meta.json")).unwrap(), b"{}");
    }

    #[test]
    fn an_index_written_behind_reopens_from_the_disk() {
        use tantivy::schema::{STORED, STRING, Schema};
        let dir = tempfile::tempdir().unwrap();
        let mut builder = Schema::builder();
        let field = builder.add_text_field("name", STRING | STORED);
        let schema = builder.build();
        {
            let directory = CacheDirectory::open(dir.path()).unwrap();
            let index = tantivy::Index::create(
                directory.clone(),
                schema.clone(),
                tantivy::IndexSettings::default(),
            )
            .unwrap();
            let mut writer: tantivy::IndexWriter = index.writer(15_000_000).unwrap();
            for round in 0..5 {
                writer
                    .add_document(tantivy::doc!(field => format!("n{round}")))
                    .unwrap();
                writer.commit().unwrap();
            }
            writer.delete_term(tantivy::Term::from_field_text(field, "n0"));
            writer.commit().unwrap();
            writer.wait_merging_threads().unwrap();
        }
        let index = tantivy::Index::open_in_dir(dir.path()).unwrap();
        let searcher = index.reader().unwrap().searcher();
        assert_eq!(searcher.num_docs(), 4);
    }
}
