//! augur's own additions to the protocol, as types: the replies of its commands, and the schema
//! of every custom method and command (`augur schema protocol`), from which the TypeScript client
//! in `editors/typescript` is generated.
//!
//! The request and reply types live here, one file per feature ([`Status`], [`SearchParams`],
//! [`SearchHit`], [`ActionData`], [`RewriteArgs`]), and the handlers use them; [`Protocol`]
//! gathers them under one schema.
//! The LSP types they embed (`Range`, `Position`, `Diagnostic`) are described here for the schema
//! only: the handlers keep using `ls_types`.

use std::path::PathBuf;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

mod actions;
mod metrics;
mod search;
mod status;

pub use actions::{ActionData, RewriteArgs};
pub use metrics::{AcceptedArgs, MetricsReport};
pub use search::{SearchHit, SearchParams};
pub use status::{IndexState, IndexStatus, ModelInUse, Status};

/// What became of an `augur.rewrite` or `augur.action` command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum CommandStatus {
    /// The edit was applied (or the model changed nothing).
    Applied,
    /// The editor refused the edit.
    Rejected,
    /// The document changed while the model worked; nothing was edited.
    Stale,
    /// An explanation was shown.
    Shown,
    /// The action failed; `message` says why.
    Failed,
    /// The user or the editor cancelled it.
    Cancelled,
}

/// The reply of `augur.rewrite` and `augur.action`: `{"status": "applied", "message": "done"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CommandResult {
    /// What happened.
    pub status: CommandStatus,
    /// A sentence for the user.
    pub message: String,
    /// The file an explanation was written to, when one was shown as a document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<PathBuf>,
}

impl CommandResult {
    /// A result without a path.
    pub fn new(status: CommandStatus, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            path: None,
        }
    }

    /// The result as the JSON the command answers.
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

/// A position in a document: zero-based line and character (in the negotiated encoding).
#[derive(JsonSchema)]
#[allow(dead_code)]
pub struct Position {
    /// The zero-based line.
    line: u32,
    /// The zero-based offset in the line, in units of the negotiated position encoding.
    character: u32,
}

/// A range in a document, as LSP gives it (the end is exclusive).
#[derive(JsonSchema)]
#[allow(dead_code)]
pub struct Range {
    /// The first position in the range.
    start: Position,
    /// The position just past the range.
    end: Position,
}

/// An LSP `Diagnostic`, passed through as the editor gave it.
#[derive(JsonSchema)]
#[allow(dead_code)]
pub struct Diagnostic {
    /// Where it applies.
    range: Range,
    /// The message.
    message: String,
    /// The severity (1 error, 2 warning, 3 information, 4 hint).
    #[serde(default)]
    severity: Option<u8>,
    /// The diagnostic's code.
    #[serde(default)]
    code: Option<DiagnosticCode>,
    /// Who reported it.
    #[serde(default)]
    source: Option<String>,
}

/// A diagnostic's code: a number or a string.
#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
pub enum DiagnosticCode {
    /// A numeric code.
    Number(i32),
    /// A textual code.
    String(String),
}

/// Every custom method and command augur serves, by the type of its parameters and reply.
/// `augur schema protocol` prints this schema; editors generate their types from it.
#[derive(JsonSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub struct Protocol {
    /// The reply of the `augur/status` request (no parameters).
    status_result: Status,
    /// The parameters of the `augur/search` request.
    search_params: SearchParams,
    /// The reply of `augur/search`: the hits, best first.
    search_result: Vec<SearchHit>,
    /// The argument of the `augur.rewrite` command (`workspace/executeCommand`).
    rewrite_args: RewriteArgs,
    /// The argument of the `augur.action` command, and the `data` of AI code actions.
    action_args: ActionData,
    /// The reply of `augur.rewrite` and `augur.action`.
    command_result: CommandResult,
    /// The reply of the `augur/metrics` request (no parameters) and of the `augur.metrics`
    /// command.
    metrics_result: MetricsReport,
    /// The argument of the `augur.accepted` command, which completion items carry.
    accepted_args: AcceptedArgs,
}
