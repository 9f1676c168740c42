//! `augur/status`: what the server is doing, for status lines and for `augur doctor`-style checks.
//!
//! Example reply (the README's Protocol section documents every field):
//!
//! ```json
//! {"version": "0.1.0", "positionEncoding": "utf-8", "documents": 2,
//!  "roots": ["/src/app"], "models": ["default"],
//!  "completionModel": {"key": "default", "model": "SmolLM2-135M"},
//!  "modelHealth": {"default": {"state": "unreachable", "since": 1718000000000,
//!    "cause": "llm.connect", "error": "cannot connect to http://127.0.0.1:8090/v1: ...",
//!    "fix": "Start the model server or set models.default.url; run `augur doctor` to check."}},
//!  "indexes": [{"root": "/src/app", "state": "building", "filesDone": 120, "filesTotal": 480,
//!    "percent": 25}]}
//! ```

use std::path::Path;

use crate::host::{IndexPhase, WorkspaceSnapshot};
use crate::lsp::ext::{IndexState, IndexStatus, ModelInUse, Status};
use crate::lsp::state::ServerState;

/// Handles `augur/status`.
pub fn status(state: &ServerState) -> Status {
    let snapshot = state.snapshot();
    let config = snapshot.config();
    let roots = snapshot.roots();
    let health = state.host.model_health();
    Status {
        version: env!("CARGO_PKG_VERSION").into(),
        position_encoding: state.encoding().as_str().into(),
        documents: snapshot.documents().uris().count(),
        roots: roots.iter().map(|r| r.path.display().to_string()).collect(),
        models: config.models.keys().cloned().collect(),
        completion_model: ModelInUse {
            key: config.completion.model.clone(),
            model: config
                .models
                .get(&config.completion.model)
                .map(|model| model.model.clone())
                .unwrap_or_default(),
        },
        model_health: config
            .models
            .keys()
            .map(|name| (name.clone(), health.status(name)))
            .collect(),
        indexes: roots
            .iter()
            .map(|root| IndexStatus {
                root: root.path.display().to_string(),
                state: if config.index.enabled {
                    index_state(state, &snapshot, &root.path)
                } else {
                    IndexState::Off
                },
            })
            .collect(),
    }
}

fn index_state(state: &ServerState, snapshot: &WorkspaceSnapshot, root: &Path) -> IndexState {
    match state.host.index_phase(root) {
        None => IndexState::Building {
            files_done: 0,
            files_total: None,
            percent: None,
        },
        Some(IndexPhase::Building { done, total }) => IndexState::Building {
            files_done: done,
            files_total: total,
            percent: total.map(|total| (done * 100).checked_div(total).unwrap_or(100) as u32),
        },
        Some(IndexPhase::Ready) => {
            let index = snapshot
                .indexes()
                .iter()
                .find(|index| index.given_root() == root || index.root() == root);
            IndexState::Ready {
                files: index.map_or(0, |index| index.file_count()),
                last_update: index.and_then(|index| index.last_update_ms()),
            }
        }
        Some(IndexPhase::Failed(error)) => IndexState::Failed { error },
    }
}
