//! `workspace/didChangeWorkspaceFolders`: multi-root workspaces.
//!
//! Adding a folder also reads its `augur.toml` and indexes it; removing one drops both.
//!
//! Example: adding `file:///src/app` while `file:///src/lib` is open leaves two roots.

use std::sync::Arc;

use tower_lsp_server::Client;
use tower_lsp_server::ls_types::DidChangeWorkspaceFoldersParams;

use crate::lsp::from_proto;
use crate::lsp::handlers::{configuration, indexing};
use crate::lsp::state::ServerState;

/// Handles `didChangeWorkspaceFolders`. The state changes before the first `.await`.
pub async fn did_change(
    state: &Arc<ServerState>,
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
    let mut new_roots = Vec::new();
    for added in params
        .event
        .added
        .iter()
        .filter_map(from_proto::workspace_root)
    {
        if !roots.iter().any(|r| r.path == added.path) {
            roots.push(added.clone());
            new_roots.push(added);
        }
    }
    state.retain_indexes(|root| roots.iter().any(|r| r.path == root));
    state.set_roots(roots);
    state.real_paths().clear();
    configuration::reload_files(state, client).await;
    if state.config().index.enabled {
        for root in new_roots {
            let (state, client) = (state.clone(), client.clone());
            tokio::spawn(async move { indexing::index_root(&state, &client, root).await });
        }
    }
}
