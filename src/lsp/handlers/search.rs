//! `augur/search`: ranked search of the workspace index, for editors and for people.
//!
//! Request: `{"query": "parse http request", "limit": 10, "kinds": ["function"], "paths": ["src/**"]}`
//! (`limit`, `kinds` and `paths` are optional). Reply: a list of
//! `{"uri", "range", "kind", "name", "container", "snippet", "score"}`, best first; `kind` is
//! `null` for a chunk of code.

use std::sync::Arc;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::{Range, Uri};

use crate::index::SearchQuery;
use crate::lsp::handlers::invalid_params;
use crate::lsp::handlers::symbols::on_indexes;
use crate::lsp::state::ServerState;
use crate::lsp::{from_proto, to_proto};
use crate::syntax::SymbolKind;

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

/// Handles `augur/search`.
pub async fn search(state: &Arc<ServerState>, params: SearchParams) -> Result<Vec<SearchHit>> {
    let kinds = params
        .kinds
        .iter()
        .map(|k| SymbolKind::parse(k).ok_or_else(|| invalid_params(format!("unknown kind {k:?}"))))
        .collect::<Result<Vec<_>>>()?;
    let limit = params.limit.unwrap_or(20).clamp(1, 200);
    let query = SearchQuery {
        text: params.query,
        limit,
        kinds,
        paths: params.paths,
    };
    let snapshot = state.snapshot();
    let hits = on_indexes(&snapshot, move |snapshot| snapshot.search(&query)).await;
    let encoding = state.encoding();
    let mut texts = to_proto::FileTexts::default();
    Ok(hits
        .into_iter()
        .filter_map(|hit| {
            let location = texts.location(&hit.path, hit.byte_range.clone(), encoding, |uri| {
                snapshot.document(&from_proto::doc_key(uri)).map(|d| d.text)
            })?;
            Some(SearchHit {
                uri: location.uri,
                range: location.range,
                kind: hit.kind.map(|k| k.as_str().to_owned()),
                name: hit.name,
                container: hit.container,
                snippet: hit.snippet,
                score: hit.score,
            })
        })
        .collect())
}
