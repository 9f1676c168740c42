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
    let removed: Vec<_> = params
        .event
        .removed
        .iter()
        .filter_map(from_proto::workspace_root)
        .collect();
    let added = params
        .event
        .added
        .iter()
        .filter_map(from_proto::workspace_root)
        .collect();
    let new_roots = state.host.change_roots(added, &removed);
    configuration::reload_files(state, client).await;
    if state.snapshot().config().index.enabled {
        for root in new_roots {
            let (state, client) = (state.clone(), client.clone());
            tokio::spawn(async move { indexing::index_root(&state, &client, root).await });
        }
    }
}
