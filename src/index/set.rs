//! The indexes of several workspace roots (LSP workspace folders) behind one interface.
//!
//! ```no_run
//! use augur::index::{IndexConfig, IndexSet, SearchQuery};
//! use std::path::PathBuf;
//!
//! let set = IndexSet::open(&[PathBuf::from("/work/a"), PathBuf::from("/work/b")], &IndexConfig::default());
//! let hits = set.search(&SearchQuery { text: "parse request".into(), limit: 10, ..Default::default() });
//! # let _ = hits;
//! ```

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::config::IndexConfig;
use super::search::{Hit, SearchQuery};
use super::store::WorkspaceIndex;

/// One index per workspace root.
#[derive(Debug, Clone, Default)]
pub struct IndexSet {
    indexes: Vec<Arc<WorkspaceIndex>>,
}

impl IndexSet {
    /// Opens the index of every root; a root whose index cannot be opened is logged and left out.
    pub fn open(roots: &[PathBuf], config: &IndexConfig) -> IndexSet {
        let mut indexes = Vec::new();
        for root in roots {
            match WorkspaceIndex::open(root, config) {
                Ok(index) => indexes.push(Arc::new(index)),
                Err(error) => {
                    tracing::warn!(root = %root.display(), %error, "cannot open the workspace index")
                }
            }
        }
        IndexSet { indexes }
    }

    /// A set of already opened indexes.
    pub fn from_indexes(indexes: Vec<Arc<WorkspaceIndex>>) -> IndexSet {
        IndexSet { indexes }
    }

    /// Adds the index of a new workspace folder.
    pub fn add(&mut self, index: Arc<WorkspaceIndex>) {
        self.indexes.push(index);
    }

    /// Removes the index of a workspace folder that was closed.
    pub fn remove_root(&mut self, root: &Path) {
        let canonical = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
        self.indexes
            .retain(|index| index.root() != canonical && index.given_root() != root);
    }

    /// Every index.
    pub fn indexes(&self) -> &[Arc<WorkspaceIndex>] {
        &self.indexes
    }

    /// The index whose root contains `path` (the deepest root if folders nest).
    pub fn for_path(&self, path: &Path) -> Option<&Arc<WorkspaceIndex>> {
        self.indexes
            .iter()
            .filter(|index| index.contains_path(path))
            .max_by_key(|index| index.root().as_os_str().len())
    }

    /// Whether a file must never be indexed nor sent to a model, by the rules of its root (or the
    /// first index's rules for a file outside every root).
    pub fn is_excluded(&self, path: &Path) -> bool {
        self.for_path(path)
            .or(self.indexes.first())
            .is_some_and(|index| index.is_excluded(path))
    }

    /// [`WorkspaceIndex::search`] over every root, merged by score (a failing index is logged).
    pub fn search(&self, query: &SearchQuery) -> Vec<Hit> {
        let limit = if query.limit == 0 { 20 } else { query.limit };
        self.merge(limit, |index| index.search(query))
    }

    /// [`WorkspaceIndex::workspace_symbols`] over every root, merged by score.
    pub fn workspace_symbols(&self, query: &str, limit: usize) -> Vec<Hit> {
        self.merge(limit, |index| index.workspace_symbols(query, limit))
    }

    /// [`WorkspaceIndex::definitions`] over every root, merged by score.
    pub fn definitions(&self, names: &[&str], limit: usize) -> Vec<Hit> {
        self.merge(limit, |index| index.definitions(names, limit))
    }

    /// [`WorkspaceIndex::similar_chunks`] over every root, merged by score.
    pub fn similar_chunks(
        &self,
        text: &str,
        exclude_path: Option<&Path>,
        limit: usize,
    ) -> Vec<Hit> {
        self.merge(limit, |index| {
            index.similar_chunks(text, exclude_path, limit)
        })
    }

    fn merge(
        &self,
        limit: usize,
        mut each: impl FnMut(&WorkspaceIndex) -> Result<Vec<Hit>, super::store::IndexError>,
    ) -> Vec<Hit> {
        let mut hits = Vec::new();
        for index in &self.indexes {
            match each(index) {
                Ok(found) => hits.extend(found),
                Err(error) => {
                    tracing::warn!(root = %index.root().display(), %error, "index query failed")
                }
            }
        }
        hits.sort_by(|a, b| b.score.total_cmp(&a.score));
        hits.truncate(limit);
        hits
    }
}
