//! `workspace/executeCommand`: AI actions run as commands.
//!
//! - `augur.rewrite` with `{uri, range, instruction}` rewrites the range as the instruction says;
//!   editors bind a prompt to it. Without an instruction the user picks one of
//!   `actions.instructions` (`window/showMessageRequest`).
//! - `augur.action` with `{uri, range, action, version?, instruction?, diagnostics?}` runs any
//!   action; `codeAction` hands it out to clients that cannot resolve code actions, and for
//!   actions that show text.
//!
//! The edit is computed for the document's version when the command arrives (or the `version`
//! given) and sent with `workspace/applyEdit` only if the document is still at that version with
//! the same text (a client may repeat a version number with another text: the server's
//! generation of the text tells); otherwise the command reports that it went stale and edits
//! nothing. Explanations open as a
//! markdown document (`window/showDocument`) or come as a message.
//!
//! The answer says what happened: `{"status": "applied"}`, `"rejected"` (the client refused the
//! edit), `"stale"`, `"shown"`, `"failed"` or `"cancelled"`, with a `message`; every outcome but
//! `applied` and `shown` is also shown to the user.
//!
//! Example: `{"command": "augur.rewrite", "arguments": [{"uri": "file:///ws/a.py", "range":
//! {...}, "instruction": "use a list comprehension"}]}` → `{"status": "applied"}`.

use std::sync::Arc;

use serde_json::Value;
use tower_lsp_server::Client;
use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::{self, ExecuteCommandParams, MessageActionItem, MessageType};

use crate::actions::{ActionId, ActionOutcome, ActionsConfig};
use crate::host::WorkspaceSnapshot;
use crate::llm::usage::FeatureEvent;
use crate::lsp::commands::{ACCEPTED_COMMAND, ACTION_COMMAND, METRICS_COMMAND, REWRITE_COMMAND};
use crate::lsp::ext::{ActionData, CommandResult, CommandStatus, RewriteArgs};
use crate::lsp::handlers::ai_action::{self, Failure};
use crate::lsp::handlers::{invalid_params, metrics};
use crate::lsp::state::ServerState;

/// Handles `workspace/executeCommand`.
pub async fn execute_command(
    state: &Arc<ServerState>,
    client: &Client,
    params: ExecuteCommandParams,
) -> Result<Option<Value>> {
    let argument = params.arguments.into_iter().next().unwrap_or(Value::Null);
    match params.command.as_str() {
        ACCEPTED_COMMAND => return Ok(Some(metrics::accepted(state, argument))),
        METRICS_COMMAND => return Ok(Some(metrics::metrics_command(state, client).await)),
        _ => {}
    }
    let mut data: ActionData = match params.command.as_str() {
        REWRITE_COMMAND => {
            let args: RewriteArgs = serde_json::from_value(argument).map_err(|e| {
                invalid_params(format!(
                    "augur.rewrite takes {{uri, range, instruction}}: {e}"
                ))
            })?;
            ActionData {
                uri: args.uri,
                version: args.version,
                generation: args.generation,
                range: args.range,
                action: ActionId::Rewrite,
                instruction: args.instruction,
                diagnostics: Vec::new(),
            }
        }
        ACTION_COMMAND => serde_json::from_value(argument).map_err(|e| {
            invalid_params(format!(
                "augur.action takes {{uri, range, action, version?, instruction?}}: {e}"
            ))
        })?,
        other => return Err(invalid_params(format!("augur has no command `{other}`"))),
    };
    let mut snapshot = state.snapshot();
    let config = snapshot.config().actions.clone();
    if needs_instruction(&config, &data.action)
        && data
            .instruction
            .as_deref()
            .is_none_or(|i| i.trim().is_empty())
    {
        match choose_instruction(client, &config).await {
            Some(instruction) => {
                data.instruction = Some(instruction);
                // The user took their time: the command runs on the workspace as it is now.
                snapshot = state.snapshot();
            }
            None => {
                let answer =
                    CommandResult::new(CommandStatus::Cancelled, "no instruction was chosen");
                return Ok(Some(answer.to_value()));
            }
        }
    }
    let token = params.work_done_progress_params.work_done_token;
    metrics::record(&snapshot, FeatureEvent::ActionRun);
    let counted = snapshot.clone();
    let answer = match run(state, client, snapshot, data, token).await {
        Ok(answer) => answer,
        Err(failure) => {
            let kind = match failure {
                Failure::Cancelled => CommandStatus::Cancelled,
                Failure::Stale(_) => CommandStatus::Stale,
                Failure::Failed(_) => CommandStatus::Failed,
            };
            let message = failure.message();
            if kind != CommandStatus::Cancelled {
                let typ = if kind == CommandStatus::Stale {
                    MessageType::WARNING
                } else {
                    MessageType::ERROR
                };
                client.show_message(typ, &message).await;
            }
            CommandResult::new(kind, message)
        }
    };
    if answer.status == CommandStatus::Applied {
        metrics::record(&counted, FeatureEvent::ActionApplied);
    }
    Ok(Some(answer.to_value()))
}

/// Runs the action and applies or shows its outcome.
async fn run(
    state: &Arc<ServerState>,
    client: &Client,
    snapshot: WorkspaceSnapshot,
    data: ActionData,
    token: Option<ls_types::NumberOrString>,
) -> std::result::Result<CommandResult, Failure> {
    let target = ai_action::target(state, snapshot, &data.uri, data.range, &data.diagnostics)?;
    target.require_version(data.version, data.generation)?;
    let request = ai_action::request(&target, data.action, data.instruction);
    match ai_action::run(state, client, &target, request, token).await? {
        ActionOutcome::Edit { title, plan } => {
            if plan.is_empty() {
                return Ok(CommandResult::new(
                    CommandStatus::Applied,
                    "the model changed nothing",
                ));
            }
            if !state.caps().apply_edit {
                return Err(Failure::Failed(
                    "the editor cannot apply edits from the server (workspace.applyEdit)".into(),
                ));
            }
            // Checked right before sending: the user may have typed while the model worked.
            let edit = ai_action::workspace_edit(state, &plan, &target)?;
            let response = client
                .send_request::<ls_types::request::ApplyWorkspaceEdit>(
                    ls_types::ApplyWorkspaceEditParams {
                        label: Some(title),
                        edit,
                    },
                )
                .await
                .map_err(|e| Failure::Failed(format!("the editor did not apply the edit: {e}")))?;
            if response.applied {
                Ok(CommandResult::new(CommandStatus::Applied, "done"))
            } else {
                let reason = response
                    .failure_reason
                    .unwrap_or_else(|| "no reason given".into());
                let message = format!("augur: the editor refused the edit: {reason}");
                client.show_message(MessageType::WARNING, &message).await;
                Ok(CommandResult::new(CommandStatus::Rejected, message))
            }
        }
        ActionOutcome::Markdown { title, text } => {
            let path = ai_action::show_markdown(state, &target, client, &title, &text).await;
            let mut answer = CommandResult::new(CommandStatus::Shown, title);
            answer.path = path;
            Ok(answer)
        }
    }
}

/// Whether `action` cannot run without an instruction.
fn needs_instruction(config: &ActionsConfig, action: &ActionId) -> bool {
    match action {
        ActionId::Rewrite => true,
        ActionId::Custom(id) => config
            .custom
            .iter()
            .any(|c| &c.id == id && c.needs_instruction),
        _ => false,
    }
}

/// Lets the user pick one of the configured instructions.
async fn choose_instruction(client: &Client, config: &ActionsConfig) -> Option<String> {
    if config.instructions.is_empty() {
        return None;
    }
    let items = config
        .instructions
        .iter()
        .map(|title| MessageActionItem {
            title: title.clone(),
            properties: Default::default(),
        })
        .collect();
    client
        .show_message_request(
            MessageType::INFO,
            "augur: how should the selection be rewritten?",
            Some(items),
        )
        .await
        .ok()
        .flatten()
        .map(|item| item.title)
}
