//! Watching the workspace with `notify`, for clients that cannot watch files for the server
//! (no dynamic registration of `workspace/didChangeWatchedFiles`).
//!
//! ```no_run
//! use std::sync::Arc;
//! use augur::index::{IndexConfig, WorkspaceIndex, watch::watch};
//!
//! let index = Arc::new(WorkspaceIndex::open(std::path::Path::new("."), &IndexConfig::default())?);
//! let _watcher = watch(&index)?; // Updates the index until dropped.
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::sync::{Arc, Weak};

use notify::{EventKind, RecursiveMode, Watcher, event::ModifyKind, event::RenameMode};

use super::store::WorkspaceIndex;

/// A running watcher; dropping it stops watching.
pub struct WorkspaceWatcher {
    _watcher: notify::RecommendedWatcher,
}

impl std::fmt::Debug for WorkspaceWatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WorkspaceWatcher")
    }
}

/// Watches the index's root recursively and applies file creations, changes, deletions and renames
/// to the index (commits are batched as for every update; ignored files are left out, and so are
/// files whose real path leaves the root through a symbolic link).
pub fn watch(index: &Arc<WorkspaceIndex>) -> notify::Result<WorkspaceWatcher> {
    watch_then(index, || {})
}

/// Like [`watch`], calling `changed` before each event is applied (the server forgets the real
/// paths it remembered: a link may have been made or replaced).
pub fn watch_then(
    index: &Arc<WorkspaceIndex>,
    changed: impl Fn() + Send + 'static,
) -> notify::Result<WorkspaceWatcher> {
    let weak: Weak<WorkspaceIndex> = Arc::downgrade(index);
    let handler = move |event: notify::Result<notify::Event>| {
        let Ok(event) = event else {
            return;
        };
        changed();
        let Some(index) = weak.upgrade() else {
            return;
        };
        let result = match event.kind {
            EventKind::Modify(ModifyKind::Name(RenameMode::Both)) if event.paths.len() == 2 => {
                index
                    .rename_path(&event.paths[0], &event.paths[1])
                    .map(|_| ())
            }
            EventKind::Remove(_) => event
                .paths
                .iter()
                .try_for_each(|p| index.remove_path(p).map(|_| ())),
            EventKind::Create(_) | EventKind::Modify(_) => event
                .paths
                .iter()
                .try_for_each(|p| index.update_path(p).map(|_| ())),
            _ => Ok(()),
        };
        if let Err(error) = result {
            tracing::debug!(%error, "cannot apply a file event to the index");
        }
    };
    // Folders behind symbolic links are not watched: they may be anywhere (`/`, say).
    let config = notify::Config::default().with_follow_symlinks(false);
    let mut watcher = notify::RecommendedWatcher::new(handler, config)?;
    watcher.watch(index.root(), RecursiveMode::Recursive)?;
    Ok(WorkspaceWatcher { _watcher: watcher })
}
