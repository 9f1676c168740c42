//! One module per protocol feature. Each handler takes the protocol state (and the client, when it
//! must talk back), reads one snapshot of the core host (`state.snapshot()`) for the request, does
//! its work through the core, and converts only in `from_proto`/`to_proto`. The `did_*` handlers
//! change the host through its methods, all before any `.await`.

pub mod ai_action;
pub mod ai_completion;
pub mod code_action;
pub mod code_action_resolve;
pub mod completion;
pub mod configuration;
#[cfg(feature = "test-support")]
pub mod debug;
pub mod execute_command;
pub mod indexing;
pub mod inline_completion;
pub mod lifecycle;
pub mod metrics;
pub mod model_health;
pub mod search;
pub mod status;
pub mod symbols;
pub mod text_sync;
pub mod workspace_folders;

use tower_lsp_server::jsonrpc::{Error, ErrorCode};

/// An `InvalidParams` error with a message.
pub(crate) fn invalid_params(message: impl Into<String>) -> Error {
    Error {
        code: ErrorCode::InvalidParams,
        message: message.into().into(),
        data: None,
    }
}
