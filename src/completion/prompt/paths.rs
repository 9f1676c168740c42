//! How a file's path is shown to the model. Which files may give context is the exclusion
//! policy's to say ([`crate::policy::Policy::for_context`]).

use std::path::Path;
use std::sync::Arc;

use crate::index::WorkspaceIndex;

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
