//! `textDocument/codeAction`: the AI actions that apply at the selection, returned at once.
//!
//! Nothing here calls a model. A client that resolves code actions lazily gets each edit action
//! as a title, a kind and `data` naming the document version (and the server's generation of its
//! text, since a client may repeat a version), the range and the action; the model runs only in
//! `codeAction/resolve`. Actions that need an instruction, that show text rather than edit, or
//! that a client cannot resolve come as the `augur.rewrite` or `augur.action` command.
//!
//! Example: with `a - b` selected in `fn add(...)` the reply holds "Document `add` with AI"
//! (`source`, with `data: {"uri": ..., "version": 3, "range": ..., "action": "augur.document"}`),
//! "Rewrite selection with AI…" (`refactor.rewrite`, command `augur.rewrite`), and more.

use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::{
    CodeAction, CodeActionKind, CodeActionOrCommand, CodeActionParams, CodeActionResponse, Command,
};

use std::sync::Arc;

use crate::actions::{ActionId, ActionKind, ActionOffer, available_actions_in};
use crate::lsp::commands::{ACTION_COMMAND, REWRITE_COMMAND};
use crate::lsp::ext::ActionData;
use crate::lsp::handlers::ai_action;
use crate::lsp::state::ServerState;
use crate::lsp::to_proto;
use crate::syntax::symbols_around;

/// Handles `textDocument/codeAction`. The document is parsed on the blocking pool (once per
/// version: the tree is kept), so a large file never holds up other requests.
pub async fn code_action(
    state: &Arc<ServerState>,
    params: CodeActionParams,
) -> Result<Option<CodeActionResponse>> {
    let state = state.clone();
    tokio::task::spawn_blocking(move || catalogue(&state, params))
        .await
        .map_err(|e| tower_lsp_server::jsonrpc::Error {
            code: tower_lsp_server::jsonrpc::ErrorCode::InternalError,
            message: format!("the code action catalogue failed: {e}").into(),
            data: None,
        })?
}

fn catalogue(state: &ServerState, params: CodeActionParams) -> Result<Option<CodeActionResponse>> {
    let uri = params.text_document.uri;
    let diagnostics = params.context.diagnostics;
    let target = match ai_action::target(state, state.snapshot(), &uri, params.range, &diagnostics)
    {
        Ok(target) => target,
        Err(failure) => {
            tracing::debug!(reason = %failure.message(), "no AI actions here");
            return Ok(Some(Vec::new()));
        }
    };
    let config = target.snapshot.config().clone();
    if !config.actions.enabled {
        return Ok(Some(Vec::new()));
    }
    let only = params.context.only.unwrap_or_default();
    let caps = state.caps();
    let lazy = caps.code_action_literals && caps.code_action_resolve && caps.code_action_data;
    let ctx = &target.context;
    let symbols = ctx
        .language
        .and_then(|language| {
            let tree =
                state
                    .host
                    .syntax_tree(&target.key, target.doc.generation, language, &ctx.text)?;
            Some(symbols_around(
                language,
                &tree,
                &ctx.text,
                ctx.lookup_range(),
            ))
        })
        .unwrap_or_default();
    // No edit is offered for a document that leads out of the workspace (through a symbolic
    // link, say); an explanation edits nothing.
    let editable = target.snapshot.policy().for_edit(&ctx.path).is_ok();
    let actions = available_actions_in(ctx, &symbols, &config.actions)
        .into_iter()
        .filter(|offer| wanted(&only, offer.kind) && (editable || !offer.edits))
        .map(|offer| {
            let kind = to_proto::code_action_kind(offer.kind);
            let diagnostics = (offer.id == ActionId::Fix).then(|| diagnostics.clone());
            let data = ActionData {
                uri: uri.clone(),
                version: Some(target.doc.version),
                generation: Some(target.doc.generation),
                range: params.range,
                action: offer.id.clone(),
                instruction: None,
                diagnostics: Vec::new(),
            };
            if lazy && offer.edits && !offer.needs_instruction {
                return CodeActionOrCommand::CodeAction(CodeAction {
                    title: offer.title,
                    kind: Some(kind),
                    diagnostics,
                    data: serde_json::to_value(&data).ok(),
                    ..CodeAction::default()
                });
            }
            let command = command(
                &offer,
                ActionData {
                    diagnostics: diagnostics.clone().unwrap_or_default(),
                    ..data
                },
            );
            if caps.code_action_literals {
                CodeActionOrCommand::CodeAction(CodeAction {
                    title: offer.title,
                    kind: Some(kind),
                    diagnostics,
                    command: Some(command),
                    ..CodeAction::default()
                })
            } else {
                CodeActionOrCommand::Command(command)
            }
        })
        .collect();
    Ok(Some(actions))
}

/// The command that runs an offer: `augur.rewrite` for the rewrite, `augur.action` otherwise.
fn command(offer: &ActionOffer, data: ActionData) -> Command {
    let name = if offer.id == ActionId::Rewrite {
        REWRITE_COMMAND
    } else {
        ACTION_COMMAND
    };
    Command {
        title: offer.title.clone(),
        command: name.into(),
        arguments: serde_json::to_value(&data).ok().map(|v| vec![v]),
    }
}

/// Whether a kind passes the client's `only` filter (a kind matches its own name and every
/// more specific one: `refactor` lets `refactor.rewrite` through).
fn wanted(only: &[CodeActionKind], kind: ActionKind) -> bool {
    let name = kind.as_str();
    only.is_empty()
        || only.iter().any(|o| {
            let o = o.as_str();
            name == o
                || name
                    .strip_prefix(o)
                    .is_some_and(|rest| rest.starts_with('.'))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_only_filter_matches_kinds_and_their_parents() {
        assert!(wanted(&[], ActionKind::Quickfix));
        assert!(wanted(
            &[CodeActionKind::REFACTOR],
            ActionKind::RefactorRewrite
        ));
        assert!(!wanted(&[CodeActionKind::REFACTOR], ActionKind::Quickfix));
        assert!(wanted(&[CodeActionKind::SOURCE], ActionKind::Source));
        assert!(!wanted(
            &[CodeActionKind::SOURCE_ORGANIZE_IMPORTS],
            ActionKind::Source
        ));
    }
}
