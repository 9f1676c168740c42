//! Workspace roots: the folders the editor opened, as plain paths.

use std::path::{Path, PathBuf};

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
