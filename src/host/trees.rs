//! The syntax trees kept per open document: parsed once, then brought up to date from the edits
//! of `didChange` (only the changed regions are parsed again), named by the text's generation.

use std::sync::Arc;

use super::{Workspace, lock};

/// A document's syntax tree and the edits made to the document since it was parsed. Texts are
/// named by their [`Document::generation`](crate::documents::Document::generation), not the
/// client's version (which may repeat).
#[derive(Debug)]
pub(super) struct TreeEntry {
    /// The generation of the text the tree was parsed for.
    generation: u64,
    tree: tree_sitter::Tree,
    /// The edits since, in order.
    pending: Vec<tree_sitter::InputEdit>,
    /// The generation of the text after the last pending edit.
    pending_generation: u64,
}

impl Workspace {
    /// The syntax tree of an open document's text of `generation` (see
    /// [`Document::generation`](crate::documents::Document::generation)), which is `text`. The
    /// tree is kept per document: the same text costs nothing, and after edits only the changed
    /// regions are parsed again (see
    /// [`Self::note_edits`]); a 10 MB file is never parsed whole per keystroke. Blocking: call it
    /// from the blocking pool.
    pub fn syntax_tree(
        &self,
        key: &str,
        generation: u64,
        language: crate::syntax::Language,
        text: &str,
    ) -> Option<tree_sitter::Tree> {
        let trees = || lock(&self.trees);
        let base = match trees().get(key) {
            Some(entry) if entry.generation == generation => return Some(entry.tree.clone()),
            Some(entry) if entry.pending_generation == generation => {
                Some((entry.generation, entry.tree.clone(), entry.pending.clone()))
            }
            _ => None,
        };
        let tree = match &base {
            Some((_, old, edits)) => {
                let mut old = old.clone();
                for edit in edits {
                    old.edit(edit);
                }
                crate::syntax::reparse(language, text, &old)?
            }
            None => crate::syntax::parse(language, text)?,
        };
        let mut trees = trees();
        match (trees.get_mut(key), &base) {
            // Edits that came in meanwhile stay pending on top of the new tree.
            (Some(entry), Some((base, _, applied))) if entry.generation == *base => {
                entry
                    .pending
                    .drain(..applied.len().min(entry.pending.len()));
                entry.generation = generation;
                entry.tree = tree.clone();
            }
            (Some(_), _) => {}
            (None, _) => {
                trees.insert(
                    key.to_owned(),
                    TreeEntry {
                        generation,
                        tree: tree.clone(),
                        pending: Vec::new(),
                        pending_generation: generation,
                    },
                );
            }
        }
        Some(tree)
    }

    /// The kept syntax tree of a document if it is for the text of `generation` (no parsing
    /// here).
    pub fn current_syntax_tree(&self, key: &str, generation: u64) -> Option<tree_sitter::Tree> {
        lock(&self.trees)
            .get(key)
            .filter(|entry| entry.generation == generation)
            .map(|entry| entry.tree.clone())
    }

    /// Brings the kept syntax tree of a document up to `generation` on the blocking pool (parsing
    /// only the edited regions once a tree is kept), unless that is under way already. Completions
    /// call it while they wait out their debounce, so that the tree is ready when they run.
    pub fn refresh_syntax_tree(
        self: &Arc<Self>,
        key: &str,
        generation: u64,
        language: crate::syntax::Language,
        text: &ropey::Rope,
    ) {
        if self.current_syntax_tree(key, generation).is_some() {
            return;
        }
        if !lock(&self.refreshing).insert(key.to_owned()) {
            return;
        }
        let (host, key, text) = (Arc::clone(self), key.to_owned(), text.clone());
        tokio::task::spawn_blocking(move || {
            let _ = host.syntax_tree(&key, generation, language, &text.to_string());
            // A document closed meanwhile keeps no tree.
            if !lock(&host.view).documents.contains(&key) {
                host.forget_tree(&key);
            }
            lock(&host.refreshing).remove(&key);
        });
    }

    /// Whether a syntax tree is kept for the document (so its edits must be noted).
    pub fn keeps_tree(&self, key: &str) -> bool {
        lock(&self.trees).contains_key(key)
    }

    /// Records the edits of a `didChange` that gave the document the text of `generation`, for the
    /// kept tree.
    pub(crate) fn note_edits(
        &self,
        key: &str,
        generation: u64,
        edits: Vec<tree_sitter::InputEdit>,
    ) {
        let mut trees = lock(&self.trees);
        if let Some(entry) = trees.get_mut(key) {
            entry.pending.extend(edits);
            entry.pending_generation = generation;
        }
    }

    /// Forgets the tree kept for a document (closed, or opened afresh).
    pub(crate) fn forget_tree(&self, key: &str) {
        lock(&self.trees).remove(key);
    }
}
