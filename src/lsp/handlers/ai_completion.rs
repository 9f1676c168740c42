//! The completion pipeline shared by `textDocument/inlineCompletion` and `textDocument/completion`.
//!
//! For one request at a cursor: take one snapshot of the workspace (the document, the
//! configuration, the indexes, the engine and the exclusion policy of one moment); answer at once from the suggestion on
//! screen when the user typed into it (type-through: no debounce, no model call); otherwise
//! supersede any older request for the same document (its model call is dropped, which closes its
//! HTTP connection), wait the adaptive debounce for automatic triggers, and run the completion
//! engine (which also refuses files the index excludes: secrets never reach a model). A result
//! computed for a document text that has changed meanwhile is dropped: texts are told apart by
//! their server-side generation, not the client's version number, which a client may repeat. The
//! outcome of each model call is recorded in the models' health, which tells the user when
//! completions fail.
//!
//! Every request gets exactly one answer: a suggestion, nothing (superseded, stale, excluded,
//! failed), or `RequestCancelled` from the cancellation layer when the client cancels it.

use std::ops::Range;
use std::sync::Arc;

use tower_lsp_server::ls_types::{Position, Uri};

use crate::completion::Trigger;
use crate::documents::Document;
use crate::host::WorkspaceSnapshot;
use crate::llm::usage::FeatureEvent;
use crate::lsp::from_proto;
use crate::lsp::handlers::{metrics, model_health};
use crate::lsp::state::ServerState;
use crate::syntax::Language;

/// Documents up to this size get a syntax tree kept for completions (larger ones are parsed
/// around the cursor each time; code actions keep a tree of any size).
const MAX_TREE_BYTES: usize = 2 * 1024 * 1024;

/// A completion request, as the handlers pass it on.
#[derive(Debug, Clone)]
pub struct Ask {
    /// The document.
    pub uri: Uri,
    /// The cursor.
    pub position: Position,
    /// Typed as the user types, or asked for explicitly.
    pub trigger: Trigger,
}

/// A suggestion and the document snapshot it was made for.
#[derive(Debug, Clone)]
pub struct Found {
    /// The snapshot the suggestion applies to.
    pub doc: Document,
    /// The text to insert.
    pub text: String,
    /// The bytes it replaces.
    pub range: Range<usize>,
}

/// Runs the pipeline on `snapshot`, the request's one view of the workspace; `None` when there
/// is nothing to suggest.
pub async fn suggest(
    state: &Arc<ServerState>,
    snapshot: &WorkspaceSnapshot,
    ask: Ask,
) -> Option<Found> {
    metrics::record(snapshot, FeatureEvent::CompletionRequested);
    let key = from_proto::doc_key(&ask.uri);
    let doc = snapshot.document(&key)?;
    let cursor = from_proto::offset(&doc.text, ask.position, state.encoding());
    let engine = snapshot.engine()?.clone();
    if let Some((text, range)) = engine.type_through(&key, &doc.text, cursor) {
        tracing::debug!("answered by type-through");
        metrics::record(snapshot, FeatureEvent::CompletionShown);
        return Some(Found { doc, text, range });
    }
    // The same request the command line builds: context, indexes, the exclusion policy.
    let mut request = match snapshot.completion_request(&key, cursor, ask.trigger) {
        Ok(request) => request,
        Err(error) => {
            tracing::debug!(%error, "no completion");
            return None;
        }
    };
    let config = snapshot.config().clone();
    let (generation, cancel) = state.begin_completion(&key);
    // The document's syntax tree is brought up to date in the background (only the edited
    // regions are parsed again), usually within the debounce: the multi-line decision then looks
    // the cursor up in it instead of parsing the lines around it.
    let language = Language::from_lsp_id(&doc.language_id)
        .or_else(|| request.path.as_deref().and_then(Language::from_path));
    if let Some(language) = language
        && doc.text.len_bytes() <= MAX_TREE_BYTES
    {
        state
            .host
            .refresh_syntax_tree(&key, doc.generation, language, &doc.text);
    }
    let work = async {
        // Tokio's timer rounds up to whole milliseconds: a zero delay must not sleep at all.
        let delay = engine.debounce_delay_at(&key, ask.trigger, &config.completion);
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        request.syntax = state.host.current_syntax_tree(&key, doc.generation);
        let outcome = engine.complete(request).await;
        model_health::record(state, &config.completion.model, &outcome);
        match outcome {
            Ok(suggestion) => Some(suggestion),
            Err(error) => {
                tracing::info!(code = error.code(), %error, "no completion");
                None
            }
        }
    };
    let outcome = tokio::select! {
        outcome = work => outcome,
        () = cancel.cancelled() => {
            tracing::debug!("superseded by a newer request");
            None
        }
    };
    state.end_completion(&key, generation);
    let suggestion = outcome?;
    // A later snapshot: has the text moved on while the model worked?
    let now = state.snapshot().document(&key)?;
    // The generation, not the version: a client may repeat a version number with another text.
    if now.generation != doc.generation {
        tracing::debug!(
            computed = doc.version,
            now = now.version,
            "stale completion dropped"
        );
        return None;
    }
    if suggestion.text.is_empty() {
        return None;
    }
    metrics::record(snapshot, FeatureEvent::CompletionShown);
    Some(Found {
        doc,
        text: suggestion.text,
        range: suggestion.range,
    })
}
