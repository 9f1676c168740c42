//! The arguments of augur's AI actions: the `data` of a lazily resolved code action and the
//! `augur.action` command ([`ActionData`]), and the `augur.rewrite` command ([`RewriteArgs`]).
//! Served by `handlers/ai_action.rs`, `code_action*.rs` and `execute_command.rs`.

use serde::{Deserialize, Serialize};
use tower_lsp_server::ls_types::{self, Uri};

use crate::actions::ActionId;

/// Names the action to run: carried in a code action's `data` and in the arguments of the
/// `augur.action` command.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ActionData {
    /// The document.
    #[schemars(with = "String")]
    pub uri: Uri,
    /// Its version when the action was offered (the command uses the current one when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<i32>,
    /// The server's generation of its text when the action was offered (see
    /// [`Document::generation`]): the offer is refused for another text under the same version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generation: Option<u64>,
    /// The selection, or the cursor as an empty range.
    #[schemars(with = "crate::lsp::ext::Range")]
    pub range: ls_types::Range,
    /// Which action (`augur.fix`, `augur.document`, `augur.rewrite`, `augur.tests`,
    /// `augur.explain`, `augur.custom.<id>`).
    #[schemars(with = "String")]
    pub action: ActionId,
    /// The user's instruction, for actions that need one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instruction: Option<String>,
    /// The diagnostics a fix is for (commands carry them here; resolved code actions carry them
    /// in their own `diagnostics`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(with = "Vec<crate::lsp::ext::Diagnostic>")]
    pub diagnostics: Vec<ls_types::Diagnostic>,
}

/// The arguments of `augur.rewrite`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RewriteArgs {
    /// The document.
    #[schemars(with = "String")]
    pub uri: Uri,
    /// The text to rewrite.
    #[schemars(with = "crate::lsp::ext::Range")]
    pub range: ls_types::Range,
    /// What to do with it; without one, the user picks one of `actions.instructions`.
    #[serde(default)]
    pub instruction: Option<String>,
    /// The document's version the range belongs to (default: the current one).
    #[serde(default)]
    pub version: Option<i32>,
    /// The server's generation of the document's text, from a code action's `data`.
    #[serde(default)]
    pub generation: Option<u64>,
}
