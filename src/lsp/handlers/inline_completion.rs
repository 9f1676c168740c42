//! `textDocument/inlineCompletion` (LSP 3.18): ghost text at the cursor.
//!
//! Example: in `def add(a, b):\n    return |` the reply is
//! `{"items": [{"insertText": "a + b", "range": {"start": {"line": 1, "character": 11}, ...}}]}`.

use std::sync::Arc;

use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::{
    InlineCompletionItem, InlineCompletionList, InlineCompletionParams, InlineCompletionResponse,
    InlineCompletionTriggerKind,
};

use crate::completion::{CompletionMode, Trigger};
use crate::lsp::handlers::ai_completion::{Ask, suggest};
use crate::lsp::handlers::metrics;
use crate::lsp::state::ServerState;
use crate::lsp::to_proto;

/// Handles `textDocument/inlineCompletion`.
pub async fn inline_completion(
    state: &Arc<ServerState>,
    params: InlineCompletionParams,
) -> Result<Option<InlineCompletionResponse>> {
    let empty = Ok(Some(InlineCompletionResponse::List(InlineCompletionList {
        items: Vec::new(),
    })));
    let snapshot = state.snapshot();
    if snapshot.config().completion.mode == CompletionMode::Items {
        return empty;
    }
    let trigger = if params.context.trigger_kind == InlineCompletionTriggerKind::INVOKED {
        Trigger::Invoked
    } else {
        Trigger::Automatic
    };
    let ask = Ask {
        uri: params.text_document_position.text_document.uri,
        position: params.text_document_position.position,
        trigger,
    };
    let Some(found) = suggest(state, &snapshot, ask).await else {
        return empty;
    };
    let range = to_proto::range(&found.doc.text, found.range.clone(), state.encoding());
    let item = InlineCompletionItem {
        insert_text: found.text,
        filter_text: None,
        range: Some(range),
        command: Some(metrics::accepted_command(&snapshot)),
        insert_text_format: None,
    };
    Ok(Some(InlineCompletionResponse::List(InlineCompletionList {
        items: vec![item],
    })))
}
