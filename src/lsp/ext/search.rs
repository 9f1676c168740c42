//! The parameters and reply of `augur/search` (served by `handlers/search.rs`).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tower_lsp_server::ls_types::{Range, Uri};

/// Parameters of `augur/search`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct SearchParams {
    /// What to look for.
    pub query: String,
    /// The most hits (default 20, at most 200).
    pub limit: Option<usize>,
    /// Only symbols of these kinds.
    #[serde(default)]
    pub kinds: Vec<String>,
    /// Only files under these paths or matching these globs, relative to a root.
    #[serde(default)]
    pub paths: Vec<String>,
}

/// One hit.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct SearchHit {
    /// The file.
    #[schemars(with = "String")]
    pub uri: Uri,
    /// Where in the file.
    #[schemars(with = "crate::lsp::ext::Range")]
    pub range: Range,
    /// The symbol kind (`function`, ...); `null` for a chunk of code.
    pub kind: Option<String>,
    /// The symbol's name (for a chunk, its enclosing symbol's, or empty).
    pub name: String,
    /// The enclosing symbol.
    pub container: Option<String>,
    /// A few lines to show.
    pub snippet: String,
    /// The relevance (higher is better).
    pub score: f32,
}
