//! One module per protocol feature. Each handler takes the shared state (and the client, when it
//! must talk back), does its work through the core, and converts only in `from_proto`/`to_proto`.

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
