//! The requests every front end builds from a snapshot the same way: a completion's engine
//! request (the document, its context and the indexes, under the exclusion policy), an AI
//! action's context and request, and index searches. The LSP handlers and the `augur` commands
//! both call these, so an editor and the command line cannot disagree.

use std::ops::Range;
use std::path::PathBuf;
use std::sync::Arc;

use super::{Refusal, WorkspaceSnapshot};
use crate::actions::{ActionContext, ActionId, ActionRequest, EditorDiagnostic};
use crate::completion::{EngineRequest, OpenDocument, Trigger};
use crate::index::{Hit, IndexSet, SearchQuery};
use crate::syntax::Language;

/// Why the host builds no request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    /// The document is not open in the host.
    #[error("{0} is not open")]
    NotOpen(String),
    /// The document is not a file (an untitled buffer, say).
    #[error("{0} is not a file")]
    NotAFile(String),
    /// The exclusion policy keeps the document from a model.
    #[error("{}: {refusal}", .path.display())]
    Refused {
        /// The document's path.
        path: PathBuf,
        /// Why.
        refusal: Refusal,
    },
}

impl WorkspaceSnapshot {
    /// The open documents other than `key` that the policy lets give context (files really
    /// inside the workspace, not excluded, hidden only with `include_hidden`, not ignored unless
    /// indexed), with their generations (the engine keeps what it derives from a document while
    /// its text lasts).
    pub fn context_documents(&self, key: &str) -> Vec<OpenDocument> {
        let docs = self.documents();
        docs.uris()
            .filter(|uri| *uri != key)
            .filter_map(|uri| {
                let path = self.document_path(uri)?;
                self.policy().for_context(path).ok()?;
                let doc = docs.get(uri)?;
                Some(OpenDocument::new(path.to_path_buf(), doc.text).with_version(doc.generation))
            })
            .collect()
    }

    /// The engine request for completing the open document `key` at byte `cursor`: the
    /// configuration's completion settings, the indexes, and the context documents. Refused when
    /// the policy keeps the document from a model. The syntax tree is left for the caller, who
    /// may wait for a fresher one.
    pub fn completion_request(
        &self,
        key: &str,
        cursor: usize,
        trigger: Trigger,
    ) -> Result<EngineRequest, RequestError> {
        let doc = self
            .document(key)
            .ok_or_else(|| RequestError::NotOpen(key.to_owned()))?;
        let path = self.document_path(key).map(PathBuf::from);
        if let Some(path) = &path {
            self.policy()
                .for_prompt(path)
                .map_err(|refusal| RequestError::Refused {
                    path: path.clone(),
                    refusal,
                })?;
        }
        Ok(EngineRequest {
            path,
            language_id: Some(doc.language_id.to_string()),
            indexes: self.indexes().to_vec(),
            policy: Arc::clone(self.policy()),
            open_documents: self.context_documents(key),
            trigger,
            ..EngineRequest::new(
                key,
                doc.text,
                cursor,
                Arc::new(self.config().completion.clone()),
            )
        })
    }

    /// The core's view of the open document `key` with the byte range `range` selected (ends in
    /// any order) and the editor's diagnostics, for an AI action. Refused when the document is
    /// not a file or the policy keeps it from a model.
    pub fn action_context(
        &self,
        key: &str,
        range: Range<usize>,
        diagnostics: Vec<EditorDiagnostic>,
    ) -> Result<ActionContext, RequestError> {
        let doc = self
            .document(key)
            .ok_or_else(|| RequestError::NotOpen(key.to_owned()))?;
        let path = self
            .document_path(key)
            .ok_or_else(|| RequestError::NotAFile(key.to_owned()))?
            .to_path_buf();
        self.policy()
            .for_prompt(&path)
            .map_err(|refusal| RequestError::Refused {
                path: path.clone(),
                refusal,
            })?;
        let range = range.start.min(range.end)..range.end.max(range.start);
        let language =
            Language::from_lsp_id(&doc.language_id).or_else(|| Language::from_path(&path));
        Ok(ActionContext {
            path,
            language,
            text: doc.text.to_string(),
            version: Some(doc.version),
            range,
            diagnostics,
        })
    }

    /// The core's request for running `action` on `context`: the folders no edit may leave, the
    /// actions' settings, and the index of the document's folder.
    pub fn action_request(
        &self,
        context: ActionContext,
        action: ActionId,
        instruction: Option<String>,
    ) -> ActionRequest {
        ActionRequest {
            action,
            instruction,
            roots: self.root_paths(),
            config: self.config().actions.clone(),
            index: self.index_for(&context.path),
            context,
        }
    }

    /// Ranked hits of `query` across every folder's index, best first. Blocking: call it from
    /// the blocking pool.
    pub fn search(&self, query: &SearchQuery) -> Vec<Hit> {
        IndexSet::from_indexes(self.indexes().to_vec()).search(query)
    }

    /// Workspace symbols matching `query` across every folder's index, best first (at most
    /// `limit`). Blocking: call it from the blocking pool.
    pub fn workspace_symbols(&self, query: &str, limit: usize) -> Vec<Hit> {
        IndexSet::from_indexes(self.indexes().to_vec()).workspace_symbols(query, limit)
    }
}

#[cfg(test)]
mod tests {
    use super::super::Workspace;
    use super::*;
    use crate::config::Config;
    use crate::workspace::WorkspaceRoot;

    /// A host over a temporary folder with `files` written and opened.
    fn open_host(files: &[(&str, &str)], config: Config) -> (tempfile::TempDir, Workspace) {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        let host = Workspace::for_command(config, vec![WorkspaceRoot::from_path(&root)]);
        for (rel, text) in files {
            let path = root.join(rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, text).unwrap();
            host.open_document(rel, Some(&path), "rust", 1, text);
        }
        (dir, host)
    }

    #[test]
    fn completion_context_follows_the_policy() {
        let files = [
            ("src/main.rs", "fn main() {}\n"),
            ("src/other.rs", "fn other() {}\n"),
            (".config/hidden.rs", "fn hidden() {}\n"),
            (".env", "KEY=1\n"),
        ];
        let (_dir, host) = open_host(&files, Config::default());
        let request = host
            .snapshot()
            .completion_request("src/main.rs", 3, Trigger::Invoked)
            .unwrap();
        let shared: Vec<_> = request
            .open_documents
            .iter()
            .map(|d| d.path.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(shared, vec!["other.rs".to_owned()]);
        // With hidden files let in, the hidden one shares too (never the secret file).
        let mut config = Config::default();
        config.index.include_hidden = true;
        let (_dir, host) = open_host(&files, config);
        let request = host
            .snapshot()
            .completion_request("src/main.rs", 3, Trigger::Invoked)
            .unwrap();
        let mut shared: Vec<_> = request
            .open_documents
            .iter()
            .map(|d| d.path.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        shared.sort();
        assert_eq!(shared, vec!["hidden.rs".to_owned(), "other.rs".to_owned()]);
        assert!(matches!(
            host.snapshot()
                .completion_request(".env", 0, Trigger::Invoked),
            Err(RequestError::Refused {
                refusal: Refusal::Excluded,
                ..
            })
        ));
    }

    #[test]
    fn actions_refuse_excluded_files_and_order_the_range() {
        let mut config = Config::default();
        config.index.exclude = vec!["generated/**".into()];
        let (_dir, host) = open_host(
            &[
                ("src/lib.rs", "fn add(a: i32) -> i32 { a }\n"),
                ("generated/out.rs", "fn gen() {}\n"),
            ],
            config,
        );
        let snapshot = host.snapshot();
        let context = snapshot
            .action_context("src/lib.rs", Range { start: 9, end: 3 }, Vec::new())
            .unwrap();
        assert_eq!(context.range, 3..9);
        assert_eq!(context.language, Some(Language::Rust));
        let request = snapshot.action_request(context, ActionId::Document, None);
        assert_eq!(request.roots, snapshot.root_paths());
        assert!(matches!(
            snapshot.action_context("generated/out.rs", 0..0, Vec::new()),
            Err(RequestError::Refused {
                refusal: Refusal::Excluded,
                ..
            })
        ));
        assert!(matches!(
            snapshot.action_context("nope.rs", 0..0, Vec::new()),
            Err(RequestError::NotOpen(key)) if key == "nope.rs"
        ));
    }
}
