//! The typed configuration.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::index::config::IndexConfig;
use crate::llm::config::ModelConfig;

/// The whole configuration of augur.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Named models; features use `default` unless told otherwise.
    pub models: BTreeMap<String, ModelConfig>,
    /// The workspace index.
    pub index: IndexConfig,
}
