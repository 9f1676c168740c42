//! `textDocument/didOpen`, `didChange`, `didClose` and `didSave`.
//!
//! These are the only writers of the document store. Each one does all of its change
//! synchronously, before any `.await`, because the protocol library runs handlers concurrently:
//! that way edits are applied in the order the client sent them.
//!
//! A `didChange` is all or nothing: its content changes are applied in order to a copy of the
//! document, and the copy replaces it only if every change was valid.
//!
//! Example: with UTF-16 positions, the change `{range: (0,2)-(0,2), text: "!"}` on `"😀"`
//! inserts after the emoji (two UTF-16 code units), giving `"😀!"`.

use std::ops::Range;

use tower_lsp_server::ls_types::{
    DidChangeTextDocumentParams, DidCloseTextDocumentParams, DidOpenTextDocumentParams,
    DidSaveTextDocumentParams,
};

use crate::completion::Trigger;
use crate::documents::{EditError, StoreError};
use crate::lsp::from_proto::{self, ChangeError};
use crate::lsp::state::ServerState;

/// Why a `didChange` was refused.
#[derive(Debug, thiserror::Error)]
pub enum DidChangeError {
    /// The document is not open.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A change could not be located in the document.
    #[error(transparent)]
    Change(#[from] ChangeError),
    /// A change had an invalid range.
    #[error(transparent)]
    Edit(#[from] EditError),
}

/// Handles `didOpen`.
pub fn did_open(state: &ServerState, params: DidOpenTextDocumentParams) {
    let doc = params.text_document;
    let key = from_proto::doc_key(&doc.uri);
    tracing::debug!(uri = %key, version = doc.version, bytes = doc.text.len(), "open");
    let path = from_proto::path(&doc.uri);
    state.host.open_document(
        &key,
        path.as_deref(),
        &doc.language_id,
        doc.version,
        &doc.text,
    );
}

/// Applies a `didChange`: all of its changes or none. Returns the bytes it inserted when it was
/// one insertion (what typing sends). Exposed for benchmarks and tests.
pub fn apply_did_change(
    state: &ServerState,
    params: &DidChangeTextDocumentParams,
) -> Result<Option<Range<usize>>, DidChangeError> {
    let key = from_proto::doc_key(&params.text_document.uri);
    let encoding = state.encoding();
    let version = params.text_document.version;
    let mut inserted = None;
    // The kept syntax tree follows the edits, so it is parsed again only where they are.
    state
        .host
        .edit_document::<DidChangeError>(&key, version, |doc, mut tree_edits| {
            let one = params.content_changes.len() == 1;
            for change in &params.content_changes {
                let edit = from_proto::content_change(&doc.text, change, encoding)?;
                if let Some(tree_edits) = tree_edits.as_deref_mut() {
                    tree_edits.push(crate::syntax::input_edit(&doc.text, &edit));
                }
                if one {
                    inserted = edit.insertion(&doc.text);
                }
                doc.apply(&edit)?;
            }
            Ok(())
        })?;
    Ok(inserted)
}

/// Handles `didChange`; a refused change is logged and leaves the document as it was.
pub fn did_change(state: &ServerState, params: DidChangeTextDocumentParams) {
    match apply_did_change(state, &params) {
        Ok(inserted) => {
            state.host.queue_reindex(params.text_document.uri.as_str());
            // A suggestion accepted or typed through, or typing it does not continue: the engine
            // asks ahead for the next one.
            let snapshot = state.snapshot();
            let key = from_proto::doc_key(&params.text_document.uri);
            if let (Some(engine), Some(doc)) = (snapshot.engine(), snapshot.documents().get(&key)) {
                engine.document_edited(&key, &doc.text, inserted, |cursor| {
                    snapshot
                        .completion_request(&key, cursor, Trigger::Automatic)
                        .ok()
                });
            }
        }
        Err(error) => tracing::warn!(
            uri = params.text_document.uri.as_str(),
            version = params.text_document.version,
            %error,
            "didChange refused; the document is unchanged"
        ),
    }
}

/// Handles `didClose`.
pub fn did_close(state: &ServerState, params: DidCloseTextDocumentParams) {
    let key = from_proto::doc_key(&params.text_document.uri);
    let path = from_proto::path(&params.text_document.uri);
    if !state.host.close_document(&key, path.as_deref()) {
        tracing::warn!(uri = %key, "didClose for a document that is not open");
    }
    // Unsaved edits were indexed: the index follows the file on disk again.
    crate::lsp::handlers::indexing::closed(state, &params.text_document.uri);
}

/// Handles `didSave`.
pub fn did_save(state: &ServerState, params: DidSaveTextDocumentParams) {
    let key = from_proto::doc_key(&params.text_document.uri);
    tracing::debug!(uri = %key, open = state.snapshot().documents().contains(&key), "save");
    crate::lsp::handlers::indexing::saved(state, &params.text_document.uri);
}
