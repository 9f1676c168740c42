//! `initialize`, `initialized` and `shutdown`.
//!
//! `initialize` settles the session once: the position encoding (UTF-8 when offered, then
//! UTF-32, else UTF-16), the client capabilities, the workspace roots and the configuration from
//! the files and `initializationOptions`. Configuration errors found then are shown to the user
//! once the client is ready for messages, in `initialized`.
//!
//! Example: a client offering `general.positionEncodings: ["utf-16", "utf-8"]` gets
//! `capabilities.positionEncoding: "utf-8"`, and every column in the session counts bytes.

use tower_lsp_server::Client;
use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::{InitializeParams, InitializeResult, MessageType, ServerInfo};

use crate::config::{ConfigError, ConfigLayer, ConfigSource};
use crate::lsp::capabilities::{self, ClientCaps};
use crate::lsp::from_proto;
use crate::lsp::handlers::configuration;
use crate::lsp::state::{ServerState, Session};
use crate::workspace::WorkspaceRoot;

/// Handles `initialize`.
pub fn initialize(state: &ServerState, params: InitializeParams) -> Result<InitializeResult> {
    let encoding = capabilities::negotiate_encoding(&params.capabilities);
    let caps = ClientCaps::from_client(&params.capabilities);
    state.set_session(Session { encoding, caps });
    state.host.set_roots(roots(&params));

    let mut errors: Vec<ConfigError> = state.host.reload_files();
    if let Some(options) = params.initialization_options {
        let layer = ConfigLayer::from_client_json(ConfigSource::InitializationOptions, options);
        errors.extend(state.host.set_init_layer(layer));
    }
    for error in &errors {
        tracing::warn!(%error, "configuration problem");
    }
    let mut messages: Vec<(MessageType, String)> =
        errors.iter().map(configuration::message).collect();
    if let Err(error) = state.host.start_engine() {
        messages.push((
            MessageType::ERROR,
            format!("augur: the models cannot be used: {error}"),
        ));
    }
    state.defer_messages(messages);
    tracing::info!(
        encoding = encoding.as_str(),
        roots = state.snapshot().roots().len(),
        client = params
            .client_info
            .as_ref()
            .map(|c| c.name.as_str())
            .unwrap_or("unknown"),
        "initialized session"
    );
    Ok(InitializeResult {
        capabilities: capabilities::server_capabilities(encoding),
        server_info: Some(ServerInfo {
            name: "augur".into(),
            version: Some(env!("CARGO_PKG_VERSION").into()),
        }),
        offset_encoding: None,
    })
}

#[allow(deprecated)] // `root_uri` and `root_path` are the fallbacks for clients without folders.
fn roots(params: &InitializeParams) -> Vec<WorkspaceRoot> {
    if let Some(folders) = &params.workspace_folders {
        return folders
            .iter()
            .filter_map(from_proto::workspace_root)
            .collect();
    }
    if let Some(uri) = &params.root_uri {
        return from_proto::path(uri)
            .map(WorkspaceRoot::from_path)
            .into_iter()
            .collect();
    }
    params
        .root_path
        .iter()
        .map(WorkspaceRoot::from_path)
        .collect()
}

/// Handles `initialized`: shows the configuration errors found at start-up, then pulls the
/// client's settings when it offers `workspace/configuration`.
pub async fn initialized(state: &ServerState, client: &Client) {
    for (kind, message) in state.take_deferred_messages() {
        client.show_message(kind, message).await;
    }
    if state.caps().configuration {
        configuration::pull(state, client).await;
    }
}

/// Handles `shutdown`: from now on the process exits with 0 on `exit`.
pub fn shutdown(state: &ServerState) -> Result<()> {
    state.request_shutdown();
    crate::lsp::handlers::metrics::flush(state);
    Ok(())
}
