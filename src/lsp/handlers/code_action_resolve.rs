//! `codeAction/resolve`: runs the AI action a code action names and fills in its edit.
//!
//! The action runs on the document version it was offered for; if the document changed since,
//! or changes while the model works, the answer is a `ContentModified` error and no edit. A change
//! counts even when the client repeated the version number (the text's server-side generation
//! tells). The
//! run reports `$/progress` and stops when the client cancels the request or the progress.
//!
//! Example: `{"title": "Document `add` with AI", "data": {"uri": ..., "version": 3, ...}}`
//! comes back with `"edit": {"documentChanges": [{"textDocument": {"uri": ..., "version": 3},
//! "edits": [{"range": ..., "newText": "/// Adds two numbers.\n"}]}]}`.

use std::sync::Arc;

use tower_lsp_server::Client;
use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::{CodeAction, MessageType};

use crate::actions::ActionOutcome;
use crate::lsp::ext::ActionData;
use crate::lsp::handlers::ai_action::{self, Failure};
use crate::lsp::handlers::invalid_params;
use crate::lsp::state::ServerState;

/// Handles `codeAction/resolve`.
pub async fn resolve(
    state: &Arc<ServerState>,
    client: &Client,
    mut action: CodeAction,
) -> Result<CodeAction> {
    let data: ActionData = action
        .data
        .clone()
        .and_then(|data| serde_json::from_value(data).ok())
        .ok_or_else(|| invalid_params("this code action was not made by augur"))?;
    let diagnostics = action.diagnostics.clone().unwrap_or(data.diagnostics);
    let result = async {
        let target =
            ai_action::target(state, state.snapshot(), &data.uri, data.range, &diagnostics)?;
        target.require_version(data.version, data.generation)?;
        let request = ai_action::request(&target, data.action, data.instruction);
        match ai_action::run(state, client, &target, request, None).await? {
            ActionOutcome::Edit { plan, .. } => {
                action.edit = Some(ai_action::workspace_edit(state, &plan, &target)?);
            }
            ActionOutcome::Markdown { title, text } => {
                ai_action::show_markdown(state, &target, client, &title, &text).await;
            }
        }
        Ok(action)
    }
    .await;
    result.map_err(|failure| {
        if !matches!(failure, Failure::Cancelled) {
            tracing::info!(reason = %failure.message(), "AI action gave no edit");
            let client = client.clone();
            let message = failure.message();
            // Shown aside, so the error answer is not held back by the client.
            tokio::spawn(async move { client.show_message(MessageType::WARNING, message).await });
        }
        failure.into_error()
    })
}
