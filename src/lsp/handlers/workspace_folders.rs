//! `workspace/didChangeWorkspaceFolders`: multi-root workspaces.
//!
//! Adding a folder also reads its `augur.toml`; removing one drops it.
//!
//! Example: adding `file:///src/app` while `file:///src/lib` is open leaves two roots.

use tower_lsp_server::Client;
use tower_lsp_server::ls_types::{DidChangeWorkspaceFoldersParams, MessageType};

use crate::lsp::from_proto;
use crate::lsp::state::ServerState;

/// Handles `didChangeWorkspaceFolders`. The state changes before the first `.await`.
pub async fn did_change(
    state: &ServerState,
    client: &Client,
    params: DidChangeWorkspaceFoldersParams,
) {
    let mut roots = state.roots();
    let removed: Vec<_> = params
        .event
        .removed
        .iter()
        .filter_map(from_proto::workspace_root)
        .collect();
    roots.retain(|root| !removed.iter().any(|r| r.path == root.path));
    for added in params
        .event
        .added
        .iter()
        .filter_map(from_proto::workspace_root)
    {
        if !roots.iter().any(|r| r.path == added.path) {
            roots.push(added);
        }
    }
    state.set_roots(roots);
    let errors: Vec<String> = state
        .reload_files()
        .iter()
        .map(ToString::to_string)
        .collect();
    for error in errors {
        client.show_message(MessageType::ERROR, error).await;
    }
}
