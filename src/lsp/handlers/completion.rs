//! `textDocument/completion`: the AI suggestion as a completion item, for clients without inline
//! completion (Helix, Emacs, older Neovim), or for every client with `completion.mode = "both"`.
//!
//! The item replaces nothing before the cursor and inserts the suggestion there; its label is the
//! suggestion's first line, its detail says it comes from augur.

use std::sync::Arc;

use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::{
    CompletionItem, CompletionItemKind, CompletionList, CompletionParams, CompletionResponse,
    CompletionTextEdit, CompletionTriggerKind, TextEdit,
};

use crate::completion::{CompletionMode, Trigger};
use crate::lsp::handlers::ai_completion::{Ask, suggest};
use crate::lsp::handlers::metrics;
use crate::lsp::state::ServerState;
use crate::lsp::to_proto;

/// Whether the server offers AI completion items to this client.
pub fn offers_items(mode: CompletionMode, client_has_inline: bool) -> bool {
    match mode {
        CompletionMode::Items | CompletionMode::Both => true,
        CompletionMode::Inline => !client_has_inline,
    }
}

/// Handles `textDocument/completion`.
pub async fn completion(
    state: &Arc<ServerState>,
    params: CompletionParams,
) -> Result<Option<CompletionResponse>> {
    let snapshot = state.snapshot();
    if !offers_items(
        snapshot.config().completion.mode,
        state.caps().inline_completion,
    ) {
        return Ok(None);
    }
    let invoked = params
        .context
        .as_ref()
        .is_some_and(|c| c.trigger_kind == CompletionTriggerKind::INVOKED);
    let ask = Ask {
        uri: params.text_document_position.text_document.uri,
        position: params.text_document_position.position,
        trigger: if invoked {
            Trigger::Invoked
        } else {
            Trigger::Automatic
        },
    };
    let Some(found) = suggest(state, &snapshot, ask).await else {
        return Ok(Some(CompletionResponse::List(CompletionList {
            is_incomplete: true,
            items: Vec::new(),
        })));
    };
    let range = to_proto::range(&found.doc.text, found.range.clone(), state.encoding());
    let label = found
        .text
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or(&found.text)
        .trim()
        .to_owned();
    let item = CompletionItem {
        label,
        kind: Some(CompletionItemKind::TEXT),
        detail: Some("augur".into()),
        documentation: None,
        filter_text: None,
        sort_text: Some("0".into()),
        preselect: Some(true),
        text_edit: Some(CompletionTextEdit::Edit(TextEdit {
            range,
            new_text: found.text,
        })),
        command: Some(metrics::accepted_command(&snapshot)),
        ..CompletionItem::default()
    };
    // Incomplete: typing on re-asks, so the suggestion follows the text.
    Ok(Some(CompletionResponse::List(CompletionList {
        is_incomplete: true,
        items: vec![item],
    })))
}
