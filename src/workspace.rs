//! Workspace roots: the folders the editor opened, as plain paths; whether a path lies under a
//! root (read from its bytes when it is spelled plainly, as the index spells the paths it reports);
//! real paths, and the remembered check that a path really lies in a root.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

use rustc_hash::FxHashMap;

/// One workspace folder.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct WorkspaceRoot {
    /// The client's name for the folder (its last path component when the client gives none).
    pub name: String,
    /// The folder on disk.
    pub path: PathBuf,
}

impl WorkspaceRoot {
    /// A root for `path`, named after its last component.
    pub fn from_path(path: impl Into<PathBuf>) -> Self {
        let path = path.into();
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        Self { name, path }
    }

    /// Whether `path` lies inside this root.
    pub fn contains(&self, path: &Path) -> bool {
        path.starts_with(&self.path)
    }
}

/// Whether `path` starts with `root`, as [`Path::starts_with`] says, read from the bytes when
/// `path` is spelled `root` or `root/...` (then its components begin with the root's, whatever
/// follows); other spellings are compared component by component. Checked per retrieved hit.
pub fn starts_with_root(path: &Path, root: &Path) -> bool {
    byte_rest(path, root).is_some() || path.starts_with(root)
}

/// What follows `root/` in `path`, as [`Path::strip_prefix`] gives it (the same bytes), read
/// from the bytes when that is a plain relative path (see [`plain_rest`]); other spellings are
/// stripped component by component.
pub fn strip_root<'a>(path: &'a Path, root: &Path) -> Option<&'a Path> {
    match plain_rest(path, root) {
        Some(rest) => Some(Path::new(rest)),
        None => path.strip_prefix(root).ok(),
    }
}

/// What follows `root/` in the bytes of `path` when that is a plain relative path: names
/// separated by single `/`, none of them `.` or `..`. Its components are then exactly its parts,
/// so it is what [`Path::strip_prefix`] leaves, byte for byte, and how the index spells the
/// path. `None` for other spellings, and on systems where `/` is not the only separator.
pub fn plain_rest<'a>(path: &'a Path, root: &Path) -> Option<&'a OsStr> {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let rest = byte_rest(path, root)?;
        is_plain(rest).then(|| OsStr::from_bytes(rest))
    }
    #[cfg(not(unix))]
    {
        let _ = (path, root);
        None
    }
}

/// On Unix, the bytes of `path` after those of `root` when `path` is `root` itself (an empty
/// rest) or `root` and a `/`; `None` otherwise (also on other systems, where `/` is not the only
/// separator).
fn byte_rest<'a>(path: &'a Path, root: &Path) -> Option<&'a [u8]> {
    let root = root.as_os_str().as_encoded_bytes();
    if !cfg!(unix) || root.is_empty() {
        return None;
    }
    match path.as_os_str().as_encoded_bytes().strip_prefix(root)? {
        [] => Some(&[]),
        [b'/', rest @ ..] => Some(rest),
        _ => None,
    }
}

/// Whether `rel` is not empty and each of its `/`-separated parts is a name: not empty, not `.`,
/// not `..`.
#[cfg(unix)]
fn is_plain(rel: &[u8]) -> bool {
    !rel.is_empty()
        && rel
            .split(|byte| *byte == b'/')
            .all(|part| !matches!(part, b"" | b"." | b".."))
}

/// The roots as a plain list of folders.
pub fn root_paths(roots: &[WorkspaceRoot]) -> Vec<PathBuf> {
    roots.iter().map(|r| r.path.clone()).collect()
}

/// The workspace root a command line tool assumes for `file`: the nearest folder above it with a
/// `.git`, else the file's own folder.
pub fn default_root(file: &Path) -> PathBuf {
    let folder = file.parent().unwrap_or(Path::new(".")).to_path_buf();
    folder
        .ancestors()
        .find(|dir| dir.join(".git").exists())
        .map(Path::to_path_buf)
        .unwrap_or(folder)
}

/// Why a path is not inside the workspace once symbolic links are followed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Escape {
    /// The path leads, through `..` or symbolic links, to a place outside every root.
    #[error("it is outside the workspace folders{}", resolved_note(.path, .real))]
    Outside {
        /// The path as given.
        path: PathBuf,
        /// Where it really leads.
        real: PathBuf,
    },
    /// Where the path leads cannot be known (a dangling or looping symbolic link, an unreadable
    /// component), so it cannot be shown to be inside.
    #[error("where it leads cannot be resolved: {0}")]
    Unresolved(String),
}

fn resolved_note(path: &Path, real: &Path) -> String {
    if crate::edits::normalize_path(path) == real {
        String::new()
    } else {
        format!(" (it leads to {})", real.display())
    }
}

/// The real path of `path`, as the file system resolves it: symbolic links followed, `.` and
/// `..` applied. A path that does not exist yet (a file to create) resolves through its nearest
/// existing ancestor, with the missing components appended (a `..` among them cancels the
/// missing folder before it, which would be created as a real one).
///
/// Fails when an existing component cannot be resolved: a symbolic link whose target does not
/// exist (writing through it would create the target wherever it points), a loop of links.
pub fn real_path(path: &Path) -> std::io::Result<PathBuf> {
    let mut missing: Vec<std::ffi::OsString> = Vec::new();
    let mut current = path;
    loop {
        match current.canonicalize() {
            Ok(mut real) => {
                for part in missing.iter().rev() {
                    match part.to_str() {
                        Some("..") => {
                            real.pop();
                        }
                        Some(".") => {}
                        _ => real.push(part),
                    }
                }
                return Ok(real);
            }
            Err(error) => {
                // Only a missing component is created later; anything else (no permission, a
                // loop) leaves the path unknown. An entry that exists but does not resolve is a
                // dangling or looping link.
                let missing_here = matches!(
                    error.kind(),
                    std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
                );
                if !missing_here || current.symlink_metadata().is_ok() {
                    return Err(std::io::Error::new(
                        error.kind(),
                        format!("{} does not resolve: {error}", current.display()),
                    ));
                }
                let (Some(parent), Some(last)) =
                    (current.parent(), current.components().next_back())
                else {
                    return Err(error);
                };
                missing.push(last.as_os_str().to_owned());
                current = parent;
            }
        }
    }
}

/// Checks that `path` really lies inside one of `roots`: its real path (see [`real_path`]) is
/// under the real path of a root, so neither `..` nor a symbolic link leads out of the
/// workspace, while a root reached through a link (`/tmp` to `/private/tmp`) still holds its
/// files. Returns the real path. With no roots, every path is outside.
pub fn check_real(path: &Path, roots: &[PathBuf]) -> Result<PathBuf, Escape> {
    let real = real_path(path).map_err(|e| Escape::Unresolved(e.to_string()))?;
    let inside = roots
        .iter()
        .filter(|root| root.is_absolute())
        .filter_map(|root| real_path(root).ok())
        .any(|root| real.starts_with(root));
    if inside {
        Ok(real)
    } else {
        Err(Escape::Outside {
            path: path.to_owned(),
            real,
        })
    }
}

/// Whether `path` really lies inside one of `roots` (see [`check_real`]).
pub fn is_really_inside(path: &Path, roots: &[PathBuf]) -> bool {
    check_real(path, roots).is_ok()
}

/// Real paths remembered, for checks that run per keystroke (which other open documents may give
/// a completion context). Resolving a path costs a system call per component; a lookup here costs
/// a hash of the path's bytes. The owner forgets everything when files change
/// ([`RealPaths::clear`]: a link made or replaced anywhere may move any path) and a path when it
/// is opened again ([`RealPaths::forget`]). Holds at most [`RealPaths::CAPACITY`] paths.
#[derive(Debug, Default)]
pub struct RealPaths {
    /// Keyed by the path's bytes, hashed with Fx: hashing and comparing a `Path` walks its
    /// components, and each spelling of a path resolves the same way every time.
    known: std::sync::Mutex<FxHashMap<OsString, Option<PathBuf>>>,
    /// Counts the forgetting, so that a path resolved meanwhile is not remembered.
    generation: std::sync::atomic::AtomicU64,
}

impl RealPaths {
    /// The most paths remembered; past it, everything is forgotten and remembered afresh.
    pub const CAPACITY: usize = 4096;

    fn known(&self) -> std::sync::MutexGuard<'_, FxHashMap<OsString, Option<PathBuf>>> {
        self.known.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The real path of `path`, remembered; `None` when it does not resolve.
    pub fn real(&self, path: &Path) -> Option<PathBuf> {
        if let Some(real) = self.known().get(path.as_os_str()) {
            return real.clone();
        }
        // Resolved without the lock; an answer that files changed under is not remembered.
        let generation = self.generation.load(std::sync::atomic::Ordering::Acquire);
        let real = real_path(path).ok();
        let mut known = self.known();
        if self.generation.load(std::sync::atomic::Ordering::Acquire) == generation {
            if known.len() >= Self::CAPACITY {
                known.clear();
            }
            known.insert(path.as_os_str().to_owned(), real.clone());
        }
        real
    }

    /// Whether `path` really lies inside one of `roots` (see [`check_real`]), from remembered
    /// real paths.
    pub fn is_inside(&self, path: &Path, roots: &[PathBuf]) -> bool {
        if let Some(inside) = self.is_inside_known(path, roots) {
            return inside;
        }
        let Some(real) = self.real(path) else {
            return false;
        };
        roots
            .iter()
            .filter(|root| root.is_absolute())
            .filter_map(|root| self.real(root))
            .any(|root| real.starts_with(root))
    }

    /// [`is_inside`](Self::is_inside) under one lock, without copying a path, when the answer
    /// follows from what is remembered; `None` when a path it needs is not.
    fn is_inside_known(&self, path: &Path, roots: &[PathBuf]) -> Option<bool> {
        let known = self.known();
        let Some(real) = known.get(path.as_os_str())? else {
            return Some(false);
        };
        for root in roots.iter().filter(|root| root.is_absolute()) {
            match known.get(root.as_os_str())? {
                Some(root) if starts_with_root(real, root) => return Some(true),
                _ => {}
            }
        }
        Some(false)
    }

    /// Forgets `path` and every path under it.
    pub fn forget(&self, path: &Path) {
        let mut known = self.known();
        self.generation
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        known.retain(|known, _| !Path::new(known).starts_with(path));
    }

    /// Forgets every path.
    pub fn clear(&self) {
        let mut known = self.known();
        self.generation
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        known.clear();
    }

    /// How many paths are remembered.
    pub fn len(&self) -> usize {
        self.known().len()
    }

    /// Whether no path is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::symlink;

    use super::*;

    /// A workspace with a link to a folder in another temporary folder, outside it.
    struct Linked {
        root: tempfile::TempDir,
        outside: tempfile::TempDir,
    }

    impl Linked {
        fn new() -> Linked {
            let root = tempfile::tempdir().unwrap();
            let outside = tempfile::tempdir().unwrap();
            std::fs::write(outside.path().join("passwd"), "root:x:0:0\n").unwrap();
            std::fs::create_dir(root.path().join("src")).unwrap();
            std::fs::write(root.path().join("src/lib.rs"), "").unwrap();
            symlink(outside.path(), root.path().join("etc_link")).unwrap();
            Linked { root, outside }
        }

        fn root(&self) -> &Path {
            self.root.path()
        }

        fn roots(&self) -> Vec<PathBuf> {
            vec![self.root.path().to_path_buf()]
        }
    }

    #[test]
    fn a_link_out_of_the_workspace_is_outside() {
        let ws = Linked::new();
        let outside = ws.outside.path().canonicalize().unwrap();
        let roots = ws.roots();
        assert!(is_really_inside(&ws.root().join("src/lib.rs"), &roots));
        // An existing file through the link, and a new one.
        for (name, real) in [("passwd", "passwd"), ("test_passwd.py", "test_passwd.py")] {
            let path = ws.root().join("etc_link").join(name);
            assert_eq!(
                check_real(&path, &roots),
                Err(Escape::Outside {
                    path: path.clone(),
                    real: outside.join(real),
                })
            );
        }
        // A new file in new folders under the link.
        let deep = ws.root().join("etc_link/new/dir/x.py");
        assert!(!is_really_inside(&deep, &roots));
        // `..` after a link is the link target's parent, as the file system resolves it.
        let up = ws.root().join("etc_link/../x.py");
        assert_eq!(
            real_path(&up).unwrap(),
            outside.parent().unwrap().join("x.py")
        );
        assert!(!is_really_inside(&up, &roots));
        // `..` after a folder that does not exist yet cancels it.
        let back = ws.root().join("new/../src/y.py");
        assert!(is_really_inside(&back, &roots));
        let message = check_real(&ws.root().join("etc_link/passwd"), &roots)
            .unwrap_err()
            .to_string();
        assert!(
            message.contains("outside the workspace folders"),
            "{message}"
        );
        assert!(message.contains("it leads to"), "{message}");
    }

    #[test]
    fn links_inside_the_workspace_and_linked_roots_are_inside() {
        let ws = Linked::new();
        symlink(ws.root().join("src"), ws.root().join("src_link")).unwrap();
        assert!(is_really_inside(
            &ws.root().join("src_link/lib.rs"),
            &ws.roots()
        ));
        // A root reached through a link (as `/tmp` is `/private/tmp` on macOS).
        let alias = tempfile::tempdir().unwrap();
        let linked_root = alias.path().join("ws");
        symlink(ws.root(), &linked_root).unwrap();
        let roots = [linked_root.clone()];
        assert!(is_really_inside(&linked_root.join("src/lib.rs"), &roots));
        assert!(is_really_inside(&ws.root().join("src/new.rs"), &roots));
        assert!(!is_really_inside(
            &linked_root.join("etc_link/passwd"),
            &roots
        ));
        // Another root holds what a link in the first leads to.
        let both = [ws.root().to_path_buf(), ws.outside.path().to_path_buf()];
        assert!(is_really_inside(&ws.root().join("etc_link/passwd"), &both));
        assert!(!is_really_inside(&ws.root().join("src/lib.rs"), &[]));
    }

    #[test]
    fn a_dangling_or_looping_link_does_not_resolve() {
        let ws = Linked::new();
        let target = ws.outside.path().join("not-yet");
        symlink(&target, ws.root().join("dangling")).unwrap();
        symlink(ws.root().join("loop"), ws.root().join("loop")).unwrap();
        for path in ["dangling", "dangling/x.py", "loop", "loop/x.py"] {
            let path = ws.root().join(path);
            assert!(
                matches!(check_real(&path, &ws.roots()), Err(Escape::Unresolved(_))),
                "{}",
                path.display()
            );
        }
    }

    #[test]
    fn byte_checks_agree_with_components() {
        let roots = ["/a", "/a/", "/a/.", "/", "a", ".", "/a/b", "/ab"];
        let paths = [
            "/a",
            "/a/",
            "/a/b/c.rs",
            "/a//b/c.rs",
            "/a/./b",
            "/a/b/",
            "/a/b/.",
            "/a/../b",
            "/ab/c",
            "/a/.hidden",
            "a/b",
            "./a",
            "/x/a",
            "//a/b",
            "",
        ];
        for root in roots.map(Path::new) {
            for path in paths.map(Path::new) {
                let what = format!("{} under {}", path.display(), root.display());
                assert_eq!(
                    starts_with_root(path, root),
                    path.starts_with(root),
                    "{what}"
                );
                let stripped = strip_root(path, root);
                assert_eq!(stripped, path.strip_prefix(root).ok(), "{what}");
                // The same bytes: exclusion globs and memos read them.
                assert_eq!(
                    stripped.map(Path::as_os_str),
                    path.strip_prefix(root).ok().map(Path::as_os_str),
                    "{what}"
                );
            }
        }
    }

    #[test]
    fn remembered_real_paths_are_forgotten_when_files_change() {
        let ws = Linked::new();
        let memo = RealPaths::default();
        let roots = ws.roots();
        let path = ws.root().join("pkg/mod.py");
        std::fs::create_dir(ws.root().join("pkg")).unwrap();
        assert!(memo.is_inside(&path, &roots));
        assert_eq!(memo.len(), 2, "the path and the root");
        // The folder becomes a link out: remembered, the old answer stands until forgotten.
        std::fs::remove_dir(ws.root().join("pkg")).unwrap();
        symlink(ws.outside.path(), ws.root().join("pkg")).unwrap();
        assert!(memo.is_inside(&path, &roots));
        memo.forget(&ws.root().join("pkg"));
        assert!(!memo.is_inside(&path, &roots));
        memo.clear();
        assert!(memo.is_empty());
        symlink(ws.root().join("loop"), ws.root().join("loop")).unwrap();
        assert!(!memo.is_inside(&ws.root().join("loop"), &roots));
    }
}
