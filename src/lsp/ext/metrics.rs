//! The reply of `augur/metrics` and the argument of `augur.accepted` (served by
//! `handlers/metrics.rs`).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::IndexStatus;
use crate::llm::LlmMetrics;

/// The reply of `augur/metrics` and of the `augur.metrics` command.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct MetricsReport {
    /// The model client: per model and endpoint, the cache, the shared tier, the features.
    pub llm: LlmMetrics,
    /// The index of each root (its size and state).
    pub indexes: Vec<IndexStatus>,
}

/// The argument of `augur.accepted`: `{"model": "default"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AcceptedArgs {
    /// The key in `[models]` of the model that wrote the suggestion.
    pub model: String,
}
