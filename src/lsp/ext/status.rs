//! The reply of `augur/status` (served by `handlers/status.rs`): the model in use, each model's
//! health and each root's index, for status lines.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::llm::health::ModelStatus;

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
        /// When it last changed, in milliseconds since the Unix epoch (`null` when unknown).
        last_update: Option<u64>,
    },
    /// Indexing is turned off (`index.enabled = false`).
    Off,
    /// The index could not be opened or built.
    Failed {
        /// Why.
        error: String,
    },
}
