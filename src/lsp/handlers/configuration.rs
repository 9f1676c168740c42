//! `workspace/didChangeConfiguration` and pulling `workspace/configuration`: hot reload.
//!
//! Settings may come as `{"augur": {...}}` or as the bare table. A notification with no settings
//! (the pull model) makes the server ask for section `augur`. Invalid settings are shown to the
//! user with the field and the fix, and the server keeps the last good configuration. A field a
//! layer may not set (`log.file` outside the user file) is shown once as a warning.
//!
//! Example: `{"settings": {"augur": {"models": {"default": {"model": "qwen2.5-coder"}}}}}` makes
//! the next request use that model.

use serde_json::Value;
use tower_lsp_server::Client;
use tower_lsp_server::ls_types::{ConfigurationItem, DidChangeConfigurationParams, MessageType};

use crate::config::{ConfigError, ConfigLayer, ConfigSource, Severity};
use crate::lsp::state::ServerState;

/// Handles `workspace/didChangeConfiguration`. The state changes before the first `.await`.
pub async fn did_change(
    state: &ServerState,
    client: &Client,
    params: DidChangeConfigurationParams,
) {
    let is_empty = match &params.settings {
        Value::Null => true,
        Value::Object(map) => map.is_empty(),
        _ => false,
    };
    if is_empty {
        if state.caps().configuration {
            pull(state, client).await;
        }
        return;
    }
    let errors = apply(state, params.settings);
    report(client, errors).await;
}

fn apply(state: &ServerState, settings: Value) -> Vec<ConfigError> {
    let layer = ConfigLayer::from_client_json(ConfigSource::ClientSettings, settings);
    let problems = state.host.set_client_layer(layer);
    for problem in &problems {
        if problem.is_error() {
            tracing::warn!(error = %problem, "configuration error; keeping the last good configuration");
        } else {
            tracing::warn!(warning = %problem, "configuration warning");
        }
    }
    if !problems.iter().any(ConfigError::is_error) {
        tracing::info!("configuration reloaded");
    }
    problems
}

/// The `window/showMessage` type and text for a configuration problem: an error (the layer was
/// left out) or a warning (a field was ignored).
pub fn message(problem: &ConfigError) -> (MessageType, String) {
    let kind = match problem.severity {
        Severity::Error => MessageType::ERROR,
        Severity::Warning => MessageType::WARNING,
    };
    (kind, problem.to_string())
}

async fn report(client: &Client, problems: Vec<ConfigError>) {
    for problem in &problems {
        let (kind, text) = message(problem);
        client.show_message(kind, text).await;
    }
}

/// Follows configuration changes for the rest of the session: a changed `[models]` table reaches
/// the LLM client, taking effect on the next request. It subscribes before it returns, so a change
/// made right after the call (the settings pulled in `initialized`, say) is not missed. It holds
/// the host weakly and ends with it.
pub fn follow_models(
    state: &std::sync::Arc<ServerState>,
    client: Client,
) -> impl std::future::Future<Output = ()> + Send + 'static {
    let mut changes = state.host.subscribe_config();
    let mut models = state.snapshot().config().models.clone();
    let host = std::sync::Arc::downgrade(&state.host);
    async move {
        while changes.changed().await.is_ok() {
            let config = changes.borrow_and_update().clone();
            if config.models == models {
                continue;
            }
            models = config.models.clone();
            let Some(host) = host.upgrade() else {
                return;
            };
            let outcome = host.reconfigure_models(&config);
            drop(host);
            match outcome {
                Ok(()) => tracing::info!("model configuration reloaded"),
                Err(error) => {
                    let message =
                        format!("augur: the new model configuration cannot be used: {error}");
                    client.show_message(MessageType::ERROR, message).await;
                }
            }
        }
    }
}

/// Re-reads the configuration files (the user's and each root's) and shows their errors.
pub async fn reload_files(state: &ServerState, client: &Client) {
    let problems = state.host.reload_files();
    report(client, problems).await;
}

/// Asks the client for section `augur` and applies it.
pub async fn pull(state: &ServerState, client: &Client) {
    let item = ConfigurationItem {
        scope_uri: None,
        section: Some("augur".into()),
    };
    match client.configuration(vec![item]).await {
        Ok(mut values) => match values.pop() {
            Some(Value::Null) | None => {}
            Some(value) => {
                let errors = apply(state, value);
                report(client, errors).await;
            }
        },
        Err(error) => tracing::debug!(%error, "the client did not answer workspace/configuration"),
    }
}
