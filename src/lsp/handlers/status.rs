//! `augur/status`: what the server is doing, for status lines and for `augur doctor`-style checks.
//!
//! Example reply: `{"version": "0.1.0", "positionEncoding": "utf-8", "documents": 2,
//! "roots": ["/src/app"], "models": ["default"]}`.

use serde::{Deserialize, Serialize};

use crate::lsp::state::ServerState;

/// The reply to `augur/status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
}

/// Handles `augur/status`.
pub fn status(state: &ServerState) -> Status {
    Status {
        version: env!("CARGO_PKG_VERSION").into(),
        position_encoding: state.encoding().as_str().into(),
        documents: state.documents().uris().count(),
        roots: state
            .roots()
            .iter()
            .map(|r| r.path.display().to_string())
            .collect(),
        models: state.config().models.keys().cloned().collect(),
    }
}
