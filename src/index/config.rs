//! Configuration of the workspace index (`[index]`).

use serde::{Deserialize, Serialize};

/// What the indexer walks and what it leaves out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IndexConfig {
    /// Whether the workspace is indexed at all.
    pub enabled: bool,
    /// Files larger than this many bytes are skipped.
    pub max_file_bytes: u64,
    /// Extra glob patterns of files never indexed nor sent to a model (secrets, generated code).
    pub exclude: Vec<String>,
}

impl Default for IndexConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            max_file_bytes: 1024 * 1024,
            exclude: Vec::new(),
        }
    }
}
