//! Telling the user how the models fare. Completions record each model call's outcome in the
//! core's [`ModelHealth`](crate::llm::health::ModelHealth); its notices (the first failure of each
//! cause with the reason and the fix, then the recovery) are shown as `window/showMessage` by one
//! task, in the order they came, so a completion's empty answer is never the only sign.
//!
//! Only calls that reached the model count: answers from the cache or from the suggestion on
//! screen say nothing about it, and superseded or cancelled requests are dropped before they end.
//! Code actions are not recorded: their failures reach the user as the request's error.

use tokio::sync::mpsc;
use tower_lsp_server::Client;
use tower_lsp_server::ls_types::MessageType;

use crate::completion::{CompletionError, Suggestion, SuggestionSource};
use crate::llm::health::{Notice, NoticeLevel};
use crate::lsp::state::ServerState;

/// Records the outcome of a completion by `model`, queueing a notice when the user should hear
/// of it.
pub fn record(state: &ServerState, model: &str, outcome: &Result<Suggestion, CompletionError>) {
    let health = state.host.model_health();
    let notice = match outcome {
        Ok(suggestion) if suggestion.source == SuggestionSource::Model => {
            health.record_success(model)
        }
        Ok(_) => None,
        Err(CompletionError::Llm(error)) => health.record_failure(model, error),
        Err(_) => None,
    };
    if let Some(notice) = notice {
        tracing::info!(model, "{}", notice.text);
        state.host.tell(notice);
    }
}

/// Starts the task that shows the notices (once, when the client is ready for messages).
pub fn start(state: &ServerState, client: Client) {
    if let Some(notices) = state.host.take_notices() {
        tokio::spawn(show(notices, client));
    }
}

/// Shows each notice as a `window/showMessage`, until the server ends.
async fn show(mut notices: mpsc::UnboundedReceiver<Notice>, client: Client) {
    while let Some(notice) = notices.recv().await {
        let kind = match notice.level {
            NoticeLevel::Info => MessageType::INFO,
            NoticeLevel::Warning => MessageType::WARNING,
            NoticeLevel::Error => MessageType::ERROR,
        };
        client.show_message(kind, notice.text).await;
    }
}
