//! What the host reports about itself: the models' health and the notices it queues for the
//! user, where the indexing of each root stands, and what it keeps of a document.

use std::path::Path;

use tokio::sync::mpsc;

use super::{Workspace, lock};
use crate::llm::health::{ModelHealth, Notice};

/// Where the indexing of a workspace root stands (a root with none has not started yet).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IndexPhase {
    /// Files are being indexed; `total` is known once the walk has counted them.
    Building {
        /// Files done.
        done: usize,
        /// Files to do.
        total: Option<usize>,
    },
    /// The first indexing has ended; the index follows changes from now on.
    Ready,
    /// The index could not be opened.
    Failed(String),
}

impl Workspace {
    /// The health of the models, as completions find it.
    pub fn model_health(&self) -> &ModelHealth {
        &self.model_health
    }

    /// Queues a notice for the user; notices are shown in order once the client is ready.
    pub fn tell(&self, notice: Notice) {
        let _ = self.notices.send(notice);
    }

    /// The queue of notices, for the task that shows them (only the first call gets it).
    pub fn take_notices(&self) -> Option<mpsc::UnboundedReceiver<Notice>> {
        lock(&self.notice_queue).take()
    }

    /// Records where the indexing of `root` stands.
    pub fn set_index_phase(&self, root: &Path, phase: IndexPhase) {
        lock(&self.index_phases).insert(root.to_path_buf(), phase);
    }

    /// Where the indexing of `root` stands (`None` before it started).
    pub fn index_phase(&self, root: &Path) -> Option<IndexPhase> {
        lock(&self.index_phases).get(root).cloned()
    }

    /// What the host keeps of a document (by its key and path), by name: `document`,
    /// `syntaxTree`, `treeRefresh` (a parse under way) and what the completion engine keeps (see
    /// [`CompletionEngine::retained`](crate::completion::CompletionEngine::retained)). The
    /// protocol layer adds `completion` (a request running). For `augur/debug/retained`.
    #[cfg(feature = "test-support")]
    pub fn retained(&self, key: &str, path: Option<&Path>) -> Vec<&'static str> {
        let snapshot = self.snapshot();
        let held_in = [
            ("document", snapshot.documents().contains(key)),
            ("syntaxTree", lock(&self.trees).contains_key(key)),
            ("treeRefresh", lock(&self.refreshing).contains(key)),
        ];
        let mut held: Vec<&'static str> = held_in
            .into_iter()
            .filter_map(|(name, holds)| holds.then_some(name))
            .collect();
        if let Some(engine) = snapshot.engine() {
            held.extend(engine.retained(key, path));
        }
        held
    }
}
