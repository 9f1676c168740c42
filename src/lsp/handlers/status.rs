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

use std::collections::BTreeMap;
use std::path::Path;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::host::{IndexPhase, WorkspaceSnapshot};
use crate::llm::health::ModelStatus;
use crate::lsp::state::ServerState;

/// The reply to `augur/status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Status {
    /// augur's version.
    pub version: String,
    /// The negotiated position encoding.
    pub position_encoding: String,
    /// How many documents are open.
    pub documents: usize,
    /// The workspace roots.
    pub roots: Vec<String>,
    /// The configured model names.
    pub models: Vec<String>,
    /// The model that writes completions, for status bars.
    pub completion_model: ModelInUse,
    /// The health of each configured model, by name: `unknown` before any completion reached it.
    pub model_health: BTreeMap<String, ModelStatus>,
    /// The index of each root, in the order of `roots`.
    pub indexes: Vec<IndexStatus>,
}

/// A model a feature uses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ModelInUse {
    /// Its key in `[models]`.
    pub key: String,
    /// The name the backend knows it by (empty when the key names no configured model).
    pub model: String,
}

/// The index of one workspace root.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct IndexStatus {
    /// The root's path.
    pub root: String,
    /// Where its indexing stands.
    #[serde(flatten)]
    pub state: IndexState,
}

/// Where the indexing of a root stands, tagged by `state`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(
    tag = "state",
    rename_all = "snake_case",
    rename_all_fields = "camelCase"
)]
pub enum IndexState {
    /// The first indexing runs: files (re-)indexed so far of those to do (`null` until the walk
    /// has counted them), and the percentage.
    Building {
        /// Files done.
        files_done: usize,
        /// Files to do.
        files_total: Option<usize>,
        /// `files_done` in percent of `files_total`.
        percent: Option<u32>,
    },
    /// The index is complete and follows changes.
    Ready {
        /// The files in the index.
        files: usize,
    },
    /// Indexing is turned off (`index.enabled = false`).
    Off,
    /// The index could not be opened or built.
    Failed {
        /// Why.
        error: String,
    },
}

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
        Some(IndexPhase::Ready) => IndexState::Ready {
            files: snapshot
                .indexes()
                .iter()
                .find(|index| index.given_root() == root || index.root() == root)
                .map_or(0, |index| index.file_count()),
        },
        Some(IndexPhase::Failed(error)) => IndexState::Failed { error },
    }
}
