//! Which files may give context and how their paths are shown: the exclusion checks (secret
//! patterns, `exclude` globs, ignore files) and the path shown to the model.

use std::path::Path;
use std::sync::{Arc, OnceLock};

use crate::index::{Exclusions, IndexConfig, WorkspaceIndex};

/// The built-in secret patterns (`.env*`, `*.pem`, ...), for files outside every index.
pub(super) fn default_exclusions() -> &'static Exclusions {
    static DEFAULT: OnceLock<Exclusions> = OnceLock::new();
    DEFAULT.get_or_init(|| Exclusions::new(&IndexConfig::default()))
}

/// Whether a file must never enter a prompt: the index whose root holds it says so (its secret
/// patterns and configured `exclude` globs), or, outside every root, the built-in secret patterns.
pub fn is_excluded(indexes: &[Arc<WorkspaceIndex>], path: &Path) -> bool {
    let mut inside_any = false;
    for index in indexes {
        if path.starts_with(index.root()) {
            inside_any = true;
            if index.is_excluded(path) {
                return true;
            }
        }
    }
    if !inside_any && indexes.iter().any(|index| index.is_excluded(path)) {
        return true;
    }
    default_exclusions().is_excluded(path)
}

/// Whether another open document may give context: not excluded, and, inside a workspace root,
/// either in that root's index or not left out by its ignore files (a new file not indexed yet).
pub(super) fn may_share(indexes: &[Arc<WorkspaceIndex>], path: &Path) -> bool {
    if is_excluded(indexes, path) {
        return false;
    }
    for index in indexes {
        if let Some(rel) = crate::index::walk::relative_path(index.root(), path) {
            return index.contains_file(&rel)
                || !crate::index::walk::is_ignored(index.root(), path, &index.config);
        }
    }
    true
}

/// The path shown to the model: relative to the index root that holds it, else the file name.
pub(super) fn display_path(indexes: &[Arc<WorkspaceIndex>], path: &Path) -> String {
    for index in indexes {
        if let Ok(rel) = path.strip_prefix(index.root()) {
            return rel.to_string_lossy().replace('\\', "/");
        }
    }
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.to_string_lossy().into_owned())
}
